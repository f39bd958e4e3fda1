using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Npgsql;
using Sajet.Grains.Interfaces;
using Sajet.Grains.Interfaces.Nodes;
using Sajet.Grains.Workflow;

namespace Sajet.Grains.Nodes;

/*
 Node health (the grain's status, mirrored in nodes.health):

     unknown ──poll ok──► online ◄──poll ok── offline
        │                   │                    ▲
        └──N failures───────┴──N failures────────┘   (N = nodes.offline_after_failures)

 While the node is registered it is polled every nodes.poll_interval_seconds by a grain timer; a failed poll is recorded
 like a successful one, never retried with backoff, so a node that comes back is seen at the next interval. The "poll"
 reminder (registered with the node, unregistered with it) only brings the grain back after a crash or deactivation;
 the poll cadence is not written anywhere, so a poll costs one commit (its domain transaction) unless health changed,
 which also writes the state and projects nodes.health with the history row.
*/

public sealed class NodeState : WorkflowState
{
    public string Health { get; set; } = "unknown";

    public int ConsecutiveFailures { get; set; }

    public string? LastError { get; set; }

    public DateTimeOffset? LastRetentionAt { get; set; }

    /// <summary>Whether the node could take new containers after the last poll (online, not in maintenance, storage and template present).</summary>
    public bool Accepting { get; set; }

    public bool Registered { get; set; }

    public int ReservedCores { get; set; }

    public long ReservedMemoryMb { get; set; }

    public long ReservedDiskGb { get; set; }

    public int ReservedContainers { get; set; }
}

