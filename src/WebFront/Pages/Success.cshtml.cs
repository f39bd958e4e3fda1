using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Npgsql;
using Sajet.Grains.Interfaces.Outbox;
using Sajet.WebFront.Onboarding;
using Sajet.WebFront.Tenants;

namespace Sajet.WebFront.Pages;

/// <summary>
/// /success: where Stripe Checkout returns. Shows the customer's progress live until their Odoo is ready, then its
/// address and how to sign in: the welcome mail's link to choose the password (none is ever shown here).
/// </summary>
public sealed class SuccessModel(NpgsqlDataSource db, GrainOutbox grains) : PageModel
{
    [BindProperty(Name = "session_id", SupportsGet = true)]
    public string? SessionId { get; set; }

    public OnboardingStatus? Status { get; private set; }

    public async Task OnGetAsync(CancellationToken ct)
    {
        // The page may name the account's login: no cache may keep a copy.
        Response.Headers.CacheControl = "no-store";
        Status = await TenantsApi.OnboardingStatusAsync(db, grains, SessionId, SignupBrowser.HashOf(Request), ct);
    }

    /// <summary>What a screen reader adds to a step's label: the page marks done and current steps by shape and colour.</summary>
    public static string StepState(string state) => state switch
    {
        CustomerProgress.Done => "(hecho)",
        CustomerProgress.Current => "(en curso)",
        _ => "(pendiente)",
    };
}
