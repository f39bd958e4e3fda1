using Sajet.Integrations.Proxmox;
using Sajet.Simulators.Proxmox;
using static Sajet.Integrations.Tests.Proxmox.SimulatorHarness;

namespace Sajet.Integrations.Tests.Proxmox;

public class ProxmoxFaultTests
{
    [Fact]
    public async Task ErrorFault_FullRate_BecomesTypedError()
    {
        await using var sim = await StartAsync();
        sim.Cluster.AddErrorFault(new ErrorFault("/nodes/*/lxc", 1.0, 500, "can't lock file '/run/lock/lxc/pve-config-101.lock' - got timeout", "POST"));
        using var client = Client(sim);
        var ex = await Assert.ThrowsAsync<ProxmoxServerException>(() => client.CreateContainerAsync("pve1", Tenant(101)));
        Assert.Equal("can't lock file '/run/lock/lxc/pve-config-101.lock' - got timeout", ex.ProxmoxMessage);
        Assert.Null(sim.Cluster.GetContainer(101));
        sim.Cluster.AddErrorFault(new ErrorFault("/nodes/**", 1.0, 403, "Permission check failed (/vms/101, VM.Audit)"));
        await Assert.ThrowsAsync<ProxmoxPermissionException>(() => client.GetContainersAsync("pve1"));

        sim.Cluster.ResetFaults();
        await CreateTenantAsync(client, 101);
    }

