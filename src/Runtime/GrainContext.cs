using System.Text.Json;
using Npgsql;

namespace Sajet.Runtime;

/// <summary>
/// What a grain sees of the runtime during one call: its id, the database clock, the transaction (for domain SQL
/// that must commit with the state), and the effects it wants written — reminders, history events, messages.
/// A reminder handler gets a read-only context (no transaction; effects are refused).
/// </summary>
public sealed class GrainContext
{
    internal GrainContext(GrainId id, DateTimeOffset now, CallOptions options, NpgsqlConnection? connection, NpgsqlTransaction? transaction, IServiceProvider services)
    {
        Id = id;
        Now = now;
        Options = options;
        Connection = connection;
        Transaction = transaction;
        Services = services;
    }

    public GrainId Id { get; }

    public string Key => Id.Key;

    /// <summary>The database's clock at the start of this call (transaction time), never the silo's.</summary>
    public DateTimeOffset Now { get; }

    public CallOptions Options { get; }

    public string Actor => Options.Actor;

    public string? CorrelationId => Options.CorrelationId;

    public IServiceProvider Services { get; }

    /// <summary>The call's connection; null in a reminder handler (which runs outside the lock).</summary>
    public NpgsqlConnection? Connection { get; }

    public NpgsqlTransaction? Transaction { get; }

    public bool IsReadOnly => Transaction is null;

    internal List<ReminderChange> Reminders { get; } = [];

    internal List<GrainEventRecord> Events { get; } = [];

    internal List<OutgoingMessage> Messages { get; } = [];

    /// <summary>Sets (or replaces) reminder <paramref name="name"/> to fire after <paramref name="dueIn"/>, on the database clock.</summary>
    public void SetReminder(string name, TimeSpan dueIn, object? payload = null, int? maxAttempts = null)
    {
        EnsureWritable();
        Reminders.RemoveAll(r => r.Name == name);
        Reminders.Add(new ReminderChange(name, dueIn, payload is null ? null : JsonSerializer.Serialize(payload, GrainJson.Options), maxAttempts, Cancel: false));
    }

    public void CancelReminder(string name)
    {
        EnsureWritable();
        Reminders.RemoveAll(r => r.Name == name);
        Reminders.Add(new ReminderChange(name, TimeSpan.Zero, null, null, Cancel: true));
    }

    /// <summary>Records a history event (a transition, or a notable step) in the same transaction as the state.</summary>
    public void Record(string? from, string? to, string reason, string? correlationId = null, object? data = null)
    {
        EnsureWritable();
        Events.Add(new GrainEventRecord(from, to, reason, correlationId ?? CorrelationId,
            data is null ? null : JsonSerializer.Serialize(data, GrainJson.Options)));
    }

    /// <summary>Sends a message to another grain; it is delivered only if this call commits.</summary>
    public void Send(GrainId target, object message)
    {
        EnsureWritable();
        Messages.Add(new OutgoingMessage(target, message));
    }

    private void EnsureWritable()
    {
        if (IsReadOnly)
        {
            throw new InvalidOperationException(
                "A reminder handler runs outside the grain's lock and cannot change it; return a ReminderResult with an apply step instead.");
        }
    }

    internal sealed record ReminderChange(string Name, TimeSpan DueIn, string? PayloadJson, int? MaxAttempts, bool Cancel);

    internal sealed record GrainEventRecord(string? From, string? To, string Reason, string? CorrelationId, string? DataJson);

    internal sealed record OutgoingMessage(GrainId Target, object Message);
}

/// <summary>Who is calling and why; written on history events.</summary>
public sealed record CallOptions(string Actor = "system", string? CorrelationId = null)
{
    public static readonly CallOptions System = new();
}
