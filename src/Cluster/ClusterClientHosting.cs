using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.Messaging;
using Orleans.Runtime.Membership;

namespace Sajet.Cluster;

public static class ClusterClientHosting
{
    /// <summary>
    /// The client side of the cluster: ADO.NET clustering on Sajet's database (gateways are read from the membership
    /// table), the cluster ids and the call timeout from section <c>Cluster</c>. Used by the web front and by tests.
    /// </summary>
    public static IClientBuilder UseSajetCluster(this IClientBuilder client, IConfiguration configuration)
    {
        var options = SajetClusterOptions.From(configuration);
        SajetClusterOptions.Register(client.Services);
        var connectionString = OrleansDatabase.ConnectionString(configuration, "sajet-orleans-client");
        client.UseAdoNetClustering(o =>
        {
            o.Invariant = OrleansDatabase.Invariant;
            o.ConnectionString = connectionString;
        });
        client.Configure<ClusterOptions>(o =>
        {
            o.ClusterId = options.ClusterId;
            o.ServiceId = options.ServiceId;
        });
        // On a client, ClientMessagingOptions sets the call timeout; MessagingOptions is ignored (ORLEANS.md).
        client.Configure<ClientMessagingOptions>(o => o.ResponseTimeout = options.ClientResponseTimeout);
        // Orleans re-reads the gateway list every GatewayListRefreshPeriod; here that read answers from a cache that a
        // membership notification invalidates (NotifiedGatewayListProvider), so asking every second costs nothing while
        // idle and a client stops using a silo voted out within a second of the vote, not at its next 30 s read.
        client.Configure<GatewayOptions>(o => o.GatewayListRefreshPeriod = NotifiedGatewayListProvider.PollPeriod);
        client.Services.RemoveAll<IGatewayListProvider>();
        client.Services.AddSingleton<IGatewayListProvider>(sp => new NotifiedGatewayListProvider(
            ActivatorUtilities.CreateInstance<AdoNetGatewayListProvider>(sp), connectionString, options.ClusterId,
            sp.GetService<TimeProvider>() ?? TimeProvider.System, sp.GetRequiredService<ILogger<NotifiedGatewayListProvider>>()));
        return client;
    }

    /// <summary>
    /// Registers an <see cref="Orleans.IClusterClient"/> that connects in the background. Orleans' own client starts
    /// inside host start-up and, finding no gateway in the membership table, fails it (SiloUnavailableException, not
    /// retried by its default filter): a web front started before any silo would not start at all. Here the host
    /// starts at once, the client keeps trying with a capped backoff, and <see cref="ClusterConnection"/> says whether
    /// it is connected. Grain calls made before that fail; pages that call no grain are unaffected.
    /// </summary>
    public static IServiceCollection AddSajetClusterClient(this IServiceCollection services, IConfiguration configuration,
        Action<IClientBuilder>? configure = null)
    {
        var before = services.Where(d => d.ServiceType == typeof(IHostedService)).ToHashSet();
        services.AddOrleansClient(client =>
        {
            client.UseSajetCluster(configuration);
            client.UseConnectionRetryFilter<RetryForever>();
            configure?.Invoke(client);
        });

        // The client's hosted service (the ClusterClient itself) is taken out of host start-up and started by ClusterConnection.
        var clientServices = services.Where(d => d.ServiceType == typeof(IHostedService) && !before.Contains(d)).ToList();
        foreach (var descriptor in clientServices)
        {
            services.Remove(descriptor);
        }

        services.AddSingleton(sp => new ClusterConnection(
            [.. clientServices.Select(d => Resolve(sp, d))], sp.GetRequiredService<ILogger<ClusterConnection>>()));
        services.AddHostedService(sp => sp.GetRequiredService<ClusterConnection>());
        return services;
    }

    private static IHostedService Resolve(IServiceProvider sp, ServiceDescriptor d) => (IHostedService)(
        d.ImplementationInstance ?? d.ImplementationFactory?.Invoke(sp) ?? ActivatorUtilities.CreateInstance(sp, d.ImplementationType!));

    /// <summary>Retries every failed connection attempt (no gateway yet, database down, a gateway refusing) until the host stops.</summary>
    private sealed class RetryForever(ILogger<RetryForever> log) : IClientConnectionRetryFilter
    {
        private int _attempt;

        public async Task<bool> ShouldRetryConnectionAttempt(Exception exception, CancellationToken cancellationToken)
        {
            if (cancellationToken.IsCancellationRequested)
            {
                return false;
            }

            _attempt++;
            var delay = TimeSpan.FromSeconds(Math.Min(10, _attempt)) + TimeSpan.FromMilliseconds(Random.Shared.Next(250));
            // The first failures are the normal case of a web front that starts before its silos: keep them quiet.
            log.Log(_attempt <= 3 ? LogLevel.Information : LogLevel.Warning,
                "Orleans cluster not reachable yet (attempt {Attempt}: {Error}); retrying in {Delay}", _attempt, exception.Message, delay);
            await Task.Delay(delay, cancellationToken);
            return true;
        }
    }
}

/// <summary>Starts the Orleans client after the host has started, and reports whether it is connected.</summary>
public sealed class ClusterConnection(IReadOnlyList<IHostedService> clientServices, ILogger<ClusterConnection> log) : BackgroundService
{
    private readonly List<IHostedService> _started = [];
    private volatile bool _connected;

    public bool IsConnected => _connected;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield(); // never hold up host start-up
        try
        {
            foreach (var service in clientServices)
            {
                await service.StartAsync(stoppingToken);
                _started.Add(service);
            }

            _connected = true;
            log.LogInformation("Connected to the Orleans cluster");
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // The host stopped before a silo answered.
        }
        catch (Exception ex)
        {
            log.LogError(ex, "The Orleans client could not start; grain calls will fail until the process restarts");
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        _connected = false;
        for (var i = _started.Count - 1; i >= 0; i--)
        {
            await _started[i].StopAsync(cancellationToken);
        }
    }
}
