using Microsoft.Extensions.Logging;
using Npgsql;
using Sajet.Grains.Interfaces;
using Sajet.Grains.Workflow;

namespace Sajet.Grains.Tenants;

/*
 The waiting-for-capacity queue (one grain, key "waiting"):

     idle ──capacity changed──► draining ──queue passed──► idle
                                   ▲   └─capacity changed meanwhile: one more pass─┘

 Tenants are tried in the order they started waiting (first come, first served): an earlier tenant gets the room
 before a later one is tried. Capacity notices only set the "drain" timer, so a burst of them costs one pass.
*/

public sealed class QueueState : WorkflowState
{
    public string? LastReason { get; set; }

    /// <summary>The nodes of the last notices (bounded), for operators: which nodes announced room, and in what order.</summary>
    public List<string> RecentNotices { get; set; } = [];
}

// The grain type is stored in Orleans' tables (state, reminders): named here, never derived from the class name.
[GrainType(GrainTypes.Capacity)]
public sealed class CapacityGrain(
    [PersistentState(GrainTypes.Capacity)] IPersistentState<QueueState> store,
    IServiceProvider services) : WorkflowGrain<QueueState>(store, services), ICapacityGrain
{
    private const string DrainTimer = "drain";
    private const string WaitingSql = "SELECT id FROM tenants WHERE status = 'waiting_for_capacity' ORDER BY waiting_since, created_at";

    private const int MaxNotices = 50;

    protected override string GrainType => GrainTypes.Capacity;

    public Task<IReadOnlyList<string>> GetRecentNoticesAsync() => Task.FromResult<IReadOnlyList<string>>([.. State.RecentNotices]);

    public Task CapacityChangedAsync(string nodeId) => TurnAsync("capacity", () =>
    {
        State.LastReason = nodeId.Length > 0 ? $"capacidad en {nodeId}" : "capacidad liberada";
        State.RecentNotices.Add(nodeId);
        if (State.RecentNotices.Count > MaxNotices)
        {
            State.RecentNotices.RemoveAt(0);
        }

        Context.Schedule(DrainTimer, TimeSpan.Zero, 10);
        return Task.CompletedTask;
    });

    protected override async Task<TimerResult> OnTimerAsync(TimerFiring firing, CancellationToken ct)
    {
        var waiting = new List<string>();
        await using (var cmd = Db.CreateCommand(WaitingSql))
        await using (var r = await cmd.ExecuteReaderAsync(ct))
        {
            while (await r.ReadAsync(ct))
            {
                waiting.Add(r.GetString(0));
            }
        }

        var placed = 0;
        foreach (var tenant in waiting)
        {
            if (await GrainFactory.GetGrain<ITenantGrain>(tenant).RetryPlacementIfWaitingAsync(State.LastReason ?? "capacidad"))
            {
                placed++;
            }
        }

        if (waiting.Count > 0)
        {
            Log.LogInformation("Capacity pass: {Placed} of {Waiting} waiting tenants placed", placed, waiting.Count);
        }

        return TimerResult.Done();
    }
}
