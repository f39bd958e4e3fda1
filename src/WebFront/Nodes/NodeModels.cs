namespace Sajet.WebFront.Nodes;

/// <summary>POST /api/nodes. Everything is nullable so that validation, not the binder, answers (in Spanish).</summary>
public sealed record NodeRegistrationRequest(
    string? Id,
    string? ApiUrl,
    string? TokenId,
    string? TokenSecret,
    string? Fingerprint,
    bool? Insecure,
    string? PveNode,
    int? MaxContainers,
    double? CpuOvercommit,
    string? Storage,
    string? Template);

/// <summary>PATCH /api/nodes/{id}: limits, maintenance (no new tenants: drain) and connection/token rotation.</summary>
public sealed record NodePatchRequest(
    int? MaxContainers,
    double? CpuOvercommit,
    bool? Maintenance,
    string? Storage,
    string? Template,
    string? ApiUrl,
    string? TokenId,
    string? TokenSecret,
    string? Fingerprint,
    bool? Insecure);

public sealed record NodeCapacity(int Cores, long MemoryBytes, long DiskBytes);

public sealed record NodeUse(double Cpu, long MemoryBytes, long DiskBytes);

public sealed record NodeReserved(int Cores, long MemoryMb, long DiskGb, int Containers);

/// <summary>A node as the API shows it. The token secret is never part of it.</summary>
public sealed record NodeView(
    string Id,
    string PveNode,
    string ApiUrl,
    string TokenId,
    string? Fingerprint,
    bool Insecure,
    string? PveVersion,
    string Health,
    string? LastError,
    bool Maintenance,
    int MaxContainers,
    double CpuOvercommit,
    string Storage,
    string Template,
    bool StoragePresent,
    bool TemplatePresent,
    DateTimeOffset? MetricsAt,
    NodeCapacity Capacity,
    NodeUse Used,
    NodeReserved Reserved,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt);

/// <summary>201 answer of a registration: the node, plus what the check found missing (in Spanish).</summary>
public sealed record RegisteredNode(NodeView Node, IReadOnlyList<string> Warnings);

public sealed record NodeSample(DateTimeOffset At, string Resolution, double Cpu, long MemoryUsed, long MemoryTotal, long DiskUsed, long DiskTotal, int Containers);

public sealed record NodeAlert(long Id, string Kind, string Message, double? Value, DateTimeOffset RaisedAt, DateTimeOffset? ClearedAt);

public sealed record NodeDrift(long Id, int Vmid, string Kind, string Detail, DateTimeOffset FoundAt, DateTimeOffset? ResolvedAt);

public sealed record NodeMetrics(NodeView Latest, IReadOnlyList<NodeSample> Samples, IReadOnlyList<NodeAlert> Alerts, IReadOnlyList<NodeDrift> Drift);

public sealed record NodeOccupant(int? Vmid, string? Hostname, string? Kind, string? TenantId, string? ReservationKey);

public sealed record CapacityVerdict(string NodeId, bool Eligible, string Reason, double? Score);

public sealed record CapacityRequestSize(int Cores, int MemoryMb, int DiskGb, bool Shared);

/// <summary>The shared container a Basic tenant would join now (the same answer placement gives).</summary>
public sealed record CapacitySharedSlot(string Hostname, string NodeId, string Status, int SlotsUsed, int SlotsTotal);

/// <summary>
/// For a shared plan, Request is a new shared container's size and Nodes judge that size: they say where one would go
/// when no existing container can take the tenant (Shared is then null).
/// </summary>
public sealed record CapacityCheck(
    bool Fits, string? Node, string Summary, CapacityRequestSize Request, IReadOnlyList<CapacityVerdict> Nodes, CapacitySharedSlot? Shared = null);
