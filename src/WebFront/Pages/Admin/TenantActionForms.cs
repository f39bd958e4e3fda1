using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Sajet.Grains.Interfaces;
using Sajet.WebFront.Tenants;

namespace Sajet.WebFront.Pages.Admin;

/// <summary>
/// The admin pages' tenant actions. They go through the API's own sender (same validation, grain call and audit row).
/// A page's script posts with <c>Accept: application/json</c> and shows the outcome in place; a plain form post gets
/// a Spanish flash message on the page it is sent back to.
/// </summary>
public static class TenantActionForms
{
    public const string FlashKey = "Flash";
    public const string FlashErrorKey = "FlashError";

    /// <summary>An action queued while the cluster did not answer: shown until the tenant's next event (admin-live.js).</summary>
    public const string FlashPendingKey = "FlashPending";
    public const string FlashPendingTenantKey = "FlashPendingTenant";

    public static async Task<IActionResult> SendAsync(PageModel page, TenantActionSender sender, TenantActionRequest request, bool confirmed, string back)
    {
        var result = await OutcomeAsync(page.HttpContext, sender, request, confirmed);
        if (page.Request.GetTypedHeaders().Accept.Any(a => a.MediaType == "application/json"))
        {
            // The page's own script reads the outcome from the body; a refusal is an answer, not a failed request (a
            // 409 would also land in the browser console as an error). The API keeps the HTTP statuses.
            return new JsonResult(result);
        }

        switch (result.Outcome)
        {
            case ActionOutcomes.Done:
                page.TempData[FlashKey] = result.Message;
                break;
            case ActionOutcomes.InProgress:
                page.TempData[FlashPendingKey] = result.Message;
                page.TempData[FlashPendingTenantKey] = request.TenantId;
                break;
            default:
                page.TempData[FlashErrorKey] = result.Message;
                break;
        }

        return new RedirectResult(back);
    }

    private static async Task<TenantActionResult> OutcomeAsync(HttpContext http, TenantActionSender sender, TenantActionRequest request, bool confirmed)
    {
        // Suspending or cancelling takes service away from a paying customer: the form asks for an explicit tick first.
        if (request.Action is { } action && TenantActions.Destructive(action) && !confirmed)
        {
            var verb = action == TenantActions.Suspend ? "suspender" : "cancelar";
            return new TenantActionResult(ActionOutcomes.Refused, $"Para {verb}, marca la casilla de confirmación.", null);
        }

        var answer = (await sender.SendAsync(request, http, http.RequestAborted)).Result;
        return answer switch
        {
            Ok<TenantActionResult> ok => ok.Value!,
            Accepted<TenantActionResult> queued => queued.Value!,
            ProblemHttpResult problem => new TenantActionResult(ActionOutcomes.Refused, AdminFormat.ErrorOf(problem) ?? "Acción rechazada.",
                problem.ProblemDetails.Extensions.TryGetValue("tenantStatus", out var s) ? s as string : null),
            _ => new TenantActionResult(ActionOutcomes.Refused, AdminFormat.ErrorOf(answer) ?? "Acción no válida.", null),
        };
    }
}
