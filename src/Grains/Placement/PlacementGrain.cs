using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Orleans.Concurrency;
using Sajet.Grains.Interfaces.Nodes;
using Sajet.Grains.Tenants;

namespace Sajet.Grains.Placement;

/*
 One placement (PlaceAsync):

   registry + settings (SQL) ─► every node grain's live figures (in parallel) ─► a node already holds the key? ─► done
                                                                                   │ no
                                                                                   ▼
                                              Placer.Decide ─► none fits ─► refused, with a reason per node
                                                   │ best node
                                                   ▼
                                   node grain ReserveAsync (judges again in its turn) ─► reserved ─► done
                                                   │ refused (another placement got there first)
                                                   └──► that node's fresh figures replace its snapshot; decide again

 Each round either reserves or makes a node's snapshot current, and a node refused with current figures is not chosen
 again by the same decision, so the loop ends within one round per node.
*/

/// <summary>
/// The cluster-wide placement: gathers node grains' live figures, decides, and reserves on the chosen node grain.
/// Reentrant: it keeps no state, and a placement waiting on node grains must not hold up the others queued here.
/// </summary>
[StatelessWorker, Reentrant]
public sealed class PlacementGrain(NpgsqlDataSource db, TimeProvider clock, IOptions<TenantOptions> tenants, ILogger<PlacementGrain> log)
    : Grain, IPlacementGrain
{
    private const string PlanSql = "SELECT cores, memory_mb, disk_gb, shared FROM plans WHERE id = lower(@id)";

    // The operator's side of each node (the registry row the web front writes) and the placement settings, in one read.
    private const string RegistrySql = """
        SELECT id, maintenance, storage, cpu_overcommit::float8, max_containers,
               coalesce((SELECT value::text FROM settings WHERE key = 'placement.headroom'), '0.8'),
               coalesce((SELECT value #>> '{}' FROM settings WHERE key = 'placement.strategy'), 'spread'),
               coalesce((SELECT value::text FROM settings WHERE key = 'placement.metrics_max_age_seconds'), '300')
        FROM (SELECT 1) one LEFT JOIN nodes ON true
        ORDER BY id
        """;

    public async Task<PlacementOutcome> PlaceAsync(PlacementRequest request)
    {
        var (registry, settings) = await ReadRegistryAsync();
        var lives = await GatherAsync(registry, request.ReservationKey);
        if (lives.FindIndex(l => l.HoldsKey) is var held and >= 0)
        {
            return new PlacementOutcome(true, registry[held].Id, $"Reserva existente en {registry[held].Id}.", []);
        }

        var now = clock.GetUtcNow();
        var snapshots = registry.Select((r, i) => lives[i].ToSnapshot(r, now)).ToList();
        var decision = Placer.Decide(request, snapshots, settings);
        for (var round = 0; decision.Placed && round <= registry.Count; round++)
        {
            var index = registry.FindIndex(r => r.Id == decision.NodeId);
            var answer = await GrainFactory.GetGrain<INodeGrain>(decision.NodeId!).ReserveAsync(request, registry[index], settings);
            if (answer.Reserved)
            {
                return PlacementOutcome.From(decision);
            }

            log.LogDebug("Placement {Key}: node {Node} refused on recheck; deciding again", request.ReservationKey, decision.NodeId);
            snapshots[index] = answer.Live.ToSnapshot(registry[index], clock.GetUtcNow());
            decision = Placer.Decide(request, snapshots, settings);
        }

        return decision.Placed
            ? throw new InvalidOperationException($"Placement {request.ReservationKey} did not settle after {registry.Count + 1} rounds")
            : PlacementOutcome.From(decision);
    }

    public async Task<PlacementOutcome> CheckAsync(PlacementRequest request)
    {
        var (registry, settings) = await ReadRegistryAsync();
        var lives = await GatherAsync(registry, null);
        var now = clock.GetUtcNow();
        return PlacementOutcome.From(Placer.Decide(request, [.. registry.Select((r, i) => lives[i].ToSnapshot(r, now))], settings));
    }

    public async Task<PlanPlacementCheck?> CheckPlanAsync(string planId)
    {
        PlacementRequest request;
        bool shared;
        // One connection for the plan and the shared size, closed before the node grains are asked.
        await using (var conn = await db.OpenConnectionAsync())
        {
            int cores, memory, disk;
            await using (var cmd = new NpgsqlCommand(PlanSql, conn))
            {
                cmd.Parameters.AddWithValue("id", planId);
                await using var r = await cmd.ExecuteReaderAsync();
                if (!await r.ReadAsync())
                {
                    return null;
                }

                (cores, memory, disk, shared) = (r.GetInt32(0), r.GetInt32(1), r.GetInt32(2), r.GetBoolean(3));
            }

            // The same size the tenant grain reserves for a new shared container: one reader of the settings, used by both.
            var size = shared ? await SharedContainerSize.ReadAsync(conn, null, tenants.Value.SharedDefaults, CancellationToken.None) : null;
            request = size is null
                ? new PlacementRequest("check-capacity", cores, memory, disk)
                : new PlacementRequest("check-capacity", size.Cores, size.MemoryMb, size.DiskGb);
        }

        return new PlanPlacementCheck(request.Cores, request.MemoryMb, request.DiskGb, shared, await CheckAsync(request));
    }

    public async Task<string?> FindAsync(string reservationKey)
    {
        var (registry, _) = await ReadRegistryAsync();
        var lives = await GatherAsync(registry, reservationKey);
        return lives.FindIndex(l => l.HoldsKey) is var held and >= 0 ? registry[held].Id : null;
    }

    public async Task<string?> ReleaseAsync(string reservationKey, string? likelyNode)
    {
        if (likelyNode is not null && await GrainFactory.GetGrain<INodeGrain>(likelyNode).ReleaseReservationAsync(reservationKey))
        {
            return likelyNode;
        }

        // Its container moved (HA) and the reservation with it, or the caller did not know the node.
        return await FindAsync(reservationKey) is { } node && await GrainFactory.GetGrain<INodeGrain>(node).ReleaseReservationAsync(reservationKey)
            ? node
            : null;
    }

    private async Task<List<NodeLive>> GatherAsync(List<NodeRegistration> registry, string? key) =>
        [.. await Task.WhenAll(registry.Select(r => GrainFactory.GetGrain<INodeGrain>(r.Id).GetLiveAsync(key)))];

    private async Task<(List<NodeRegistration> Registry, PlacementSettings Settings)> ReadRegistryAsync()
    {
        await using var cmd = db.CreateCommand(RegistrySql);
        await using var r = await cmd.ExecuteReaderAsync();
        var registry = new List<NodeRegistration>();
        PlacementSettings? settings = null;
        while (await r.ReadAsync())
        {
            settings ??= new PlacementSettings(
                double.Parse(r.GetString(5), CultureInfo.InvariantCulture),
                r.GetString(6),
                double.Parse(r.GetString(7), CultureInfo.InvariantCulture));
            if (!r.IsDBNull(0))
            {
                registry.Add(new NodeRegistration(r.GetString(0), r.GetBoolean(1), r.GetString(2), r.GetDouble(3), r.GetInt32(4)));
            }
        }

        return (registry, settings ?? new PlacementSettings());
    }
}
