using System.ComponentModel.DataAnnotations;

namespace Sajet.Grains.Workflow;

/// <summary>How workflow grains wake, retry and back off. Section "Workflow".</summary>
public sealed class WorkflowOptions
{
    public const string Section = "Workflow";

    /// <summary>
    /// Period of the Orleans reminder that wakes a grain with pending timers after a crash or deactivation. Orleans wants
    /// at least a minute in production (reminders are wake-ups, not timers); sub-minute cadence uses grain timers while the
    /// grain is active. Tests lower it (with the silo's minimum reminder period) so recovery after a kill takes seconds.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan WakePeriod { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>First retry delay of a failed timer; doubled per attempt, with ±20 % jitter, up to <see cref="MaxBackoff"/>.</summary>
    public TimeSpan BackoffBase { get; set; } = TimeSpan.FromSeconds(1);

    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>How many command ids a grain remembers to recognise a repeated delivery.</summary>
    [Range(16, 10_000)]
    public int RememberedCommands { get; set; } = 128;
}
