using System.Text.Json;
using System.Text.Json.Nodes;
using Npgsql;

namespace Sajet.Runtime;

/// <summary>
/// Messages to grains travel as one-shot reminders named <c>msg:…</c>, so that a sender without the grain's code
/// (the web front, a webhook) enqueues them in its own transaction and any silo delivers them exactly once.
/// </summary>
public static class GrainMessages
{
    public const string Prefix = "msg:";
    internal const int MaxAttempts = 10;

    /// <summary>
    /// A message ready to be inserted by a sender's own SQL (one statement that also stores what caused it), as a
    /// reminder row: grain_type, grain_key, name, payload, due now, max_attempts. The runtime delivers it like any other;
    /// the sender wakes the silos after its commit with <see cref="SiloWaker"/>.
    /// </summary>
    public static PreparedMessage Prepare(object message) => new(ReminderName(), Serialize(message), MaxAttempts);

    internal static string ReminderName() => Prefix + Guid.CreateVersion7().ToString("N");

    public static bool IsMessage(string reminderName) => reminderName.StartsWith(Prefix, StringComparison.Ordinal);

    internal static string Serialize(object message)
    {
        var type = message.GetType();
        var envelope = new JsonObject
        {
            ["type"] = $"{type.FullName}, {type.Assembly.GetName().Name}",
            ["body"] = JsonSerializer.SerializeToNode(message, type, GrainJson.Options),
        };
        return envelope.ToJsonString();
    }

    internal static object Deserialize(JsonElement payload)
    {
        var typeName = payload.GetProperty("type").GetString() ?? throw new InvalidOperationException("Message without a type");
        var type = Type.GetType(typeName, throwOnError: false)
            ?? throw new InvalidOperationException($"Message type '{typeName}' is not known to this silo");
        return payload.GetProperty("body").Deserialize(type, GrainJson.Options)
            ?? throw new InvalidOperationException($"Message of type '{typeName}' has no body");
    }
}

/// <summary>A serialised grain message: the reminder name and payload to insert (then call <see cref="SiloWaker.Wake"/>).</summary>
public sealed record PreparedMessage(string Name, string PayloadJson, int MaxAttempts);

/// <summary>
/// The client side of the runtime: what a process without grain code (the web front) uses to reach grains.
/// Sends are durable and delivered once, by a silo, in the order of the database's clock.
/// </summary>
public sealed class GrainClient(NpgsqlDataSource db)
{
    /// <summary>Enqueues <paramref name="message"/> for grain <paramref name="target"/>; inside <paramref name="tx"/> when given.</summary>
    public async Task SendAsync(GrainId target, object message, NpgsqlTransaction? tx = null, CancellationToken ct = default)
    {
        if (tx is not null)
        {
            await using var batch = new NpgsqlBatch(tx.Connection, tx);
            batch.BatchCommands.Add(GrainRuntime.MessageCommand(target, message));
            batch.BatchCommands.Add(new NpgsqlBatchCommand($"SELECT pg_notify('{GrainRuntime.RemindersChannel}', '')"));
            await batch.ExecuteNonQueryAsync(ct);
            return;
        }

        await using var conn = await db.OpenConnectionAsync(ct);
        await using var own = await conn.BeginTransactionAsync(ct);
        await SendAsync(target, message, own, ct);
        await own.CommitAsync(ct);
    }

    /// <summary>Reads a grain's state, or null when the grain has never been called.</summary>
    public async Task<TState?> ReadStateAsync<TState>(GrainId id, CancellationToken ct = default)
        where TState : class
    {
        await using var cmd = db.CreateCommand("SELECT state::text FROM grains WHERE grain_type = @type AND grain_key = @key");
        cmd.Parameters.AddWithValue("type", id.Type);
        cmd.Parameters.AddWithValue("key", id.Key);
        var json = (string?)await cmd.ExecuteScalarAsync(ct);
        return json is null ? null : JsonSerializer.Deserialize<TState>(json, GrainJson.Options);
    }

    /// <summary>Sets a reminder on a grain from outside it (tools, tests, benchmarks), on the database clock.</summary>
    public async Task SetReminderAsync(GrainId id, string name, TimeSpan dueIn, object? payload = null, int maxAttempts = 25, CancellationToken ct = default)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var batch = new NpgsqlBatch(conn);
        batch.BatchCommands.Add(GrainRuntime.UpsertReminder(id, name, dueIn, payload is null ? null : JsonSerializer.Serialize(payload, GrainJson.Options), maxAttempts));
        batch.BatchCommands.Add(new NpgsqlBatchCommand($"SELECT pg_notify('{GrainRuntime.RemindersChannel}', '')"));
        await batch.ExecuteNonQueryAsync(ct);
    }
}
