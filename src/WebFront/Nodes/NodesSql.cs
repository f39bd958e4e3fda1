using Npgsql;

namespace Sajet.WebFront.Nodes;

/// <summary>The SQL the nodes API runs; the node grain owns the observed columns, the API the registry ones.</summary>
internal static class NodesSql
{
    public const string ViewColumns = """
        id, pve_node, api_url, token_id, fingerprint, insecure_tls, pve_version, health, last_error, maintenance,
        max_containers, cpu_overcommit::float8, storage, template, storage_present, template_present, metrics_at,
        cores, memory_bytes, disk_bytes, cpu_used, memory_used, disk_used,
        reserved_cores, reserved_memory_mb, reserved_disk_gb, reserved_containers, created_at, updated_at
        """;

    public const string List = $"SELECT {ViewColumns} FROM nodes ORDER BY id";

    public const string One = $"SELECT {ViewColumns} FROM nodes WHERE id = @id";

    public const string Exists = "SELECT EXISTS (SELECT 1 FROM nodes WHERE id = @id)";

    public const string Insert = """
        INSERT INTO nodes (id, pve_node, api_url, token_id, token_secret_enc, fingerprint, insecure_tls, pve_version,
                           max_containers, cpu_overcommit, storage, template, storage_present, template_present)
        VALUES (@id, @pve_node, @api_url, @token_id, @secret, @fingerprint, @insecure, @pve_version,
                @max_containers, @cpu_overcommit, @storage, @template, @storage_present, @template_present)
        """;

    public const string LockForChange = """
        SELECT pve_node, api_url, token_id, token_secret_enc, fingerprint, insecure_tls, storage, template
        FROM nodes WHERE id = @id FOR UPDATE
        """;

    public const string Update = """
        UPDATE nodes SET max_containers = @max_containers, cpu_overcommit = @cpu_overcommit, maintenance = @maintenance,
            storage = @storage, template = @template, api_url = @api_url, token_id = @token_id, token_secret_enc = @secret,
            fingerprint = @fingerprint, insecure_tls = @insecure, updated_at = now()
        WHERE id = @id
        """;

    // What keeps a node from being removed: live containers, unreleased reservations, and tenants the read model places
    // on it (directly or through a shared container there) that no live container row accounts for. A failed tenant
    // keeps its node_id after its compensation removed the container, so only its container (if any) counts.
    public const string Occupants = """
        SELECT vmid, hostname, kind, tenant_id, reservation_key FROM containers WHERE node_id = @id AND status <> 'deleted'
        UNION ALL
        SELECT NULL, NULL, NULL, NULL, r.key FROM reservations r
        WHERE r.node_id = @id AND r.released_at IS NULL
          AND NOT EXISTS (SELECT 1 FROM containers c WHERE c.reservation_key = r.key AND c.node_id = @id AND c.status <> 'deleted')
        UNION ALL
        SELECT t.vmid, m.hostname, NULL, t.id, NULL FROM tenants t
        LEFT JOIN shared_container_members m ON m.tenant_id = t.id
        LEFT JOIN shared_containers s ON s.hostname = m.hostname
        WHERE t.status NOT IN ('deleted', 'failed') AND (t.node_id = @id OR s.node_id = @id)
          AND NOT EXISTS (SELECT 1 FROM containers c WHERE c.tenant_id = t.id AND c.node_id = @id AND c.status <> 'deleted')
        ORDER BY 1 NULLS LAST, 5, 4
        """;

    // Only history is left when nothing lives on the node: deleted containers, released reservations, drift.
    public const string Delete = """
        DELETE FROM container_drift WHERE node_id = @id;
        DELETE FROM containers WHERE node_id = @id;
        DELETE FROM reservations WHERE node_id = @id;
        DELETE FROM nodes WHERE id = @id;
        """;

    public const string Samples = """
        SELECT at, resolution, cpu, memory_used, memory_total, disk_used, disk_total, containers
        FROM node_samples WHERE node_id = @id AND at >= @from AND at <= @to ORDER BY at, resolution
        """;

    public const string Alerts = """
        SELECT id, kind, message, value, raised_at, cleared_at FROM node_alerts
        WHERE node_id = @id AND raised_at <= @to AND (cleared_at IS NULL OR cleared_at >= @from)
        ORDER BY raised_at, id
        """;

    public const string Drift = """
        SELECT id, vmid, kind, detail, found_at, resolved_at FROM container_drift
        WHERE node_id = @id AND found_at <= @to AND (resolved_at IS NULL OR resolved_at >= @from)
        ORDER BY found_at, id
        """;

    public static NodeView ReadView(NpgsqlDataReader r) => new(
        r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), r.IsDBNull(4) ? null : r.GetString(4), r.GetBoolean(5),
        r.IsDBNull(6) ? null : r.GetString(6), r.GetString(7), r.IsDBNull(8) ? null : r.GetString(8), r.GetBoolean(9),
        r.GetInt32(10), r.GetDouble(11), r.GetString(12), r.GetString(13), r.GetBoolean(14), r.GetBoolean(15),
        r.IsDBNull(16) ? null : r.GetFieldValue<DateTimeOffset>(16),
        new NodeCapacity(r.GetInt32(17), r.GetInt64(18), r.GetInt64(19)),
        new NodeUse(r.GetDouble(20), r.GetInt64(21), r.GetInt64(22)),
        new NodeReserved(r.GetInt32(23), r.GetInt64(24), r.GetInt64(25), r.GetInt32(26)),
        r.GetFieldValue<DateTimeOffset>(27), r.GetFieldValue<DateTimeOffset>(28));

    public static async Task<NodeView?> ReadOneAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, string id, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(One, conn, tx);
        cmd.Parameters.AddWithValue("id", id);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        return await r.ReadAsync(ct) ? ReadView(r) : null;
    }
}
