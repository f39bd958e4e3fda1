using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using Sajet.Grains.Interfaces;
using Sajet.Grains.Interfaces.Outbox;

namespace Sajet.Grains.Workflow;

/// <summary>
/// Base of Sajet's grains: a Temporal-style durable workflow on Orleans. One turn at a time (Orleans' single-threaded
/// activation) mutates <see cref="State"/>; the domain SQL of the turn commits first (idempotent by key), then the state is
/// written once through the ADO.NET provider (ETag-checked: a stale activation fails instead of overwriting), then the
/// history and read models are projected keyed by the state version. A turn that throws leaves nothing in memory: the state
/// is read back. Durable timers live in state; a grain timer fires the next one while the grain is active, and one Orleans
/// reminder ("wake") per grain re-activates it after a crash or deactivation, so nothing due is forgotten.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "The token source lives as long as the activation; it is cancelled in OnDeactivateAsync and holds no unmanaged resource (no timer).")]
public abstract class WorkflowGrain<TState> : Grain, IRemindable
    where TState : WorkflowState, new()
{
    private const string WakeReminder = "wake";
    private readonly IPersistentState<TState> _store;
    private readonly CancellationTokenSource _lifetime = new();
    private IGrainTimer? _timer;
    private TurnContext? _context;

    // One turn at a time. Orleans' single-threaded activation gives that to requests and to non-interleaving timers; a
    // timer that interleaves (a node's poll, so placements need not wait for its HTTP round trips) runs its own turn
    // only between others. The flag is per call flow, so a turn that calls TurnAsync again (a command that places) nests.
    private readonly SemaphoreSlim _turnLock = new(1, 1);
    private readonly AsyncLocal<bool> _inTurn = new();

    // Set when a failed turn could not read its state back (the database was down too): the state in memory may hold
    // that turn's changes, so it is read again before anything looks at it, and until then nothing is written from it.
    private bool _stale;
    private readonly OutboxWaker? _outboxWaker;

    protected WorkflowGrain(IPersistentState<TState> store, IServiceProvider services)
    {
        _store = store;
        Db = services.GetRequiredService<NpgsqlDataSource>();
        Clock = services.GetService<TimeProvider>() ?? TimeProvider.System;
        Workflow = services.GetRequiredService<IOptions<WorkflowOptions>>().Value;
        Log = services.GetRequiredService<ILoggerFactory>().CreateLogger(GetType());
        _outboxWaker = services.GetService<OutboxWaker>();
    }

    /// <summary>The stable grain type name written on history rows.</summary>
    protected abstract string GrainType { get; }

    /// <summary>The state name announced to live pages, or null when the grain has none.</summary>
    protected virtual string? Status => null;

    protected TState State => _store.State;

    protected TurnContext Context => _context ?? throw new InvalidOperationException("Grain state changes only inside a turn (CommandAsync, TurnAsync or a timer).");

    protected string Key => this.GetPrimaryKeyString();

    protected NpgsqlDataSource Db { get; }

    protected TimeProvider Clock { get; }

    protected WorkflowOptions Workflow { get; }

    protected ILogger Log { get; }

    protected CancellationToken Lifetime => _lifetime.Token;

    /// <summary>The stored state holds history or read-model changes not yet projected.</summary>
    private bool ProjectionBehind => State.ProjectionPending || State.PendingHistory.Count > 0;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // A crash between the state write and its projection left history or read models behind: apply them now.
        if (ProjectionBehind)
        {
            await ProjectAsync();
        }

        ArmTimer();
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _lifetime.Cancel();
        return Task.CompletedTask;
    }

    /// <summary>Runs a command once per id: a repeated delivery (outbox retry, caller retry after a timeout) changes nothing.</summary>
    protected Task CommandAsync(Guid commandId, string actor, Func<Task> body, string? correlationId = null) =>
        CommandAsync(commandId, actor, async () => { await body(); return true; }, () => true, correlationId);

    /// <summary>
    /// Runs a command once per id and returns what <paramref name="body"/> answered; a repeated id changes nothing and
    /// answers <paramref name="repeated"/> (the first answer is not stored: the caller that lost it reads the state).
    /// </summary>
    protected async Task<T> CommandAsync<T>(Guid commandId, string actor, Func<Task<T>> body, Func<T> repeated, string? correlationId = null)
    {
        if (commandId != Guid.Empty && State.RecentCommands.Contains(commandId))
        {
            return repeated();
        }

        return await TurnAsync(actor, correlationId, async () =>
        {
            var result = await body();
            if (commandId != Guid.Empty)
            {
                State.RecentCommands.Add(commandId);
                if (State.RecentCommands.Count > Workflow.RememberedCommands)
                {
                    State.RecentCommands.RemoveRange(0, State.RecentCommands.Count - Workflow.RememberedCommands);
                }
            }

            return result;
        });
    }

    protected Task TurnAsync(string actor, Func<Task> body) => TurnAsync(actor, null, async () => { await body(); return true; });

    /// <summary>One unit of change: body, domain commit, state write, projection, then the calls the body asked for.</summary>
    protected async Task<T> TurnAsync<T>(string actor, string? correlationId, Func<Task<T>> body)
    {
        if (_inTurn.Value)
        {
            return await body(); // Nested (a command that places, say): part of the outer turn.
        }

        T result;
        List<Func<IGrainFactory, Task>> after;
        await _turnLock.WaitAsync();
        try
        {
            _inTurn.Value = true;
            (result, after) = await LockedTurnAsync(actor, correlationId, body);
            ArmTimer();
        }
        finally
        {
            _inTurn.Value = false;
            _turnLock.Release();
        }

        // Outside the lock: a follow-up may lead, through other grains, back to a call on this one.
        foreach (var call in after)
        {
            try
            {
                await call(GrainFactory);
            }
            catch (Exception ex)
            {
                Log.LogWarning("{GrainType} {Key}: a follow-up call failed after the state was written: {Error}", GrainType, Key, ex.Message);
            }
        }

        return result;
    }

    private async Task<(T Result, List<Func<IGrainFactory, Task>> After)> LockedTurnAsync<T>(string actor, string? correlationId, Func<Task<T>> body)
    {
        await EnsureFreshAsync();
        // A turn whose projection failed after its state write (the database went away between the two) left history or
        // read models behind; other grains may already rely on them (a node's reservations), so every turn catches up.
        if (ProjectionBehind)
        {
            await ProjectAsync();
        }

        T result;
        List<Func<IGrainFactory, Task>> after;
        await using (var context = new TurnContext(Key, Clock.GetUtcNow(), actor, correlationId, Db, State.Timers))
        {
            _context = context;
            try
            {
                var before = JsonSerializer.SerializeToUtf8Bytes(State, WorkflowJson.Options);
                result = await body();
                await context.CommitAsync();
                if (context.Sent)
                {
                    _outboxWaker?.Wake();
                }

                // A turn that changed nothing (a poll with the same health, an ignored command) writes nothing.
                if (context.Events.Count > 0 || context.ProjectRequested
                    || !before.AsSpan().SequenceEqual(JsonSerializer.SerializeToUtf8Bytes(State, WorkflowJson.Options)))
                {
                    await SaveAsync(context);
                }

                after = context.AfterSave;
            }
            catch
            {
                // Nothing of a failed turn stays in memory: the stored state is the truth.
                _stale = true;
                await EnsureFreshAsync();
                throw;
            }
            finally
            {
                _context = null;
            }
        }

        return (result, after);
    }

    /// <summary>Reads the stored state back if a failed turn may have left changes in memory; throws while it cannot.</summary>
    private async Task EnsureFreshAsync()
    {
        if (_stale)
        {
            await _store.ReadStateAsync();
            _stale = false;
        }
    }

    /// <summary>Handles a due durable timer. Exceptions count as a retryable failure.</summary>
    protected virtual Task<TimerResult> OnTimerAsync(TimerFiring firing, CancellationToken ct) => Task.FromResult(TimerResult.Done());

    /// <summary>Told (inside the turn) that timer <paramref name="firing"/> spent its attempt budget or gave up; it is gone afterwards.</summary>
    protected virtual Task OnTimerGaveUpAsync(TimerFiring firing, string error) => Task.CompletedTask;

    /// <summary>
    /// Updates the grain's read models after the state write, in one command (its statements run in one transaction:
    /// the explicit one when history or a notification goes with it, else the command's implicit one); must be idempotent.
    /// </summary>
    protected virtual Task ProjectAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction) => Task.CompletedTask;

    /// <summary>Told once what <see cref="ProjectAsync(NpgsqlConnection, NpgsqlTransaction?)"/> wrote is committed.</summary>
    protected virtual void Projected()
    {
    }

    /// <summary>A reminder of the grain's own (not the workflow's wake-up) ticked.</summary>
    protected virtual Task OnReminderAsync(string reminderName) => Task.CompletedTask;

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        await EnsureFreshAsync();
        if (reminderName != WakeReminder)
        {
            await OnReminderAsync(reminderName);
            return;
        }

        if (State.Timers.Count == 0)
        {
            // A turn whose projection failed after its state write left the reminder registered for this: catch up.
            if (ProjectionBehind)
            {
                await ProjectAsync();
            }

            // Nothing is due any more (the unregistering was cut off by a crash): no orphan keeps ticking.
            if (State.WakeRegistered)
            {
                await TurnAsync("system", () => { State.WakeRegistered = false; State.WakeAt = null; return Task.CompletedTask; });
            }

            if (await this.GetReminder(WakeReminder) is { } orphan)
            {
                await this.UnregisterReminder(orphan);
            }

            return;
        }

        await RunDueTimersAsync();
    }

    private async Task SaveAsync(TurnContext context)
    {
        State.Version++;
        var seq = 0;
        foreach (var e in context.Events)
        {
            State.PendingHistory.Add(new HistoryEntry(State.Version, seq++, context.Now, e.From, e.To, e.Reason, context.Actor, e.CorrelationId, e.DataJson));
        }

        State.ProjectionPending |= context.ProjectRequested || Status != State.ProjectedStatus;

        // The wake-up reminder exists while any timer does. Registered before the state that relies on it is written;
        // unregistered after the state that no longer needs it is written (a crash in between leaves a harmless tick).
        var next = NextDue();
        var unregister = false;
        if (next is { } due)
        {
            if (!State.WakeRegistered || State.WakeAt is not { } at || at > due + Workflow.WakePeriod || due - at > 2 * Workflow.WakePeriod)
            {
                var first = due - context.Now;
                await this.RegisterOrUpdateReminder(WakeReminder, first > TimeSpan.Zero ? first : TimeSpan.Zero, Workflow.WakePeriod);
                State.WakeRegistered = true;
                State.WakeAt = due;
            }
        }
        else if (State.WakeRegistered)
        {
            State.WakeRegistered = false;
            State.WakeAt = null;
            unregister = true;
        }

        await _store.WriteStateAsync();

        // Project before anything else can fail: once the state is written, a failed reminder call must not leave the
        // read models behind (a grain with no timer left has no next turn to catch up on).
        if (State.ProjectionPending)
        {
            await ProjectAsync();
        }

        if (unregister)
        {
            try
            {
                if (await this.GetReminder(WakeReminder) is { } reminder)
                {
                    await this.UnregisterReminder(reminder);
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // The reminder service's owner may be a silo that just died. The state already says no wake-up is
                // needed, so the reminder's next tick finds nothing due and removes itself.
                Log.LogWarning(ex, "{GrainType} {Key}: could not remove the wake-up reminder; its next tick will", GrainType, Key);
            }
        }
    }

    private const string InsertHistorySql = """
        INSERT INTO grain_events (grain_type, grain_key, version, seq, at, from_state, to_state, reason, actor, correlation_id, data)
        SELECT @type, @key, v, s, a, f, t, r, ac, c, d::jsonb
        FROM unnest(@versions, @seqs, @ats, @froms, @tos, @reasons, @actors, @correlations, @datas) AS h(v, s, a, f, t, r, ac, c, d)
        ON CONFLICT (grain_type, grain_key, version, seq) DO NOTHING
        """;

    /// <summary>Writes pending history and the read models in one transaction; keyed by version, so repeating it is harmless.</summary>
    private async Task ProjectAsync()
    {
        await using var conn = await Db.OpenConnectionAsync();
        var history = State.PendingHistory;
        var status = Status;
        if (history.Count == 0 && status == State.ProjectedStatus)
        {
            // The common turn (a reservation, a poll's figures): the read model alone, one round trip instead of three.
            await ProjectAsync(conn, null);
            State.ProjectionPending = false;
            Projected();
            return;
        }

        await using var tx = await conn.BeginTransactionAsync();
        if (history.Count > 0)
        {
            await using var cmd = new NpgsqlCommand(InsertHistorySql, conn, tx);
            cmd.Parameters.AddWithValue("type", GrainType);
            cmd.Parameters.AddWithValue("key", Key);
            cmd.Parameters.AddWithValue("versions", history.Select(h => h.Version).ToArray());
            cmd.Parameters.AddWithValue("seqs", history.Select(h => h.Seq).ToArray());
            cmd.Parameters.AddWithValue("ats", history.Select(h => h.At).ToArray());
            cmd.Parameters.Add(new NpgsqlParameter("froms", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = history.Select(h => h.From).ToArray() });
            cmd.Parameters.Add(new NpgsqlParameter("tos", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = history.Select(h => h.To).ToArray() });
            cmd.Parameters.AddWithValue("reasons", history.Select(h => h.Reason).ToArray());
            cmd.Parameters.AddWithValue("actors", history.Select(h => h.Actor).ToArray());
            cmd.Parameters.Add(new NpgsqlParameter("correlations", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = history.Select(h => h.CorrelationId).ToArray() });
            cmd.Parameters.Add(new NpgsqlParameter("datas", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = history.Select(h => h.DataJson).ToArray() });
            await cmd.ExecuteNonQueryAsync();
        }

        await ProjectAsync(conn, tx);

        if (status != State.ProjectedStatus)
        {
            await using var notify = new NpgsqlCommand("SELECT pg_notify(@channel, @payload)", conn, tx);
            notify.Parameters.AddWithValue("channel", GrainTypes.GrainsChannel);
            notify.Parameters.AddWithValue("payload", JsonSerializer.Serialize(
                new { type = GrainType, key = Key, from = State.ProjectedStatus, to = status }, WorkflowJson.Options));
            await notify.ExecuteNonQueryAsync();
        }

        await tx.CommitAsync();
        Projected();

        // Cleared in memory only; the next write stores the cleared list (projecting again before then is harmless).
        State.PendingHistory.Clear();
        State.ProjectionPending = false;
        State.ProjectedStatus = status;
    }

    private DateTimeOffset? NextDue() => State.Timers.Count == 0 ? null : State.Timers.Values.Min(t => t.DueAt);

    private void ArmTimer()
    {
        if (NextDue() is not { } due)
        {
            _timer?.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            return;
        }

        var wait = due - Clock.GetUtcNow();
        if (wait < TimeSpan.Zero)
        {
            wait = TimeSpan.Zero;
        }

        // Beyond the wake period the reminder brings the grain back, and the timer does not keep the grain in memory:
        // if Orleans collects an idle activation meanwhile, the reminder (at most one period late) re-activates it.
        if (wait > Workflow.WakePeriod)
        {
            _timer?.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            return;
        }

        if (_timer is null)
        {
            _timer = this.RegisterGrainTimer(static (grain, ct) => grain.RunDueTimersAsync(), this,
                new GrainTimerCreationOptions(wait, Timeout.InfiniteTimeSpan) { Interleave = false });
        }
        else
        {
            _timer.Change(wait, Timeout.InfiniteTimeSpan);
        }
    }

    private async Task RunDueTimersAsync()
    {
        try
        {
            await EnsureFreshAsync();
            while (!Lifetime.IsCancellationRequested)
            {
                var now = Clock.GetUtcNow();
                var due = State.Timers.Where(t => t.Value.DueAt <= now).OrderBy(t => t.Value.DueAt).Select(t => t.Key).FirstOrDefault();
                if (due is null)
                {
                    break;
                }

                await FireAsync(due);
            }
        }
        catch (Exception ex) when (!Lifetime.IsCancellationRequested)
        {
            // The turn was undone (state read back); the timer is still due. Try again shortly rather than spin.
            Log.LogWarning(ex, "{GrainType} {Key}: a timer turn failed; retrying in 5 s", GrainType, Key);
            _timer ??= this.RegisterGrainTimer(static (grain, ct) => grain.RunDueTimersAsync(), this,
                new GrainTimerCreationOptions(TimeSpan.FromSeconds(5), Timeout.InfiniteTimeSpan) { Interleave = false });
            _timer.Change(TimeSpan.FromSeconds(5), Timeout.InfiniteTimeSpan);
            return;
        }

        ArmTimer();
    }

    private Task<bool> FireAsync(string name) => TurnAsync($"reminder:{name}", null, async () =>
    {
        var timer = State.Timers[name];
        var firing = new TimerFiring(name, timer.Attempt + 1, timer.MaxAttempts, timer.DueAt, timer.LastError);
        TimerResult result;
        try
        {
            result = await OnTimerAsync(firing, Lifetime);
        }
        catch (Exception ex) when (!Lifetime.IsCancellationRequested)
        {
            Log.LogWarning("{GrainType} {Key}: timer {Timer} failed (attempt {Attempt}): {Error}", GrainType, Key, name, firing.Attempt, ex.Message);
            result = TimerResult.Retry(ex.Message);
        }

        var now = Context.Now;
        switch (result.Outcome)
        {
            case TimerOutcome.Done:
                State.Timers.Remove(name);
                break;
            case TimerOutcome.Reschedule:
                State.Timers[name] = new DurableTimer { DueAt = now + result.After!.Value, MaxAttempts = timer.MaxAttempts };
                break;
            case TimerOutcome.Snooze:
                timer.DueAt = now + result.After!.Value;
                break;
            case TimerOutcome.Retry when firing.Attempt < firing.MaxAttempts:
                timer.Attempt = firing.Attempt;
                timer.LastError = result.Error;
                timer.DueAt = now + (result.After ?? Backoff(firing.Attempt));
                break;
            default: // Retry past the budget, or GiveUp.
                State.Timers.Remove(name);
                Log.LogWarning("{GrainType} {Key}: timer {Timer} gave up after {Attempt} attempts: {Error}", GrainType, Key, name, firing.Attempt, result.Error);
                await OnTimerGaveUpAsync(firing, result.Error ?? "sin detalle");
                break;
        }

        if (result.Apply is { } apply)
        {
            await apply();
        }

        return true;
    });

    private TimeSpan Backoff(int attempt)
    {
        var ticks = Math.Min(Workflow.MaxBackoff.Ticks, Workflow.BackoffBase.Ticks * (1L << Math.Min(attempt - 1, 30)));
        return TimeSpan.FromTicks((long)(ticks * (0.8 + (Random.Shared.NextDouble() * 0.4))));
    }
}