/// <summary>
/// A Proxmox node: polls it, then in one transaction writes observed use into <c>nodes</c>, a sample, alerts with
/// hysteresis, reconciles the <c>containers</c> table with the cluster, keeps sample retention, and tells the capacity
/// queue when room appears.
/// </summary>
// The grain type is stored in Orleans' tables (state, reminders): named here, never derived from the class name.
[GrainType(GrainTypes.Node)]
public sealed partial class NodeGrain(
    [PersistentState(GrainTypes.Node)] IPersistentState<NodeState> store,
    NodePoller poller,
    IServiceProvider services) : WorkflowGrain<NodeState>(store, services), INodeGrain
{
    public const string PollReminder = "poll";
    // What the node's row and the settings say about how to reach and judge it, read once and kept between polls (a
    // poll then costs one transaction). Dropped when the operator changes the node or the settings (ChangedAsync),
    // when the row is found gone, and after TargetLifetime as a safety net.
    private static readonly TimeSpan TargetLifetime = TimeSpan.FromMinutes(10);
    private (NodeTarget Target, NodePollSettings Settings, DateTimeOffset ReadAt)? _target;
    private IGrainTimer? _pollTimer;
    private TimeSpan _pollInterval;

    protected override string GrainType => GrainTypes.Node;

    protected override string? Status => State.Health;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        await base.OnActivateAsync(cancellationToken);
        if (State.Registered)
        {
            StartPolling(TimeSpan.Zero, NodePollSettings.Default.PollInterval);
        }
    }

    public async Task RegisteredAsync(Guid commandId)
    {
        _target = null;
        await CommandAsync(commandId, "operator", () =>
        {
            State.Registered = true;
            State.ConsecutiveFailures = 0;
            State.LastError = null;
            State.Accepting = false;
            return Task.CompletedTask;
        });
        await this.RegisterOrUpdateReminder(PollReminder, Workflow.WakePeriod, Workflow.WakePeriod);
        StartPolling(TimeSpan.Zero, _pollInterval > TimeSpan.Zero ? _pollInterval : NodePollSettings.Default.PollInterval);
    }

    public async Task ChangedAsync(Guid commandId)
    {
        _target = null;
        if (!State.Registered)
        {
            await RegisteredAsync(commandId);
            return;
        }

        StartPolling(TimeSpan.Zero, _pollInterval > TimeSpan.Zero ? _pollInterval : NodePollSettings.Default.PollInterval);
    }

    public async Task RemovedAsync(Guid commandId)
    {
        await CommandAsync(commandId, "operator", () =>
        {
            State.Registered = false;
            State.Accepting = false;
            return Task.CompletedTask;
        });
        await StopPollingAsync();
    }

    public Task PollNowAsync() => PollAsync();

    public Task<NodeHealth> GetHealthAsync() => Task.FromResult(new NodeHealth(State.Health, State.ConsecutiveFailures, State.LastError, State.Accepting));

    protected override Task OnReminderAsync(string reminderName)
    {
        // The reminder only proves the grain is alive somewhere; activation (OnActivateAsync) restarted polling.
        if (reminderName == PollReminder && !State.Registered)
        {
            return StopPollingAsync();
        }

        return Task.CompletedTask;
    }

    private void StartPolling(TimeSpan dueIn, TimeSpan interval)
    {
        _pollInterval = interval;
        if (_pollTimer is null)
        {
            _pollTimer = this.RegisterGrainTimer(static (grain, ct) => grain.PollAsync(), this,
                new GrainTimerCreationOptions(dueIn, interval) { Interleave = false, KeepAlive = true });
        }
        else
        {
            _pollTimer.Change(dueIn, interval);
        }
    }

    private async Task StopPollingAsync()
    {
        _pollTimer?.Dispose();
        _pollTimer = null;
        if (await this.GetReminder(PollReminder) is { } reminder)
        {
            await this.UnregisterReminder(reminder);
        }
    }

    private async Task PollAsync()
    {
        if (_target is not { } cached || Clock.GetUtcNow() - cached.ReadAt > TargetLifetime)
        {
            var read = await poller.ReadTargetAsync(Key, Lifetime);
            _target = read is { } r ? (r.Target, r.Settings, Clock.GetUtcNow()) : null;
        }

        if (_target is not { } found)
        {
            // Unregistered (the row is gone): polling ends with the node.
            if (State.Registered)
            {
                await TurnAsync("poll", () => { State.Registered = false; State.Accepting = false; return Task.CompletedTask; });
            }

            await StopPollingAsync();
            return;
        }

        var (target, settings, _) = found;
        if (settings.PollInterval != _pollInterval)
        {
            StartPolling(settings.PollInterval, settings.PollInterval);
        }

        NodePoll poll;
        try
        {
            poll = NodePoll.Ok(await poller.ObserveAsync(target, Lifetime));
        }
        catch (Exception ex) when (!Lifetime.IsCancellationRequested)
        {
            Log.LogWarning("Poll of node {Node} ({PveNode}) failed: {Error}", target.Id, target.PveNode, ex.Message);
            poll = NodePoll.Failed(NodePoller.Describe(ex));
        }

        await TurnAsync("poll", () => ApplyPollAsync(target, poll, settings));
    }

    /// <summary>Applies one poll inside the grain's turn, in the turn's transaction.</summary>
    private async Task ApplyPollAsync(NodeTarget target, NodePoll poll, NodePollSettings settings, CancellationToken ct = default)
    {
        var (conn, tx) = await Context.DbAsync();
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
                _target = null; // Unregistered while the poll ran: the next poll reads that and stops.
                return;
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
        if (node.Health != State.Health)
        {
            Context.Project(); // A re-registered node's new row starts "unknown" whatever the grain last announced.
        }

        if (before != "online")
        {
            Context.Record(before, "online", before == "offline" ? "El nodo responde de nuevo." : "Primer sondeo correcto.", data: new { o.PveVersion, o.Cores });
            Log.LogInformation("Node {Node} is online (was {Health})", id, before);
        }

        var accepting = !node.Maintenance && o.StoragePresent && o.TemplatePresent;
        var released = node.ReservedCores < State.ReservedCores || node.ReservedMemoryMb < State.ReservedMemoryMb
            || node.ReservedDiskGb < State.ReservedDiskGb || node.ReservedContainers < State.ReservedContainers;
        if (accepting && (!State.Accepting || released || clearedResource))
        {
            Context.After(grains => grains.GetGrain<ICapacityGrain>(GrainTypes.WaitingQueue).CapacityChangedAsync(id));
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
        await using (var cmd = new NpgsqlCommand("UPDATE nodes SET last_error = @error, updated_at = now() WHERE id = @id", conn, tx))
        {
            cmd.Parameters.AddWithValue("id", id);
            cmd.Parameters.AddWithValue("error", error);
            if (await cmd.ExecuteNonQueryAsync(ct) == 0)
            {
                _target = null; // Unregistered: the next poll reads that and stops.
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
        Log.LogWarning("Node {Node} is offline after {Failures} failed polls", id, State.ConsecutiveFailures);
    }

    /// <summary>
    /// nodes.health is this grain's read model, written with its history after the state write (so a page never shows a
    /// health the history does not explain). Placement reads it; everything else in the row is the poll's domain data.
    /// </summary>
    protected override async Task ProjectAsync(NpgsqlConnection connection, NpgsqlTransaction transaction)
    {
        await using var cmd = new NpgsqlCommand("UPDATE nodes SET health = @health, updated_at = now() WHERE id = @id", connection, transaction);
        cmd.Parameters.AddWithValue("id", Key);
        cmd.Parameters.AddWithValue("health", State.Health);
        await cmd.ExecuteNonQueryAsync();
    }

    private sealed record ObservedRow(bool Maintenance, int ReservedCores, long ReservedMemoryMb, long ReservedDiskGb, int ReservedContainers, string Health);

    private const string UpdateObservedSql = """
        UPDATE nodes SET
            cores = @cores, memory_bytes = @memory_total, disk_bytes = @disk_total,
            cpu_used = @cpu, memory_used = @memory_used, disk_used = @disk_used,
            storage_present = @storage_present, template_present = @template_present,
            pve_version = coalesce(@pve_version, pve_version), metrics_at = now(),
            last_error = NULL, updated_at = now()
        WHERE id = @id
        RETURNING maintenance, reserved_cores, reserved_memory_mb, reserved_disk_gb, reserved_containers, health;
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
            row = new ObservedRow(r.GetBoolean(0), r.GetInt32(1), r.GetInt64(2), r.GetInt64(3), r.GetInt32(4), r.GetString(5));
        }

        return row;
    }

    internal static string Notification(string nodeId, string kind, string message, string state) =>
        JsonSerializer.Serialize(new AlertNotification(nodeId, kind, message, state), WorkflowJson.Options);
}
