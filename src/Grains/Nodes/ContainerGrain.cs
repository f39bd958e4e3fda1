using Sajet.Runtime;

namespace Sajet.Grains.Nodes;

/*
 Container presence, as reconciliation sees it (the lifecycle itself belongs to the tenant grain):

     present ──not in the cluster──► missing ──seen again──► present
        └──shows on another node: history "moved", stays present
*/

public sealed class ContainerState
{
    public string Presence { get; set; } = "present";

    public string? NodeId { get; set; }
}

/// <summary>One known container (key = VMID); keeps the history of what happened to it behind Sajet's back.</summary>
public sealed class ContainerGrain : Grain<ContainerState>
{
    public override string? Status => State.Presence;

    public override Task ReceiveMessageAsync(object message)
    {
        switch (message)
        {
            case ContainerMoved m:
                State.NodeId = m.ToNode;
                Context.Record(State.Presence, State.Presence, $"Movido de {m.FromNode} a {m.ToNode} fuera de Sajet (p. ej. por HA).", data: new { kind = "moved", m.FromNode, m.ToNode });
                break;
            case ContainerMissing m:
                var before = State.Presence;
                State.Presence = "missing";
                State.NodeId = m.NodeId;
                Context.Record(before, "missing", $"Ya no aparece en el clúster (último nodo {m.NodeId}).", data: new { kind = "missing" });
                break;
            case ContainerFound m:
                var was = State.Presence;
                State.Presence = "present";
                State.NodeId = m.NodeId;
                Context.Record(was, "present", $"Aparece de nuevo en el nodo {m.NodeId}.", data: new { kind = "found" });
                break;
            default:
                return base.ReceiveMessageAsync(message);
        }

        return Task.CompletedTask;
    }
}
