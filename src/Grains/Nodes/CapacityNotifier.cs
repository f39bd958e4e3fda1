using Microsoft.Extensions.Logging;
using Sajet.Runtime;

namespace Sajet.Grains.Nodes;

/// <summary>
/// Tells grain capacity/waiting that a node can take tenants. Sends only when a grain type "capacity" is registered:
/// a message to an unregistered type would sit in the reminders table, retried, until its budget ran out.
/// </summary>
public sealed class CapacityNotifier(GrainRegistry registry, IServiceProvider services, ILogger<CapacityNotifier> logger)
{
    private readonly Lazy<bool> _enabled = new(() => registry.TryCreate(NodeGrainTypes.Capacity, services, out _));

    public bool Enabled => _enabled.Value;

    public void Notify(GrainContext context, string nodeId)
    {
        if (!Enabled)
        {
            logger.LogDebug("Node {Node} has capacity; no capacity grain is registered to tell", nodeId);
            return;
        }

        context.Send(new GrainId(NodeGrainTypes.Capacity, NodeGrainTypes.CapacityKey), new CapacityChanged(nodeId));
    }
}
