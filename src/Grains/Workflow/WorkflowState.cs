namespace Sajet.Grains.Workflow;

/// <summary>
/// What every workflow grain persists besides its own fields: a version bumped on each write (history rows and read
/// models are keyed by it, so re-applying them is harmless), its durable timers, the history not yet projected, and
/// the ids of recent commands (Orleans calls are at-most-once; callers retry with the same id).
/// </summary>
public abstract class WorkflowState
{
    public long Version { get; set; }

    public Dictionary<string, DurableTimer> Timers { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Written with the state, then projected to <c>grain_events</c>; re-projected on activation if a crash came between.</summary>
    public List<HistoryEntry> PendingHistory { get; set; } = [];

    /// <summary>True while the grain's read models may lag its state (the projection after the last write did not finish).</summary>
    public bool ProjectionPending { get; set; }

    /// <summary>The state name the read models last announced (pg_notify on a change, for live pages).</summary>
    public string? ProjectedStatus { get; set; }

    public List<Guid> RecentCommands { get; set; } = [];

    /// <summary>Whether the Orleans wake-up reminder is registered (it is while any timer exists).</summary>
    public bool WakeRegistered { get; set; }

    /// <summary>When the registered wake-up reminder first ticks (then every wake period).</summary>
    public DateTimeOffset? WakeAt { get; set; }
}

/// <summary>A wake-up whose due time lives in state: "step", "billing-sync", "poll"… Attempts count failures of this firing.</summary>
public sealed class DurableTimer
{
    public DateTimeOffset DueAt { get; set; }

    public int Attempt { get; set; }

    public int MaxAttempts { get; set; } = 25;

    public string? LastError { get; set; }
}

/// <summary>One history row: a transition (from and to) or a note (from only), written once per (version, seq).</summary>
public sealed record HistoryEntry(
    long Version,
    int Seq,
    DateTimeOffset At,
    string? From,
    string? To,
    string Reason,
    string Actor,
    string? CorrelationId,
    string? DataJson);
