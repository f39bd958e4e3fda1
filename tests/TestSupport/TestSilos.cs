using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Hosting;
using Orleans.TestingHost;
using Sajet.Cluster;
using Sajet.SiloHosting;

namespace Sajet.TestSupport;

/// <summary>
/// The one way tests start Sajet silos, three forms of it, all on the test's database with the same cluster settings
/// (<see cref="Settings"/>):
/// <list type="bullet">
/// <item><see cref="StartAsync"/>: a silo in this process, built by the silo executable's own host
/// (<see cref="SajetSilo.Build"/>: every grain, the outbox dispatcher), joined to whatever cluster the database holds.
/// For tests of the whole system that start, stop and count silos one by one.</item>
/// <item><see cref="StartProcess"/>: the silo executable itself, for tests where a crash is the point (SIGKILL,
/// SIGSTOP): only a real process dies the way production does.</item>
/// <item><see cref="StartClusterAsync"/>: an Orleans.TestingHost <see cref="TestCluster"/> of in-process silos
/// configured through <see cref="ClusterHosting.UseSajetCluster"/>, for tests of the cluster's own machinery
/// (membership, storage and reminder providers) with the grains the test project brings and TestingHost's handles.</item>
/// </list>
/// </summary>
public static class TestSilos
{
    private const string HookKey = "SajetTests:Hook";
    private static readonly ConcurrentDictionary<string, Hooks> AllHooks = new();

    private sealed record Hooks(Action<ISiloBuilder>? Silo, Action<IClientBuilder>? Client);

    /// <summary>
    /// What every test silo needs to find its cluster: free loopback ports (several silos share the machine), reminders
    /// in seconds, and no dashboard (its profiler and 1-second exporter are load the tests do not need).
    /// </summary>
    private static Dictionary<string, string?> ClusterSettings() => new()
    {
        [$"{SajetClusterOptions.Section}:SiloPort"] = "0",
        [$"{SajetClusterOptions.Section}:GatewayPort"] = "0",
        [$"{SajetClusterOptions.Section}:AdvertisedAddress"] = "127.0.0.1",
        [$"{SajetClusterOptions.Section}:ReminderMinimumPeriod"] = "00:00:01",
        [$"{SajetClusterOptions.Section}:Dashboard"] = "false",
    };

    /// <summary>
    /// The settings of a Sajet silo (in this process or a process of its own); callers add the integration settings of
    /// their test. Short wake-up periods and polls, so a test sees a crash recovered in seconds.
    /// </summary>
    public static Dictionary<string, string?> Settings(string connectionString)
    {
        var settings = ClusterSettings();
        // A silo's pools stay well inside the server's max_connections however many grains run at once (the test
        // databases' own connection strings allow 200, for the tests' own parallel load).
        settings["DATABASE_URL"] = new Npgsql.NpgsqlConnectionStringBuilder(connectionString) { MaxPoolSize = 20 }.ConnectionString;
        settings["Workflow:WakePeriod"] = "00:00:02";
        settings["Workflow:BackoffBase"] = "00:00:00.020";
        settings["Workflow:MaxBackoff"] = "00:00:01";
        settings["Outbox:PollInterval"] = "00:00:01";
        settings["Outbox:Lease"] = "00:00:10";
        return settings;
    }

    /// <summary>Starts a silo in this process; <see cref="StopAsync"/> it to leave the cluster.</summary>
    public static async Task<IHost> StartAsync(IReadOnlyDictionary<string, string?> settings, Action<HostApplicationBuilder>? configure = null)
    {
        var host = SajetSilo.Build(settings, configure);
        await host.StartAsync();
        return host;
    }

    /// <summary>
    /// Waits until a web front's cluster client has connected (it retries with a growing pause while no silo is up), so
    /// what the web front asks grains directly (the capacity check) finds them.
    /// </summary>
    public static async Task ClusterConnectedAsync(IServiceProvider webFront)
    {
        var connection = webFront.GetRequiredService<ClusterConnection>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (!connection.IsConnected)
        {
            await Task.Delay(100, timeout.Token);
        }
    }

    public static async Task StopAsync(IHost silo)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await silo.StopAsync(timeout.Token);
        silo.Dispose();
    }

    /// <summary>
    /// Starts the silo executable (src/Silo, copied beside the test binaries) with <paramref name="settings"/> as
    /// environment variables. Its output is kept in <paramref name="logFile"/> for a failing test's post-mortem; the
    /// caller kills it (the point) or disposes of it.
    /// </summary>
    public static Process StartProcess(IReadOnlyDictionary<string, string?> settings, string logFile)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Sajet.Silo.dll"));
        psi.ArgumentList.Add("run");
        foreach (var (key, value) in settings)
        {
            psi.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(logFile))!);
        var process = Process.Start(psi)!;
        var log = TextWriter.Synchronized(new StreamWriter(logFile) { AutoFlush = true });
        process.OutputDataReceived += (_, e) => log.WriteLine(e.Data);
        process.ErrorDataReceived += (_, e) => log.WriteLine(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    /// <summary>
    /// A <see cref="TestCluster"/> of <paramref name="silos"/> in-process silos configured as production configures the
    /// cluster: ADO.NET membership, grain storage and reminders on <paramref name="db"/> (UseTestClusterMembership off,
    /// so membership is real too), through <see cref="ClusterHosting.UseSajetCluster"/> and
    /// <see cref="ClusterClientHosting.UseSajetCluster"/>. Grain classes in assemblies the test project references are
    /// found by Orleans itself; <paramref name="silo"/>/<paramref name="client"/> add services, fakes of external
    /// systems, or application parts.
    /// </summary>
    public static async Task<TestCluster> StartClusterAsync(TestDatabase db, int silos = 1, Action<ISiloBuilder>? silo = null,
        Action<IClientBuilder>? client = null, IReadOnlyDictionary<string, string?>? settings = null)
    {
        var builder = new TestClusterBuilder((short)silos);
        builder.Options.UseTestClusterMembership = false;
        var hook = Guid.NewGuid().ToString("N");
        AllHooks[hook] = new Hooks(silo, client);
        var configuration = ClusterSettings();
        configuration["DATABASE_URL"] = db.ConnectionString;
        configuration[$"{SajetClusterOptions.Section}:ClusterId"] = builder.Options.ClusterId;
        configuration[$"{SajetClusterOptions.Section}:ServiceId"] = builder.Options.ServiceId;
        configuration[HookKey] = hook;
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

    /// <summary>The services of a TestCluster silo of this process (its membership table, reminder table, storage providers).</summary>
    public static IServiceProvider Services(SiloHandle silo) =>
        ((InProcessSiloHandle)silo).SiloHost.Services;

    // TestingHost builds each silo and client from configurators it instantiates itself: the test's lambdas reach them
    // through a key in the configuration.
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
