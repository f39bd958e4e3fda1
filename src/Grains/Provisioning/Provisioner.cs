using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Sajet.Grains.Nodes;
using Sajet.Grains.Tenants;
using Sajet.Integrations.Proxmox;

namespace Sajet.Grains.Provisioning;

/// <summary>What a container should look like.</summary>
public sealed record ContainerSpec(string Hostname, int Cores, int MemoryMb, int DiskGb, IReadOnlyList<string> Tags);

/// <summary>The outcome of an idempotent effect: what exists now, the Proxmox task that made it (when Proxmox still lists
/// it), and whether an earlier attempt had already made it (<see cref="Adopted"/>).</summary>
public sealed record ContainerResult(int Vmid, string PveNode, string? Upid, bool Adopted = false);

/// <summary>
/// The idempotent Proxmox effects of provisioning, run by reminder handlers outside any lock. Every effect first looks
/// for what an earlier attempt may have made (by hostname) and adopts it, so a retry after a timeout that "actually
/// ran" never makes a second container. The Odoo side (databases) is <see cref="OdooActivities"/>.
/// </summary>
public sealed class Provisioner(NodePoller nodes, IOptions<TenantOptions> options, ILogger<Provisioner> logger)
{
    /// <summary>Every container Sajet makes carries this tag, so reconciliation can tell ours from others.</summary>
    public const string SajetTag = "sajet";

    /// <summary>The node's API client (shared with the node grain's polling) and where containers go on it.</summary>
    private async Task<(ProxmoxClient Client, NodeTarget Target)> NodeAsync(string nodeId, CancellationToken ct)
    {
        var read = await nodes.ReadTargetAsync(nodeId, ct) ?? throw new InvalidOperationException($"Node {nodeId} is not registered");
        return (nodes.ClientFor(read.Target), read.Target);
    }

    public async Task<ContainerResult?> FindAsync(string nodeId, string hostname, CancellationToken ct)
    {
        var (client, target) = await NodeAsync(nodeId, ct);
        return await FindAsync(client, target, hostname, ct);
    }

    private static async Task<ContainerResult?> FindAsync(ProxmoxClient client, NodeTarget target, string hostname, CancellationToken ct)
    {
        var resources = await client.GetClusterResourcesAsync(ProxmoxResourceType.Vm, ct);
        var found = resources.FirstOrDefault(r => r.Type == "lxc" && r.Name == hostname && r.Vmid is not null);
        return found is null ? null : new ContainerResult(found.Vmid!.Value, found.Node ?? target.PveNode, null);
    }

    public async Task<ContainerResult> EnsureContainerAsync(string nodeId, ContainerSpec spec, CancellationToken ct)
    {
        var (client, target) = await NodeAsync(nodeId, ct);
        if (await FindAsync(client, target, spec.Hostname, ct) is { } existing)
        {
            // An earlier attempt created it and was cut off before its result was checkpointed. The history should
            // still name the task that built it, so ask the node for it.
            var upid = await CreateTaskOfAsync(client, existing, ct);
            logger.LogInformation("Container {Hostname} already exists as {Vmid} on {Node}; adopting it (created by {Upid})",
                spec.Hostname, existing.Vmid, existing.PveNode, upid ?? "an unknown task");
            return existing with { Upid = upid, Adopted = true };
        }

        for (var tries = 0; ; tries++)
        {
            var vmid = await client.GetNextIdAsync(null, ct);
            var create = new ProxmoxContainerCreate(vmid, target.Template)
            {
                Hostname = spec.Hostname,
                Cores = spec.Cores,
                Memory = spec.MemoryMb,
                Swap = 512,
                RootFs = PropertyString.Parse($"{target.Storage}:{spec.DiskGb}", "volume"),
                Networks = new Dictionary<int, PropertyString> { [0] = PropertyString.Parse("name=eth0,bridge=vmbr0,ip=dhcp,firewall=1", null) },
                Features = PropertyString.Parse("nesting=1", null),
                Tags = spec.Tags,
                Unprivileged = true,
                Start = false,
                OnBoot = true,
            };
            try
            {
                var upid = await client.CreateContainerAsync(target.PveNode, create, ct);
                logger.LogInformation("Creating container {Hostname} as {Vmid} on {Node}: {Upid}", spec.Hostname, vmid, target.PveNode, upid);
                await client.WaitForTaskAsync(upid, options.Value.TaskTimeout, options.Value.TaskPollInterval, ct: ct);
                return new ContainerResult(vmid, target.PveNode, upid.ToString());
            }
            catch (ProxmoxVmidInUseException) when (tries < 5)
            {
                // nextid is only a hint: another creator took the id between our two calls.
            }
        }
    }

    private async Task<string?> CreateTaskOfAsync(ProxmoxClient client, ContainerResult container, CancellationToken ct)
    {
        try
        {
            var tasks = await client.GetTasksAsync(container.PveNode, container.Vmid, "vzcreate", "all", ct);
            return tasks.Count > 0 ? tasks[0].Upid : null;
        }
        catch (Exception ex) when (ex is HttpRequestException or ProxmoxApiException or ProxmoxUnreachableException)
        {
            // Only the history's detail depends on it: adopting the container must not fail for want of it.
            logger.LogWarning(ex, "Could not read the task that created container {Vmid} on {Node}", container.Vmid, container.PveNode);
            return null;
        }
    }

    public async Task<string?> EnsureStartedAsync(string nodeId, string hostname, CancellationToken ct)
    {
        var (client, _) = await NodeAsync(nodeId, ct);
        var found = await FindAsync(nodeId, hostname, ct) ?? throw new InvalidOperationException($"Container {hostname} does not exist");
        var status = await client.GetContainerStatusAsync(found.PveNode, found.Vmid, ct);
        if (status.Status == "running")
        {
            return null;
        }

        var upid = await client.StartContainerAsync(found.PveNode, found.Vmid, ct);
        await client.WaitForTaskAsync(upid, options.Value.TaskTimeout, options.Value.TaskPollInterval, ct: ct);
        return upid.ToString();
    }

    /// <summary>Removes a container made for a tenant that failed; nothing to do when it never existed.</summary>
    public async Task<string?> DestroyAsync(string nodeId, string hostname, CancellationToken ct)
    {
        var (client, _) = await NodeAsync(nodeId, ct);
        if (await FindAsync(nodeId, hostname, ct) is not { } found)
        {
            return null;
        }

        var upid = await client.DeleteContainerAsync(found.PveNode, found.Vmid, purge: true, force: true, ct: ct);
        await client.WaitForTaskAsync(upid, options.Value.TaskTimeout, options.Value.TaskPollInterval, ct: ct);
        logger.LogInformation("Removed container {Hostname} ({Vmid}) from {Node}: {Upid}", hostname, found.Vmid, found.PveNode, upid);
        return upid.ToString();
    }
}
