using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Npgsql;
using Sajet.Grains.Interfaces;
using Sajet.WebFront.Nodes;
using Sajet.WebFront.Tenants;

namespace Sajet.WebFront.Pages.Admin.Tenants;

/// <summary>One tenant: its facts, its whole history, and the operator's actions its state allows.</summary>
public sealed class DetailModel(NpgsqlDataSource db, TenantActionSender sender) : PageModel
{
    public TenantView Tenant { get; private set; } = null!;

    public IReadOnlyList<NodeView> Nodes { get; private set; } = [];

    public bool Allows(string action) => Tenant.Actions.Contains(action);

    public async Task<IActionResult> OnGetAsync(string id, CancellationToken ct)
    {
        if (await TenantsApi.LoadAsync(db, id, ct) is not { } tenant)
        {
            return NotFound();
        }

        Tenant = tenant;
        if (Allows(ResolveActions.PlaceOnNode))
        {
            Nodes = (await NodesApi.ListAsync(db, ct)).Value ?? [];
        }

        return Page();
    }

    public Task<IActionResult> OnPostResolveAsync(string id, string? action, string? nodeId, bool confirm) =>
        TenantActionForms.SendAsync(this, sender, new TenantActionRequest(id, action, nodeId), confirm, Back(id));

    public Task<IActionResult> OnPostSuspendAsync(string id, bool confirm) =>
        TenantActionForms.SendAsync(this, sender, new TenantActionRequest(id, TenantActions.Suspend, null), confirm, Back(id));

    public Task<IActionResult> OnPostResumeAsync(string id) =>
        TenantActionForms.SendAsync(this, sender, new TenantActionRequest(id, TenantActions.Resume, null), confirmed: true, Back(id));

    private static string Back(string id) => $"/admin/tenants/{Uri.EscapeDataString(id)}";
}
