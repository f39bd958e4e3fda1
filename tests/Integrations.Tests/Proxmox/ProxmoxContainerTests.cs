using Sajet.Integrations.Proxmox;
using static Sajet.Integrations.Tests.Proxmox.SimulatorHarness;

namespace Sajet.Integrations.Tests.Proxmox;

public class ProxmoxContainerTests
{
    [Fact]
    public async Task CreateContainer_StoresConfigAsPveDoesAndStarts()
    {
        await using var sim = await StartAsync();
        using var client = Client(sim);
        var upid = await client.CreateContainerAsync("pve1", Tenant(101));
        Assert.Equal(("pve1", "vzcreate", "101", sim.TokenId), (upid.Node, upid.Type, upid.Id, upid.User));
        var done = await client.WaitForTaskAsync(upid);
        Assert.Equal("OK", done.ExitStatus);
        Assert.Equal("sajet@pve", done.User);
        Assert.Equal("sim", done.TokenId);

        var config = await client.GetContainerConfigAsync("pve1", 101);
        Assert.Equal("local-lvm:vm-101-disk-0,size=8G", config.Values["rootfs"]);
        Assert.Equal(8L << 30, config.RootFsBytes);
        Assert.Equal("tenant;prod", config.Values["tags"]);
        Assert.Equal(["tenant", "prod"], config.Tags);
        Assert.Equal(("tenant-101", 2, 1.5, 2048, 512), (config.Hostname, config.Cores, config.CpuLimit, config.Memory, config.Swap));
        Assert.True(config.Unprivileged);
        Assert.Equal("1", config.Features!["nesting"]);
        var net = config.Networks[0];
        Assert.Equal(("eth0", "vmbr0", "dhcp", "veth"), (net["name"], net["bridge"], net["ip"], net["type"]));
        Assert.Matches("^BC:24:11:[0-9A-F]{2}:[0-9A-F]{2}:[0-9A-F]{2}$", net["hwaddr"]);
        Assert.Matches("^[0-9a-f]{40}$", config.Digest);
        Assert.False(config.Values.ContainsKey("password"));

        var status = await client.GetContainerStatusAsync("pve1", 101);
        Assert.True(status.IsRunning);
        Assert.Equal(2, status.Cpus);
        Assert.Equal(2048L << 20, status.MaxMem);
        Assert.Equal(8L << 30, status.MaxDisk);
        Assert.InRange(status.Cpu, 0, 1);
        Assert.InRange(status.Mem, 1, status.MaxMem);

        var listed = Assert.Single(await client.GetContainersAsync("pve1"));
        Assert.Equal((101, "tenant-101", "running"), (listed.Vmid, listed.Name, listed.Status));
        Assert.Empty(await client.GetContainersAsync("pve2"));
    }

    [Fact]
    public async Task CreateContainer_VmidTakenOnAnotherNode_IsAlreadyExists()
    {
        await using var sim = await StartAsync();
        using var client = Client(sim);
        await CreateTenantAsync(client, 101, "pve2");
        var ex = await Assert.ThrowsAsync<ProxmoxVmidInUseException>(() => client.CreateContainerAsync("pve1", Tenant(101)));
        Assert.Equal(500, ex.StatusCode);
        Assert.Equal("CT 101 already exists on node 'pve2'", ex.ProxmoxMessage);
        Assert.Equal((101, "pve2"), (ex.Vmid, ex.OwnerNode));
    }

    [Fact]
    public async Task CreateContainer_InvalidParameters_IsParameterErrorWithMap()
    {
        await using var sim = await StartAsync();
        using var client = Client(sim);
        var bad = Tenant(99) with { Memory = 8, Password = "abc", Tags = ["ok", "b@d"] };
        var ex = await Assert.ThrowsAsync<ProxmoxParameterException>(() => client.CreateContainerAsync("pve1", bad));
        Assert.Equal("Parameter verification failed.", ex.ProxmoxMessage);
        Assert.Equal("value must have a minimum value of 100", ex.Errors["vmid"]);
        Assert.Equal("value must have a minimum value of 16", ex.Errors["memory"]);
        Assert.Equal("value must be at least 5 characters long", ex.Errors["password"]);
        Assert.Equal("invalid format - invalid tag 'b@d'", ex.Errors["tags"]);
    }

