using Sajet.Grains.Interfaces.Nodes;
using Sajet.Simulators.Proxmox;

namespace Sajet.Grains.Tests.Nodes;

public class ReconciliationTests(NodesFixture f) : IClassFixture<NodesFixture>
{
    [Fact]
    public async Task ContainerMovedByHa_FollowedWithItsReservation_DriftMovedAndHistory()
    {
        await using var sim = await NodesFixture.StartSimulatorAsync();
        var vmid = sim.Cluster.CreateExternalContainer(new ExternalContainerSpec("pve1", "move-me") { Vmid = 5101, Tags = "sajet;tenant" });
        await f.RegisterAsync(sim, "rc-1", "pve1");
        await f.RegisterAsync(sim, "rc-2", "pve2");
        await f.ExecAsync("""
            INSERT INTO reservations (key, node_id, cores, memory_mb, disk_gb) VALUES ('tenant-move', 'rc-1', 2, 4096, 50);
            UPDATE nodes SET reserved_cores = 2, reserved_memory_mb = 4096, reserved_disk_gb = 50, reserved_containers = 1 WHERE id = 'rc-1';
            INSERT INTO containers (vmid, node_id, hostname, kind, tenant_id, status, reservation_key)
            VALUES (5101, 'rc-1', 'move-me', 'dedicated', 'move', 'running', 'tenant-move');
            """);
        sim.Cluster.SetContainerLoad(vmid, 0.42, 300L << 20, 2L << 30);
        await NodesFixture.UntilAsync(async () => await f.ScalarAsync<double?>("SELECT cpu FROM containers WHERE vmid = 5101") is { } cpu && Math.Abs(cpu - 0.42) < 0.001, "per-container metrics");
        Assert.Equal(300L << 20, await f.ScalarAsync<long>("SELECT memory_used FROM containers WHERE vmid = 5101"));
        Assert.Equal("running", await f.ScalarAsync<string>("SELECT observed_status FROM containers WHERE vmid = 5101"));

        sim.Cluster.MoveContainer(vmid, "pve2");
        await NodesFixture.UntilAsync(async () => await f.ScalarAsync<string>("SELECT node_id FROM containers WHERE vmid = 5101") == "rc-2", "move followed");
        Assert.Equal(1, await f.ScalarAsync<long>("SELECT count(*) FROM container_drift WHERE vmid = 5101 AND kind = 'moved' AND node_id = 'rc-2' AND resolved_at IS NOT NULL"));
        // The reservation follows in the node grains' own turns (the new node takes it over, then the old one drops it).
        await NodesFixture.UntilAsync(async () => await f.ScalarAsync<int>("SELECT reserved_containers FROM nodes WHERE id = 'rc-1'") == 0, "old node dropped the reservation");
        Assert.Equal("rc-2", await f.ScalarAsync<string>("SELECT node_id FROM reservations WHERE key = 'tenant-move'"));
        Assert.Equal(0, await f.ScalarAsync<int>("SELECT reserved_containers FROM nodes WHERE id = 'rc-1'"));
        Assert.Equal(4096, await f.ScalarAsync<long>("SELECT reserved_memory_mb FROM nodes WHERE id = 'rc-2'"));
        await NodesFixture.UntilAsync(async () => await f.ScalarAsync<long>(
            "SELECT count(*) FROM grain_events WHERE grain_type = 'container' AND grain_key = '5101' AND reason LIKE 'Movido de rc-1 a rc-2%'") == 1, "container history records the move");
        Assert.Equal(0, await f.ScalarAsync<long>("SELECT count(*) FROM container_drift WHERE vmid = 5101 AND kind <> 'moved' AND resolved_at IS NULL"));
    }

    [Fact]
    public async Task UnknownTaggedContainer_ReportedAsDriftAndLeftAlone_UntaggedIgnored()
    {
        await using var sim = await NodesFixture.StartSimulatorAsync();
        await f.RegisterAsync(sim, "rc-3", "pve3");
        sim.Cluster.CreateExternalContainer(new ExternalContainerSpec("pve3", "console-made") { Vmid = 5201, Tags = "sajet" });
        sim.Cluster.CreateExternalContainer(new ExternalContainerSpec("pve3", "somebody-else") { Vmid = 5202, Tags = "other" });
        await NodesFixture.UntilAsync(async () => await f.ScalarAsync<long>("SELECT count(*) FROM container_drift WHERE vmid = 5201 AND kind = 'unknown_tagged' AND resolved_at IS NULL") == 1, "unknown tagged drift");
        await f.PollsAsync("rc-3", 3);
        Assert.Equal(1, await f.ScalarAsync<long>("SELECT count(*) FROM container_drift WHERE vmid = 5201"));
        Assert.Equal(0, await f.ScalarAsync<long>("SELECT count(*) FROM container_drift WHERE vmid = 5202"));
        Assert.Equal(0, await f.ScalarAsync<long>("SELECT count(*) FROM containers WHERE vmid IN (5201, 5202)"));
        var untouched = sim.Cluster.GetContainer(5201);
        Assert.NotNull(untouched);
        Assert.Equal("running", untouched.Status);
        Assert.Equal("pve3", untouched.Node);
        Assert.Contains("sajet", await f.ScalarAsync<string>("SELECT detail FROM container_drift WHERE vmid = 5201"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task KnownContainerGoneFromCluster_DriftMissing_ContainerGrainMissing()
    {
        await using var sim = await NodesFixture.StartSimulatorAsync();
        await f.RegisterAsync(sim, "rc-4", "pve1");
        await f.ExecAsync("""
            INSERT INTO containers (vmid, node_id, hostname, kind, status) VALUES (5301, 'rc-4', 'vanished', 'shared', 'running');
            INSERT INTO containers (vmid, node_id, hostname, kind, status) VALUES (5302, 'rc-4', 'being-made', 'dedicated', 'creating');
            """);
        await NodesFixture.UntilAsync(async () => await f.ScalarAsync<long>("SELECT count(*) FROM container_drift WHERE vmid = 5301 AND kind = 'missing' AND resolved_at IS NULL") == 1, "missing drift");
        await NodesFixture.UntilAsync(async () => await f.Silo.Grains.GetGrain<IContainerGrain>("5301").GetPresenceAsync() == "missing", "container grain missing");
        await f.PollsAsync("rc-4", 2);
        Assert.Equal(1, await f.ScalarAsync<long>("SELECT count(*) FROM container_drift WHERE vmid = 5301"));
        Assert.Equal(0, await f.ScalarAsync<long>("SELECT count(*) FROM container_drift WHERE vmid = 5302"));
        Assert.Equal("rc-4", await f.ScalarAsync<string>("SELECT node_id FROM containers WHERE vmid = 5301"));
    }
}
