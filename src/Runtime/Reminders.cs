using System.Text.Json;

namespace Sajet.Runtime;

/// <summary>One claimed firing of a reminder, as a handler sees it.</summary>
public sealed record ReminderFiring(
    long Id,
    GrainId Grain,
    string Name,
    JsonElement? Payload,
    DateTimeOffset DueAt,
    int Attempt,
    int MaxAttempts,
    Guid LeaseToken,
    string? LastError)
{
    public T? PayloadAs<T>() => Payload is { } p ? p.Deserialize<T>(GrainJson.Options) : default;
}

/// <summary>What a reminder handler decided. "Done", "reschedule", "retry", "snooze" are explicit outcomes.</summary>
public sealed class ReminderResult
{
    private ReminderResult(ReminderOutcome outcome, TimeSpan? after, string? error, Func<Grain, Task>? apply)
    {
        Outcome = outcome;
        After = after;
        Error = error;
        Apply = apply;
    }

    public ReminderOutcome Outcome { get; }

    /// <summary>Delay for reschedule, snooze or retry (retry: null means the runtime's backoff).</summary>
    public TimeSpan? After { get; }

    public string? Error { get; }

    /// <summary>A grain method run under the row lock in the same transaction that finishes this firing.</summary>
    public Func<Grain, Task>? Apply { get; }

    /// <summary>The firing is finished; the reminder is deleted (unless <paramref name="apply"/> sets it again).</summary>
    public static ReminderResult Done(Func<Grain, Task>? apply = null) => new(ReminderOutcome.Done, null, null, apply);

    /// <summary>Done with a synchronous grain method.</summary>
    public static ReminderResult Done<TGrain>(Action<TGrain> apply)
        where TGrain : Grain => Done(g => { apply((TGrain)g); return Task.CompletedTask; });

    /// <summary>The firing is finished and the reminder fires again after <paramref name="after"/> (periodic work).</summary>
    public static ReminderResult Reschedule(TimeSpan after, Func<Grain, Task>? apply = null) => new(ReminderOutcome.Reschedule, after, null, apply);

    public static ReminderResult Reschedule<TGrain>(TimeSpan after, Action<TGrain> apply)
        where TGrain : Grain => Reschedule(after, g => { apply((TGrain)g); return Task.CompletedTask; });

    /// <summary>Not an error, not yet: try again later without spending an attempt (e.g. a task still running).</summary>
    public static ReminderResult Snooze(TimeSpan after) => new(ReminderOutcome.Snooze, after, null, null);

    /// <summary>A failure: try again after backoff (or <paramref name="after"/>), spending an attempt.</summary>
    public static ReminderResult Retry(string error, TimeSpan? after = null) => new(ReminderOutcome.Retry, after, error, null);

    /// <summary>A permanent failure: stop now; the grain is told as if the budget were spent.</summary>
    public static ReminderResult GiveUp(string error) => new(ReminderOutcome.GiveUp, null, error, null);
}

public enum ReminderOutcome
{
    Done,
    Reschedule,
    Snooze,
    Retry,
    GiveUp,
}

/// <summary>The silo no longer holds the lease on a firing: another silo took it over, or it was replaced.</summary>
public sealed class LeaseLostException(string message) : Exception(message);
