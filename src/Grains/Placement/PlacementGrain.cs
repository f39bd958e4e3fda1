using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Orleans.Concurrency;
using Sajet.Grains.Interfaces.Nodes;
using Sajet.Grains.Tenants;

namespace Sajet.Grains.Placement;

/*
 One placement (PlaceAsync), decided on what this activation holds in memory (NodeDirectory):

   registry changed or older than a minute? ─► read the registry + settings (SQL), describe every node grain (in parallel)
        │
        ▼
   a node holds the key? ─► that node grain ReserveAsync (idempotent) ─► held ─► done
        │ no
        ▼
   Placer.Decide on the held figures ─► none fits ─► (figures not fresh) read and describe again, decide again ─► refused,
        │ best node                                                                                   with a reason per node
        ▼
   node grain ReserveAsync (judges again in its turn, on its own figures) ─► reserved ─► done
        │ refused (another placement got there first, or the held figures were behind)
        └──► that node's answer replaces its figures; decide again

 Node grains push their figures and keys after every poll and change (one-way); a reservation's answer carries them
 too. Each round either reserves or makes a node's figures current, and a node refused with current figures is not
 chosen again by the same decision, so the loop ends within one round per node.
*/

/// <summary>
/// The cluster-wide placement: one activation that keeps the registry and every node's live figures in memory, decides
/// there, and reserves on the chosen node grain. Reentrant: a placement waiting on a node grain must not hold up the
/// others; everything it keeps is changed only between awaits, on the activation's one thread.
/// </summary>
[Reentrant]
public sealed class PlacementGrain(NpgsqlDataSource db, TimeProvider clock, IOptions<TenantOptions> tenants, ILogger<PlacementGrain> log)
    : Grain, IPlacementGrain
{
    // A safety net under the node grains' pushes and the operator's change notices: a lost message is forgotten within
    // a minute of placements.
    private static readonly TimeSpan RegistryMaxAge = TimeSpan.FromMinutes(1);

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

    private readonly NodeDirectory _directory = new();
    private DateTimeOffset _loadedAt = DateTimeOffset.MinValue;
    private bool _registryChanged = true;
    private Task? _loading;

    public async Task<PlacementOutcome> PlaceAsync(PlacementRequest request)
    {
        var fresh = await EnsureLoadedAsync();
        var key = request.ReservationKey;
        if (_directory.HolderOf(key) is { } holder)
        {
            // A retried placement: the node answers from its state whether it still holds the key.
            var again = await Node(holder.Id).ReserveAsync(request, holder, _directory.Settings);
            _directory.Answered(holder.Id, key, again.Reserved, again.Live);
            if (again.Reserved)
            {
                return new PlacementOutcome(true, holder.Id, $"Reserva existente en {holder.Id}.", []);
            }
        }

        var decision = Decide(request);
        if (!decision.Placed && !fresh)
        {
            // Before refusing, make sure the refusal is not the held figures' fault (a push lost, a node grain restarted).
            await LoadAsync();
            decision = Decide(request);
        }

        var nodes = _directory.Registry.Count;
        for (var round = 0; decision.Placed && round <= nodes; round++)
        {
            var nodeId = decision.NodeId!;
            var registration = _directory.Registration(nodeId)!;
            var answer = await Node(nodeId).ReserveAsync(request, registration, _directory.Settings);
            _directory.Answered(nodeId, key, answer.Reserved, answer.Live);
            if (answer.Reserved)
            {
                return PlacementOutcome.From(decision);
            }

            log.LogDebug("Placement {Key}: node {Node} refused on recheck; deciding again", key, nodeId);
            decision = Decide(request);
        }

        return decision.Placed
            ? throw new InvalidOperationException($"Placement {key} did not settle after {nodes + 1} rounds")
            : PlacementOutcome.From(decision);
    }

    public Task NodeChangedAsync(string nodeId, NodeView view)
    {
        _directory.Apply(nodeId, view);
        return Task.CompletedTask;
    }

    public Task RegistryChangedAsync()
    {
        _registryChanged = true;
        return Task.CompletedTask;
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
        _directory.Released(reservationKey);
        if (likelyNode is not null && await GrainFactory.GetGrain<INodeGrain>(likelyNode).ReleaseReservationAsync(reservationKey))
        {
            return likelyNode;
        }

        // Its container moved (HA) and the reservation with it, or the caller did not know the node.
        return await FindAsync(reservationKey) is { } node && await GrainFactory.GetGrain<INodeGrain>(node).ReleaseReservationAsync(reservationKey)
            ? node
            : null;
    }

    private PlacementDecision Decide(PlacementRequest request) =>
        Placer.Decide(request, _directory.Snapshots(clock.GetUtcNow()), _directory.Settings);

    private INodeGrain Node(string id) => GrainFactory.GetGrain<INodeGrain>(id);

    /// <summary>Reads the registry and describes every node when the operator changed something or it is a minute old; true when it did.</summary>
    private async Task<bool> EnsureLoadedAsync()
    {
        if (!_registryChanged && clock.GetUtcNow() - _loadedAt < RegistryMaxAge)
        {
            return false;
        }

        await LoadAsync();
        return true;
    }

    // Placements arriving together share one load; a finished one is never reused.
    private Task LoadAsync() => _loading is { IsCompleted: false } running ? running : _loading = LoadOnceAsync();

    private async Task LoadOnceAsync()
    {
        try
        {
            // Cleared first: a change notice that arrives while this reads is not lost, it causes the next load.
            _registryChanged = false;
            var (registry, settings) = await ReadRegistryAsync();
            var views = await Task.WhenAll(registry.Select(r => Node(r.Id).DescribeAsync()));
            _directory.Load(registry, settings, views);
            _loadedAt = clock.GetUtcNow();
        }
        catch
        {
            _registryChanged = true;
            throw;
        }
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