    [Fact]
    public async Task CreateContainer_MissingTemplate_IsServerError()
    {
        await using var sim = await StartAsync();
        using var client = Client(sim);
        var ex = await Assert.ThrowsAsync<ProxmoxServerException>(() => client.CreateContainerAsync("pve1", Tenant(101) with { OsTemplate = "local:vztmpl/nope.tar.zst" }));
        Assert.Equal("volume 'local:vztmpl/nope.tar.zst' does not exist", ex.ProxmoxMessage);
        Assert.Null(sim.Cluster.GetContainer(101));
    }

    [Fact]
    public async Task CreateContainer_StorageFull_IsRefusedAndReservesNothing()
    {
        await using var sim = await StartAsync(o => o.LvmStorageBytes = 6L << 30);
        using var client = Client(sim);
        var ex = await Assert.ThrowsAsync<ProxmoxServerException>(() => client.CreateContainerAsync("pve1", Tenant(101)));
        Assert.StartsWith("unable to create CT 101 - lvcreate 'pve/vm-101-disk-0' error:", ex.ProxmoxMessage, StringComparison.Ordinal);
        Assert.Contains("Insufficient free space", ex.ProxmoxMessage, StringComparison.Ordinal);
        Assert.Null(sim.Cluster.GetContainer(101));
        Assert.Equal(0, Assert.Single(await client.GetStoragesAsync("pve1", "rootdir")).Used);
    }

    [Fact]
    public async Task UpdateConfig_DeleteAndDigest()
    {
        await using var sim = await StartAsync();
        using var client = Client(sim);
        await CreateTenantAsync(client, 101, start: false);
        var before = await client.GetContainerConfigAsync("pve1", 101);
        await client.UpdateContainerConfigAsync("pve1", 101, new ProxmoxContainerConfigUpdate
        {
            Memory = 4096,
            Cores = 4,
            Tags = ["tenant", "pro"],
            Delete = ["swap", "description"],
            Digest = before.Digest,
        });
        var after = await client.GetContainerConfigAsync("pve1", 101);
        Assert.Equal((4096, 4, (int?)null, (string?)null), (after.Memory, after.Cores, after.Swap, after.Description));
        Assert.Equal(["tenant", "pro"], after.Tags);
        Assert.NotEqual(before.Digest, after.Digest);

        var stale = await Assert.ThrowsAsync<ProxmoxServerException>(() =>
            client.UpdateContainerConfigAsync("pve1", 101, new ProxmoxContainerConfigUpdate { Memory = 1024, Digest = before.Digest }));
        Assert.Equal("detected modified configuration - file changed by other user? Try again.", stale.ProxmoxMessage);
    }

    [Fact]
    public async Task UpdateConfig_RunningContainer_ColdKeysWaitForRestart()
    {
        await using var sim = await StartAsync();
        using var client = Client(sim);
        await CreateTenantAsync(client, 101);
        await client.UpdateContainerConfigAsync("pve1", 101, new ProxmoxContainerConfigUpdate { Cores = 4, Memory = 3072 });
        Assert.Equal("2", sim.Cluster.GetContainer(101)!.Config["cores"]);
        Assert.Equal("3072", sim.Cluster.GetContainer(101)!.Config["memory"]);
        Assert.Equal(4, (await client.GetContainerConfigAsync("pve1", 101)).Cores);
        await client.WaitForTaskAsync(await client.StopContainerAsync("pve1", 101));
        await client.WaitForTaskAsync(await client.StartContainerAsync("pve1", 101));
        Assert.Equal("4", sim.Cluster.GetContainer(101)!.Config["cores"]);
    }

