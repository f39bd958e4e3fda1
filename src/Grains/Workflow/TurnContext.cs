using System.Text.Json;
using Npgsql;
using Sajet.Grains.Interfaces.Outbox;

namespace Sajet.Grains.Workflow;

/// <summary>
/// What grain code sees during one turn: the grain's key, the clock, who is acting, a transaction for the domain SQL the
/// turn does (committed before the state is written, so every such statement must be idempotent), the durable timers,
/// history to record and calls to make once the state is written.
/// </summary>
public sealed class TurnContext : IAsyncDisposable
{
    private readonly NpgsqlDataSource _db;
    private readonly Dictionary<string, DurableTimer> _timers;
    private NpgsqlConnection? _connection;
    private NpgsqlTransaction? _transaction;

    internal TurnContext(string key, DateTimeOffset now, string actor, string? correlationId, NpgsqlDataSource db, Dictionary<string, DurableTimer> timers)
    {
        Key = key;
        Now = now;
        Actor = actor;
        CorrelationId = correlationId;
        _db = db;
        _timers = timers;
    }

    public string Key { get; }

    public DateTimeOffset Now { get; }

    public string Actor { get; }

    public string? CorrelationId { get; }

    internal List<(string? From, string? To, string Reason, string? CorrelationId, string? DataJson)> Events { get; } = [];

    internal List<Func<IGrainFactory, Task>> AfterSave { get; } = [];

    internal bool ProjectRequested { get; private set; }

    /// <summary>Commands this turn wrote to the outbox: the dispatchers are woken once the turn has committed.</summary>
    internal bool Sent { get; private set; }

    /// <summary>The turn's connection and transaction, opened on first use and committed before the state is written.</summary>
    public async ValueTask<(NpgsqlConnection Connection, NpgsqlTransaction Transaction)> DbAsync()
    {
        if (_connection is null)
        {
            _connection = await _db.OpenConnectionAsync();
            _transaction = await _connection.BeginTransactionAsync();
        }

        return (_connection, _transaction!);
    }

    /// <summary>Sets (or replaces) timer <paramref name="name"/> to fire after <paramref name="dueIn"/>, with a fresh attempt budget.</summary>
    public void Schedule(string name, TimeSpan dueIn, int maxAttempts = 25) =>
        _timers[name] = new DurableTimer { DueAt = Now + dueIn, MaxAttempts = maxAttempts };

    public void Unschedule(string name) => _timers.Remove(name);

    public bool IsScheduled(string name) => _timers.ContainsKey(name);

    /// <summary>Records a history entry (a transition, or a note when <paramref name="to"/> is null), written with the state.</summary>
    public void Record(string? from, string? to, string reason, string? correlationId = null, object? data = null)
    {
        Events.Add((from, to, reason, correlationId ?? CorrelationId, data is null ? null : JsonSerializer.Serialize(data, WorkflowJson.Options)));
        ProjectRequested = true;
    }

    /// <summary>The grain's read models must be refreshed after this turn's state write.</summary>
    public void Project() => ProjectRequested = true;

    /// <summary>
    /// A command for another grain, written to the outbox in this turn's transaction: it commits with the domain SQL that
    /// caused it and the silos' dispatcher delivers it until the grain has applied it (the row id is its command id).
    /// For what must not be lost; <see cref="After"/> is for hints a later pass repeats.
    /// </summary>
    public async Task SendAsync(OutboxCommand command)
    {
        var (conn, tx) = await DbAsync();
        await using var cmd = new NpgsqlCommand(null, conn, tx);
        await GrainOutbox.InsertAsync(cmd, command, CancellationToken.None);
        Sent = true;
    }

    /// <summary>
    /// A call to another grain made once this turn's state is written. At most once: a crash in between loses it, so use
    /// it only for what a later pass also does (capacity notices, which the waiting re-check repeats; a reservation's
    /// move, which the old node's next poll repeats). Whatever must arrive goes through <see cref="SendAsync"/>.
    /// </summary>
    public void After(Func<IGrainFactory, Task> call) => AfterSave.Add(call);

    internal async Task CommitAsync()
    {
        if (_transaction is not null)
        {
            await _transaction.CommitAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_transaction is not null)
        {
            await _transaction.DisposeAsync();
        }

        if (_connection is not null)
        {
            await _connection.DisposeAsync();
        }
    }
}

public static class WorkflowJson
{
    /// <summary>The serializer configuration for history data and notifications (camelCase, as the web front reads them).</summary>
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web);
}
