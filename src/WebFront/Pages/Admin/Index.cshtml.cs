using Dapper;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Options;
using Npgsql;
using Sajet.Cluster;
using Sajet.WebFront.Billing;
using Sajet.WebFront.Health;
using Sajet.WebFront.Nodes;

namespace Sajet.WebFront.Pages.Admin;

/// <summary>The operators' dashboard: tenants by state, MRR, node utilisation, open alerts and live silos.</summary>
public sealed class IndexModel(NpgsqlDataSource db, IOptions<HealthOptions> health, IOptions<SajetClusterOptions> cluster) : PageModel
{
    private const string CountsSql = "SELECT status, count(*)::int FROM tenants GROUP BY status";

    private const string OpenAlertsSql = """
        SELECT node_id AS NodeId, kind, message, raised_at AS RaisedAt FROM node_alerts WHERE cleared_at IS NULL ORDER BY raised_at DESC LIMIT 50
        """;

    public sealed record OpenAlert(string NodeId, string Kind, string Message, DateTime RaisedAt);

    public IReadOnlyList<HealthApi.OrleansSiloHealth> OrleansSilos { get; private set; } = [];

    public IReadOnlyDictionary<string, int> Counts { get; private set; } = new Dictionary<string, int>();

    public long MrrCents { get; private set; }

    public IReadOnlyList<NodeView> Nodes { get; private set; } = [];

    public IReadOnlyList<OpenAlert> Alerts { get; private set; } = [];

    public async Task OnGetAsync(CancellationToken ct)
    {
        OrleansSilos = await HealthApi.OrleansSilosAsync(db, health.Value, cluster.Value.ClusterId, ct);
        Nodes = (await NodesApi.ListAsync(db, ct)).Value ?? [];
        await using var conn = await db.OpenConnectionAsync(ct);
        Counts = (await conn.QueryAsync<(string Status, int Count)>(new CommandDefinition(CountsSql, cancellationToken: ct)))
            .ToDictionary(r => r.Status, r => r.Count);
        MrrCents = await BillingQueries.MrrCentsAsync(conn, ct);
        Alerts = [.. await conn.QueryAsync<OpenAlert>(new CommandDefinition(OpenAlertsSql, cancellationToken: ct))];
    }
}
