using System.Globalization;

namespace Sajet.Simulators.Proxmox;

/*
 Task life cycle, as PVE's fork_worker runs it:

   request ──► checks + reservation (synchronous, may answer 500) ──► UPID returned
                                                                        │
        running ──(body finishes)──────────────► stopped, exitstatus "OK", log "TASK OK"
           │  └─(body throws / fault Fail)─────► stopped, exitstatus "<prefix><error>", log "TASK ERROR: ..."
           └──(DELETE .../tasks/{upid})────────► stopped, exitstatus "<prefix>interrupted by signal"

 A fault of kind Stuck parks the task in `running` until it is aborted.
 With TaskDurationScale 0 every step completes synchronously, so the task has stopped before its UPID is returned.
*/
public sealed partial class ProxmoxCluster
{
    private sealed class TaskRun(ProxmoxCluster cluster, SimTask task)
    {
        public void Log(string line)
        {
            lock (cluster._sync)
            {
                task.Log.Add(line);
            }
        }

        public async Task Step(double seconds)
        {
            task.Abort.Token.ThrowIfCancellationRequested();
            var scaled = seconds * cluster.TaskDurationScale;
            if (scaled > 0)
            {
                await Task.Delay(TimeSpan.FromSeconds(scaled), cluster.Time, task.Abort.Token);
            }
        }
    }

    private SimTask StartTask(SimNode node, string type, string id, Func<TaskRun, Task> body, string errorPrefix = "", Action? onFailure = null)
    {
        SimTask task;
        TaskFault? fault;
        lock (_sync)
        {
            var now = Now;
            var pid = 0x1000 + _rng.Next(0x3F_FFFF);
            var pstart = (int)((now - node.BootTime).TotalSeconds * 100);
            var start = now.ToUnixTimeSeconds();
            var upid = string.Create(CultureInfo.InvariantCulture, $"UPID:{node.Name}:{pid:X8}:{pstart:X8}:{start:X8}:{type}:{id}:{TokenUser}:");
            task = new SimTask { Upid = upid, Node = node.Name, Pid = pid, PStart = pstart, StartTime = start, Type = type, Id = id, User = TokenUser };
            _tasks[upid] = task;
            fault = TakeTaskFault(type, id);
        }

        _ = RunTaskAsync(task, body, errorPrefix, onFailure, fault);
        return task;
    }

    private async Task RunTaskAsync(SimTask task, Func<TaskRun, Task> body, string errorPrefix, Action? onFailure, TaskFault? fault)
    {
        var run = new TaskRun(this, task);
        string exit;
        try
        {
            if (fault is { Outcome: TaskFaultOutcome.Stuck })
            {
                await Task.Delay(Timeout.Infinite, task.Abort.Token);
            }

            if (fault is { Outcome: TaskFaultOutcome.Fail })
            {
                throw new PveException(500, fault.Message);
            }

            await body(run);
            exit = "OK";
        }
        catch (OperationCanceledException) when (task.Abort.IsCancellationRequested)
        {
            run.Log("received interrupt");
            exit = errorPrefix + "interrupted by signal";
        }
        catch (Exception ex)
        {
            exit = errorPrefix + ex.Message.TrimEnd('\n');
        }

        lock (_sync)
        {
            if (exit != "OK")
            {
                onFailure?.Invoke();
            }

            task.Log.Add(exit == "OK" ? "TASK OK" : "TASK ERROR: " + exit);
            task.ExitStatus = exit;
            task.EndTime = Now.ToUnixTimeSeconds();
        }
    }

    internal void AbortAllTasks()
    {
        lock (_sync)
        {
            foreach (var t in _tasks.Values.Where(t => t.Running))
            {
                t.Abort.Cancel();
            }
        }
    }
}
