using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Npgsql;
using Sajet.Grains.Interfaces;
using Sajet.WebFront.Audit;
using Sajet.WebFront.Auth;
using Sajet.WebFront.Nodes;
using Sajet.WebFront.Tenants;

namespace Sajet.WebFront.Pages.Admin.Tenants;

/// <summary>One tenant: its facts, its whole history, and the operator's actions its state allows.</summary>
public sealed class DetailModel(NpgsqlDataSource db, TenantActionSender sender) : PageModel
{
    public TenantView Tenant { get; private set; } = null!;

    public IReadOnlyList<NodeView> Nodes { get; private set; } = [];

    /// <summary>The customer's sign-in accounts, whose sessions the operator can end.</summary>
    public IReadOnlyList<long> CustomerUserIds { get; private set; } = [];

    public bool Allows(string action) => Tenant.Actions.Contains(action);

    public async Task<IActionResult> OnGetAsync(string id, CancellationToken ct)
    {
        if (await TenantsApi.LoadAsync(db, id, ct) is not { } tenant)
        {
            return NotFound();
        }

        Tenant = tenant;
        await using (var conn = await db.OpenConnectionAsync(ct))
        {
            CustomerUserIds = await Users.TenantUserIdsAsync(conn, id, ct);
        }

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

    /// <summary>Signs the customer out everywhere at once, e.g. after they report a lost device or a leaked password.</summary>
    public async Task<IActionResult> OnPostEndSessionsAsync(string id, [FromServices] Sessions sessions, [FromServices] AuditLog audit, CancellationToken ct)
    {
        IReadOnlyList<long> users;
        await using (var conn = await db.OpenConnectionAsync(ct))
        {
            users = await Users.TenantUserIdsAsync(conn, id, ct);
        }

        var ended = 0;
        foreach (var user in users)
        {
            ended += await UsersApi.EndAllAsync(user, HttpContext, db, sessions, audit, ct) ?? 0;
        }

        TempData[TenantActionForms.FlashKey] = users.Count == 0
            ? "Este cliente no tiene cuenta de acceso."
            : $"Sesiones cerradas: {ended}. El cliente tendrá que volver a iniciar sesión.";
        return Redirect(Back(id));
    }

    private static string Back(string id) => $"/admin/tenants/{Uri.EscapeDataString(id)}";
}
