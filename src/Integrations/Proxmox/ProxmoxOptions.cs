using System.ComponentModel.DataAnnotations;

namespace Sajet.Integrations.Proxmox;

/// <summary>Sajet-wide defaults for talking to Proxmox, bound from the `Proxmox` configuration section.</summary>
public sealed class ProxmoxOptions
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
}
