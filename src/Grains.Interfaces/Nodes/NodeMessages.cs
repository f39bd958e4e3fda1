using Orleans.Concurrency;
using Sajet.Grains.Placement;

namespace Sajet.Grains.Interfaces.Nodes;

public static class NodeConstants
{
    /// <summary>SecretProtector purpose of the Proxmox token secrets in nodes.token_secret_enc.</summary>
    public const string TokenSecretPurpose = "proxmox-token";

    /// <summary>pg_notify channel of alert changes: JSON <see cref="AlertNotification"/>.</summary>
    public const string AlertsChannel = "sajet_alerts";
}

/// <summary>
/// A registered Proxmox node (key = node id): polls it, keeps its health and alerts, reconciles its containers, and
/// tells the capacity queue when room appears. Registration itself is a row the web front writes in <c>nodes</c>.
/// </summary>
[Alias("sajet.node")]
public interface INodeGrain : IGrainWithStringKey
{
    /// <summary>Registered (or re-registered): reset the health bookkeeping and poll at once.</summary>
    [Alias("registered")]
    Task RegisteredAsync(Guid commandId);

    /// <summary>An operator changed the node (limits, maintenance, token): poll at once so the change shows.</summary>
    [Alias("changed")]
    Task ChangedAsync(Guid commandId);

    /// <summary>Unregistered: stop polling.</summary>
    [Alias("removed")]
    Task RemovedAsync(Guid commandId);

    /// <summary>Polls now and applies the result (tools, tests); the periodic poll needs no caller.</summary>
    [Alias("poll-now")]
    Task PollNowAsync();

    [Alias("health")]
    Task<NodeHealth> GetHealthAsync();

    /// <summary>
    /// Live health, metrics and reservations, and whether <paramref name="reservationKey"/> is held here. Interleaves: it
    /// only reads memory, so a placement never waits behind a slow poll of this node.
    /// </summary>
    [Alias("live"), AlwaysInterleave]
    Task<NodeLive> GetLiveAsync(string? reservationKey);

    /// <summary>Live figures and the keys of every reservation held here (the placement grain's view of this node). Interleaves.</summary>
    [Alias("describe"), AlwaysInterleave]
    Task<NodeView> DescribeAsync();

    /// <summary>
    /// Reserves capacity under the request's key if the node still fits it (judged again in this grain's turn, the one
    /// place where this node's reservations change); idempotent per key. Refusals carry the node as it is now.
    /// </summary>
    [Alias("reserve")]
    Task<ReserveResult> ReserveAsync(PlacementRequest request, NodeRegistration registration, PlacementSettings settings);

    /// <summary>Releases the reservation under this key if held here (idempotent); true when one was released.</summary>
    [Alias("release")]
    Task<bool> ReleaseReservationAsync(string reservationKey);

    /// <summary>
    /// The container of this reservation now runs on <paramref name="toNode"/>, which has taken the reservation over:
    /// drop it here. One-way, so two nodes trading containers never wait on each other; a lost message is repaired by
    /// this node's next poll.
    /// </summary>
    [Alias("moved-away"), OneWay]
    Task ReservationMovedAsync(string reservationKey, string toNode);
}

/// <summary>What the node grain knows of the node's health (nodes.health mirrors Health).</summary>
[GenerateSerializer, Immutable, Alias("sajet.NodeHealth")]
public sealed record NodeHealth(
    [property: Id(0)] string Health,
    [property: Id(1)] int ConsecutiveFailures,
    [property: Id(2)] string? LastError,
    [property: Id(3)] bool Accepting);

/// <summary>One known container (key = VMID): the history of what happened to it behind Sajet's back.</summary>
[Alias("sajet.container")]
public interface IContainerGrain : IGrainWithStringKey
{
    // Sent through the outbox by the node grain that saw it (the command id makes a repeated delivery harmless).

    /// <summary>HA (or an operator) moved it to another node.</summary>
    [Alias("moved")]
    Task MovedAsync(Guid commandId, string fromNode, string toNode);

    /// <summary>It no longer shows anywhere in the cluster.</summary>
    [Alias("missing")]
    Task MissingAsync(Guid commandId, string nodeId);

    /// <summary>It shows in the cluster again after having gone missing.</summary>
    [Alias("found")]
    Task FoundAsync(Guid commandId, string nodeId);

    /// <summary>"present" or "missing".</summary>
    [Alias("presence")]
    Task<string> GetPresenceAsync();
}

/// <summary>The payload of a <see cref="NodeConstants.AlertsChannel"/> notification; State is "raised" or "cleared".</summary>
public sealed record AlertNotification(string NodeId, string Kind, string Message, string State);
