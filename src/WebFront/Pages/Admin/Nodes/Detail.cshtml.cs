using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Npgsql;
using Sajet.Grains.Interfaces.Outbox;
using Sajet.Persistence.Secrets;
using Sajet.WebFront.Audit;
using Sajet.WebFront.Nodes;

namespace Sajet.WebFront.Pages.Admin.Nodes;

/// <summary>
/// One node: the last 24 hours of CPU, RAM and disk as charts, its alerts, the drift found on it, and what it hosts.
/// Editing and removal go through the API's own handlers (PATCH and DELETE /api/nodes/{id}), so the form validates,
/// probes the node and tells the node grain exactly as the API does.
/// </summary>
public sealed class DetailModel(NpgsqlDataSource db, GrainOutbox grains, SecretProtector secrets, NodeProbe probe, ILoggerFactory loggers, AuditLog audit) : PageModel
{
    /// <summary>The edit form, as text so that a bad number gets a Spanish message, not a binder's silence. The secret is never shown back.</summary>
    public sealed class EditInput
    {
        public string? ApiUrl { get; set; }
        public string? TokenId { get; set; }
        public string? TokenSecret { get; set; }
        public string? Fingerprint { get; set; }
        public bool Insecure { get; set; }
        public string? MaxContainers { get; set; }
        public string? CpuOvercommit { get; set; }
        public string? Storage { get; set; }
        public string? Template { get; set; }
    }

    [BindProperty]
    public EditInput Edit { get; set; } = new();

    public NodeMetrics Metrics { get; private set; } = null!;

    public NodeContents Contents { get; private set; } = new([], []);

    /// <summary>The chart series, as JSON for a non-executed data island (the CSP forbids inline script).</summary>
    public string ChartJson { get; private set; } = "{}";

    public IDictionary<string, string[]> FieldErrors { get; private set; } = new Dictionary<string, string[]>();

    public string? EditError { get; private set; }

    public string? DeleteError { get; private set; }

    /// <summary>True when the edit form shows what was posted (after a refusal) rather than what is stored.</summary>
    public bool Posted { get; private set; }

    public string? FieldError(string field) => FieldErrors.TryGetValue(field, out var messages) ? string.Join(" ", messages) : null;

    public async Task<IActionResult> OnGetAsync(string id, CancellationToken ct) => await LoadAsync(id, ct) ? Page() : NotFound();

    public async Task<IActionResult> OnPostEditAsync(string id, CancellationToken ct)
    {
        if (!await LoadAsync(id, ct))
        {
            return NotFound();
        }

        var (patch, changed, errors) = PatchOf(Metrics.Latest, Edit);
        Edit.TokenSecret = null;
        Posted = true;
        if (errors.Count > 0)
        {
            FieldErrors = errors;
            EditError = "No se ha cambiado nada: revisa los campos marcados.";
            return Page();
        }

        if (changed.Count == 0)
        {
            TempData[TenantActionForms.FlashKey] = "No había cambios que guardar.";
            return RedirectToPage(new { id });
        }

        var result = (await NodesApi.PatchAsync(id, patch, db, grains, secrets, probe, loggers, ct)).Result;
        if (result is not Ok<NodeView>)
        {
            FieldErrors = AdminFormat.FieldErrorsOf(result);
            EditError = FieldErrors.Count > 0 ? "No se ha cambiado nada: revisa los campos marcados." : "No se ha cambiado nada. " + AdminFormat.ErrorOf(result);
            return Page();
        }

        // Which fields changed, never their secret value.
        await audit.WriteAsync(HttpContext, "node.change", new { node = id, changed });
        TempData[TenantActionForms.FlashKey] = patch.TokenSecret is not null
            ? $"Nodo {id} guardado. El token nuevo se ha comprobado contra el nodo y se guarda cifrado."
            : $"Nodo {id} guardado.";
        return RedirectToPage(new { id });
    }

    public async Task<IActionResult> OnPostDeleteAsync(string id, bool confirm, CancellationToken ct)
    {
        if (!await LoadAsync(id, ct))
        {
            return NotFound();
        }

        if (!confirm)
        {
            DeleteError = "Marca la casilla para confirmar que quieres eliminar el nodo.";
            return Page();
        }

        var result = (await NodesApi.DeleteAsync(id, db, grains, loggers, ct)).Result;
        if (result is not NoContent)
        {
            DeleteError = AdminFormat.ErrorOf(result);
            return Page();
        }

        await audit.WriteAsync(HttpContext, "node.delete", new { node = id }, AuditSeverity.Warning);
        TempData[TenantActionForms.FlashKey] = $"Nodo {id} eliminado del registro. Sajet ya no lo sondea ni coloca clientes en él.";
        return RedirectToPage("/Admin/Nodes/Index");
    }