    [Fact]
    public async Task StartStopShutdown_MoveStatusAndRefuseNoOps()
    {
        await using var sim = await StartAsync();
        using var client = Client(sim);
        await CreateTenantAsync(client, 101, start: false);
        Assert.Equal("stopped", (await client.GetContainerStatusAsync("pve1", 101)).Status);

        var start = await client.StartContainerAsync("pve1", 101);
        Assert.Equal("vzstart", start.Type);
        await client.WaitForTaskAsync(start);
        Assert.True((await client.GetContainerStatusAsync("pve1", 101)).IsRunning);
        var again = await Assert.ThrowsAsync<ProxmoxServerException>(() => client.StartContainerAsync("pve1", 101));
        Assert.Equal("CT 101 already running", again.ProxmoxMessage);

        var shutdown = await client.ShutdownContainerAsync("pve1", 101, TimeSpan.FromSeconds(30), forceStop: true);
        Assert.Equal("vzshutdown", shutdown.Type);
        await client.WaitForTaskAsync(shutdown);
        var stopped = await client.GetContainerStatusAsync("pve1", 101);
        Assert.Equal((false, 0L, 0L), (stopped.IsRunning, stopped.Uptime, stopped.Disk));
        var notRunning = await Assert.ThrowsAsync<ProxmoxServerException>(() => client.StopContainerAsync("pve1", 101));
        Assert.Equal("CT 101 not running", notRunning.ProxmoxMessage);

        await client.WaitForTaskAsync(await client.StartContainerAsync("pve1", 101));
        var stop = await client.StopContainerAsync("pve1", 101);
        Assert.Equal("vzstop", stop.Type);
        await client.WaitForTaskAsync(stop);
        Assert.False((await client.GetContainerStatusAsync("pve1", 101)).IsRunning);
    }

    [Fact]
    public async Task ResizeDisk_GrowsAndRefusesShrink()
    {
        await using var sim = await StartAsync();
        using var client = Client(sim);
        await CreateTenantAsync(client, 101);
        var grow = await client.ResizeContainerDiskAsync("pve1", 101, "rootfs", "+2G");
        Assert.Equal("resize", grow.Type);
        await client.WaitForTaskAsync(grow);
        Assert.Equal("local-lvm:vm-101-disk-0,size=10G", (await client.GetContainerConfigAsync("pve1", 101)).Values["rootfs"]);
        await client.WaitForTaskAsync(await client.ResizeContainerDiskAsync("pve1", 101, "rootfs", "16G"));
        Assert.Equal(16L << 30, (await client.GetContainerStatusAsync("pve1", 101)).MaxDisk);

        var shrink = await client.ResizeContainerDiskAsync("pve1", 101, "rootfs", "4G");
        var ex = await Assert.ThrowsAsync<ProxmoxTaskFailedException>(() => client.WaitForTaskAsync(shrink));
        Assert.Equal("unable to shrink disk size", ex.ExitStatus);
        Assert.Equal("TASK ERROR: unable to shrink disk size", ex.LogTail[^1]);
    }

    [Fact]
    public async Task Clone_CopiesConfigWithNewDisksAndMac()
    {
        await using var sim = await StartAsync();
        using var client = Client(sim);
        await CreateTenantAsync(client, 101);
        var upid = await client.CloneContainerAsync("pve1", 101, new ProxmoxContainerClone(102) { Hostname = "tenant-102", Full = true, TargetNode = "pve2" });
        Assert.Equal(("vzclone", "101"), (upid.Type, upid.Id));
        await client.WaitForTaskAsync(upid);
        var clone = await client.GetContainerConfigAsync("pve2", 102);
        Assert.Equal("tenant-102", clone.Hostname);
        Assert.Equal("local-lvm:vm-102-disk-0,size=8G", clone.Values["rootfs"]);
        Assert.NotEqual((await client.GetContainerConfigAsync("pve1", 101)).Networks[0]["hwaddr"], clone.Networks[0]["hwaddr"]);
        Assert.Equal("stopped", (await client.GetContainerStatusAsync("pve2", 102)).Status);
        await Assert.ThrowsAsync<ProxmoxVmidInUseException>(() => client.CloneContainerAsync("pve1", 101, new ProxmoxContainerClone(102) { Full = true }));
    }

