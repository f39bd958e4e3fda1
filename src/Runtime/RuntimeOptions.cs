using System.ComponentModel.DataAnnotations;

namespace Sajet.Runtime;

/// <summary>Settings of the runtime and its silo workers (section <c>Runtime</c>).</summary>
public sealed class RuntimeOptions
{
    public const string Section = "Runtime";

    /// <summary>This process's silo id; unique per process (host-pid-random by default).</summary>
    public string SiloId { get; set; } = $"{Environment.MachineName}-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..6]}";

    /// <summary>Fallback poll when no notification arrives; jittered ±20 %.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Pause between a wake-up and the claim it triggers, so completions batch into one claim.</summary>
    public TimeSpan ClaimCooldown { get; set; } = TimeSpan.FromMilliseconds(5);

    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long a claim is held without renewal; renewed every third of it while the handler runs.</summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Handlers running at once in this silo.</summary>
    [Range(1, 1024)]
    public int MaxConcurrency { get; set; } = 16;

    /// <summary>Backoff after failed attempt n is BackoffBase × n⁴, capped, ±10 % jitter.</summary>
    public TimeSpan BackoffBase { get; set; } = TimeSpan.FromSeconds(1);

    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromMinutes(30);

    [Range(1, 1000)]
    public int DefaultMaxAttempts { get; set; } = 25;

    /// <summary>On shutdown, how long in-flight handlers may finish before their leases are released.</summary>
    public TimeSpan ShutdownGrace { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>When false the process is a client only (web front without a co-hosted silo).</summary>
    public bool RunSilo { get; set; } = true;
}
