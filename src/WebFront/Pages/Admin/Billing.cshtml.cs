using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Options;
using Npgsql;
using Sajet.Grains.Interfaces;
using Sajet.Integrations.Stripe;
using Sajet.WebFront.Audit;
using Sajet.WebFront.Billing;
using Sajet.WebFront.Tenants;

namespace Sajet.WebFront.Pages.Admin;

/// <summary>
/// Revenue at a glance: MRR, every subscription, and the payments that failed (tenants past due with their last failed
/// invoice, Stripe's failure events). A past-due tenant's invoice can be charged again from here.
/// </summary>
public sealed class BillingModel(NpgsqlDataSource db, StripeInvoiceCharges charges, AuditLog audit, IOptions<StripeOptions> stripe) : PageModel
{
    public long MrrCents { get; private set; }

    public IReadOnlyList<Subscription> Subscriptions { get; private set; } = [];

    public IReadOnlyList<TenantListItem> PastDue { get; private set; } = [];

    public IReadOnlyDictionary<string, FailedInvoice> LastFailed { get; private set; } = new Dictionary<string, FailedInvoice>();

    public IReadOnlyList<FailedPayment> FailedPayments { get; private set; } = [];

    public string InvoiceUrl(FailedInvoice invoice) => ChargeRetry.InvoiceUrl(invoice.InvoiceId, invoice.HostedInvoiceUrl, stripe.Value.TestMode);

    public async Task OnGetAsync(CancellationToken ct)
    {
        PastDue = await TenantsApi.ListAsync(db, TenantStatus.PastDue, null, ct);
        await using var conn = await db.OpenConnectionAsync(ct);
        MrrCents = await BillingQueries.MrrCentsAsync(conn, ct);
        Subscriptions = await BillingQueries.SubscriptionsAsync(conn, ct);
        FailedPayments = await BillingQueries.FailedPaymentsAsync(conn, ct);
        LastFailed = await BillingQueries.LastFailedInvoicesAsync(conn, PastDue.Select(t => t.Id), ct);
    }

    /// <summary>
    /// Charges the invoice again now. Only an invoice Stripe reported failing for this tenant is charged; the tenant's
    /// status is left to the webhooks the charge causes, as for any other payment.
    /// </summary>
    public async Task<IActionResult> OnPostRetryChargeAsync(string? tenantId, string? invoiceId, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(tenantId) || string.IsNullOrWhiteSpace(invoiceId))
        {
            TempData[TenantActionForms.FlashErrorKey] = "Falta el cliente o la factura que cobrar.";
            return RedirectToPage();
        }

        await using (var conn = await db.OpenConnectionAsync(ct))
        {
            if (!await BillingQueries.TenantHadFailedInvoiceAsync(conn, tenantId, invoiceId, ct))
            {
                TempData[TenantActionForms.FlashErrorKey] = $"La factura {invoiceId} no es un cobro fallido de este cliente.";
                return RedirectToPage();
            }
        }

        // Not the request's token: a charge once sent is seen through and audited even if the operator closes the tab.
        var result = await charges.RetryAsync(invoiceId, CancellationToken.None);
        await audit.WriteAsync(HttpContext, ChargeRetry.AuditKind, new
        {
            tenant = tenantId,
            invoice = invoiceId,
            outcome = result.Outcome.ToString().ToLowerInvariant(),
            declineCode = result.DeclineCode,
            requestId = result.RequestId,
        }, AuditSeverity.Warning);
        var (ok, message) = ChargeRetry.Message(result, invoiceId);
        TempData[ok ? TenantActionForms.FlashKey : TenantActionForms.FlashErrorKey] = message;
        return RedirectToPage();
    }
}
