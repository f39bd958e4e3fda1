using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Npgsql;
using Sajet.Grains.Interfaces.Outbox;
using Sajet.Persistence;
using Sajet.Persistence.Secrets;
using Sajet.WebFront.Audit;
using Sajet.WebFront.Nodes;

namespace Sajet.WebFront.Pages.Admin.Nodes;

/// <summary>
/// The node registry as a page: health, use against capacity and reservations, open alerts; registration and
/// maintenance go through the API's own handlers, so the form gets the same validation and Proxmox check.
/// </summary>
public sealed class IndexModel(NpgsqlDataSource db, GrainOutbox grains, SecretProtector secrets, NodeProbe probe, ILoggerFactory loggers, AuditLog audit) : PageModel
{
    private const string OpenAlertCountsSql = "SELECT node_id, count(*)::int FROM node_alerts WHERE cleared_at IS NULL GROUP BY node_id";

    /// <summary>The register form. The secret is never written back into the page, even after a refused post.</summary>
    public sealed class RegisterInput
    {
        public string? Id { get; set; }
        public string? ApiUrl { get; set; }
        public string? TokenId { get; set; }
        public string? TokenSecret { get; set; }
        public string? Fingerprint { get; set; }
        public bool Insecure { get; set; }
        public string? PveNode { get; set; }
        public int? MaxContainers { get; set; }
        public double? CpuOvercommit { get; set; }
        public string? Storage { get; set; }
        public string? Template { get; set; }
    }

    [BindProperty]
    public RegisterInput Register { get; set; } = new();

    public IReadOnlyList<NodeView> Nodes { get; private set; } = [];

    public IReadOnlyDictionary<string, int> OpenAlerts { get; private set; } = new Dictionary<string, int>();

    public IDictionary<string, string[]> FieldErrors { get; private set; } = new Dictionary<string, string[]>();

    public string? RegisterError { get; private set; }

    public string? FieldError(string field) => FieldErrors.TryGetValue(field, out var messages) ? string.Join(" ", messages) : null;

    public async Task OnGetAsync(CancellationToken ct) => await LoadAsync(ct);

    public async Task<IActionResult> OnPostRegisterAsync(CancellationToken ct)
    {
        var r = Register;
        var body = new NodeRegistrationRequest(Blank(r.Id), Blank(r.ApiUrl), Blank(r.TokenId), Blank(r.TokenSecret), Blank(r.Fingerprint), r.Insecure,
            Blank(r.PveNode), r.MaxContainers, r.CpuOvercommit, Blank(r.Storage), Blank(r.Template));
        var result = (await NodesApi.RegisterAsync(body, db, grains, secrets, probe, loggers, ct)).Result;
        if (result is Created<RegisteredNode> created)
        {
            await audit.WriteAsync(HttpContext, "node.register", new { node = created.Value!.Node.Id });
            var warnings = created.Value.Warnings.Count > 0 ? " Avisos: " + string.Join(" ", created.Value.Warnings) : "";
            TempData[TenantActionForms.FlashKey] = $"Nodo {created.Value.Node.Id} registrado.{warnings}";
            return RedirectToPage();
        }

        FieldErrors = AdminFormat.FieldErrorsOf(result);
        RegisterError = FieldErrors.Count > 0 ? "Revisa los campos marcados." : AdminFormat.ErrorOf(result);
        Register.TokenSecret = null;
        await LoadAsync(ct);
        return Page();
    }

    public async Task<IActionResult> OnPostMaintenanceAsync(string id, bool maintenance, CancellationToken ct)
    {
        var patch = new NodePatchRequest(null, null, maintenance, null, null, null, null, null, null, null);
        var result = (await NodesApi.PatchAsync(id, patch, db, grains, secrets, probe, loggers, ct)).Result;
        if (AdminFormat.ErrorOf(result) is { } error)
        {
            TempData[TenantActionForms.FlashErrorKey] = error;
        }
        else
        {
            await audit.WriteAsync(HttpContext, "node.maintenance", new { node = id, maintenance });
            TempData[TenantActionForms.FlashKey] = maintenance ? $"Nodo {id} en mantenimiento: no recibirá clientes nuevos." : $"Nodo {id} fuera de mantenimiento.";
        }

        return RedirectToPage();
    }

    private async Task LoadAsync(CancellationToken ct)
    {
        Nodes = (await NodesApi.ListAsync(db, ct)).Value ?? [];
        await using var conn = await db.OpenConnectionAsync(ct);
        OpenAlerts = (await conn.QueryAsync<(string Node, int Count)>(new CommandDefinition(OpenAlertCountsSql, cancellationToken: ct)))
            .ToDictionary(a => a.Node, a => a.Count);
    }

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
