using System.Text.Json;

namespace Sajet.Runtime;

/// <summary>A grain's identity: its type name (as registered) and its key.</summary>
public readonly record struct GrainId(string Type, string Key)
{
    public override string ToString() => $"{Type}/{Key}";
}

/// <summary>
/// Base of every grain. A grain is one row of state in PostgreSQL changed one call at a time. Methods called
/// through <see cref="GrainRuntime.CallAsync{TGrain,TResult}"/> run inside a transaction holding the grain's row lock;
/// <see cref="ReceiveReminderAsync"/> runs outside it, on a snapshot, so it may call slow external systems.
/// </summary>
public abstract class Grain
{
    private GrainContext? _context;

    /// <summary>The call or reminder context; set by the runtime before any grain code runs.</summary>
    public GrainContext Context
    {
        get => _context ?? throw new InvalidOperationException("The grain has no context: create grains through the runtime.");
        internal set => _context = value;
    }

    /// <summary>The state name copied to <c>grains.status</c> (for lists and live updates); null when the grain has none.</summary>
    public virtual string? Status => null;

    internal abstract Type StateType { get; }

    internal abstract object StateObject { get; set; }

    /// <summary>
    /// Handles a reminder firing outside the grain's row lock. Return what should happen next; any exception is a
    /// retryable failure. The default completes the reminder.
    /// </summary>
    public virtual Task<ReminderResult> ReceiveReminderAsync(ReminderFiring firing, CancellationToken ct) =>
        Task.FromResult(ReminderResult.Done());

    /// <summary>Handles a message sent with <see cref="GrainClient.SendAsync"/>; runs under the row lock.</summary>
    public virtual Task ReceiveMessageAsync(object message) =>
        throw new InvalidOperationException($"{GetType().Name} does not accept messages of type {message.GetType().Name}");

    /// <summary>
    /// Told (under the row lock) that a reminder spent its attempt budget; the reminder is gone afterwards.
    /// Grains move to a visible failed state here.
    /// </summary>
    public virtual Task OnReminderGaveUpAsync(ReminderFiring firing, string error) => Task.CompletedTask;
}

/// <summary>A grain with typed state, serialised as JSON in <c>grains.state</c>.</summary>
public abstract class Grain<TState> : Grain
    where TState : class, new()
{
    public TState State { get; private set; } = new();

    internal sealed override Type StateType => typeof(TState);

    internal sealed override object StateObject
    {
        get => State;
        set => State = (TState)value;
    }
}

public static class GrainJson
{
    /// <summary>The one serializer configuration for grain state, payloads and messages.</summary>
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = false,
    };
}
