using Sajet.Integrations.Proxmox;
using static Sajet.Integrations.Tests.Proxmox.SimulatorHarness;

namespace Sajet.Integrations.Tests.Proxmox;

public class ProxmoxClusterReadTests
{
    [Fact]
    public async Task GetNodes_ThreeOnlineNodesWithFigures()
    {
        await using var sim = await StartAsync(o => o.NodeCores = 8);
        using var client = Client(sim);
        var nodes = await client.GetNodesAsync();
        Assert.Equal(["pve1", "pve2", "pve3"], nodes.Select(n => n.Node).Order());
        Assert.All(nodes, n =>
        {
            Assert.True(n.IsOnline);
            Assert.Equal(8, n.MaxCpu);
            Assert.InRange(n.Cpu!.Value, 0, 1);
            Assert.InRange(n.Mem!.Value, 1, n.MaxMem!.Value);
            Assert.True(n.Uptime > 0);
            Assert.Equal(sim.CertificateFingerprint, n.SslFingerprint);
        });
    }

    [Fact]
    public async Task GetNodeStatus_ReportsBytesAndStringLoadAverages()
    {
        await using var sim = await StartAsync(o => o.NodeMemoryBytes = 32L << 30);
        using var client = Client(sim);
        var status = await client.GetNodeStatusAsync("pve2");
        Assert.Equal(32L << 30, status.Memory.Total);
        Assert.Equal(status.Memory.Total, status.Memory.Used + status.Memory.Free);
        Assert.Equal(3, status.LoadAverage.Length);
        Assert.Equal(100L << 30, status.RootFs.Total);
        Assert.Equal(16, status.CpuInfo.Cpus);
        Assert.StartsWith("pve-manager/9.1.", status.PveVersion, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetClusterStatus_ClusterRowAndNodeRows()
    {
        await using var sim = await StartAsync();
        using var client = Client(sim);
        var rows = await client.GetClusterStatusAsync();
        var cluster = Assert.Single(rows, r => r.Type == "cluster");
        Assert.Equal(3, cluster.Nodes);
        Assert.True(cluster.Quorate);
        Assert.Equal(3, rows.Count(r => r.Type == "node" && r.Online == true));
        Assert.Single(rows, r => r.Local == true);
    }

    [Fact]
    public async Task GetClusterResources_TypeFilterSelectsRows()
    {
        await using var sim = await StartAsync();
        using var client = Client(sim);
        await CreateTenantAsync(client, 101, "pve2");
        var all = await client.GetClusterResourcesAsync();
        Assert.Contains(all, r => r.Type == "node");
        Assert.Contains(all, r => r.Type == "storage");
        var vms = await client.GetClusterResourcesAsync(ProxmoxResourceType.Vm);
        var ct = Assert.Single(vms);
        Assert.Equal("lxc/101", ct.Id);
        Assert.Equal("lxc", ct.Type);
        Assert.Equal("pve2", ct.Node);
        Assert.Equal("running", ct.Status);
        Assert.Equal(["tenant", "prod"], ct.TagList);
        Assert.Equal("tenants", ct.Pool);
        Assert.Equal(2048L << 20, ct.MaxMem);
        var storages = await client.GetClusterResourcesAsync(ProxmoxResourceType.Storage);
        Assert.Equal(6, storages.Count);
        Assert.All(storages, s => Assert.Equal("storage", s.Type));
    }

    [Fact]
    public async Task GetNextId_WithAndWithoutVmid()
    {
        await using var sim = await StartAsync();
        using var client = Client(sim);
        Assert.Equal(100, await client.GetNextIdAsync());
        await CreateTenantAsync(client, 100);
        Assert.Equal(101, await client.GetNextIdAsync());
        Assert.Equal(250, await client.GetNextIdAsync(250));
        var ex = await Assert.ThrowsAsync<ProxmoxParameterException>(() => client.GetNextIdAsync(100));
        Assert.Equal("VM 100 already exists", ex.Errors["vmid"]);
    }

    [Fact]
    public async Task GetStorages_ContentFilterAndCapacity()
    {
        await using var sim = await StartAsync(o => o.LvmStorageBytes = 200L << 30);
        using var client = Client(sim);
        await CreateTenantAsync(client, 101);
        var all = await client.GetStoragesAsync("pve1");
        Assert.Equal(["local", "local-lvm"], all.Select(s => s.Storage).Order());
        var rootdir = Assert.Single(await client.GetStoragesAsync("pve1", "rootdir"));
        Assert.Equal("lvmthin", rootdir.Type);
        Assert.Equal(200L << 30, rootdir.Total);
        Assert.Equal(8L << 30, rootdir.Used);
        Assert.Equal(rootdir.Total - rootdir.Used, rootdir.Avail);
        Assert.True(rootdir.Active && rootdir.Enabled);
    }

    [Fact]
    public async Task GetStorageContent_TemplatesAndDisks()
    {
        await using var sim = await StartAsync();
        using var client = Client(sim);
        await CreateTenantAsync(client, 101);
        var templates = await client.GetStorageContentAsync("pve1", "local", "vztmpl");
        Assert.Contains(templates, v => v.VolId == Debian);
        Assert.Contains(templates, v => v.VolId == "local:vztmpl/ubuntu-24.04-standard_24.04-2_amd64.tar.zst");
        var disk = Assert.Single(await client.GetStorageContentAsync("pve1", "local-lvm", vmid: 101));
        Assert.Equal("local-lvm:vm-101-disk-0", disk.VolId);
        Assert.Equal(8L << 30, disk.Size);
        Assert.Equal("rootdir", disk.Content);
        var missing = await Assert.ThrowsAsync<ProxmoxServerException>(() => client.GetStorageContentAsync("pve1", "nfs"));
        Assert.Equal("storage 'nfs' does not exist", missing.ProxmoxMessage);
    }

    [Theory]
    [InlineData(ProxmoxRrdTimeframe.Hour, 60, 60)]
    [InlineData(ProxmoxRrdTimeframe.Day, 1440, 60)]
    [InlineData(ProxmoxRrdTimeframe.Week, 336, 1800)]
    public async Task GetRrdData_NodeAndContainerHistory(ProxmoxRrdTimeframe timeframe, int count, int step)
    {
        await using var sim = await StartAsync();
        using var client = Client(sim);
        await CreateTenantAsync(client, 101);
        var node = await client.GetNodeRrdDataAsync("pve1", timeframe, ProxmoxRrdConsolidation.Max);
        Assert.Equal(count, node.Count);
        Assert.Equal(step, node[1].Time - node[0].Time);
        Assert.All(node, p => Assert.InRange(p.Cpu!.Value, 0, 1));
        var ct = await client.GetContainerRrdDataAsync("pve1", 101, timeframe);
        Assert.Equal(count, ct.Count);
        // The container was just created: older samples carry only their timestamp, as RRD gaps do.
        Assert.Null(ct[0].Cpu);
        Assert.Equal(2048L << 20, ct[^1].MaxMem);
    }

    [Fact]
    public async Task Simulator_SameSeed_SameIdsAndFigures()
    {
        async Task<(string? Net, long MaxDisk, double Cpu)> RunAsync()
        {
            await using var sim = await StartAsync(o => o.Seed = 1234);
            using var client = Client(sim);
            await CreateTenantAsync(client, 101);
            sim.Cluster.SetContainerLoad(101, null, null, null);
            var config = await client.GetContainerConfigAsync("pve1", 101);
            var status = await client.GetContainerStatusAsync("pve1", 101);
            return (config.Networks[0]["hwaddr"], status.MaxDisk, status.Disk);
        }

        Assert.Equal(await RunAsync(), await RunAsync());
    }
}
