using Microsoft.AspNetCore.Mvc.ViewFeatures;
using Npgsql;
using Sajet.Grains.Interfaces;
using Sajet.Grains.Interfaces.Outbox;
using Sajet.Persistence;
using Sajet.WebFront.Audit;
using Sajet.WebFront.Tenants;

namespace Sajet.WebFront.Pages.Admin;

/// <summary>
/// The admin pages' tenant actions. They go through the API's own handlers (same validation, grain message and
/// audit row) and leave a Spanish flash message for the page the operator is sent back to.
/// </summary>
public static class TenantActionForms
{
    public const string FlashKey = "Flash";
    public const string FlashErrorKey = "FlashError";

    public static async Task ResolveAsync(HttpContext http, ITempDataDictionary tempData, string id, string? action, string? nodeId, bool confirmed,
        NpgsqlDataSource db, GrainOutbox grains, AuditLog audit, CancellationToken ct)
    {
        // A cancellation ends a paying customer's onboarding: the form asks for an explicit tick first.
        if (action == ResolveActions.Cancel && !confirmed)
        {
            tempData[FlashErrorKey] = "Para cancelar, marca la casilla de confirmación.";
            return;
        }

        var result = await TenantsApi.ResolveAsync(id, new ResolveRequest(action, string.IsNullOrWhiteSpace(nodeId) ? null : nodeId), http, db, grains, audit, ct);
        Flash(tempData, AdminFormat.ErrorOf(result.Result), $"Acción enviada: {TenantLabels.Action(action ?? "")} ({id}). Esperando a que el cliente cambie de estado…");
    }

    public static async Task SuspendAsync(HttpContext http, ITempDataDictionary tempData, string id, NpgsqlDataSource db, GrainOutbox grains, AuditLog audit, CancellationToken ct) =>
        Flash(tempData, AdminFormat.ErrorOf((await TenantsApi.SuspendAsync(id, http, db, grains, audit, ct)).Result), $"Acción enviada: suspender ({id}).");

    public static async Task ResumeAsync(HttpContext http, ITempDataDictionary tempData, string id, NpgsqlDataSource db, GrainOutbox grains, AuditLog audit, CancellationToken ct) =>
        Flash(tempData, AdminFormat.ErrorOf((await TenantsApi.ResumeAsync(id, http, db, grains, audit, ct)).Result), $"Acción enviada: reanudar ({id}).");

    private static void Flash(ITempDataDictionary tempData, string? error, string sent)
    {
        if (error is null)
        {
            tempData[FlashKey] = sent;
        }
        else
        {
            tempData[FlashErrorKey] = error;
        }
    }
}
