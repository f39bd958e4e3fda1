using Sajet.Integrations.Proxmox;
using Sajet.Simulators.Proxmox;
using static Sajet.Integrations.Tests.Proxmox.SimulatorHarness;

namespace Sajet.Integrations.Tests.Proxmox;

public class ProxmoxTaskTests
{
    [Fact]
    public async Task WaitForTask_RealisticDurations_PollsUntilOk()
    {
        // A small scale keeps the task running across several polls without making the test slow.
        await using var sim = await StartAsync(o => o.TaskDurationScale = 0.05);
        using var client = Client(sim);
        var upid = await client.CreateContainerAsync("pve1", Tenant(101));
        var status = await client.WaitForTaskAsync(upid, TimeSpan.FromMinutes(1));
        Assert.True(status.IsSuccess);
        Assert.True((await client.GetContainerStatusAsync("pve1", 101)).IsRunning);
        var log = await client.GetTaskLogAsync(upid);
        Assert.Equal("TASK OK", log.Lines[^1].T);
        Assert.Equal(log.Total, log.Lines.Count);
        Assert.Equal(Enumerable.Range(1, log.Total), log.Lines.Select(l => l.N));
        var page = await client.GetTaskLogAsync(upid, start: 1, limit: 2);
        Assert.Equal([2, 3], page.Lines.Select(l => l.N));
        Assert.Equal(log.Total, page.Total);
    }

    [Fact]
    public async Task WaitForTask_FailedTask_ThrowsWithLogTailAndUndoesCreate()
    {
        await using var sim = await StartAsync();
        sim.Cluster.AddTaskFault(new TaskFault(TaskFaultOutcome.Fail, "vzcreate", 101, "unpacking failed - write error"));
        using var client = Client(sim);
        var upid = await client.CreateContainerAsync("pve1", Tenant(101));
        var ex = await Assert.ThrowsAsync<ProxmoxTaskFailedException>(() => client.WaitForTaskAsync(upid));
        Assert.Equal(upid, ex.Upid);
        Assert.Equal("unable to create CT 101 - unpacking failed - write error", ex.ExitStatus);
        Assert.Equal("TASK ERROR: unable to create CT 101 - unpacking failed - write error", ex.LogTail[^1]);
        Assert.Null(sim.Cluster.GetContainer(101));
        Assert.Equal(101, await client.GetNextIdAsync(101));
    }

    [Fact]
    public async Task WaitForTask_StuckTask_TimesOutThenAbortStopsIt()
    {
        await using var sim = await StartAsync();
        sim.Cluster.AddTaskFault(new TaskFault(TaskFaultOutcome.Stuck, "vzstart"));
        using var client = Client(sim);
        await CreateTenantAsync(client, 101, start: false);
        var upid = await client.StartContainerAsync("pve1", 101);
        var timeout = await Assert.ThrowsAsync<ProxmoxTaskTimeoutException>(() => client.WaitForTaskAsync(upid, TimeSpan.FromMilliseconds(200)));
        Assert.Equal(upid, timeout.Upid);
        var running = await client.GetTaskStatusAsync(upid);
        Assert.True(running.IsRunning);
        Assert.Null(running.ExitStatus);

        await client.StopTaskAsync(upid);
        var aborted = await Assert.ThrowsAsync<ProxmoxTaskFailedException>(() => client.WaitForTaskAsync(upid, TimeSpan.FromSeconds(30)));
        Assert.Equal("interrupted by signal", aborted.ExitStatus);
        Assert.Equal("stopped", (await client.GetContainerStatusAsync("pve1", 101)).Status);
    }

    [Fact]
    public async Task GetTaskStatus_WrongNode_IsNoSuchTask()
    {
        await using var sim = await StartAsync();
        using var client = Client(sim);
        var upid = await client.CreateContainerAsync("pve1", Tenant(101));
        var elsewhere = upid with { Node = "pve2" };
        var ex = await Assert.ThrowsAsync<ProxmoxServerException>(() => client.GetTaskStatusAsync(elsewhere));
        Assert.Equal("no such task", ex.ProxmoxMessage);
    }
}
