using Dapper;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Npgsql;
using Sajet.Cluster;
using Sajet.Grains.Interfaces;
using Sajet.Persistence;
using Sajet.WebFront.Nodes;
using Sajet.WebFront.Onboarding;
using Sajet.WebFront.Tenants;

namespace Sajet.WebFront.Pages.Admin;

/// <summary>
/// The capacity wizard: does a plan fit now, where, and why not on each node (the API's check-capacity); and the
/// waiting queue, oldest first, with the operator's resolutions for each tenant.
/// </summary>
public sealed class ProvisionModel(NpgsqlDataSource db, IGrainFactory cluster, ClusterConnection orleans, TenantActionSender sender) : PageModel
{
    // Why each tenant is waiting: the reason of the event that last moved it into the queue.
    private const string WaitReasonsSql = """
        SELECT DISTINCT ON (grain_key) grain_key AS TenantId, reason
        FROM grain_events
        WHERE grain_type = 'tenant' AND to_state = @waiting AND grain_key = ANY(@ids)
        ORDER BY grain_key, id DESC
        """;

    public sealed record WaitingTenant(TenantListItem Tenant, TimeSpan Waited, string? Reason);

    [BindProperty(SupportsGet = true)]
    public string? Plan { get; set; }

    public IReadOnlyList<Plan> Plans { get; private set; } = [];

    public CapacityCheck? Check { get; private set; }

    public string? CheckError { get; private set; }

    public IReadOnlyList<WaitingTenant> Queue { get; private set; } = [];

    public IReadOnlyList<NodeView> Nodes { get; private set; } = [];

    public async Task OnGetAsync(CancellationToken ct)
    {
        Plans = await Onboarding.Plans.ActiveAsync(db, ct);
        Nodes = (await NodesApi.ListAsync(db, ct)).Value ?? [];
        if (!string.IsNullOrWhiteSpace(Plan))
        {
            var result = (await NodesApi.CheckCapacityAsync(Plan, null, null, null, db, cluster, orleans, ct)).Result;
            Check = (result as Microsoft.AspNetCore.Http.HttpResults.Ok<CapacityCheck>)?.Value;
            CheckError = AdminFormat.ErrorOf(result);
        }

        var waiting = await TenantsApi.ListAsync(db, TenantStatus.WaitingForCapacity, null, ct);
        await using var conn = await db.OpenConnectionAsync(ct);
        var reasons = (await conn.QueryAsync<(string TenantId, string Reason)>(new CommandDefinition(WaitReasonsSql,
            new { waiting = TenantStatus.WaitingForCapacity, ids = waiting.Select(t => t.Id).ToArray() }, cancellationToken: ct)))
            .ToDictionary(r => r.TenantId, r => r.Reason);
        var now = DateTime.UtcNow;
        Queue = [.. waiting
            .OrderBy(t => t.WaitingSince ?? t.CreatedAt)
            .Select(t => new WaitingTenant(t, now - (t.WaitingSince ?? t.CreatedAt), reasons.GetValueOrDefault(t.Id)))];
    }

    public Task<IActionResult> OnPostResolveAsync(string tenantId, string? action, string? nodeId, bool confirm) =>
        TenantActionForms.SendAsync(this, sender, new TenantActionRequest(tenantId, action, nodeId), confirm,
            Url.Page("/Admin/Provision", new { plan = Plan }) ?? "/admin/provision");
}
