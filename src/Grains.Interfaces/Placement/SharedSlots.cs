using System.Globalization;
using Npgsql;

namespace Sajet.Grains.Placement;

/// <summary>A shared Odoo container as the join decision sees it.</summary>
public sealed record SharedContainer(
    string Hostname, string NodeId, int? Vmid, string Status, int SlotsTotal, int SlotsUsed, string NodeHealth, bool NodeMaintenance)
{
    public bool HasFreeSlot => SlotsUsed < SlotsTotal;

    /// <summary>Maintenance and health rule joining as they rule placing: a tenant is never sent to a node we avoid.</summary>
    public bool NodeAvailable => NodeHealth == "online" && !NodeMaintenance;

    public bool Joinable => HasFreeSlot && NodeAvailable;

    public string Slots => string.Create(CultureInfo.InvariantCulture, $"{SlotsUsed} de {SlotsTotal} plazas usadas");
}

/// <summary>A live shared container's slots, as a resize found them.</summary>
public sealed record SharedContainerSlots(string Hostname, string NodeId, int SlotsUsed, int SlotsTotal);

/// <summary>Which shared container a Basic tenant would join now, or why none (Spanish: operators read it).</summary>
public sealed record SharedJoinDecision(SharedContainer? Container, string Reason);

/// <summary>A tenant's slot, as recorded: the container, and whether the tenant is the one creating it.</summary>
public sealed record SharedMembership(string Hostname, string NodeId, int? Vmid, string Status, bool Creator);

/// <summary>
/// The one source of truth for shared-container slots: the tenant grain's placement and the web front's capacity check
/// both ask <see cref="DecideAsync"/>, so the check answers what placement would do. A slot is a row in
/// shared_container_members; slots_used moves only in the statement that adds or removes that row.
/// </summary>
public static class SharedSlots
{
    // Join order: a running container first (the tenant is served at once), then the fullest (pack containers before
    // opening new ones), then the oldest.
    private const string LiveSql = """
        SELECT s.hostname, s.node_id, s.vmid, s.status, s.slots_total, s.slots_used, coalesce(n.health, 'unknown'), coalesce(n.maintenance, false)
        FROM shared_containers s LEFT JOIN nodes n ON n.id = s.node_id
        WHERE s.status IN ('creating', 'running')
        ORDER BY s.status = 'running' DESC, s.slots_used DESC, s.created_at, s.hostname
        """;

    private const string MembershipSql = """
        SELECT s.hostname, s.node_id, s.vmid, s.status, s.creator_tenant = m.tenant_id
        FROM shared_container_members m JOIN shared_containers s ON s.hostname = m.hostname
        WHERE m.tenant_id = @tenant
        """;

    // The slot is taken only if the member row is new and the container still has room: both in one statement.
    private const string JoinSql = """
        WITH joined AS (
            INSERT INTO shared_container_members (tenant_id, hostname)
            SELECT @tenant, hostname FROM shared_containers
            WHERE hostname = @hostname AND status IN ('creating', 'running') AND slots_used < slots_total
            ON CONFLICT (tenant_id) DO NOTHING
            RETURNING hostname
        )
        UPDATE shared_containers s SET slots_used = s.slots_used + 1 FROM joined j WHERE s.hostname = j.hostname
        RETURNING s.hostname
        """;

    private const string CreateSql = """
        INSERT INTO shared_containers (hostname, node_id, slots_total, slots_used, creator_tenant) VALUES (@hostname, @node, @slots, 1, @tenant);
        INSERT INTO shared_container_members (tenant_id, hostname) VALUES (@tenant, @hostname);
        """;

    // One shared placement at a time, cluster-wide; a resize takes the same turn, so no join slips between its check and
    // its update.
    private const string TurnSql = "SELECT pg_advisory_xact_lock(hashtext('sajet.shared-placement'))";

    // The live containers and what each already holds, locked until the resize commits.
    private const string LockLiveSql = """
        SELECT hostname, node_id, slots_used, slots_total FROM shared_containers
        WHERE status IN ('creating', 'running')
        ORDER BY hostname
        FOR UPDATE
        """;

    private const string ResizeSql = "UPDATE shared_containers SET slots_total = @slots WHERE status IN ('creating', 'running')";

    // Deleting the row frees the slot; a second leave deletes nothing and frees nothing.
    private const string LeaveSql = """
        WITH left_slot AS (DELETE FROM shared_container_members WHERE tenant_id = @tenant RETURNING hostname)
        UPDATE shared_containers s SET slots_used = s.slots_used - 1 FROM left_slot l WHERE s.hostname = l.hostname AND s.slots_used > 0
        RETURNING s.hostname
        """;

