using Microsoft.Extensions.Hosting;
using Sajet.SiloHosting;

namespace Sajet.TestSupport;

/// <summary>
/// Real Sajet silos in the test process: the same host the silo executable builds (Orleans with ADO.NET membership,
/// state and reminders on the test's database), on free loopback ports, with short wake-up periods so a test sees a
/// crash recovered in seconds.
/// </summary>
public static class Silos
{
    /// <summary>The settings every test silo needs; callers add the integration settings of their test.</summary>
    public static Dictionary<string, string?> Settings(string connectionString) => new()
    {
        // A silo's pools stay well inside the server's max_connections however many grains run at once (the test
        // databases' own connection strings allow 200, for the tests' own parallel load).
        ["DATABASE_URL"] = new Npgsql.NpgsqlConnectionStringBuilder(connectionString) { MaxPoolSize = 20 }.ConnectionString,
        ["Cluster:SiloPort"] = "0",
        ["Cluster:GatewayPort"] = "0",
        ["Cluster:AdvertisedAddress"] = "127.0.0.1",
        ["Cluster:ReminderMinimumPeriod"] = "00:00:01",
        ["Cluster:Dashboard"] = "false",
        ["Workflow:WakePeriod"] = "00:00:02",
        ["Workflow:BackoffBase"] = "00:00:00.020",
        ["Workflow:MaxBackoff"] = "00:00:01",
        ["Outbox:PollInterval"] = "00:00:01",
        ["Outbox:Lease"] = "00:00:10",
    };

    /// <summary>Starts a silo; dispose it (or <see cref="StopAsync"/>) to leave the cluster.</summary>
    public static async Task<IHost> StartAsync(IReadOnlyDictionary<string, string?> settings, Action<HostApplicationBuilder>? configure = null)
    {
        var host = SajetSilo.Build(settings, configure);
        await host.StartAsync();
        return host;
    }

    public static async Task StopAsync(IHost silo)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await silo.StopAsync(timeout.Token);
        silo.Dispose();
    }
}
