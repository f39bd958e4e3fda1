using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Sajet.Runtime;

/// <summary>
/// A silo: claims due reminders in one statement (FOR UPDATE SKIP LOCKED), runs their handlers outside the grain's
/// lock, renews leases while they run, and finishes each firing only while its lease is still ours. Wakes on
/// LISTEN/NOTIFY, polls (jittered) as a fallback, heartbeats into <c>silos</c>. Any number of silos share one database.
/// </summary>
public sealed class Silo : IAsyncDisposable
{
    // The claim also returns each grain's state: the handler's snapshot costs no extra transaction.
    private const string ClaimSql = """
        WITH due AS (
            SELECT id FROM reminders
            WHERE run_at <= now()
            ORDER BY run_at
            LIMIT @limit
            FOR UPDATE SKIP LOCKED
        ), claimed AS (
            UPDATE reminders r
            SET lease_owner = @silo, lease_token = gen_random_uuid(), run_at = now() + @lease, attempt = r.attempt + 1
            FROM due
            WHERE r.id = due.id
            RETURNING r.id, r.grain_type, r.grain_key, r.name, r.payload, r.due_at, r.attempt, r.max_attempts, r.lease_token, r.last_error
        )
        SELECT c.id, c.grain_type, c.grain_key, c.name, c.payload::text, c.due_at, c.attempt, c.max_attempts, c.lease_token, c.last_error,
               g.state::text, now()
        FROM claimed c
        LEFT JOIN grains g ON g.grain_type = c.grain_type AND g.grain_key = c.grain_key
        """;

    // Sent in the same round trip and transaction as the claim: when the next reminder falls due, so the silo can
    // wake for it instead of waiting for the poll (which only catches work whose NOTIFY came when it was created).
    private const string NextDueSql = "SELECT extract(epoch FROM min(run_at) - now())::float8 FROM reminders WHERE run_at > now()";

    private const string RenewSql = """
        UPDATE reminders SET run_at = now() + @lease
        WHERE lease_token = ANY(@tokens) AND lease_owner = @silo
        RETURNING lease_token
        """;

    private const string RetrySql = """
        UPDATE reminders SET run_at = now() + @after, lease_owner = NULL, lease_token = NULL, last_error = @error
        WHERE id = @id AND lease_token = @token
        """;

    // A snooze is "not yet", not a failure: the attempt it claimed is given back.
    private const string SnoozeSql = """
        UPDATE reminders SET run_at = now() + @after, lease_owner = NULL, lease_token = NULL, attempt = greatest(attempt - 1, 0)
        WHERE id = @id AND lease_token = @token
        """;

    // Released on shutdown: claimable at once by another silo, and the interrupted attempt is not counted.
    private const string ReleaseSql = """
        UPDATE reminders SET run_at = now(), lease_owner = NULL, lease_token = NULL, attempt = greatest(attempt - 1, 0)
        WHERE lease_token = ANY(@tokens) AND lease_owner = @silo
        """;

    private const string HeartbeatSql = """
        INSERT INTO silos (silo_id, host, pid) VALUES (@silo, @host, @pid)
        ON CONFLICT (silo_id) DO UPDATE SET heartbeat_at = now(), stopped_at = NULL
        """;

    private readonly NpgsqlDataSource _db;
    private readonly GrainRuntime _runtime;
    private readonly RuntimeOptions _options;
    private readonly ILogger<Silo> _logger;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<Guid, InFlight> _inFlight = new();
    private readonly SemaphoreSlim _wake = new(0, int.MaxValue);
    private readonly CancellationTokenSource _stopClaiming = new();
    private readonly CancellationTokenSource _abortHandlers = new();
    private Task? _loops;
    private TimeSpan? _nextDueIn;

    public Silo(NpgsqlDataSource db, GrainRuntime runtime, IOptions<RuntimeOptions> options, ILogger<Silo> logger, TimeProvider? time = null)
    {
        _db = db;
        _runtime = runtime;
        _options = options.Value;
        _logger = logger;
        _time = time ?? TimeProvider.System;
    }

    public string Id => _options.SiloId;

    private long _claims;
    private long _claimed;

