namespace Sajet.Grains.Nodes;

/// <summary>Grain type names the web front addresses without seeing the grain classes.</summary>
public static class NodeGrainTypes
{
    /// <summary>One grain per registered node; key = node id. Polls the node and keeps its health.</summary>
    public const string Node = Interfaces.GrainTypes.Node;

    /// <summary>One grain per known container; key = VMID. Keeps the container's history (moves, disappearances).</summary>
    public const string Container = "container";

    /// <summary>The singleton that places tenants waiting for capacity (grain "capacity"/"waiting").</summary>
    public const string Capacity = Interfaces.GrainTypes.Capacity;

    public const string CapacityKey = Interfaces.GrainTypes.WaitingQueue;

    /// <summary>SecretProtector purpose of the Proxmox token secrets in nodes.token_secret_enc.</summary>
    public const string TokenSecretPurpose = "proxmox-token";

    /// <summary>pg_notify channel of alert changes: JSON <see cref="AlertNotification"/>.</summary>
    public const string AlertsChannel = "sajet_alerts";
}

/// <summary>A node was registered (or re-registered): reset its health bookkeeping and poll at once.</summary>
public sealed record NodeRegistered(string NodeId);

/// <summary>An operator changed a node (limits, maintenance, token): poll at once so the change shows.</summary>
public sealed record NodeChanged(string NodeId);

/// <summary>A node was unregistered: stop polling it.</summary>
public sealed record NodeRemoved(string NodeId);

/// <summary>Sent to grain capacity/waiting when a node came (back) online or freed capacity: waiting tenants may fit now.</summary>
public sealed record CapacityChanged(string NodeId);

/// <summary>To a container grain: HA (or an operator) moved it to another node behind Sajet's back.</summary>
public sealed record ContainerMoved(int Vmid, string FromNode, string ToNode);

/// <summary>To a container grain: it no longer shows anywhere in the cluster.</summary>
public sealed record ContainerMissing(int Vmid, string NodeId);

/// <summary>To a container grain: it shows in the cluster again after having gone missing.</summary>
public sealed record ContainerFound(int Vmid, string NodeId);

/// <summary>The payload of a <see cref="NodeGrainTypes.AlertsChannel"/> notification; State is "raised" or "cleared".</summary>
public sealed record AlertNotification(string NodeId, string Kind, string Message, string State);
