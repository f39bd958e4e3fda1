using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Npgsql;
using Sajet.Grains.Interfaces.Outbox;
using Sajet.Persistence;
using Sajet.WebFront.Audit;
using Sajet.WebFront.Nodes;
using Sajet.WebFront.Tenants;

namespace Sajet.WebFront.Pages.Admin.Tenants;

/// <summary>One tenant: its facts, its whole history, and the operator's actions on it.</summary>
public sealed class DetailModel(NpgsqlDataSource db, GrainOutbox grains, AuditLog audit) : PageModel
{
    public TenantView Tenant { get; private set; } = null!;

    public IReadOnlyList<NodeView> Nodes { get; private set; } = [];

    public async Task<IActionResult> OnGetAsync(string id, CancellationToken ct)
    {
        if (await TenantsApi.LoadAsync(db, id, ct) is not { } tenant)
        {
            return NotFound();
        }

        Tenant = tenant;
        Nodes = (await NodesApi.ListAsync(db, ct)).Value ?? [];
        return Page();
    }

    public async Task<IActionResult> OnPostResolveAsync(string id, string? action, string? nodeId, bool confirm, CancellationToken ct)
    {
        await TenantActionForms.ResolveAsync(HttpContext, TempData, id, action, nodeId, confirm, db, grains, audit, ct);
        return Back(id);
    }

    public async Task<IActionResult> OnPostSuspendAsync(string id, CancellationToken ct)
    {
        await TenantActionForms.SuspendAsync(HttpContext, TempData, id, db, grains, audit, ct);
        return Back(id);
    }

    public async Task<IActionResult> OnPostResumeAsync(string id, CancellationToken ct)
    {
        await TenantActionForms.ResumeAsync(HttpContext, TempData, id, db, grains, audit, ct);
        return Back(id);
    }

    private RedirectResult Back(string id) => Redirect($"/admin/tenants/{Uri.EscapeDataString(id)}");
}