    /// <summary>Takes the shared-placement turn for the rest of <paramref name="tx"/>.</summary>
    public static async Task TakeTurnAsync(NpgsqlConnection conn, NpgsqlTransaction tx, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(TurnSql, conn, tx);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>
    /// Gives every live shared container <paramref name="slots"/> slots, all or none: when one already holds more, nothing
    /// changes. Returns the live containers as they were (locked until <paramref name="tx"/> ends) and whether it resized.
    /// </summary>
    public static async Task<(bool Resized, List<SharedContainerSlots> Before)> ResizeLiveAsync(NpgsqlConnection conn, NpgsqlTransaction tx, int slots, CancellationToken ct)
    {
        await TakeTurnAsync(conn, tx, ct);
        var before = new List<SharedContainerSlots>();
        await using (var cmd = new NpgsqlCommand(LockLiveSql, conn, tx))
        {
            await using var r = await cmd.ExecuteReaderAsync(ct);
            while (await r.ReadAsync(ct))
            {
                before.Add(new SharedContainerSlots(r.GetString(0), r.GetString(1), r.GetInt32(2), r.GetInt32(3)));
            }
        }

        if (before.Any(c => c.SlotsUsed > slots))
        {
            return (false, before);
        }

        await using (var cmd = new NpgsqlCommand(ResizeSql, conn, tx))
        {
            cmd.Parameters.AddWithValue("slots", slots);
            await cmd.ExecuteNonQueryAsync(ct);
        }

        return (true, before);
    }

    /// <summary>Every live shared container, in join order.</summary>
    public static async Task<List<SharedContainer>> ReadLiveAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(LiveSql, conn, tx);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        var list = new List<SharedContainer>();
        while (await r.ReadAsync(ct))
        {
            list.Add(new SharedContainer(r.GetString(0), r.GetString(1), r.IsDBNull(2) ? null : r.GetInt32(2), r.GetString(3),
                r.GetInt32(4), r.GetInt32(5), r.GetString(6), r.GetBoolean(7)));
        }

        return list;
    }

    /// <summary>The pure decision: the first joinable container, or why a new one is needed.</summary>
    public static SharedJoinDecision Decide(IReadOnlyList<SharedContainer> live)
    {
        if (live.FirstOrDefault(c => c.Joinable) is { } chosen)
        {
            var waiting = chosen.Status == "running" ? "" : ", que aún se está creando";
            return new SharedJoinDecision(chosen, $"Cabe en el contenedor compartido {chosen.Hostname} del nodo {chosen.NodeId} ({chosen.Slots}{waiting}).");
        }

        if (live.Count == 0)
        {
            return new SharedJoinDecision(null, "No hay contenedores compartidos: hace falta uno nuevo.");
        }

        var avoided = live.Where(c => c.HasFreeSlot).Select(c => $"{c.Hostname} en {c.NodeId}: {NodeState(c)}").ToList();
        return avoided.Count == 0
            ? new SharedJoinDecision(null, "Todos los contenedores compartidos están llenos: hace falta uno nuevo.")
            : new SharedJoinDecision(null, $"Ningún contenedor compartido admite a nadie más (llenos, o con plazas en nodos no disponibles: {string.Join("; ", avoided)}): hace falta uno nuevo.");
    }

    private static string NodeState(SharedContainer c) => c.NodeMaintenance
        ? "en mantenimiento"
        : c.NodeHealth == "offline" ? "nodo fuera de línea" : "estado del nodo desconocido";

    public static async Task<SharedJoinDecision> DecideAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, CancellationToken ct) =>
        Decide(await ReadLiveAsync(conn, tx, ct));

    /// <summary>
    /// The tenant's slot in a live container, if it holds one: a placement re-run finds it instead of taking another.
    /// A slot in a failed or deleted container is given up here, so the tenant can take a new one.
    /// </summary>
    public static async Task<SharedMembership?> CurrentAsync(NpgsqlConnection conn, NpgsqlTransaction tx, string tenantId, CancellationToken ct)
    {
        SharedMembership? found = null;
        await using (var cmd = new NpgsqlCommand(MembershipSql, conn, tx))
        {
            cmd.Parameters.AddWithValue("tenant", tenantId);
            await using var r = await cmd.ExecuteReaderAsync(ct);
            if (await r.ReadAsync(ct))
            {
                found = new SharedMembership(r.GetString(0), r.GetString(1), r.IsDBNull(2) ? null : r.GetInt32(2), r.GetString(3), r.GetBoolean(4));
            }
        }

        if (found is { Status: "creating" or "running" })
        {
            return found;
        }

        if (found is not null)
        {
            await LeaveAsync(conn, tx, tenantId, ct);
        }

        return null;
    }

    /// <summary>
    /// Takes a slot in the container the decision chose (call under the shared-placement turn, with no live slot held).
    /// False when the container filled or went since the decision.
    /// </summary>
    public static async Task<bool> JoinAsync(NpgsqlConnection conn, NpgsqlTransaction tx, string tenantId, string hostname, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(JoinSql, conn, tx);
        cmd.Parameters.AddWithValue("tenant", tenantId);
        cmd.Parameters.AddWithValue("hostname", hostname);
        return await cmd.ExecuteScalarAsync(ct) is string;
    }

    /// <summary>Records a new shared container ('creating') with its creator holding the first slot.</summary>
    public static async Task CreateAsync(NpgsqlConnection conn, NpgsqlTransaction tx, string hostname, string nodeId, int slots, string creatorTenant, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(CreateSql, conn, tx);
        cmd.Parameters.AddWithValue("hostname", hostname);
        cmd.Parameters.AddWithValue("node", nodeId);
        cmd.Parameters.AddWithValue("slots", slots);
        cmd.Parameters.AddWithValue("tenant", creatorTenant);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Frees the tenant's slot, once: returns the container it was in, or null when it held none.</summary>
    public static async Task<string?> LeaveAsync(NpgsqlConnection conn, NpgsqlTransaction tx, string tenantId, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(LeaveSql, conn, tx);
        cmd.Parameters.AddWithValue("tenant", tenantId);
        return await cmd.ExecuteScalarAsync(ct) as string;
    }
}
