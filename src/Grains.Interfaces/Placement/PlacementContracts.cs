using Orleans.Concurrency;

namespace Sajet.Grains.Placement;

/// <summary>
/// Chooses nodes across the cluster's node grains. One activation (key 0) keeps what it needs to decide in memory: the
/// registry and settings (read again when a node grain says the operator changed something, and at least every minute),
/// and every node's live figures and reservation keys, which node grains push after each poll or change. A placement
/// decides on those with <see cref="Placer.Decide"/> and reserves on the chosen node grain, whose single-threaded turn
/// judges the fit again on its own figures, so stale figures can cost a better choice but never overcommit a node.
/// </summary>
[Alias("sajet.placement")]
public interface IPlacementGrain : IGrainWithIntegerKey
{
    /// <summary>Decides and reserves under <see cref="PlacementRequest.ReservationKey"/> (idempotent: a key already held returns its node).</summary>
    [Alias("place")]
    Task<PlacementOutcome> PlaceAsync(PlacementRequest request);

    /// <summary>Whether the request fits now, where, and why for every node; reserves nothing.</summary>
    [Alias("check")]
    Task<PlacementOutcome> CheckAsync(PlacementRequest request);

    /// <summary>
    /// What a plan needs from a node and whether that fits now: a dedicated plan its own size, a shared plan the size of
    /// a new shared container (the shared.* settings, SharedContainerSize). Null when the plan does not exist.
    /// </summary>
    [Alias("check-plan")]
    Task<PlanPlacementCheck?> CheckPlanAsync(string planId);

    /// <summary>The node holding a live reservation under this key, or null.</summary>
    [Alias("find")]
    Task<string?> FindAsync(string reservationKey);

    /// <summary>Releases the reservation wherever it is (tries <paramref name="likelyNode"/> first); returns its node, or null when none was live.</summary>
    [Alias("release")]
    Task<string?> ReleaseAsync(string reservationKey, string? likelyNode);

    /// <summary>A node grain's figures and reservation keys after a poll or a change; kept if newer than what is held.</summary>
    [Alias("node-changed"), OneWay]
    Task NodeChangedAsync(string nodeId, NodeView view);

    /// <summary>The operator changed the registry or the placement settings: read them again before the next decision.</summary>
    [Alias("registry-changed")]
    Task RegistryChangedAsync();
}

/// <summary>A placement's answer as it travels between grains and to the web front: every node's verdict formatted.</summary>
[GenerateSerializer, Immutable, Alias("sajet.PlacementOutcome")]
public sealed record PlacementOutcome(
    [property: Id(0)] bool Placed,
    [property: Id(1)] string? NodeId,
    [property: Id(2)] string Summary,
    [property: Id(3)] IReadOnlyList<VerdictView> Nodes)
{
    public static PlacementOutcome From(PlacementDecision d) =>
        new(d.Placed, d.NodeId, d.Summary, [.. d.Nodes.Select(n => new VerdictView(n.NodeId, n.Eligible, n.Reason, n.Score))]);
}

[GenerateSerializer, Immutable, Alias("sajet.VerdictView")]
public sealed record VerdictView(
    [property: Id(0)] string NodeId,
    [property: Id(1)] bool Eligible,
    [property: Id(2)] string Reason,
    [property: Id(3)] double? Score);

/// <summary>What the operator set for a node in the registry (the <c>nodes</c> row the web front writes).</summary>
[GenerateSerializer, Immutable, Alias("sajet.NodeRegistration")]
public sealed record NodeRegistration(
    [property: Id(0)] string Id,
    [property: Id(1)] bool Maintenance,
    [property: Id(2)] string Storage,
    [property: Id(3)] double CpuOvercommit,
    [property: Id(4)] int MaxContainers);