    /// <summary>Claim statements run and reminders they returned, since start (for benchmarks and diagnostics).</summary>
    public (long Claims, long Claimed) ClaimStats => (Interlocked.Read(ref _claims), Interlocked.Read(ref _claimed));

    /// <summary>Handlers currently running in this silo.</summary>
    public int InFlightCount => _inFlight.Count;

    public Task StartAsync(CancellationToken ct = default)
    {
        _logger.LogInformation("Silo {Silo} starting", Id);
        var stop = _stopClaiming.Token;
        _loops = Task.WhenAll(
            Task.Run(() => ClaimLoopAsync(stop), CancellationToken.None),
            Task.Run(() => ListenLoopAsync(stop), CancellationToken.None),
            Task.Run(() => HeartbeatLoopAsync(stop), CancellationToken.None),
            Task.Run(() => RenewLoopAsync(_abortHandlers.Token), CancellationToken.None));
        return Task.CompletedTask;
    }

    /// <summary>
    /// Graceful stop: no new claims; in-flight handlers get <see cref="RuntimeOptions.ShutdownGrace"/> to finish,
    /// then are cancelled and their leases released so another silo picks them up at once.
    /// </summary>
    public async Task StopAsync(CancellationToken ct = default)
    {
        if (_loops is null)
        {
            return;
        }

        await _stopClaiming.CancelAsync();
        var deadline = _time.GetUtcNow() + _options.ShutdownGrace;
        while (!_inFlight.IsEmpty && _time.GetUtcNow() < deadline && !ct.IsCancellationRequested)
        {
            await Task.Delay(20, CancellationToken.None);
        }

        var leftovers = _inFlight.Keys.ToArray();
        await _abortHandlers.CancelAsync();
        if (leftovers.Length > 0)
        {
            try
            {
                await using var cmd = _db.CreateCommand(ReleaseSql);
                cmd.Parameters.AddWithValue("tokens", leftovers);
                cmd.Parameters.AddWithValue("silo", Id);
                var released = await cmd.ExecuteNonQueryAsync(CancellationToken.None);
                _logger.LogInformation("Silo {Silo} released {Count} in-flight reminders on shutdown", Id, released);
            }
            catch (Exception ex)
            {
                _logger.LogWarning(ex, "Silo {Silo} could not release its leases; they will expire", Id);
            }
        }

        try
        {
            await using var cmd = _db.CreateCommand("UPDATE silos SET stopped_at = now() WHERE silo_id = @silo");
            cmd.Parameters.AddWithValue("silo", Id);
            await cmd.ExecuteNonQueryAsync(CancellationToken.None);
        }
        catch (Exception ex)
        {
            _logger.LogWarning(ex, "Silo {Silo} could not record its stop", Id);
        }

        try
        {
            await _loops;
        }
        catch (OperationCanceledException)
        {
        }

        _logger.LogInformation("Silo {Silo} stopped", Id);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _stopClaiming.Dispose();
        _abortHandlers.Dispose();
        _wake.Dispose();
    }

