using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Npgsql;
using Sajet.Grains.Interfaces;
using Sajet.Grains.Interfaces.Nodes;
using Sajet.Grains.Placement;
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

    /// <summary>
    /// Capacity Sajet has promised on this node, by reservation key (a dedicated tenant's container or a shared
    /// container). Only this grain's turns change it, one at a time, which is what keeps placements from overcommitting;
    /// projected to <c>reservations</c> and the <c>nodes.reserved_*</c> sums after each write.
    /// </summary>
    public Dictionary<string, NodeReservation> Reservations { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Live reservations kept in SQL before node grains owned them were read into <see cref="Reservations"/>.</summary>
    public bool ReservationsImported { get; set; }
}

public sealed class NodeReservation
{
    public int Cores { get; set; }

    public int MemoryMb { get; set; }

    public int DiskGb { get; set; }

    public DateTimeOffset At { get; set; }
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

    // The poll timer interleaves with requests, so a placement's ReserveAsync never waits for a poll's HTTP round trips
    // (measured by ./sajet bench placement). Only its turn is exclusive (WorkflowGrain's turn lock). One poll runs at a
    // time, and a poll whose target was changed or removed while its observation was in flight does not apply it.
    private Task _pollInFlight = Task.CompletedTask;
    private bool _pollAgain;
    private int _pollEpoch;

    // The last poll's figures, kept in memory for placement (nodes holds the same for pages); read from the row once
    // per activation, then replaced by each successful poll.
    private NodeMetrics? _metrics;

    // Grows with every figure handed out (NodeLive.Stamp), from the activation's start time so a later activation's
    // figures win over an earlier one's at the placement grain.
    private long _stamp;

    protected override string GrainType => GrainTypes.Node;

    protected override string? Status => State.Health;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        await base.OnActivateAsync(cancellationToken);
        if (!State.ReservationsImported)
        {
            await ImportReservationsAsync(cancellationToken);
        }

