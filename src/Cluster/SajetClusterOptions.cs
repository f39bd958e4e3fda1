using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Sajet.Cluster;

/// <summary>
/// Section <c>Cluster</c> (environment: <c>Cluster__SiloPort</c>, …): the Orleans cluster silos form and clients join.
/// Membership lives in Sajet's own database (<c>DATABASE_URL</c>), so every process pointed at it with the same
/// <see cref="ClusterId"/> is in the same cluster.
/// </summary>
public sealed partial class SajetClusterOptions
{
    public const string Section = "Cluster";

    /// <summary>Which cluster: silos and clients with the same id find each other in the membership table.</summary>
    public string ClusterId { get; set; } = "sajet";

    /// <summary>
    /// Which service the stored state and reminders belong to. Keep it across deployments: grain state and reminders
    /// are keyed by it, so a new value starts from empty state.
    /// </summary>
    public string ServiceId { get; set; } = "sajet";

    /// <summary>Silo-to-silo port; 0 picks a free port at start (several silos on one machine, tests).</summary>
    public int SiloPort { get; set; } = 11111;

    /// <summary>The port clients (the web front) connect to; 0 picks a free port at start.</summary>
    public int GatewayPort { get; set; } = 30000;

    /// <summary>
    /// The IP address this silo publishes in the membership table for other silos and clients. Empty: Orleans picks
    /// the machine's first non-loopback address. Set it on machines with several networks, or to 127.0.0.1 for a
    /// cluster that lives on one machine.
    /// </summary>
    public string? AdvertisedAddress { get; set; }

    /// <summary>
    /// Shortest reminder period a grain may register. Reminders are durable wake-ups, not timers: one minute in
    /// production (Orleans' default; each tick is a database round trip per reminder); tests lower it to seconds.
    /// </summary>
    public TimeSpan ReminderMinimumPeriod { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// How long a client's grain call waits for its answer. Orleans' 30 s is long for a web request; 15 s still covers
    /// the 10–13 s the cluster takes to vote out a frozen silo, so a call caught in a failover is not given up
    /// before the cluster could have recovered.
    /// </summary>
    public TimeSpan ClientResponseTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Serve the Orleans Dashboard's data from the silos (the web front shows it at /admin/orleans).</summary>
    public bool Dashboard { get; set; } = true;

    /// <summary>Reads and validates the section now: silo and client configuration needs the values while it is built.</summary>
    public static SajetClusterOptions From(IConfiguration configuration)
    {
        var options = configuration.GetSection(Section).Get<SajetClusterOptions>() ?? new SajetClusterOptions();
        var errors = options.Errors().ToList();
        if (errors.Count > 0)
        {
            throw new OptionsValidationException(Section, typeof(SajetClusterOptions), errors);
        }

        return options;
    }

    /// <summary>Registers the section as options validated on start, for the services that inject them.</summary>
    public static void Register(IServiceCollection services)
    {
        services.AddOptions<SajetClusterOptions>().BindConfiguration(Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<SajetClusterOptions>, Validator>();
    }

    private sealed class Validator : IValidateOptions<SajetClusterOptions>
    {
        public ValidateOptionsResult Validate(string? name, SajetClusterOptions options) =>
            options.Errors().ToList() is { Count: > 0 } errors ? ValidateOptionsResult.Fail(errors) : ValidateOptionsResult.Success;
    }

    public IEnumerable<string> Errors()
    {
        if (!IdPattern().IsMatch(ClusterId ?? ""))
        {
            yield return $"Cluster:ClusterId '{ClusterId}' must be 1-100 letters, digits, '.', '_' or '-'.";
        }

        if (!IdPattern().IsMatch(ServiceId ?? ""))
        {
            yield return $"Cluster:ServiceId '{ServiceId}' must be 1-100 letters, digits, '.', '_' or '-'.";
        }

        if (SiloPort is < 0 or > 65535 || GatewayPort is < 0 or > 65535)
        {
            yield return "Cluster:SiloPort and Cluster:GatewayPort must be between 0 and 65535.";
        }
        else if (SiloPort != 0 && SiloPort == GatewayPort)
        {
            yield return "Cluster:SiloPort and Cluster:GatewayPort must differ.";
        }

        if (!string.IsNullOrEmpty(AdvertisedAddress) && !IPAddress.TryParse(AdvertisedAddress, out _))
        {
            yield return $"Cluster:AdvertisedAddress '{AdvertisedAddress}' is not an IP address.";
        }

        if (ReminderMinimumPeriod < TimeSpan.FromSeconds(1))
        {
            yield return "Cluster:ReminderMinimumPeriod must be at least 1 second.";
        }

        if (ClientResponseTimeout < TimeSpan.FromSeconds(1) || ClientResponseTimeout > TimeSpan.FromMinutes(5))
        {
            yield return "Cluster:ClientResponseTimeout must be between 1 second and 5 minutes.";
        }
    }

    /// <summary>A port that is free now, for a configured 0. Another process could take it before the silo binds it;
    /// on a development machine or in tests that is rare, and the silo then fails to start loudly.</summary>
    public static int FreePortIfZero(int port)
    {
        if (port != 0)
        {
            return port;
        }

        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [GeneratedRegex("^[A-Za-z0-9._-]{1,100}$")]
    private static partial Regex IdPattern();
}
