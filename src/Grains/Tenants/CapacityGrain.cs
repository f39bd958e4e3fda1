using Microsoft.Extensions.Logging;
using Npgsql;
using Sajet.Grains.Interfaces;
using Sajet.Grains.Nodes;
using Sajet.Runtime;

namespace Sajet.Grains.Tenants;

/// <summary>
/// One grain ("capacity"/"waiting") that places waiting tenants first-come first-served when capacity may have
/// appeared. Capacity events only set its "drain" reminder, so a burst of them costs one pass over the queue.
/// </summary>
public sealed class CapacityGrain(NpgsqlDataSource db, GrainRuntime runtime, ILogger<CapacityGrain> logger) : Grain<CapacityGrain.QueueState>
{
    private const string WaitingSql = "SELECT id FROM tenants WHERE status = 'waiting_for_capacity' ORDER BY waiting_since, created_at";

    public override Task ReceiveMessageAsync(object message)
    {
        if (message is not CapacityChanged change)
        {
            return base.ReceiveMessageAsync(message);
        }

        State.LastReason = change.NodeId.Length > 0 ? $"capacidad en {change.NodeId}" : "capacidad liberada";
        Context.SetReminder("drain", TimeSpan.Zero, maxAttempts: 10);
        return Task.CompletedTask;
    }

    public override async Task<ReminderResult> ReceiveReminderAsync(ReminderFiring firing, CancellationToken ct)
    {
        var waiting = new List<string>();
        await using (var cmd = db.CreateCommand(WaitingSql))
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
            // In queue order, one at a time: an earlier tenant gets the room before a later one is tried.
            if (await runtime.CallAsync<TenantGrain, bool>(tenant, g => g.RetryPlacementIfWaitingAsync(), new CallOptions("capacity", State.LastReason), ct))
            {
                placed++;
            }
        }

        if (waiting.Count > 0)
        {
            logger.LogInformation("Capacity pass: {Placed} of {Waiting} waiting tenants placed", placed, waiting.Count);
        }

        return ReminderResult.Done();
    }

    public sealed class QueueState
    {
        public string? LastReason { get; set; }
    }
}
