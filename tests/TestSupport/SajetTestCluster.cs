using System.Collections.Concurrent;
using Microsoft.Extensions.Configuration;
using Orleans.Hosting;
using Orleans.TestingHost;
using Sajet.Cluster;
using Sajet.SiloHosting;

namespace Sajet.TestSupport;

/// <summary>
/// An Orleans <see cref="TestCluster"/> configured as production configures it: ADO.NET membership, grain storage and
/// reminders on a <see cref="TestDatabase"/> built from sql/ (UseTestClusterMembership off, so membership is real too),
/// through <see cref="ClusterHosting.UseSajetCluster"/> and <see cref="ClusterClientHosting.UseSajetCluster"/>.
/// Silos run in this process. Grain classes in assemblies the test project references are found by Orleans itself;
/// <c>silo</c>/<c>client</c> add services, fakes of external systems, or application parts.
/// </summary>
public static class SajetTestCluster
{
    private const string HookKey = "SajetTests:Hook";
    private static readonly ConcurrentDictionary<string, Hooks> AllHooks = new();

    private sealed record Hooks(Action<ISiloBuilder>? Silo, Action<IClientBuilder>? Client);

    public static async Task<TestCluster> StartAsync(TestDatabase db, int silos = 1, Action<ISiloBuilder>? silo = null,
        Action<IClientBuilder>? client = null, IReadOnlyDictionary<string, string?>? settings = null)
    {
        var builder = new TestClusterBuilder((short)silos);
        builder.Options.UseTestClusterMembership = false;
        var hook = Guid.NewGuid().ToString("N");
        AllHooks[hook] = new Hooks(silo, client);
        var configuration = new Dictionary<string, string?>
        {
            ["DATABASE_URL"] = db.ConnectionString,
            [$"{SajetClusterOptions.Section}:ClusterId"] = builder.Options.ClusterId,
            [$"{SajetClusterOptions.Section}:ServiceId"] = builder.Options.ServiceId,
            // Each silo of the process needs its own ports; 0 lets every silo pick free ones.
            [$"{SajetClusterOptions.Section}:SiloPort"] = "0",
            [$"{SajetClusterOptions.Section}:GatewayPort"] = "0",
            [$"{SajetClusterOptions.Section}:AdvertisedAddress"] = "127.0.0.1",
            // Tests wait seconds for a reminder, not minutes.
            [$"{SajetClusterOptions.Section}:ReminderMinimumPeriod"] = "00:00:01",
            // The dashboard's per-call profiler and 1-second exporter are load the tests do not need.
            [$"{SajetClusterOptions.Section}:Dashboard"] = "false",
            [HookKey] = hook,
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            configuration[key] = value;
        }

        builder.ConfigureHostConfiguration(c => c.AddInMemoryCollection(configuration));
        builder.AddSiloBuilderConfigurator<SiloConfigurator>();
        builder.AddClientBuilderConfigurator<ClientConfigurator>();
        var cluster = builder.Build();
        try
        {
            await cluster.DeployAsync();
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }

        return cluster;
    }

    /// <summary>The services of a silo of this process (its membership table, reminder table, storage providers).</summary>
    public static IServiceProvider Services(SiloHandle silo) =>
        ((InProcessSiloHandle)silo).SiloHost.Services;

    private sealed class SiloConfigurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder siloBuilder)
        {
            siloBuilder.UseSajetCluster(siloBuilder.Configuration);
            AllHooks[siloBuilder.Configuration[HookKey]!].Silo?.Invoke(siloBuilder);
        }
    }

    private sealed class ClientConfigurator : IClientBuilderConfigurator
    {
        public void Configure(IConfiguration configuration, IClientBuilder clientBuilder)
        {
            clientBuilder.UseSajetCluster(configuration);
            AllHooks[configuration[HookKey]!].Client?.Invoke(clientBuilder);
        }
    }
}