        _metrics = await ReadMetricsAsync(cancellationToken);
        _stamp = Clock.GetUtcNow().UtcTicks;
        if (State.Registered)
        {
            StartPolling(TimeSpan.Zero, NodePollSettings.Default.PollInterval);
            // The placement grain may hold what an earlier activation said last, cut off before a change was pushed.
            Publish();
        }
    }

    public async Task RegisteredAsync(Guid commandId)
    {
        _target = null;
        _pollEpoch++;
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
        await RegistryChangedAsync();
    }

    public async Task ChangedAsync(Guid commandId)
    {
        _target = null;
        _pollEpoch++;
        if (!State.Registered)
        {
            await RegisteredAsync(commandId);
            return;
        }

        StartPolling(TimeSpan.Zero, _pollInterval > TimeSpan.Zero ? _pollInterval : NodePollSettings.Default.PollInterval);
        await RegistryChangedAsync();
    }

    public async Task RemovedAsync(Guid commandId)
    {
        _pollEpoch++;
        await CommandAsync(commandId, "operator", () =>
        {
            State.Registered = false;
            State.Accepting = false;
            return Task.CompletedTask;
        });
        await StopPollingAsync();
        await RegistryChangedAsync();
    }

    // Awaited, not one-way: the command that brought the change (through the outbox) is retried until placement knows.
    private Task RegistryChangedAsync() => GrainFactory.GetGrain<IPlacementGrain>(0).RegistryChangedAsync();

    /// <summary>Tells the placement grain this node's figures and keys (one-way: a lost one is repaired by the next).</summary>
    private void Publish()
    {
        try
        {
            _ = GrainFactory.GetGrain<IPlacementGrain>(0).NodeChangedAsync(Key, View());
        }
        catch (Exception ex)
        {
            Log.LogDebug(ex, "Node {Node}: could not tell placement its figures", Key);
        }
    }

    private NodeView View() => new(Live(null), [.. State.Reservations.Keys]);

    public async Task PollNowAsync()
    {
        // Asked for a poll now: one that started before may have observed before the caller's change.
        await _pollInFlight;
        await PollOnceAsync();
    }

    public Task<NodeLive> GetLiveAsync(string? reservationKey) => Task.FromResult(Live(reservationKey));

    public Task<NodeView> DescribeAsync() => Task.FromResult(View());

    public Task<ReserveResult> ReserveAsync(PlacementRequest request, NodeRegistration registration, PlacementSettings settings) =>
        TurnAsync("placement", request.ReservationKey, () =>
        {
            if (State.Reservations.ContainsKey(request.ReservationKey))
            {
                return Task.FromResult(new ReserveResult(true, Live(request.ReservationKey))); // A retried placement.
            }

            // The caller decided on a snapshot that may be stale by now; this turn is the only one that changes this
            // node's reservations, so judging again here is what prevents overcommit.
            if (!Placer.Judge(request, Live(null).ToSnapshot(registration, Context.Now), settings).Eligible)
            {
                return Task.FromResult(new ReserveResult(false, Live(null)));
            }

            State.Reservations[request.ReservationKey] = new NodeReservation
            {
                Cores = request.Cores, MemoryMb = request.MemoryMb, DiskGb = request.DiskGb, At = Context.Now,
            };
            Context.Project();
            return Task.FromResult(new ReserveResult(true, Live(request.ReservationKey)));
        });

    public async Task<bool> ReleaseReservationAsync(string reservationKey)
    {
        if (!State.Reservations.ContainsKey(reservationKey))
        {
            return false;
        }

        var released = await TurnAsync("placement", reservationKey, () =>
        {
            var removed = State.Reservations.Remove(reservationKey);
            Context.Project();
            return Task.FromResult(removed);
        });
        Publish();
        return released;
    }

    public async Task ReservationMovedAsync(string reservationKey, string toNode)
    {
        if (State.Reservations.ContainsKey(reservationKey))
        {
            await TurnAsync("reconcile", () =>
            {
                State.Reservations.Remove(reservationKey);
                Context.Project();
                return Task.CompletedTask;
            });
            Publish();
        }
    }

    private NodeLive Live(string? reservationKey)
    {
        int cores = 0, containers = 0;
        long memory = 0, disk = 0;
        foreach (var r in State.Reservations.Values)
        {
            cores += r.Cores;
            memory += r.MemoryMb;
            disk += r.DiskGb;
            containers++;
        }

        var m = _metrics ?? NodeMetrics.None;
        return new NodeLive(State.Health, m.At, m.StoragePresent, m.TemplatePresent, m.Cores, m.MemoryBytes, m.DiskBytes, m.Cpu, m.MemoryUsed,
            m.DiskUsed, cores, memory, disk, containers, reservationKey is not null && State.Reservations.ContainsKey(reservationKey), ++_stamp);
    }

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
                new GrainTimerCreationOptions(dueIn, interval) { Interleave = true, KeepAlive = true });
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

    /// <summary>
    /// The timer's tick. While a poll is still running the tick does not start a second one beside it (a slow node must
    /// not pile up polls) but asks for one more right after it: a tick due now because the node changed is not lost.
    /// </summary>
    private Task PollAsync()
    {
        if (!_pollInFlight.IsCompleted)
        {
            _pollAgain = true;
            return Task.CompletedTask;
        }

        return PollOnceAsync();
    }

    private Task PollOnceAsync() => _pollInFlight = PollWhileAskedAsync();

    private async Task PollWhileAskedAsync()
    {
        do
        {
            _pollAgain = false;
            await ObserveAndApplyAsync();
        }
        while (_pollAgain && _pollTimer is not null);
    }

    private async Task ObserveAndApplyAsync()
    {
        var epoch = _pollEpoch;
        if (_target is not { } cached || Clock.GetUtcNow() - cached.ReadAt > TargetLifetime)
        {
            var read = await poller.ReadTargetAsync(Key, Lifetime);
            if (epoch != _pollEpoch)
            {
                return; // Changed while it was read: what was read may predate the change.
            }

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

        if (epoch != _pollEpoch)
        {
            return; // Registered again, changed or removed meanwhile: the next poll observes the node as it is now.
        }

        await TurnAsync("poll", () => ApplyPollAsync(target, poll, settings));
        if (poll.Observation is { } o)
        {
            _metrics = new NodeMetrics(Clock.GetUtcNow(), o.StoragePresent, o.TemplatePresent, o.Cores, o.MemoryTotal, o.DiskTotal,
                Math.Max(0, o.Cpu), o.MemoryUsed, o.DiskUsed);
        }

        Publish();
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

        // Containers first: reservations follow moved containers before this poll's figures are written.
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

        // Released reservations announce themselves (the tenant that released tells the queue); a poll announces the
        // node starting to accept, and an alert clearing (the node's own load fell).
        var accepting = !node.Maintenance && o.StoragePresent && o.TemplatePresent;
        if (accepting && (!State.Accepting || clearedResource))
        {
            Context.After(grains => grains.GetGrain<ICapacityGrain>(GrainTypes.WaitingQueue).CapacityChangedAsync(id));
        }

        State.Accepting = accepting;
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

    // Absolute values from the state: applying it twice (after a crash between the state write and here) is harmless.
    // A reservation another node took over (its container moved) is that node's row now, so it is left alone here.
    private const string ProjectSql = """
        UPDATE nodes SET health = @health, reserved_cores = @cores, reserved_memory_mb = @memory, reserved_disk_gb = @disk,
            reserved_containers = @count, updated_at = now()
        WHERE id = @id;
        INSERT INTO reservations (key, node_id, cores, memory_mb, disk_gb, created_at)
        SELECT k, @id, c, m, d, a FROM unnest(@keys, @rcores, @rmemory, @rdisk, @rat) AS u(k, c, m, d, a)
        WHERE EXISTS (SELECT 1 FROM nodes WHERE id = @id)
        ON CONFLICT (key) DO UPDATE SET node_id = EXCLUDED.node_id, cores = EXCLUDED.cores, memory_mb = EXCLUDED.memory_mb,
            disk_gb = EXCLUDED.disk_gb, created_at = EXCLUDED.created_at, released_at = NULL
        WHERE (reservations.node_id, reservations.cores, reservations.memory_mb, reservations.disk_gb, reservations.released_at)
            IS DISTINCT FROM (EXCLUDED.node_id, EXCLUDED.cores, EXCLUDED.memory_mb, EXCLUDED.disk_gb, NULL::timestamptz);
        UPDATE reservations SET released_at = now()
        WHERE node_id = @id AND released_at IS NULL AND (CASE WHEN @full THEN NOT (key = ANY(@live)) ELSE key = ANY(@gone) END);
        """;

    // What the last committed projection wrote, so the next one sends only the reservations that changed: a placement
    // changes one key, and rewriting a node's fifty rows each time cost more than the state write. Null after activation
    // and while a projection's outcome is unknown: the next one then writes every row, as the first one always does.
    private Dictionary<string, (int Cores, int MemoryMb, int DiskGb, DateTimeOffset At)>? _projected;
    private Dictionary<string, (int Cores, int MemoryMb, int DiskGb, DateTimeOffset At)>? _projecting;

    /// <summary>
    /// The grain's read models, written with its history after the state write (so a page never shows a health the
    /// history does not explain): nodes.health, the nodes.reserved_* sums and the reservations rows. Everything else in
    /// the row is the poll's domain data or the operator's registration.
    /// </summary>
    protected override async Task ProjectAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction)
    {
        var live = Live(null);
        var now = State.Reservations.ToDictionary(r => r.Key, r => (r.Value.Cores, r.Value.MemoryMb, r.Value.DiskGb, r.Value.At), StringComparer.Ordinal);
        var before = _projected;
        _projected = null;
        var changed = before is null ? [.. now] : now.Where(r => !before.TryGetValue(r.Key, out var was) || was != r.Value).ToList();
        var gone = before is null ? [] : before.Keys.Where(k => !now.ContainsKey(k)).ToArray();

        await using var cmd = new NpgsqlCommand(ProjectSql, connection, transaction);
        cmd.Parameters.AddWithValue("id", Key);
        cmd.Parameters.AddWithValue("health", State.Health);
        cmd.Parameters.AddWithValue("cores", live.ReservedCores);
        cmd.Parameters.AddWithValue("memory", live.ReservedMemoryMb);
        cmd.Parameters.AddWithValue("disk", live.ReservedDiskGb);
        cmd.Parameters.AddWithValue("count", now.Count);
        cmd.Parameters.AddWithValue("keys", changed.Select(r => r.Key).ToArray());
        cmd.Parameters.AddWithValue("rcores", changed.Select(r => r.Value.Cores).ToArray());
        cmd.Parameters.AddWithValue("rmemory", changed.Select(r => r.Value.MemoryMb).ToArray());
        cmd.Parameters.AddWithValue("rdisk", changed.Select(r => r.Value.DiskGb).ToArray());
        cmd.Parameters.AddWithValue("rat", changed.Select(r => r.Value.At).ToArray());
        cmd.Parameters.AddWithValue("full", before is null);
        cmd.Parameters.AddWithValue("live", before is null ? now.Keys.ToArray() : []);
        cmd.Parameters.AddWithValue("gone", gone);
        await cmd.ExecuteNonQueryAsync();
        _projecting = now;
    }

    protected override void Projected()
    {
        _projected = _projecting;
        _projecting = null;
    }

    private const string ImportSql = "SELECT key, cores, memory_mb, disk_gb, created_at FROM reservations WHERE node_id = @id AND released_at IS NULL";

    /// <summary>
    /// Once per node grain: reservations that were kept only in SQL (before node grains owned them) become state, so an
    /// upgraded installation keeps every promise it made.
    /// </summary>
    private async Task ImportReservationsAsync(CancellationToken ct)
    {
        var found = new Dictionary<string, NodeReservation>(StringComparer.Ordinal);
        await using (var cmd = Db.CreateCommand(ImportSql))
        {
            cmd.Parameters.AddWithValue("id", Key);
            await using var r = await cmd.ExecuteReaderAsync(ct);
            while (await r.ReadAsync(ct))
            {
                found[r.GetString(0)] = new NodeReservation { Cores = r.GetInt32(1), MemoryMb = r.GetInt32(2), DiskGb = r.GetInt32(3), At = r.GetFieldValue<DateTimeOffset>(4) };
            }
        }

        await TurnAsync("system", () =>
        {
            foreach (var (key, reservation) in found)
            {
                State.Reservations.TryAdd(key, reservation);
            }

            State.ReservationsImported = true;
            Context.Project();
            return Task.CompletedTask;
        });
    }

    private const string MetricsSql = """
        SELECT metrics_at, storage_present, template_present, cores, memory_bytes, disk_bytes, cpu_used, memory_used, disk_used
        FROM nodes WHERE id = @id AND metrics_at IS NOT NULL
        """;

    private async Task<NodeMetrics?> ReadMetricsAsync(CancellationToken ct)
    {
        await using var cmd = Db.CreateCommand(MetricsSql);
        cmd.Parameters.AddWithValue("id", Key);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        return await r.ReadAsync(ct)
            ? new NodeMetrics(r.GetFieldValue<DateTimeOffset>(0), r.GetBoolean(1), r.GetBoolean(2), r.GetInt32(3), r.GetInt64(4), r.GetInt64(5),
                r.GetDouble(6), r.GetInt64(7), r.GetInt64(8))
            : null;
    }

    private sealed record NodeMetrics(DateTimeOffset? At, bool StoragePresent, bool TemplatePresent, int Cores, long MemoryBytes, long DiskBytes,
        double Cpu, long MemoryUsed, long DiskUsed)
    {
        public static readonly NodeMetrics None = new(null, false, false, 0, 0, 0, 0, 0, 0);
    }

    private sealed record ObservedRow(bool Maintenance, string Health);

    private const string UpdateObservedSql = """
        UPDATE nodes SET
            cores = @cores, memory_bytes = @memory_total, disk_bytes = @disk_total,
            cpu_used = @cpu, memory_used = @memory_used, disk_used = @disk_used,
            storage_present = @storage_present, template_present = @template_present,
            pve_version = coalesce(@pve_version, pve_version), metrics_at = now(),
            last_error = NULL, updated_at = now()
        WHERE id = @id
        RETURNING maintenance, health;
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
            row = new ObservedRow(r.GetBoolean(0), r.GetString(1));
        }

        return row;
    }

    internal static string Notification(string nodeId, string kind, string message, string state) =>
        JsonSerializer.Serialize(new AlertNotification(nodeId, kind, message, state), WorkflowJson.Options);
}