    [Fact]
    public async Task Migrate_RunningNeedsRestartThenMovesWithDisks()
    {
        await using var sim = await StartAsync();
        using var client = Client(sim);
        await CreateTenantAsync(client, 101);
        var refused = await Assert.ThrowsAsync<ProxmoxServerException>(() => client.MigrateContainerAsync("pve1", 101, "pve3", restart: false));
        Assert.Equal("can't migrate running container without --online or --restart", refused.ProxmoxMessage);

        var upid = await client.MigrateContainerAsync("pve1", 101, "pve3", restart: true);
        Assert.Equal("vzmigrate", upid.Type);
        await client.WaitForTaskAsync(upid);
        Assert.Empty(await client.GetContainersAsync("pve1"));
        Assert.True((await client.GetContainerStatusAsync("pve3", 101)).IsRunning);
        Assert.Single(await client.GetStorageContentAsync("pve3", "local-lvm", vmid: 101));
        var gone = await Assert.ThrowsAsync<ProxmoxServerException>(() => client.GetContainerConfigAsync("pve1", 101));
        Assert.Equal("Configuration file 'nodes/pve1/lxc/101.conf' does not exist", gone.ProxmoxMessage);
    }

    [Fact]
    public async Task Delete_RunningNeedsForceAndProtectionBlocks()
    {
        await using var sim = await StartAsync();
        using var client = Client(sim);
        await CreateTenantAsync(client, 101);
        var running = await Assert.ThrowsAsync<ProxmoxServerException>(() => client.DeleteContainerAsync("pve1", 101));
        Assert.Equal("unable to destroy CT 101 - container is running", running.ProxmoxMessage);

        await client.UpdateContainerConfigAsync("pve1", 101, new ProxmoxContainerConfigUpdate { Protection = true });
        var protectedCt = await Assert.ThrowsAsync<ProxmoxServerException>(() => client.DeleteContainerAsync("pve1", 101, force: true));
        Assert.Equal("can't remove CT 101 - protection mode enabled", protectedCt.ProxmoxMessage);
        await client.UpdateContainerConfigAsync("pve1", 101, new ProxmoxContainerConfigUpdate { Delete = ["protection"] });

        var upid = await client.DeleteContainerAsync("pve1", 101, purge: true, force: true, destroyUnreferencedDisks: true);
        Assert.Equal("vzdestroy", upid.Type);
        await client.WaitForTaskAsync(upid);
        Assert.Empty(await client.GetContainersAsync("pve1"));
        Assert.Empty(await client.GetStorageContentAsync("pve1", "local-lvm"));
        Assert.Equal(101, await client.GetNextIdAsync(101));
    }

    [Fact]
    public async Task Backup_CreatesArchiveInBackupStorage()
    {
        await using var sim = await StartAsync();
        using var client = Client(sim);
        await CreateTenantAsync(client, 101);
        var upid = await client.BackupAsync("pve1", new ProxmoxBackupRequest([101]) { Storage = "local" });
        Assert.Equal(("vzdump", "101"), (upid.Type, upid.Id));
        await client.WaitForTaskAsync(upid);
        var backup = Assert.Single(await client.GetStorageContentAsync("pve1", "local", "backup"));
        Assert.Matches(@"^local:backup/vzdump-lxc-101-\d{4}_\d{2}_\d{2}-\d{2}_\d{2}_\d{2}\.tar\.zst$", backup.VolId);
        Assert.Equal((101, "tenant-101"), (backup.Vmid, backup.Notes));
        Assert.True(backup.Size > 0);

        var wrongStorage = await Assert.ThrowsAsync<ProxmoxServerException>(() => client.BackupAsync("pve1", new ProxmoxBackupRequest([101]) { Storage = "local-lvm" }));
        Assert.Equal("storage 'local-lvm' does not support backups", wrongStorage.ProxmoxMessage);
    }
}
