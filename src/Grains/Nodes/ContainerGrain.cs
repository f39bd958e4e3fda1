using Sajet.Grains.Interfaces;
using Sajet.Grains.Interfaces.Nodes;
using Sajet.Grains.Workflow;

namespace Sajet.Grains.Nodes;

/*
 Container presence, as reconciliation sees it (the lifecycle itself belongs to the tenant grain):

     present ──not in the cluster──► missing ──seen again──► present
        └──shows on another node: history "moved", stays present
*/

public sealed class ContainerState : WorkflowState
{
    public string Presence { get; set; } = "present";

    public string? NodeId { get; set; }
}

/// <summary>One known container (key = VMID); keeps the history of what happened to it behind Sajet's back.</summary>
// The grain type is stored in Orleans' tables (state, reminders): named here, never derived from the class name.
[GrainType(GrainTypes.Container)]
public sealed class ContainerGrain(
    [PersistentState(GrainTypes.Container)] IPersistentState<ContainerState> store,
    IServiceProvider services) : WorkflowGrain<ContainerState>(store, services), IContainerGrain
{
    protected override string GrainType => GrainTypes.Container;

    protected override string? Status => State.Presence;

    public Task MovedAsync(Guid commandId, string fromNode, string toNode) => CommandAsync(commandId, "reconcile", () =>
    {
        State.NodeId = toNode;
        Context.Record(State.Presence, State.Presence, $"Movido de {fromNode} a {toNode} fuera de Sajet (p. ej. por HA).",
            data: new { kind = "moved", fromNode, toNode });
        return Task.CompletedTask;
    });

    public Task MissingAsync(Guid commandId, string nodeId) => CommandAsync(commandId, "reconcile", () =>
    {
        var before = State.Presence;
        State.Presence = "missing";
        State.NodeId = nodeId;
        Context.Record(before, "missing", $"Ya no aparece en el clúster (último nodo {nodeId}).", data: new { kind = "missing" });
        return Task.CompletedTask;
    });

    public Task<string> GetPresenceAsync() => Task.FromResult(State.Presence);

    public Task FoundAsync(Guid commandId, string nodeId) => CommandAsync(commandId, "reconcile", () =>
    {
        var was = State.Presence;
        State.Presence = "present";
        State.NodeId = nodeId;
        Context.Record(was, "present", $"Aparece de nuevo en el nodo {nodeId}.", data: new { kind = "found" });
        return Task.CompletedTask;
    });
}