    /// <summary>
    /// Only what differs from the stored node goes into the PATCH: an unchanged address or token is not probed again,
    /// and a token id is sent only with a new secret or a changed id (the API then asks for the secret).
    /// </summary>
    private static (NodePatchRequest Patch, List<string> Changed, Dictionary<string, string[]> Errors) PatchOf(NodeView n, EditInput e)
    {
        var errors = new Dictionary<string, string[]>();
        var changed = new List<string>();
        string? Diff(string field, string? posted, string current)
        {
            if (posted is null || posted == current)
            {
                return null;
            }

            changed.Add(field);
            return posted;
        }

        T? DiffValue<T>(string field, T? posted, T current)
            where T : struct
        {
            if (posted is not { } value || EqualityComparer<T>.Default.Equals(value, current))
            {
                return null;
            }

            changed.Add(field);
            return value;
        }

        var secret = Blank(e.TokenSecret);
        var tokenId = Blank(e.TokenId);
        var apiUrl = Blank(e.ApiUrl)?.TrimEnd('/');
        if (e.ApiUrl is not null && apiUrl is null)
        {
            errors["apiUrl"] = ["Indique la URL de la API del nodo, p. ej. https://pve1.ejemplo.com:8006."];
        }

        if (e.TokenId is not null && tokenId is null)
        {
            errors["tokenId"] = ["El id del token debe tener la forma USUARIO@REINO!TOKEN, p. ej. sajet@pve!sajet."];
        }

        int? maxContainers = null;
        if (Blank(e.MaxContainers) is { } mc)
        {
            if (int.TryParse(mc, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed))
            {
                maxContainers = parsed;
            }
            else
            {
                errors["maxContainers"] = ["El máximo de contenedores debe ser un número entero entre 1 y 10000."];
            }
        }

        double? overcommit = null;
        if (Blank(e.CpuOvercommit) is { } oc)
        {
            if (double.TryParse(oc.Replace(',', '.'), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var parsed) && double.IsFinite(parsed))
            {
                overcommit = parsed;
            }
            else
            {
                errors["cpuOvercommit"] = ["La sobreasignación de CPU debe ser un número entre 1 y 100 (p. ej. 2 o 1,5)."];
            }
        }

        // A blank fingerprint field clears the pinned one; the API takes "" for that.
        var fingerprint = (Blank(e.Fingerprint) ?? "") == (n.Fingerprint ?? "") ? null : Blank(e.Fingerprint) ?? "";
        if (fingerprint is not null)
        {
            changed.Add("fingerprint");
        }

        var patch = new NodePatchRequest(
            DiffValue("maxContainers", maxContainers, n.MaxContainers),
            DiffValue("cpuOvercommit", overcommit, n.CpuOvercommit),
            null,
            Diff("storage", Blank(e.Storage), n.Storage),
            Diff("template", Blank(e.Template), n.Template),
            Diff("apiUrl", apiUrl, n.ApiUrl),
            secret is not null ? tokenId ?? n.TokenId : Diff("tokenId", tokenId, n.TokenId),
            secret,
            fingerprint,
            DiffValue("insecure", (bool?)e.Insecure, n.Insecure));
        if (secret is not null)
        {
            changed.Add("tokenSecret");
        }

        return (patch, changed, errors);
    }

    private async Task<bool> LoadAsync(string id, CancellationToken ct)
    {
        if ((await NodesApi.MetricsAsync(id, null, null, db, ct)).Result is not Ok<NodeMetrics> { Value: { } metrics })
        {
            return false;
        }

        Metrics = metrics;
        Contents = await NodeContents.ReadAsync(db, id, ct);
        // Percentages, so one axis reads the same for every node whatever its size.
        ChartJson = JsonSerializer.Serialize(new
        {
            at = metrics.Samples.Select(s => s.At),
            cpu = metrics.Samples.Select(s => Math.Round(s.Cpu * 100, 1)),
            memory = metrics.Samples.Select(s => s.MemoryTotal > 0 ? Math.Round(100.0 * s.MemoryUsed / s.MemoryTotal, 1) : 0),
            disk = metrics.Samples.Select(s => s.DiskTotal > 0 ? Math.Round(100.0 * s.DiskUsed / s.DiskTotal, 1) : 0),
        });
        return true;
    }

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
