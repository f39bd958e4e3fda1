using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Npgsql;
using Sajet.Runtime;

namespace Sajet.Grains.Nodes;

/*
 Node health (the grain's status, mirrored in nodes.health):

     unknown ──poll ok──► online ◄──poll ok── offline
        │                   │                    ▲
        └──N failures───────┴──N failures────────┘   (N = nodes.offline_after_failures)

 The "poll" reminder fires forever every nodes.poll_interval_seconds: a failed poll is recorded and rescheduled
 like a successful one, never retried with backoff, so a node that comes back is seen at the next interval.
*/

public sealed class NodeState
{
    public string Health { get; set; } = "unknown";

    public int ConsecutiveFailures { get; set; }

    public string? LastError { get; set; }

    public DateTimeOffset? LastRetentionAt { get; set; }

    /// <summary>Whether the node could take new containers after the last poll (online, not in maintenance, storage and template present).</summary>
    public bool Accepting { get; set; }

    public int ReservedCores { get; set; }

    public long ReservedMemoryMb { get; set; }

    public long ReservedDiskGb { get; set; }

    public int ReservedContainers { get; set; }
}

/// <summary>
/// A Proxmox node: polls it outside the lock, then (under the lock, in one transaction) writes observed use into
/// <c>nodes</c>, a sample, alerts with hysteresis, reconciles the <c>containers</c> table with the cluster, keeps
/// sample retention, and tells the capacity grain when room appears.
/// </summary>
public sealed partial class NodeGrain(NodePoller poller, CapacityNotifier capacity, ILogger<NodeGrain> logger) : Grain<NodeState>
{
    public const string PollReminder = "poll";

    public override string? Status => State.Health;

    public override Task ReceiveMessageAsync(object message)
    {
        switch (message)
        {
            case NodeRegistered:
                State.ConsecutiveFailures = 0;
                State.LastError = null;
                State.Accepting = false;
                Context.SetReminder(PollReminder, TimeSpan.Zero, maxAttempts: 1000);
                break;
            case NodeChanged:
                Context.SetReminder(PollReminder, TimeSpan.Zero, maxAttempts: 1000);
                break;
            case NodeRemoved:
                Context.CancelReminder(PollReminder);
                State.Accepting = false;
                break;
            default:
                return base.ReceiveMessageAsync(message);
        }

        return Task.CompletedTask;
    }

    public override async Task<ReminderResult> ReceiveReminderAsync(ReminderFiring firing, CancellationToken ct)
    {
        if (firing.Name != PollReminder)
        {
            return ReminderResult.Done();
        }

        var read = await poller.ReadTargetAsync(Context.Key, ct);
        if (read is not { } found)
        {
            // Unregistered: the reminder ends with the node.
            return ReminderResult.Done();
        }

        var (target, settings) = found;
        NodePoll poll;
        try
        {
            poll = NodePoll.Ok(await poller.ObserveAsync(target, ct));
        }
        catch (Exception ex) when (!ct.IsCancellationRequested)
        {
            logger.LogWarning("Poll of node {Node} ({PveNode}) failed: {Error}", target.Id, target.PveNode, ex.Message);
            poll = NodePoll.Failed(NodePoller.Describe(ex));
        }

        return ReminderResult.Reschedule(settings.PollInterval, g => ((NodeGrain)g).ApplyPollAsync(target, poll, settings));
    }

    /// <summary>Applies one poll under the grain's lock, in the transaction that finishes the firing.</summary>
    public async Task ApplyPollAsync(NodeTarget target, NodePoll poll, NodePollSettings settings, CancellationToken ct = default)
    {
        var conn = Context.Connection ?? throw new InvalidOperationException("ApplyPollAsync runs inside a grain call");
        var tx = Context.Transaction!;
        if (poll.Observation is { } observation)
        {
            await ApplySuccessAsync(conn, tx, target, observation, settings, ct);
        }
        else
        {
            await ApplyFailureAsync(conn, tx, poll.Error ?? "Error desconocido.", settings, ct);
        }
    }

    private async Task ApplySuccessAsync(NpgsqlConnection conn, NpgsqlTransaction tx, NodeTarget target, NodeObservation o, NodePollSettings settings, CancellationToken ct)
    {
        var id = Context.Key;

        await using (var exists = new NpgsqlCommand("SELECT EXISTS (SELECT 1 FROM nodes WHERE id = @id)", conn, tx))
        {
            exists.Parameters.AddWithValue("id", id);
            if (await exists.ExecuteScalarAsync(ct) is not true)
            {
                return; // Unregistered while the poll ran.
            }
        }

        // Containers first: a move locks both nodes' rows (in id order) before this node's row is updated below.
        await ReconcileAsync(conn, tx, target, o, ct);

        var row = await UpdateObservedAsync(conn, tx, id, o, ct);
        if (row is not { } node)
        {
            return; // Unregistered while the poll ran.
        }

        var clearedResource = await EvaluateAlertsAsync(conn, tx, id, o, settings, ct);

        if (State.LastRetentionAt is not { } last || Context.Now - last >= TimeSpan.FromHours(1))
        {
            await RetainAsync(conn, tx, id, ct);
            State.LastRetentionAt = Context.Now;
        }

        var before = State.Health;
        State.Health = "online";
        State.ConsecutiveFailures = 0;
        State.LastError = null;
        if (before != "online")
        {
            Context.Record(before, "online", before == "offline" ? "El nodo responde de nuevo." : "Primer sondeo correcto.", data: new { o.PveVersion, o.Cores });
            logger.LogInformation("Node {Node} is online (was {Health})", id, before);
        }

        var accepting = !node.Maintenance && o.StoragePresent && o.TemplatePresent;
        var released = node.ReservedCores < State.ReservedCores || node.ReservedMemoryMb < State.ReservedMemoryMb
            || node.ReservedDiskGb < State.ReservedDiskGb || node.ReservedContainers < State.ReservedContainers;
        if (accepting && (!State.Accepting || released || clearedResource))
        {
            capacity.Notify(Context, id);
        }

        State.Accepting = accepting;
        State.ReservedCores = node.ReservedCores;
        State.ReservedMemoryMb = node.ReservedMemoryMb;
        State.ReservedDiskGb = node.ReservedDiskGb;
        State.ReservedContainers = node.ReservedContainers;
    }

