using Dapper;
using Npgsql;

namespace Sajet.WebFront.Nodes;

/// <summary>A container on a node as the read models know it; Vmid is null for a shared container still being made.</summary>
public sealed record NodeContainer(int? Vmid, string Hostname, string Kind, string Status, string? ObservedStatus, int SlotsUsed, int SlotsTotal);

/// <summary>A tenant on a node, and the container that holds it when one is known.</summary>
public sealed record NodeTenant(string Id, string Subdomain, string Status, string? Hostname);

/// <summary>What lives on a node, read from the containers, tenants and shared-slot read models (sql/0003, 0004, 0007).</summary>
public sealed record NodeContents(IReadOnlyList<NodeContainer> Containers, IReadOnlyList<NodeTenant> Tenants)
{
    // Shared containers are in the containers table once created; until then only shared_containers has them.
    private const string ContainersSql = """
        SELECT c.vmid, c.hostname, c.kind, c.status, c.observed_status AS ObservedStatus,
               coalesce(s.slots_used, c.slots_used) AS SlotsUsed, coalesce(s.slots_total, c.slots_total) AS SlotsTotal
        FROM containers c LEFT JOIN shared_containers s ON s.hostname = c.hostname
        WHERE c.node_id = @id AND c.status <> 'deleted'
        UNION ALL
        SELECT s.vmid, s.hostname, 'shared', s.status, NULL, s.slots_used, s.slots_total
        FROM shared_containers s
        WHERE s.node_id = @id AND s.status IN ('creating', 'running')
          AND NOT EXISTS (SELECT 1 FROM containers c WHERE c.hostname = s.hostname AND c.status <> 'deleted')
        ORDER BY 1 NULLS LAST, 2
        """;

    // A dedicated tenant is found by its container's tenant_id or its own node_id; a shared one by its membership.
    private const string TenantsSql = """
        SELECT t.id, t.subdomain, t.status, coalesce(m.hostname, c.hostname) AS Hostname
        FROM tenants t
        LEFT JOIN shared_container_members m ON m.tenant_id = t.id
        LEFT JOIN shared_containers s ON s.hostname = m.hostname
        LEFT JOIN containers c ON c.tenant_id = t.id AND c.kind = 'dedicated' AND c.status <> 'deleted'
        WHERE t.status <> 'deleted' AND (t.node_id = @id OR s.node_id = @id OR c.node_id = @id)
        ORDER BY t.subdomain, t.id
        """;

    public static async Task<NodeContents> ReadAsync(NpgsqlDataSource db, string id, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        var containers = await conn.QueryAsync<NodeContainer>(new CommandDefinition(ContainersSql, new { id }, cancellationToken: ct));
        var tenants = await conn.QueryAsync<NodeTenant>(new CommandDefinition(TenantsSql, new { id }, cancellationToken: ct));
        return new NodeContents([.. containers], [.. tenants.DistinctBy(t => t.Id)]);
    }

    public IEnumerable<NodeTenant> In(string hostname) => Tenants.Where(t => t.Hostname == hostname);

    /// <summary>Tenants placed on the node whose container is not (or no longer) in the read model.</summary>
    public IEnumerable<NodeTenant> WithoutContainer => Tenants.Where(t => t.Hostname is null || Containers.All(c => c.Hostname != t.Hostname));
}
