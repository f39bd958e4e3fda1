namespace Sajet.Grains.Workflow;

/// <summary>One firing of a durable timer, as its handler sees it.</summary>
public sealed record TimerFiring(string Name, int Attempt, int MaxAttempts, DateTimeOffset DueAt, string? LastError);

/// <summary>What a timer handler decided. "Done", "reschedule", "snooze", "retry" and "give up" are explicit outcomes.</summary>
public sealed class TimerResult
{
    private TimerResult(TimerOutcome outcome, TimeSpan? after, string? error, Func<Task>? apply)
    {
        Outcome = outcome;
        After = after;
        Error = error;
        Apply = apply;
    }

    public TimerOutcome Outcome { get; }

    /// <summary>Delay for reschedule, snooze or retry (retry: null means the default backoff).</summary>
    public TimeSpan? After { get; }

    public string? Error { get; }

    /// <summary>The state change that records the step's effect; runs in the same turn, before the state is written.</summary>
    public Func<Task>? Apply { get; }

    /// <summary>The firing is finished and the timer removed (unless <paramref name="apply"/> schedules it again).</summary>
    public static TimerResult Done(Func<Task>? apply = null) => new(TimerOutcome.Done, null, null, apply);

    public static TimerResult Done(Action apply) => Done(() => { apply(); return Task.CompletedTask; });

    /// <summary>Finished; fires again after <paramref name="after"/> (periodic work).</summary>
    public static TimerResult Reschedule(TimeSpan after, Func<Task>? apply = null) => new(TimerOutcome.Reschedule, after, null, apply);

    /// <summary>Not an error, not yet: try again later without spending an attempt (e.g. a container still being created).</summary>
    public static TimerResult Snooze(TimeSpan after) => new(TimerOutcome.Snooze, after, null, null);

    /// <summary>A failure: try again after backoff (or <paramref name="after"/>), spending an attempt.</summary>
    public static TimerResult Retry(string error, TimeSpan? after = null) => new(TimerOutcome.Retry, after, error, null);

    /// <summary>A permanent failure: stop now; the grain is told as if the budget were spent.</summary>
    public static TimerResult GiveUp(string error) => new(TimerOutcome.GiveUp, null, error, null);
}

public enum TimerOutcome
{
    Done,
    Reschedule,
    Snooze,
    Retry,
    GiveUp,
}