    private async Task ClaimLoopAsync(CancellationToken stop)
    {
        var failures = 0;
        while (!stop.IsCancellationRequested)
        {
            var free = _options.MaxConcurrency - _inFlight.Count;
            var claimed = 0;
            // While handlers run, claim only once a quarter of the slots are free: a claim per freed slot would cost a
            // transaction per step; an idle silo claims at once, so latency at low load does not change.
            if (free > 0 && (_inFlight.IsEmpty || free >= Math.Max(1, _options.MaxConcurrency / 4)))
            {
                try
                {
                    claimed = await ClaimAsync(free, stop);
                    failures = 0;
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    break;
                }
                catch (Exception ex)
                {
                    // The database may be restarting: back off, then carry on; nothing we hold is lost.
                    failures++;
                    _logger.LogWarning("Silo {Silo} claim failed ({Failures} in a row): {Error}", Id, failures, ex.Message);
                    await DelayAsync(TimeSpan.FromMilliseconds(Math.Min(5000, 100 * Math.Pow(2, Math.Min(failures, 6)))), stop);
                    continue;
                }
            }

            if (claimed > 0 && claimed == free)
            {
                continue; // There may be more due right now.
            }

            // Sleep until a notification, a freed slot, the next known due time, or the jittered poll.
            var poll = _options.PollInterval * (0.8 + (0.4 * Random.Shared.NextDouble()));
            if (_nextDueIn is { } next && next < poll)
            {
                poll = next < TimeSpan.Zero ? TimeSpan.Zero : next;
            }

            try
            {
                await _wake.WaitAsync(poll, stop);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            // Coalesce a burst of wake-ups (notifications, freed slots) into one claim: a short cooldown lets
            // several handlers finish so one claim statement serves many of them (fewer commits per step).
            try
            {
                await Task.Delay(_options.ClaimCooldown, _time, stop);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            while (_wake.CurrentCount > 0 && _wake.Wait(0, CancellationToken.None))
            {
            }
        }
    }

    private async Task<int> ClaimAsync(int limit, CancellationToken stop)
    {
        var firings = new List<ReminderFiring>(limit);
        var snapshots = new List<Snapshot>(limit);
        await using (var batch = _db.CreateBatch())
        {
            var claim = new NpgsqlBatchCommand(ClaimSql);
            claim.Parameters.AddWithValue("limit", limit);
            claim.Parameters.AddWithValue("silo", Id);
            claim.Parameters.AddWithValue("lease", _options.LeaseDuration);
            batch.BatchCommands.Add(claim);
            batch.BatchCommands.Add(new NpgsqlBatchCommand(NextDueSql));
            await using var reader = await batch.ExecuteReaderAsync(stop);
            while (await reader.ReadAsync(stop))
            {
                JsonElement? payload = reader.IsDBNull(4) ? null : JsonDocument.Parse(reader.GetString(4)).RootElement;
                firings.Add(new ReminderFiring(
                    reader.GetInt64(0),
                    new GrainId(reader.GetString(1), reader.GetString(2)),
                    reader.GetString(3),
                    payload,
                    reader.GetFieldValue<DateTimeOffset>(5),
                    reader.GetInt32(6),
                    reader.GetInt32(7),
                    reader.GetGuid(8),
                    reader.IsDBNull(9) ? null : reader.GetString(9)));
                snapshots.Add(new Snapshot(reader.IsDBNull(10) ? null : reader.GetString(10), reader.GetFieldValue<DateTimeOffset>(11)));
            }

            await reader.NextResultAsync(stop);
            _nextDueIn = await reader.ReadAsync(stop) && !reader.IsDBNull(0)
                ? TimeSpan.FromSeconds(reader.GetDouble(0)) + TimeSpan.FromMilliseconds(1)
                : null;
        }

        Interlocked.Increment(ref _claims);
        Interlocked.Add(ref _claimed, firings.Count);
        for (var i = 0; i < firings.Count; i++)
        {
            var firing = firings[i];
            var flight = new InFlight(firing, snapshots[i], CancellationTokenSource.CreateLinkedTokenSource(_abortHandlers.Token));
            _inFlight[firing.LeaseToken] = flight;
            _ = Task.Run(() => RunAsync(flight), CancellationToken.None);
        }

        return firings.Count;
    }

    private async Task RunAsync(InFlight flight)
    {
        var firing = flight.Firing;
        var ct = flight.Cancellation.Token;
        try
        {
            await RunFiringAsync(firing, flight.Snapshot, ct);
        }
        catch (LeaseLostException ex)
        {
            _logger.LogInformation("Silo {Silo}: {Message}; the late finish was discarded", Id, ex.Message);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            _logger.LogInformation("Silo {Silo}: reminder {Reminder} of {Grain} interrupted", Id, firing.Name, firing.Grain);
        }
        catch (Exception ex)
        {
            await FailAsync(firing, ex.Message, null, giveUp: false, ct);
        }
        finally
        {
            _inFlight.TryRemove(firing.LeaseToken, out _);
            flight.Cancellation.Dispose();
            _wake.Release(); // A slot is free.
        }
    }

    private async Task RunFiringAsync(ReminderFiring firing, Snapshot snapshot, CancellationToken ct)
    {
        if (firing.Attempt > firing.MaxAttempts)
        {
            // Claimed again after silos died mid-handler until the budget ran out.
            await FailAsync(firing, firing.LastError ?? "attempt budget spent (the handler never finished)", null, giveUp: true, ct);
            return;
        }

        var actor = new CallOptions($"reminder:{firing.Name}");
        if (GrainMessages.IsMessage(firing.Name))
        {
            var message = GrainMessages.Deserialize(firing.Payload ?? throw new InvalidOperationException("Message without payload"));
            await _runtime.ExecuteAsync(firing.Grain, g => g.ReceiveMessageAsync(message),
                new CallOptions("message"), new FiringFinish(firing.Id, firing.LeaseToken, null), ct);
            return;
        }

        var grain = _runtime.CreateSnapshot(firing.Grain, snapshot.StateJson, snapshot.Now, actor)
            ?? throw new InvalidOperationException($"No grain is registered for type '{firing.Grain.Type}'");
        var result = await grain.ReceiveReminderAsync(firing, ct);
        switch (result.Outcome)
        {
            case ReminderOutcome.Done:
            case ReminderOutcome.Reschedule:
                var finish = new FiringFinish(firing.Id, firing.LeaseToken, result.Outcome == ReminderOutcome.Reschedule ? result.After ?? TimeSpan.Zero : null);
                if (result.Apply is null)
                {
                    // Nothing to change on the grain: finish the firing alone, without taking the grain's lock.
                    await using var conn = await _db.OpenConnectionAsync(ct);
                    await using var cmd = finish.Command(conn, null);
                    if (await cmd.ExecuteNonQueryAsync(ct) != 1)
                    {
                        throw new LeaseLostException($"Reminder firing {firing.Id} of {firing.Grain} is no longer leased by this silo");
                    }
                }
                else
                {
                    await _runtime.ExecuteAsync(firing.Grain, result.Apply, actor, finish, ct);
                }

                break;
            case ReminderOutcome.Snooze:
                await GuardedAsync(SnoozeSql, firing, result.After ?? _options.PollInterval, null, ct);
                break;
            case ReminderOutcome.Retry:
                await FailAsync(firing, result.Error ?? "retry requested", result.After, giveUp: false, ct);
                break;
            case ReminderOutcome.GiveUp:
                await FailAsync(firing, result.Error ?? "gave up", null, giveUp: true, ct);
                break;
            default:
                throw new UnreachableException();
        }
    }

    private async Task FailAsync(ReminderFiring firing, string error, TimeSpan? after, bool giveUp, CancellationToken ct)
    {
        try
        {
            if (giveUp || firing.Attempt >= firing.MaxAttempts)
            {
                _logger.LogWarning("Reminder {Reminder} of {Grain} gave up after attempt {Attempt}: {Error}", firing.Name, firing.Grain, firing.Attempt, error);
                await _runtime.ExecuteAsync(firing.Grain, g => g.OnReminderGaveUpAsync(firing, error),
                    new CallOptions($"reminder:{firing.Name}"), new FiringFinish(firing.Id, firing.LeaseToken, null), CancellationToken.None);
                return;
            }

            var delay = after ?? Backoff(firing.Attempt);
            _logger.LogInformation("Reminder {Reminder} of {Grain} failed attempt {Attempt}/{Max}, retrying in {Delay}: {Error}",
                firing.Name, firing.Grain, firing.Attempt, firing.MaxAttempts, delay, error);
            await GuardedAsync(RetrySql, firing, delay, error, CancellationToken.None);
        }
        catch (LeaseLostException ex)
        {
            _logger.LogInformation("Silo {Silo}: {Message}; the failure report was discarded", Id, ex.Message);
        }
        catch (Exception ex)
        {
            // The database is unreachable: the lease will expire and the firing will be claimed again.
            _logger.LogWarning("Silo {Silo} could not record the failure of {Reminder} of {Grain}: {Error}", Id, firing.Name, firing.Grain, ex.Message);
        }
    }

    private async Task GuardedAsync(string sql, ReminderFiring firing, TimeSpan after, string? error, CancellationToken ct)
    {
        await using var cmd = _db.CreateCommand(sql);
        cmd.Parameters.AddWithValue("id", firing.Id);
        cmd.Parameters.AddWithValue("token", firing.LeaseToken);
        cmd.Parameters.AddWithValue("after", after);
        if (error is not null)
        {
            cmd.Parameters.AddWithValue("error", error.Length > 4000 ? error[..4000] : error);
        }

        if (await cmd.ExecuteNonQueryAsync(ct) != 1)
        {
            throw new LeaseLostException($"Reminder firing {firing.Id} of {firing.Grain} is no longer leased by this silo");
        }
    }

    /// <summary>BackoffBase × attempt⁴, capped, with ±10 % jitter so retries of a burst spread out.</summary>
    public TimeSpan Backoff(int attempt)
    {
        var raw = _options.BackoffBase.TotalMilliseconds * Math.Pow(Math.Max(1, attempt), 4);
        var capped = Math.Min(raw, _options.MaxBackoff.TotalMilliseconds);
        return TimeSpan.FromMilliseconds(capped * (0.9 + (0.2 * Random.Shared.NextDouble())));
    }

    private async Task RenewLoopAsync(CancellationToken abort)
    {
        var every = _options.LeaseDuration / 3;
        while (!abort.IsCancellationRequested)
        {
            if (!await DelayAsync(every, abort))
            {
                return;
            }

            var tokens = _inFlight.Keys.ToArray();
            if (tokens.Length == 0)
            {
                continue;
            }

            try
            {
                var kept = new HashSet<Guid>();
                await using (var cmd = _db.CreateCommand(RenewSql))
                {
                    cmd.Parameters.AddWithValue("lease", _options.LeaseDuration);
                    cmd.Parameters.AddWithValue("tokens", tokens);
                    cmd.Parameters.AddWithValue("silo", Id);
                    await using var reader = await cmd.ExecuteReaderAsync(abort);
                    while (await reader.ReadAsync(abort))
                    {
                        kept.Add(reader.GetGuid(0));
                    }
                }

                foreach (var token in tokens.Where(t => !kept.Contains(t)))
                {
                    // Taken over or replaced: stop the handler if it listens; its finish would be rejected anyway.
                    if (_inFlight.TryGetValue(token, out var flight))
                    {
                        _logger.LogInformation("Silo {Silo} lost the lease on {Reminder} of {Grain}", Id, flight.Firing.Name, flight.Firing.Grain);
                        await flight.Cancellation.CancelAsync();
                    }
                }
            }
            catch (OperationCanceledException) when (abort.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                _logger.LogWarning("Silo {Silo} could not renew leases: {Error}", Id, ex.Message);
            }
        }
    }

    private async Task HeartbeatLoopAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await using var cmd = _db.CreateCommand(HeartbeatSql);
                cmd.Parameters.AddWithValue("silo", Id);
                cmd.Parameters.AddWithValue("host", Environment.MachineName);
                cmd.Parameters.AddWithValue("pid", Environment.ProcessId);
                await cmd.ExecuteNonQueryAsync(stop);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                _logger.LogWarning("Silo {Silo} heartbeat failed: {Error}", Id, ex.Message);
            }

            if (!await DelayAsync(_options.HeartbeatInterval, stop))
            {
                return;
            }
        }
    }

    private async Task ListenLoopAsync(CancellationToken stop)
    {
        var failures = 0;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await using var conn = await _db.OpenConnectionAsync(stop);
                conn.Notification += (_, _) => _wake.Release();
                await using (var listen = new NpgsqlCommand($"LISTEN {GrainRuntime.RemindersChannel}", conn))
                {
                    await listen.ExecuteNonQueryAsync(stop);
                }

                failures = 0;
                _wake.Release(); // Anything notified while we were not listening is found by this claim.
                while (!stop.IsCancellationRequested)
                {
                    await conn.WaitAsync(stop);
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                failures++;
                _logger.LogWarning("Silo {Silo} lost its LISTEN connection ({Failures} in a row): {Error}", Id, failures, ex.Message);
                if (!await DelayAsync(TimeSpan.FromMilliseconds(Math.Min(5000, 100 * Math.Pow(2, Math.Min(failures, 6)))), stop))
                {
                    return;
                }
            }
        }
    }

    private async Task<bool> DelayAsync(TimeSpan delay, CancellationToken ct)
    {
        try
        {
            await Task.Delay(delay, _time, ct);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private sealed record InFlight(ReminderFiring Firing, Snapshot Snapshot, CancellationTokenSource Cancellation);

    private sealed record Snapshot(string? StateJson, DateTimeOffset Now);
}