/// <summary>
/// What a node grain knows live: health and metrics from its last poll, and the reservations in its state. Stamp grows with
/// every figure a node grain hands out, so the placement grain keeps the newest of what reaches it out of order.
/// </summary>
[GenerateSerializer, Immutable, Alias("sajet.NodeLive")]
public sealed record NodeLive(
    [property: Id(0)] string Health,
    [property: Id(1)] DateTimeOffset? MetricsAt,
    [property: Id(2)] bool StoragePresent,
    [property: Id(3)] bool TemplatePresent,
    [property: Id(4)] int Cores,
    [property: Id(5)] long MemoryBytes,
    [property: Id(6)] long DiskBytes,
    [property: Id(7)] double CpuUsed,
    [property: Id(8)] long MemoryUsed,
    [property: Id(9)] long DiskUsed,
    [property: Id(10)] int ReservedCores,
    [property: Id(11)] long ReservedMemoryMb,
    [property: Id(12)] long ReservedDiskGb,
    [property: Id(13)] int ReservedContainers,
    [property: Id(14)] bool HoldsKey,
    [property: Id(15)] long Stamp = 0)
{
    /// <summary>The node as the pure decision sees it: the operator's registry entry with the grain's live figures.</summary>
    public NodeSnapshot ToSnapshot(NodeRegistration r, DateTimeOffset now) => new(
        r.Id, Health, r.Maintenance, MetricsAt is { } at ? (now - at).TotalSeconds : null, StoragePresent, TemplatePresent, r.Storage,
        Cores, r.CpuOvercommit, MemoryBytes, DiskBytes, CpuUsed, MemoryUsed, DiskUsed, r.MaxContainers,
        ReservedCores, ReservedMemoryMb, ReservedDiskGb, ReservedContainers);
}

/// <summary>A node grain's live figures with the keys of the reservations it holds (what the placement grain keeps of each node).</summary>
[GenerateSerializer, Immutable, Alias("sajet.NodeView")]
public sealed record NodeView(
    [property: Id(0)] NodeLive Live,
    [property: Id(1)] IReadOnlyList<string> Keys);

/// <summary>A node grain's answer to a reservation: taken (or already held under the key), or refused with the node as it is now.</summary>
[GenerateSerializer, Immutable, Alias("sajet.ReserveResult")]
public sealed record ReserveResult(
    [property: Id(0)] bool Reserved,
    [property: Id(1)] NodeLive Live);

/// <summary>A plan's placement check: the size that must fit (a shared plan's is a new shared container) and the answer.</summary>
[GenerateSerializer, Immutable, Alias("sajet.PlanPlacementCheck")]
public sealed record PlanPlacementCheck(
    [property: Id(0)] int Cores,
    [property: Id(1)] int MemoryMb,
    [property: Id(2)] int DiskGb,
    [property: Id(3)] bool Shared,
    [property: Id(4)] PlacementOutcome Outcome);

/// <summary>
/// Places tenants of shared plans, one at a time (one activation, key 0): joins a shared container with a free slot,
/// or reserves a node for a new one and opens it. Taking turns is what keeps concurrent Basic signups from each finding
/// no room in a container another is still creating and each opening their own; a grain's turn does it without any
/// caller holding a database connection while it waits.
/// </summary>
[Alias("sajet.shared-placement")]
public interface ISharedPlacementGrain : IGrainWithIntegerKey
{
    [Alias("place")]
    Task<SharedPlacement> PlaceAsync(SharedPlacementRequest request);
}

/// <summary>
/// A shared placement for <see cref="TenantId"/>: <see cref="NewContainer"/> is the reservation a new container would
/// take (its key names the container, derived by the tenant so a repeated request asks for the same one).
/// </summary>
[GenerateSerializer, Immutable, Alias("sajet.SharedPlacementRequest")]
public sealed record SharedPlacementRequest(
    [property: Id(0)] string TenantId,
    [property: Id(1)] string NewHostname,
    [property: Id(2)] PlacementRequest NewContainer,
    [property: Id(3)] int Slots);

/// <summary>
/// Where the tenant's database goes: a slot it holds (<see cref="Hostname"/> on <see cref="NodeId"/>; created by it when
/// <see cref="Creator"/>), or nowhere yet (<see cref="Placed"/> false, the node verdicts in <see cref="Outcome"/>).
/// </summary>
[GenerateSerializer, Immutable, Alias("sajet.SharedPlacement")]
public sealed record SharedPlacement(
    [property: Id(0)] bool Placed,
    [property: Id(1)] string? Hostname,
    [property: Id(2)] string? NodeId,
    [property: Id(3)] int? Vmid,
    [property: Id(4)] string? Status,
    [property: Id(5)] bool Creator,
    [property: Id(6)] bool Resumed,
    [property: Id(7)] string Reason,
    [property: Id(8)] PlacementOutcome? Outcome);
