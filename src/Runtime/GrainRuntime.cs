using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;

namespace Sajet.Runtime;

/// <summary>
/// Runs grain calls: one transaction locks the grain's row, loads its state, runs the method, writes the state,
/// history events, reminder changes and outgoing messages, then commits (notifications fire on commit).
/// </summary>
public sealed class GrainRuntime(
    NpgsqlDataSource db,
    GrainRegistry registry,
    IServiceProvider services,
    IOptions<RuntimeOptions> options,
    ILogger<GrainRuntime> logger)
{
    internal const string RemindersChannel = "sajet_reminders";
    public const string GrainsChannel = "sajet_grains";

    private const string LockSql = """
        SELECT state::text, status, version, now() FROM grains
        WHERE grain_type = @type AND grain_key = @key
        FOR UPDATE
        """;

    private const string CreateSql = """
        INSERT INTO grains (grain_type, grain_key) VALUES (@type, @key) ON CONFLICT DO NOTHING
        """;

    private const string WriteStateSql = """
        UPDATE grains SET state = @state::jsonb, status = @status, version = version + 1, updated_at = now()
        WHERE grain_type = @type AND grain_key = @key
        """;

    private const string InsertEventSql = """
        INSERT INTO grain_events (grain_type, grain_key, from_state, to_state, reason, actor, correlation_id, data)
        VALUES (@type, @key, @from, @to, @reason, @actor, @correlation, @data::jsonb)
        """;

    internal const string UpsertReminderSql = """
        INSERT INTO reminders (grain_type, grain_key, name, payload, due_at, run_at, max_attempts)
        VALUES (@type, @key, @name, @payload::jsonb, now() + @due_in, now() + @due_in, @max_attempts)
        ON CONFLICT (grain_type, grain_key, name) DO UPDATE SET
            payload = EXCLUDED.payload, due_at = EXCLUDED.due_at, run_at = EXCLUDED.run_at,
            max_attempts = EXCLUDED.max_attempts, attempt = 0,
            lease_owner = NULL, lease_token = NULL, last_error = NULL
        """;

    private const string DeleteReminderSql = """
        DELETE FROM reminders WHERE grain_type = @type AND grain_key = @key AND name = @name
        """;

    // Finishing is guarded by the lease token: a silo whose lease was taken over changes nothing.
    internal const string FinishDeleteSql = "DELETE FROM reminders WHERE id = @id AND lease_token = @token";

    internal const string FinishRescheduleSql = """
        UPDATE reminders SET due_at = now() + @after, run_at = now() + @after, attempt = 0,
            lease_owner = NULL, lease_token = NULL, last_error = NULL
        WHERE id = @id AND lease_token = @token
        """;

    public GrainRegistry Registry => registry;

    public RuntimeOptions Options => options.Value;

    public GrainId IdOf<TGrain>(string key)
        where TGrain : Grain => new(registry.NameOf<TGrain>(), key);

    public async Task<TResult> CallAsync<TGrain, TResult>(string key, Func<TGrain, Task<TResult>> call, CallOptions? callOptions = null, CancellationToken ct = default)
        where TGrain : Grain
    {
        TResult result = default!;
        await ExecuteAsync(IdOf<TGrain>(key), async g => result = await call((TGrain)g), callOptions ?? CallOptions.System, null, ct);
        return result;
    }

    public async Task<TResult> CallAsync<TGrain, TResult>(string key, Func<TGrain, TResult> call, CallOptions? callOptions = null, CancellationToken ct = default)
        where TGrain : Grain
    {
        TResult result = default!;
        await ExecuteAsync(IdOf<TGrain>(key), g => { result = call((TGrain)g); return Task.CompletedTask; }, callOptions ?? CallOptions.System, null, ct);
        return result;
    }

    public Task CallAsync<TGrain>(string key, Func<TGrain, Task> call, CallOptions? callOptions = null, CancellationToken ct = default)
        where TGrain : Grain => ExecuteAsync(IdOf<TGrain>(key), g => call((TGrain)g), callOptions ?? CallOptions.System, null, ct);

    public Task CallAsync<TGrain>(string key, Action<TGrain> call, CallOptions? callOptions = null, CancellationToken ct = default)
        where TGrain : Grain =>
        ExecuteAsync(IdOf<TGrain>(key), g => { call((TGrain)g); return Task.CompletedTask; }, callOptions ?? CallOptions.System, null, ct);

    /// <summary>Loads a grain with a snapshot of its state, outside any lock (for reads and tools).</summary>
    internal async Task<Grain?> LoadSnapshotAsync(GrainId id, CallOptions callOptions, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("SELECT state::text, now() FROM grains WHERE grain_type = @type AND grain_key = @key");
        cmd.Parameters.AddWithValue("type", id.Type);
        cmd.Parameters.AddWithValue("key", id.Key);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct)
            ? CreateSnapshot(id, reader.GetString(0), reader.GetFieldValue<DateTimeOffset>(1), callOptions)
            : CreateSnapshot(id, null, DateTimeOffset.UtcNow, callOptions);
    }

    /// <summary>A grain over a state read earlier (by the claim), with a read-only context.</summary>
    internal Grain? CreateSnapshot(GrainId id, string? stateJson, DateTimeOffset now, CallOptions callOptions)
    {
        if (!registry.TryCreate(id.Type, services, out var grain))
        {
            return null;
        }

        grain!.StateObject = stateJson is null ? Activator.CreateInstance(grain.StateType)! : JsonSerializer.Deserialize(stateJson, grain.StateType, GrainJson.Options)!;
        grain.Context = new GrainContext(id, now, callOptions, null, null, services);
        return grain;
    }

    /// <summary>The core of every call. <paramref name="finish"/>, when given, finishes a reminder firing in the same transaction.</summary>
    internal async Task ExecuteAsync(GrainId id, Func<Grain, Task> call, CallOptions callOptions, FiringFinish? finish, CancellationToken ct)
    {
        if (!registry.TryCreate(id.Type, services, out var grain))
        {
            throw new InvalidOperationException($"No grain is registered for type '{id.Type}'");
        }

        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);

        var loaded = await LockAsync(conn, tx, id, finish, ct);
        if (loaded is null)
        {
            await using (var create = new NpgsqlCommand(CreateSql, conn, tx))
            {
                AddId(create, id);
                await create.ExecuteNonQueryAsync(ct);
            }

            loaded = await LockAsync(conn, tx, id, finish, ct);
        }

        var (stateJson, status, now, finished) = loaded!.Value;
        if (finish is not null && !finished)
        {
            await tx.RollbackAsync(ct);
            throw new LeaseLostException($"Reminder firing {finish.Id} of {id} is no longer leased by this silo");
        }

        grain!.StateObject = JsonSerializer.Deserialize(stateJson, grain.StateType, GrainJson.Options)
            ?? Activator.CreateInstance(grain.StateType)!;
        var before = JsonSerializer.Serialize(grain.StateObject, grain.StateType, GrainJson.Options);
        var context = new GrainContext(id, now, callOptions, conn, tx, services);
        grain.Context = context;

        await call(grain);

        var batch = new NpgsqlBatch(conn, tx);
        var after = JsonSerializer.Serialize(grain.StateObject, grain.StateType, GrainJson.Options);
        var newStatus = grain.Status;
        var statusChanged = !string.Equals(status, newStatus, StringComparison.Ordinal);
        if (after != before || statusChanged)
        {
            var write = new NpgsqlBatchCommand(WriteStateSql);
            write.Parameters.AddWithValue("state", after);
            write.Parameters.AddWithValue("status", (object?)newStatus ?? DBNull.Value);
            AddId(write, id);
            batch.BatchCommands.Add(write);
        }

        if (statusChanged && !context.Events.Any(e => e.To == newStatus))
        {
            // Every transition is history, even one a grain forgot to describe.
            context.Events.Add(new GrainContext.GrainEventRecord(status, newStatus, "state changed", context.CorrelationId, null));
        }

        foreach (var e in context.Events)
        {
            var insert = new NpgsqlBatchCommand(InsertEventSql);
            AddId(insert, id);
            insert.Parameters.AddWithValue("from", (object?)e.From ?? DBNull.Value);
            insert.Parameters.AddWithValue("to", (object?)e.To ?? DBNull.Value);
            insert.Parameters.AddWithValue("reason", e.Reason);
            insert.Parameters.AddWithValue("actor", context.Actor);
            insert.Parameters.AddWithValue("correlation", (object?)e.CorrelationId ?? DBNull.Value);
            insert.Parameters.AddWithValue("data", NpgsqlDbType.Text, (object?)e.DataJson ?? DBNull.Value);
            batch.BatchCommands.Add(insert);
        }

        foreach (var r in context.Reminders)
        {
            batch.BatchCommands.Add(r.Cancel ? DeleteReminder(id, r.Name) : UpsertReminder(id, r.Name, r.DueIn, r.PayloadJson, r.MaxAttempts ?? Options.DefaultMaxAttempts));
        }

        foreach (var m in context.Messages)
        {
            batch.BatchCommands.Add(MessageCommand(m.Target, m.Message));
        }

        if (context.Reminders.Any(r => !r.Cancel) || context.Messages.Count > 0)
        {
            batch.BatchCommands.Add(new NpgsqlBatchCommand($"SELECT pg_notify('{RemindersChannel}', '')"));
        }

        if (statusChanged)
        {
            var notify = new NpgsqlBatchCommand("SELECT pg_notify(@channel, @payload)");
            notify.Parameters.AddWithValue("channel", GrainsChannel);
            notify.Parameters.AddWithValue("payload", JsonSerializer.Serialize(new GrainChange(id.Type, id.Key, status, newStatus), GrainJson.Options));
            batch.BatchCommands.Add(notify);
        }

        if (batch.BatchCommands.Count > 0)
        {
            await batch.ExecuteNonQueryAsync(ct);
        }

        await tx.CommitAsync(ct);
        if (statusChanged)
        {
            logger.LogDebug("Grain {Grain} moved from {From} to {To}", id, status, newStatus);
        }
    }

    private static async Task<(string State, string? Status, DateTimeOffset Now, bool Finished)?> LockAsync(
        NpgsqlConnection conn, NpgsqlTransaction tx, GrainId id, FiringFinish? finish, CancellationToken ct)
    {
        // Lock the grain first, then finish the firing: the same order everywhere, so no deadlocks.
        await using var batch = new NpgsqlBatch(conn, tx);
        var select = new NpgsqlBatchCommand(LockSql);
        AddId(select, id);
        batch.BatchCommands.Add(select);
        await using var reader = await batch.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct))
        {
            return null;
        }

        var state = reader.GetString(0);
        var status = reader.IsDBNull(1) ? null : reader.GetString(1);
        var now = reader.GetFieldValue<DateTimeOffset>(3);
        await reader.CloseAsync();

        var finished = true;
        if (finish is not null)
        {
            await using var cmd = finish.Command(conn, tx);
            finished = await cmd.ExecuteNonQueryAsync(ct) == 1;
        }

        return (state, status, now, finished);
    }

    internal static void AddId(NpgsqlBatchCommand cmd, GrainId id)
    {
        cmd.Parameters.AddWithValue("type", id.Type);
        cmd.Parameters.AddWithValue("key", id.Key);
    }

    private static void AddId(NpgsqlCommand cmd, GrainId id)
    {
        cmd.Parameters.AddWithValue("type", id.Type);
        cmd.Parameters.AddWithValue("key", id.Key);
    }

    internal static NpgsqlBatchCommand UpsertReminder(GrainId id, string name, TimeSpan dueIn, string? payloadJson, int maxAttempts)
    {
        var cmd = new NpgsqlBatchCommand(UpsertReminderSql);
        AddId(cmd, id);
        cmd.Parameters.AddWithValue("name", name);
        cmd.Parameters.AddWithValue("payload", NpgsqlDbType.Text, (object?)payloadJson ?? DBNull.Value);
        cmd.Parameters.AddWithValue("due_in", dueIn);
        cmd.Parameters.AddWithValue("max_attempts", maxAttempts);
        return cmd;
    }

    private static NpgsqlBatchCommand DeleteReminder(GrainId id, string name)
    {
        var cmd = new NpgsqlBatchCommand(DeleteReminderSql);
        AddId(cmd, id);
        cmd.Parameters.AddWithValue("name", name);
        return cmd;
    }

    internal static NpgsqlBatchCommand MessageCommand(GrainId target, object message) =>
        UpsertReminder(target, GrainMessages.ReminderName(), TimeSpan.Zero, GrainMessages.Serialize(message), GrainMessages.MaxAttempts);
}

/// <summary>The payload of a <c>sajet_grains</c> notification: a grain changed state.</summary>
public sealed record GrainChange(string Type, string Key, string? From, string? To);

/// <summary>How a reminder firing is finished inside a grain call: deleted, or rescheduled.</summary>
internal sealed record FiringFinish(long Id, Guid Token, TimeSpan? RescheduleAfter)
{
    public NpgsqlCommand Command(NpgsqlConnection conn, NpgsqlTransaction? tx)
    {
        var cmd = new NpgsqlCommand(RescheduleAfter is null ? GrainRuntime.FinishDeleteSql : GrainRuntime.FinishRescheduleSql, conn, tx);
        cmd.Parameters.AddWithValue("id", Id);
        cmd.Parameters.AddWithValue("token", Token);
        if (RescheduleAfter is { } after)
        {
            cmd.Parameters.AddWithValue("after", after);
        }

        return cmd;
    }
}
