using System.ComponentModel.DataAnnotations;
using Sajet.Grains.Placement;

namespace Sajet.Grains.Tenants;

/// <summary>How tenants are provisioned (section <c>Tenants</c>).</summary>
public sealed class TenantOptions
{
    public const string Section = "Tenants";

    /// <summary>Tenants live at https://{subdomain}.{Domain}.</summary>
    [Required]
    [RegularExpression(@"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$")]
    public string Domain { get; set; } = "sajet.localhost";

    /// <summary>
    /// Where a container's Odoo answers JSON-RPC; {hostname}, {vmid} and {node} are filled in. In development every
    /// container maps to the Odoo simulator.
    /// </summary>
    [Required]
    public string OdooUrlTemplate { get; set; } = "http://{hostname}:8069";

    /// <summary>The master password of the Odoo instances Sajet creates databases on.</summary>
    [Required]
    public string OdooMasterPassword { get; set; } = "admin";

    public string OdooLanguage { get; set; } = "es_ES";

    /// <summary>
    /// Size of a shared Odoo container (Basic plan tenants share one) and how many databases it holds, when the settings
    /// table has no <c>shared.*</c> key: the admin page's values win (<see cref="SharedContainerSize"/>).
    /// </summary>
    [Range(1, 64)]
    public int SharedCores { get; set; } = SharedContainerSize.Default.Cores;

    [Range(512, 262144)]
    public int SharedMemoryMb { get; set; } = SharedContainerSize.Default.MemoryMb;

    [Range(8, 4096)]
    public int SharedDiskGb { get; set; } = SharedContainerSize.Default.DiskGb;

    [Range(1, 200)]
    public int SharedSlots { get; set; } = SharedContainerSize.Default.Slots;

    /// <summary>The fallback <see cref="SharedContainerSize.ReadAsync"/> takes.</summary>
    public SharedContainerSize SharedDefaults => new(SharedCores, SharedMemoryMb, SharedDiskGb, SharedSlots);

    /// <summary>Attempts a provisioning step gets before the tenant fails (and is compensated).</summary>
    [Range(1, 100)]
    public int StepMaxAttempts { get; set; } = 8;

    /// <summary>Deadline for one Proxmox task (create, start, delete).</summary>
    public TimeSpan TaskTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Poll interval while waiting on a Proxmox task.</summary>
    public TimeSpan TaskPollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Delay between retries of a step that failed (the runtime's backoff applies on top for repeated failures).</summary>
    public TimeSpan StepRetryDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>First interval at which a pending tenant asks Stripe for its Checkout Session; it doubles up to an hour.</summary>
    public TimeSpan ReconcileFirstInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// A customer back on /success makes the tenant ask Stripe about the checkout, at most this often: every open
    /// /success page polls every few seconds, and Stripe's API is rate-limited.
    /// </summary>
    public TimeSpan CheckoutRecheckInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>An unpaid signup is abandoned (and its subdomain released) after this long.</summary>
    public TimeSpan AbandonAfter { get; set; } = TimeSpan.FromHours(24);

    /// <summary>While waiting for capacity, the tenant tries again this often even without a capacity event.</summary>
    public TimeSpan WaitingRecheck { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// The web front's public address (APP_URL, as the web front reads it), for the links in customers' mail: the welcome
    /// mail's "choose your password" link is minted here, in the silo.
    /// </summary>
    [Required]
    [Url]
    public string AppUrl { get; set; } = "http://127.0.0.1:4443";

    /// <summary>How long the welcome mail's link to choose the password works (once). After that, "¿Olvidaste tu contraseña?" sends a new one.</summary>
    [Range(typeof(TimeSpan), "01:00:00", "30.00:00:00")]
    public TimeSpan WelcomeLinkLifetime { get; set; } = TimeSpan.FromDays(7);

    /// <summary>How long a cancelled customer's data is kept, as the cancellation mail promises.</summary>
    [Range(typeof(TimeSpan), "1.00:00:00", "3650.00:00:00")]
    public TimeSpan CancelledRetention { get; set; } = TimeSpan.FromDays(30);
}
