extern alias simulators;

using System.Net;
using Sajet.Grains.Interfaces;
using System.Globalization;
using System.Text.Json.Nodes;
using Sajet.WebFront.Billing;
using Sajet.WebFront.Tenants;
using Sajet.WebFront.Tests.Onboarding;

namespace Sajet.WebFront.Tests.Billing;

/// <summary>
/// "Reintentar el cobro" on the billing page, end to end: the real web front and silo, the Stripe simulator charging
/// through POST /v1/invoices/{id}/pay, and the tenant's way back to active through Stripe's webhooks.
/// </summary>
public sealed class BillingRetryChargeTests
{
    private static Dictionary<string, string> Retry(string tenantId, string invoiceId) => new() { ["tenantId"] = tenantId, ["invoiceId"] = invoiceId };

    /// <summary>A number of a simulator object, whichever CLR type it was stored as.</summary>
    private static long Long(JsonNode? node) => long.Parse(node!.ToJsonString(), CultureInfo.InvariantCulture);

    private static string Text(string html) => WebUtility.HtmlDecode(html).Replace('\u00a0', ' ');

    [Fact]
    public async Task RetryCharge_DeclinedThenCardFixed_TenantActiveAgain_ThenAlreadyPaid_EachAudited()
    {
        await using var h = await OnboardingHarness.StartAsync(nodes: 1);
        await h.StartSiloAsync("retry-charge");
        await h.RegisterNodesAsync("pve1");
        var signed = await h.SignUpAsync("cobro-reintento", plan: "basic");
        h.Stripe.Control.PayCheckoutSession(signed.SessionId);
        await h.WaitForStatusAsync(signed.TenantId, TenantStatus.Active);
        var subscription = await h.Db.ScalarAsync<string>($"SELECT subscription_id FROM tenants WHERE id = '{signed.TenantId}'");
        var customer = await h.Db.ScalarAsync<string>($"SELECT stripe_customer_id FROM tenants WHERE id = '{signed.TenantId}'");
        h.Stripe.Control.FailSubscriptionRenewal(subscription);
        await h.WaitForStatusAsync(signed.TenantId, TenantStatus.PastDue);
        var invoiceId = (string)h.Stripe.Control.GetObject(subscription)!["latest_invoice"]!;
        var invoice = h.Stripe.Control.GetObject(invoiceId)!;
        await OnboardingHarness.WaitAsync(async () => await h.Db.ScalarAsync<long>(
            $"SELECT count(*) FROM stripe_events WHERE tenant_id = '{signed.TenantId}' AND type = 'invoice.payment_failed'") > 0, "invoice.payment_failed stored", 60);

        using var admin = h.Web.Client();
        Assert.Equal(HttpStatusCode.OK, (await admin.LoginAsync(SajetWebFactory.AdminLogin, SajetWebFactory.AdminPassword, "admin")).StatusCode);
        var page = await admin.GetStringAsync("/admin/billing");
        Assert.Contains($"data-testid=\"past-due-invoice-{signed.TenantId}\"", page, StringComparison.Ordinal);
        Assert.Contains(Text(TenantLabels.Usd(Long(invoice["amount_due"]))), Text(page), StringComparison.Ordinal);
        Assert.Contains("1 intento", Text(page), StringComparison.Ordinal);
        Assert.Contains($"name=\"invoiceId\" value=\"{invoiceId}\"", page, StringComparison.Ordinal);
        // The simulator's events carry hosted_invoice_url, so the link is the customer's invoice page.
        Assert.Contains($"href=\"{(string)invoice["hosted_invoice_url"]!}\"", page, StringComparison.Ordinal);
        Assert.Contains("Abrir la factura en Stripe", page, StringComparison.Ordinal);
        Assert.Contains($"data-testid=\"retry-charge-{signed.TenantId}\">Reintentar el cobro<", page, StringComparison.Ordinal);

        // The card on file still declines: a Spanish refusal, the attempt counted at Stripe, the tenant still past due.
        var declined = await admin.SubmitFormAsync("/admin/billing", "/admin/billing?handler=RetryCharge", Retry(signed.TenantId, invoiceId));
        Assert.Equal(HttpStatusCode.Redirect, declined.StatusCode);
        var afterDecline = Text(await admin.GetStringAsync("/admin/billing"));
        Assert.Contains("La tarjeta fue rechazada. El cliente sigue con el pago atrasado", afterDecline, StringComparison.Ordinal);
        Assert.Equal(2L, Long(h.Stripe.Control.GetObject(invoiceId)!["attempt_count"]));
        await h.Stripe.Control.WaitForDeliveriesAsync(CancellationToken.None);
        Assert.Equal(TenantStatus.PastDue, await h.StatusAsync(signed.TenantId));

        // The customer fixed the card: the charge goes through and Stripe's webhooks bring the tenant back.
        h.Stripe.Control.SetCustomerCard(customer, "4242 4242 4242 4242");
        var paid = await admin.SubmitFormAsync("/admin/billing", "/admin/billing?handler=RetryCharge", Retry(signed.TenantId, invoiceId));
        Assert.Equal(HttpStatusCode.Redirect, paid.StatusCode);
        Assert.Contains("Cobro realizado", Text(await admin.GetStringAsync("/admin/billing")), StringComparison.Ordinal);
        await h.WaitForStatusAsync(signed.TenantId, TenantStatus.Active, 60);
        Assert.Equal("paid", (string)h.Stripe.Control.GetObject(invoiceId)!["status"]!);

        // A second click (another tab, a stale page) charges nothing more.
        await admin.SubmitFormAsync("/admin/billing", "/admin/billing?handler=RetryCharge", Retry(signed.TenantId, invoiceId));
        Assert.Contains($"La factura {invoiceId} ya está pagada; no se ha cobrado nada más.", Text(await admin.GetStringAsync("/admin/billing")), StringComparison.Ordinal);

        Assert.Equal("declined,paid,alreadypaid", await h.Db.ScalarAsync<string>($"""
            SELECT string_agg(detail->>'outcome', ',' ORDER BY id) FROM audit_log
            WHERE kind = '{ChargeRetry.AuditKind}' AND detail->>'invoice' = '{invoiceId}' AND detail->>'tenant' = '{signed.TenantId}'
              AND actor <> 'anonymous'
            """));
        Assert.Equal("generic_decline", await h.Db.ScalarAsync<string>(
            $"SELECT detail->>'declineCode' FROM audit_log WHERE kind = '{ChargeRetry.AuditKind}' AND detail->>'outcome' = 'declined'"));
    }
}