    private async Task ApplyFailureAsync(NpgsqlConnection conn, NpgsqlTransaction tx, string error, NodePollSettings settings, CancellationToken ct)
    {
        var id = Context.Key;
        State.ConsecutiveFailures++;
        State.LastError = error;
        var goesOffline = State.ConsecutiveFailures >= settings.OfflineAfterFailures && State.Health != "offline";
        await using (var cmd = new NpgsqlCommand(
            "UPDATE nodes SET last_error = @error, health = CASE WHEN @offline THEN 'offline' ELSE health END, updated_at = now() WHERE id = @id", conn, tx))
        {
            cmd.Parameters.AddWithValue("id", id);
            cmd.Parameters.AddWithValue("error", error);
            cmd.Parameters.AddWithValue("offline", goesOffline);
            if (await cmd.ExecuteNonQueryAsync(ct) == 0)
            {
                return;
            }
        }

        if (!goesOffline)
        {
            return;
        }

        var before = State.Health;
        State.Health = "offline";
        State.Accepting = false;
        var message = string.Create(CultureInfo.InvariantCulture, $"El nodo {id} no responde tras {State.ConsecutiveFailures} intentos: {error}");
        await RaiseAlertAsync(conn, tx, id, "offline", message, null, ct);
        Context.Record(before, "offline", message, data: new { failures = State.ConsecutiveFailures });
        logger.LogWarning("Node {Node} is offline after {Failures} failed polls", id, State.ConsecutiveFailures);
    }

    private sealed record ObservedRow(bool Maintenance, int ReservedCores, long ReservedMemoryMb, long ReservedDiskGb, int ReservedContainers);

    private const string UpdateObservedSql = """
        UPDATE nodes SET
            cores = @cores, memory_bytes = @memory_total, disk_bytes = @disk_total,
            cpu_used = @cpu, memory_used = @memory_used, disk_used = @disk_used,
            storage_present = @storage_present, template_present = @template_present,
            pve_version = coalesce(@pve_version, pve_version), metrics_at = now(),
            health = 'online', last_error = NULL, updated_at = now()
        WHERE id = @id
        RETURNING maintenance, reserved_cores, reserved_memory_mb, reserved_disk_gb, reserved_containers;
        """;

    private const string InsertSampleSql = """
        INSERT INTO node_samples (node_id, at, resolution, cpu, memory_used, memory_total, disk_used, disk_total, containers)
        SELECT @id, now(), 'raw', @cpu, @memory_used, @memory_total, @disk_used, @disk_total, @containers
        WHERE EXISTS (SELECT 1 FROM nodes WHERE id = @id)
        ON CONFLICT DO NOTHING
        """;

    private static async Task<ObservedRow?> UpdateObservedAsync(NpgsqlConnection conn, NpgsqlTransaction tx, string id, NodeObservation o, CancellationToken ct)
    {
        await using var batch = new NpgsqlBatch(conn, tx);
        var update = new NpgsqlBatchCommand(UpdateObservedSql);
        var sample = new NpgsqlBatchCommand(InsertSampleSql);
        foreach (var cmd in new[] { update, sample })
        {
            cmd.Parameters.AddWithValue("id", id);
            cmd.Parameters.AddWithValue("cpu", Math.Max(0, o.Cpu));
            cmd.Parameters.AddWithValue("memory_total", o.MemoryTotal);
            cmd.Parameters.AddWithValue("memory_used", o.MemoryUsed);
            cmd.Parameters.AddWithValue("disk_total", o.DiskTotal);
            cmd.Parameters.AddWithValue("disk_used", o.DiskUsed);
        }

        update.Parameters.AddWithValue("cores", o.Cores);
        update.Parameters.AddWithValue("storage_present", o.StoragePresent);
        update.Parameters.AddWithValue("template_present", o.TemplatePresent);
        update.Parameters.AddWithValue("pve_version", (object?)o.PveVersion ?? DBNull.Value);
        sample.Parameters.AddWithValue("containers", o.Containers.Count);
        batch.BatchCommands.Add(update);
        batch.BatchCommands.Add(sample);

        ObservedRow? row = null;
        await using var r = await batch.ExecuteReaderAsync(ct);
        if (await r.ReadAsync(ct))
        {
            row = new ObservedRow(r.GetBoolean(0), r.GetInt32(1), r.GetInt64(2), r.GetInt64(3), r.GetInt32(4));
        }

        return row;
    }

    internal static string Notification(string nodeId, string kind, string message, string state) =>
        JsonSerializer.Serialize(new AlertNotification(nodeId, kind, message, state), GrainJson.Options);
}
