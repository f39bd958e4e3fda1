using Dapper;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Npgsql;
using Sajet.WebFront.Audit;
using Sajet.WebFront.Auth;
using Sajet.WebFront.Hosting;
using Sajet.WebFront.Pages.Shared;
using Sajet.WebFront.Tenants;
using Stripe;
using Stripe.BillingPortal;

namespace Sajet.WebFront.Pages.Tenant;

/// <summary>The customer's portal. Everything shown is scoped by the tenant id in the token, never by the URL.</summary>
public sealed class PortalModel(NpgsqlDataSource db, TwoFactor twoFactor, AuditLog audit, IStripeClient stripe, IOptions<AppOptions> app, ILogger<PortalModel> log)
    : TwoFactorPageModel(db, twoFactor, audit)
{
    public sealed record PlanInfo(string Name, int PriceCents);

    public string TenantId => SajetClaims.TenantIdOf(User) ?? "";

    public TenantView? Tenant { get; private set; }

    public PlanInfo? Plan { get; private set; }

    public string? BillingError { get; private set; }

    /// <summary>Sends the customer to Stripe's billing portal (invoices, card, cancellation) for their own customer id.</summary>
    public async Task<IActionResult> OnPostBillingPortalAsync(CancellationToken ct)
    {
        await LoadAsync(ct);
        if (Tenant?.StripeCustomerId is not { } customer)
        {
            BillingError = "Tu cuenta aún no tiene datos de facturación en Stripe.";
            return Page();
        }

        var baseUrl = app.Value.PublicBaseUrl;
        try
        {
            // No idempotency key of ours: a portal session changes nothing, and a retry may as well open a fresh one.
            var session = await new SessionService(stripe).CreateAsync(
                new SessionCreateOptions { Customer = customer, ReturnUrl = baseUrl + "/tenant/portal", Locale = "es" }, null, ct);
            if (session.Url is { } portal)
            {
                await Audit.WriteAsync(HttpContext, "tenant.billing_portal", new { tenant = TenantId });
                return Redirect(portal);
            }
        }
        catch (Exception ex) when (ex is StripeException or HttpRequestException || (ex is OperationCanceledException && !ct.IsCancellationRequested))
        {
            log.LogWarning("Billing portal session for tenant {TenantId} failed: {Error}", TenantId, ex.Message);
        }

        BillingError = "No hemos podido abrir el portal de facturación. Inténtalo de nuevo en unos minutos.";
        return Page();
    }

    protected override async Task LoadAsync(CancellationToken ct)
    {
        await base.LoadAsync(ct);
        if (TenantId.Length == 0)
        {
            return;
        }

        Tenant = await TenantsApi.LoadAsync(Db, TenantId, ct);
        if (Tenant is not null)
        {
            await using var conn = await Db.OpenConnectionAsync(ct);
            Plan = await conn.QuerySingleOrDefaultAsync<PlanInfo>(new CommandDefinition(
                "SELECT name, price_cents AS PriceCents FROM plans WHERE id = @id", new { id = Tenant.Plan }, cancellationToken: ct));
        }
    }
}