    [Fact]
    public async Task ErrorFault_PartialRate_IsDeterministicWithSeed()
    {
        async Task<string> PatternAsync()
        {
            await using var sim = await StartAsync(o => o.Seed = 99);
            sim.Cluster.AddErrorFault(new ErrorFault("/version", 0.5, 500, "flaky"));
            using var client = Client(sim);
            var outcome = "";
            for (var i = 0; i < 16; i++)
            {
                try
                {
                    await client.GetVersionAsync();
                    outcome += "+";
                }
                catch (ProxmoxServerException)
                {
                    outcome += "x";
                }
            }

            return outcome;
        }

        var first = await PatternAsync();
        Assert.Equal(first, await PatternAsync());
        Assert.Contains("+", first, StringComparison.Ordinal);
        Assert.Contains("x", first, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Latency_LongerThanClientTimeout_IsTimeout()
    {
        await using var sim = await StartAsync();
        sim.Cluster.AddLatency(new LatencyFault("/cluster/**", TimeSpan.FromMinutes(5)));
        using var client = Client(sim, timeout: TimeSpan.FromMilliseconds(300));
        var ex = await Assert.ThrowsAsync<ProxmoxUnreachableException>(() => client.GetClusterStatusAsync());
        Assert.Equal(ProxmoxUnreachableReason.Timeout, ex.Reason);
        // Paths outside the pattern are not slowed; a patient client keeps a busy machine's TLS handshake out of the picture.
        using var patient = Client(sim);
        Assert.Equal("9.1", (await patient.GetVersionAsync()).Release);
    }

    [Fact]
    public async Task TimeoutAfterWork_Hang_ClientTimesOutButContainerExists()
    {
        await using var sim = await StartAsync();
        sim.Cluster.AddTimeoutAfterWork(new TimeoutAfterWorkFault("/nodes/*/lxc", AfterWorkFailure.Hang, "POST", Count: 1));
        using var impatient = Client(sim, timeout: TimeSpan.FromSeconds(2));
        // Warm the pooled TLS connection so the timeout can only fire while the answer is withheld, after the work.
        await impatient.GetVersionAsync();
        var ex = await Assert.ThrowsAsync<ProxmoxUnreachableException>(() => impatient.CreateContainerAsync("pve1", Tenant(101)));
        Assert.Equal(ProxmoxUnreachableReason.Timeout, ex.Reason);

        using var client = Client(sim);
        Assert.Equal("running", (await client.GetContainerStatusAsync("pve1", 101)).Status);
        await Assert.ThrowsAsync<ProxmoxVmidInUseException>(() => client.CreateContainerAsync("pve1", Tenant(101)));
    }

    [Fact]
    public async Task TimeoutAfterWork_Abort_ConnectionDropsButStartHappened()
    {
        await using var sim = await StartAsync();
        using var client = Client(sim);
        await CreateTenantAsync(client, 101, start: false);
        sim.Cluster.AddTimeoutAfterWork(new TimeoutAfterWorkFault("/nodes/*/lxc/*/status/start", AfterWorkFailure.Abort));
        var ex = await Assert.ThrowsAsync<ProxmoxUnreachableException>(() => client.StartContainerAsync("pve1", 101));
        Assert.Equal(ProxmoxUnreachableReason.Connection, ex.Reason);
        Assert.True((await client.GetContainerStatusAsync("pve1", 101)).IsRunning);
    }

    [Fact]
    public async Task NodeDown_ProxiedCallsAre595AndNodeShowsOffline()
    {
        await using var sim = await StartAsync();
        using var client = Client(sim);
        await CreateTenantAsync(client, 101, "pve2");
        sim.Cluster.SetNodeOnline("pve2", false);

        var ex = await Assert.ThrowsAsync<ProxmoxNodeUnreachableException>(() => client.GetContainerStatusAsync("pve2", 101));
        Assert.Equal(595, ex.StatusCode);
        Assert.Equal("No route to host", ex.ProxmoxMessage);
        await Assert.ThrowsAsync<ProxmoxNodeUnreachableException>(() => client.GetNodeStatusAsync("pve2"));

        var nodes = await client.GetNodesAsync();
        var down = Assert.Single(nodes, n => n.Node == "pve2");
        Assert.Equal(("offline", (double?)null), (down.Status, down.Cpu));
        Assert.False((await client.GetClusterStatusAsync()).Single(r => r.Name == "pve2").Online);
        Assert.Equal("unknown", Assert.Single(await client.GetClusterResourcesAsync(ProxmoxResourceType.Vm)).Status);
        await Assert.ThrowsAsync<ProxmoxVmidInUseException>(() => client.CreateContainerAsync("pve1", Tenant(101)));

        sim.Cluster.ResetFaults();
        Assert.True((await client.GetContainerStatusAsync("pve2", 101)).IsRunning);
    }

    [Fact]
    public async Task Load_OverridesShowInNodeAndContainerFigures()
    {
        await using var sim = await StartAsync();
        using var client = Client(sim);
        await CreateTenantAsync(client, 101);
        sim.Cluster.SetNodeLoad("pve1", 0.93, 60L << 30);
        sim.Cluster.SetContainerLoad(101, 0.5, 1500L << 20, 3L << 30);
        var node = (await client.GetNodesAsync()).Single(n => n.Node == "pve1");
        Assert.Equal((0.93, 60L << 30), (node.Cpu, node.Mem));
        Assert.Equal(0.93, (await client.GetNodeStatusAsync("pve1")).Cpu);
        var ct = await client.GetContainerStatusAsync("pve1", 101);
        Assert.Equal((0.5, 1500L << 20, 3L << 30), (ct.Cpu, ct.Mem, ct.Disk));
    }

    [Fact]
    public async Task HaMove_ContainerFollowsToOtherNode()
    {
        await using var sim = await StartAsync();
        using var client = Client(sim);
        await CreateTenantAsync(client, 101, "pve1");
        sim.Cluster.MoveContainer(101, "pve3");
        var row = Assert.Single(await client.GetClusterResourcesAsync(ProxmoxResourceType.Vm));
        Assert.Equal(("pve3", "running"), (row.Node, row.Status));
        Assert.Equal("tenant-101", (await client.GetContainerConfigAsync("pve3", 101)).Hostname);
        await Assert.ThrowsAsync<ProxmoxServerException>(() => client.GetContainerStatusAsync("pve1", 101));
    }

    [Fact]
    public async Task ExternalContainer_AppearsWithTagsAndTakesItsVmid()
    {
        await using var sim = await StartAsync();
        using var client = Client(sim);
        var vmid = sim.Cluster.CreateExternalContainer(new ExternalContainerSpec("pve2", "rogue") { Tags = "manual,legacy", DiskGiB = 10 });
        Assert.Equal(100, vmid);
        var row = Assert.Single(await client.GetClusterResourcesAsync(ProxmoxResourceType.Vm));
        Assert.Equal(["manual", "legacy"], row.TagList);
        Assert.Equal("local-lvm:vm-100-disk-0,size=10G", (await client.GetContainerConfigAsync("pve2", 100)).Values["rootfs"]);
        Assert.Equal(101, await client.GetNextIdAsync());
    }
}
