using System.ComponentModel.DataAnnotations;
using Sajet.Integrations.Resilience;

namespace Sajet.Integrations.Proxmox;

/// <summary>Sajet-wide defaults for talking to Proxmox, bound from the `Proxmox` configuration section.</summary>
public sealed class ProxmoxOptions : IValidatableObject
{
    public const string Section = "Proxmox";

    /// <summary>First delay between task status polls; PVE's own advice is 1–2 s.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:01:00")]
    public TimeSpan TaskPollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Backoff ceiling for task polling.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:05:00")]
    public TimeSpan MaxTaskPollInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How long a task (create, migrate, backup) may run before Sajet gives up waiting.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan TaskDeadline { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Per-request HTTP timeout; PVE answers most calls in well under a second but delays 401s by ~3 s.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Timeouts, read retries and the per-node circuit breaker (section <c>Proxmox:Resilience</c>).</summary>
    public HttpResilienceOptions Resilience { get; set; } = new()
    {
        // As RequestTimeout: the connection's own Timeout still applies too, and the shorter wins.
        TotalTimeout = TimeSpan.FromSeconds(30),
        // PVE answers reads in well under a second (a 401 in ~3 s); a read silent for 10 s is a stuck pveproxy worker,
        // and a new attempt on a new connection usually reaches a live one.
        ReadAttemptTimeout = TimeSpan.FromSeconds(10),
        // Two retries at ~250 ms and ~500 ms (jittered) ride out a pveproxy restart (certificate renewal, upgrade)
        // without holding a poll or a provisioning step for long.
        MaxReadRetries = 2,
        RetryBaseDelay = TimeSpan.FromMilliseconds(250),
        // Attempts count, retries included (a failed read is three): when half of ten or more attempts in 30 s found the
        // node unreachable, it is treated as down for 15 s, so callers fail at once (ProxmoxCircuitOpenException)
        // instead of each waiting out its timeouts; 15 s is shorter than a poll period, so the next poll is the trial.
        BreakerFailureRatio = 0.5,
        BreakerMinimumThroughput = 10,
        BreakerSamplingDuration = TimeSpan.FromSeconds(30),
        BreakerBreakDuration = TimeSpan.FromSeconds(15),
    };

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext) => Resilience.Validate(validationContext);
}
