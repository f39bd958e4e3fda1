using System.Net;
using Orleans.Configuration;
using Orleans.Dashboard;
using Orleans.Hosting;
using Orleans.Providers;
using Sajet.Cluster;

namespace Sajet.SiloHosting;

/// <summary>Grain storage provider names; grains name one in <c>[PersistentState("state-name", provider)]</c>.</summary>
public static class SajetStorage
{
    /// <summary>
    /// The default provider (a <c>[PersistentState]</c> without a provider uses it). ClearStateAsync keeps the row with
    /// no payload: its version keeps counting, so an activation that read the state before the clear still conflicts.
    /// </summary>
    public const string Default = ProviderConstants.DEFAULT_STORAGE_PROVIDER_NAME;

    /// <summary>Same table, but ClearStateAsync deletes the row: for state that should leave no trace once cleared.</summary>
    public const string DeleteOnClear = "DeleteOnClear";
}

public static class ClusterHosting
{
    /// <summary>
    /// A Sajet silo: membership, grain state (default provider and <see cref="SajetStorage.DeleteOnClear"/>) and
    /// reminders in Sajet's database through Orleans' ADO.NET providers (statements in sql/0005_orleans.sql), cluster
    /// ids, ports and reminder period from section <c>Cluster</c>, and membership timings for quick failover.
    /// </summary>
    public static ISiloBuilder UseSajetCluster(this ISiloBuilder silo, IConfiguration configuration)
    {
        var options = SajetClusterOptions.From(configuration);
        SajetClusterOptions.Register(silo.Services);
        var connectionString = OrleansDatabase.ConnectionString(configuration, "sajet-orleans-silo");

        silo.Configure<ClusterOptions>(o =>
        {
            o.ClusterId = options.ClusterId;
            o.ServiceId = options.ServiceId;
        });
        var siloPort = SajetClusterOptions.FreePortIfZero(options.SiloPort);
        var gatewayPort = SajetClusterOptions.FreePortIfZero(options.GatewayPort);
        silo.Configure<EndpointOptions>(o =>
        {
            o.SiloPort = siloPort;
            o.GatewayPort = gatewayPort;
            if (!string.IsNullOrEmpty(options.AdvertisedAddress))
            {
                o.AdvertisedIPAddress = IPAddress.Parse(options.AdvertisedAddress);
            }

            // The listening endpoints stay Orleans' default: the advertised address and these ports, which is what
            // peers and clients dial (they read it from the membership table).
        });

        silo.UseAdoNetClustering(o =>
        {
            o.Invariant = OrleansDatabase.Invariant;
            o.ConnectionString = connectionString;
        });
        silo.Configure<ClusterMembershipOptions>(ConfigureMembership);

        var serializer = new JsonGrainStorageSerializer();
        silo.AddAdoNetGrainStorage(SajetStorage.Default, o =>
        {
            o.Invariant = OrleansDatabase.Invariant;
            o.ConnectionString = connectionString;
            o.GrainStorageSerializer = serializer;
        });
        silo.AddAdoNetGrainStorage(SajetStorage.DeleteOnClear, o =>
        {
            o.Invariant = OrleansDatabase.Invariant;
            o.ConnectionString = connectionString;
            o.GrainStorageSerializer = serializer;
            o.DeleteStateOnClear = true;
        });

        silo.UseAdoNetReminderService(o =>
        {
            o.Invariant = OrleansDatabase.Invariant;
            o.ConnectionString = connectionString;
        });
        silo.Configure<ReminderOptions>(o => o.MinimumReminderPeriod = options.ReminderMinimumPeriod);

        if (options.Dashboard)
        {
            silo.AddDashboard();
        }

        return silo;
    }

    /// <summary>
    /// Failure detection. Orleans' defaults vote out a killed silo in about 6 s (peers see the connection reset) but a
    /// frozen one (SIGSTOP, a stuck VM) only after 64-67 s, all that time with its grains and reminders unavailable.
    /// These values were measured on a loaded 2-core machine (ORLEANS.md): a frozen silo is voted out and calls answer
    /// again in 9.6-12.5 s, a killed one in 3.2-3.4 s, and no silo was wrongly evicted in ~5 minutes of 64-way load at
    /// load average up to 15. `./sajet bench engine` (3 silos, 1,000 grains with reminders, load average ~10): a frozen
    /// silo is evicted 9.6 s after SIGSTOP and every grain answers with a fresh tick at 11.3 s (with the client's
    /// notified gateway list, src/Cluster); without MaxProbeTimeout the eviction took 25 s.
    /// </summary>
    public static void ConfigureMembership(ClusterMembershipOptions o)
    {
        // A probe unanswered for 2 s (default 5 s) counts as missed; three misses in a row make the prober suspect.
        // ExtendProbeTimeoutDuringDegradation (kept on) lengthens the timeout when the prober itself is unhealthy,
        // which is what keeps a busy machine from suspecting healthy peers.
        o.ProbeTimeout = TimeSpan.FromSeconds(2);
        o.NumMissedProbesLimit = 3;
        // The probe timeout adapts per peer between MinProbeTimeout (1 s) and this. It also sets how long a peer that
        // sent anything counts as alive: a vote is suppressed while the last message from the suspect is younger than
        // MaxProbeTimeout x NumMissedProbesLimit ("demonstrably alive"). Orleans' default, 4 x ProbeTimeout = 8 s, made
        // that 24 s, and a frozen silo was declared dead 25 s after SIGSTOP (`./sajet bench engine`, silo logs). 3 s
        // makes it 9 s; under load peers exchange messages all the time, so this check, not the probe, is what keeps a
        // slow but live silo in (no eviction in the engine bench's 64-way write load; see ORLEANS.md for 5 minutes).
        o.MaxProbeTimeout = TimeSpan.FromSeconds(3);
        // Two suspecting silos declare a death (with two silos, the survivor alone: Orleans caps it at the live count).
        o.NumVotesForDeathDeclaration = 2;
        // Votes older than this no longer count. 60 s (default 120 s) is still far above one detection round (~6 s),
        // so votes from one episode add up, while stale votes from a past hiccup cannot combine with a new one.
        o.DeathVoteExpirationTimeout = TimeSpan.FromSeconds(60);
        // Heartbeat row every 10 s (default 30 s): the table, and /health, show a frozen silo sooner.
        o.IAmAliveTablePublishTimeout = TimeSpan.FromSeconds(10);
        // Silos re-read the table every 15 s (default 60 s) in case a change notification was missed.
        o.TableRefreshTimeout = TimeSpan.FromSeconds(15);
    }
}
