extern alias simulators;

using System.Net;
using Microsoft.Extensions.DependencyInjection;
using simulators::Sajet.Simulators.Stripe;
using Stripe;

namespace Sajet.WebFront.Tests.Admin;

/// <summary>The web front against the Stripe simulator, so the portal's billing button reaches a real Stripe API shape.</summary>
public sealed class StripeSimulatorWebFixture : WebFixture
{
    private StripeSimulator? _stripe;

    public StripeSimulator Stripe => _stripe ?? throw new InvalidOperationException("fixture not initialised");

    protected override IReadOnlyDictionary<string, string?>? Settings => new Dictionary<string, string?>
    {
        ["STRIPE_SECRET_KEY"] = Stripe.SecretKey,
        ["STRIPE_WEBHOOK_SECRET"] = Stripe.WebhookSecret,
        ["Stripe:ApiBase"] = Stripe.BaseUrl,
    };

    public override async Task InitializeAsync()
    {
        _stripe = await StripeSimulator.StartAsync(new StripeSimulatorOptions { Port = 0 });
        await base.InitializeAsync();
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        if (_stripe is not null)
        {
            await _stripe.DisposeAsync();
        }
    }
}

public sealed class SettingsBillingPortalTests(StripeSimulatorWebFixture fx) : IClassFixture<StripeSimulatorWebFixture>
{
    private SajetWebFactory App => fx.Factory;

    private static Dictionary<string, string> SettingsForm(string headroom) => new()
    {
        ["Input.Headroom"] = headroom,
        ["Input.Strategy"] = "binpack",
        ["Input.PollInterval"] = "30",
        ["Input.AlertThreshold"] = "0.9",
        ["Input.AlertClearBelow"] = "0.75",
    };

    [Fact]
    public async Task Settings_Admin_ShowsPlansThresholdsAndStripeTestMode_NeverTheKey()
    {
        var html = await (await App.AdminClientAsync()).GetStringAsync("/admin/settings");
        Assert.Contains("<h1>Ajustes</h1>", html, StringComparison.Ordinal);
        Assert.Contains("data-testid=\"two-factor\"", html, StringComparison.Ordinal);
        Assert.Contains("data-testid=\"plan-row-pro\"", html, StringComparison.Ordinal);
        Assert.Contains("value=\"0,8\" data-testid=\"settings-headroom\"", html, StringComparison.Ordinal);
        Assert.Contains("data-testid=\"stripe-mode-value\">prueba (test)<", html, StringComparison.Ordinal);
        Assert.DoesNotContain(fx.Stripe.SecretKey, html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Settings_HeadroomAboveOne_IsRejectedInSpanish_AndNothingIsStored()
    {
        const string AllSettings = "SELECT string_agg(key || '=' || value::text, ';' ORDER BY key) FROM settings";
        var before = await App.ScalarAsync<string>(AllSettings);
        var audited = await App.ScalarAsync<long>("SELECT count(*) FROM audit_log WHERE kind = 'settings.change'");
        var client = await App.AdminClientAsync();
        var response = await client.SubmitFormAsync("/admin/settings", "/admin/settings?handler=Settings", SettingsForm("1.5"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains("data-testid=\"error-headroom\"", html, StringComparison.Ordinal);
        Assert.Contains("El margen de colocación debe ser un número entre 0,05 y 1", html, StringComparison.Ordinal);
        Assert.Contains("No se ha guardado nada", html, StringComparison.Ordinal);
        // The other fields were valid, yet none of them was written either.
        Assert.Equal(before, await App.ScalarAsync<string>(AllSettings));
        Assert.Equal(audited, await App.ScalarAsync<long>("SELECT count(*) FROM audit_log WHERE kind = 'settings.change'"));
    }

    [Fact]
    public async Task Settings_ClearBelowNotUnderThreshold_IsRejected()
    {
        var client = await App.AdminClientAsync();
        var form = SettingsForm("0.8");
        form["Input.AlertClearBelow"] = "0.95";
        var html = await (await client.SubmitFormAsync("/admin/settings", "/admin/settings?handler=Settings", form)).Content.ReadAsStringAsync();
        Assert.Contains("debe ser menor que el umbral de alerta", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Plans_PriceAndActive_AreSavedAndAudited_BadPriceRefused()
    {
        var client = await App.AdminClientAsync();
        await App.Db.ExecAsync("INSERT INTO plans (id, name, price_cents, cores, memory_mb, disk_gb, backup, sla, shared) VALUES ('plan-test', 'Prueba', 1000, 1, 512, 8, 'Semanal', '99%', false)");
        var refused = await client.SubmitFormAsync("/admin/settings", "/admin/settings?handler=Plan",
            new Dictionary<string, string> { ["id"] = "plan-test", ["price"] = "-3", ["cores"] = "1", ["memoryMb"] = "512", ["diskGb"] = "8", ["active"] = "true" });
        Assert.Equal(HttpStatusCode.OK, refused.StatusCode);
        Assert.Contains("data-testid=\"error-plan-plan-test-price\">El precio debe ser un importe en dólares", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(1000, await App.ScalarAsync<int>("SELECT price_cents FROM plans WHERE id = 'plan-test'"));

        // Unticked "active" is absent from the form: the plan becomes inactive.
        await client.SubmitFormAsync("/admin/settings", "/admin/settings?handler=Plan",
            new Dictionary<string, string> { ["id"] = "plan-test", ["price"] = "12,50", ["cores"] = "1", ["memoryMb"] = "512", ["diskGb"] = "8" });
        Assert.Equal(1250, await App.ScalarAsync<int>("SELECT price_cents FROM plans WHERE id = 'plan-test'"));
        Assert.False(await App.ScalarAsync<bool>("SELECT active FROM plans WHERE id = 'plan-test'"));
        Assert.Equal(1L, await App.ScalarAsync<long>("SELECT count(*) FROM audit_log WHERE kind = 'plan.change' AND detail->>'plan' = 'plan-test'"));
    }

    [Fact]
    public async Task Settings_ValidValues_AreStoredAndAudited()
    {
        var audited = await App.ScalarAsync<long>("SELECT count(*) FROM audit_log WHERE kind = 'settings.change'");
        var client = await App.AdminClientAsync();
        var response = await client.SubmitFormAsync("/admin/settings", "/admin/settings?handler=Settings", SettingsForm("0,85"));
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal(0.85, await App.ScalarAsync<double>("SELECT (value #>> '{}')::float8 FROM settings WHERE key = 'placement.headroom'"));
        Assert.Equal("binpack", await App.ScalarAsync<string>("SELECT value #>> '{}' FROM settings WHERE key = 'placement.strategy'"));
        Assert.Equal(30.0, await App.ScalarAsync<double>("SELECT (value #>> '{}')::float8 FROM settings WHERE key = 'nodes.poll_interval_seconds'"));
        Assert.Equal(audited + 1, await App.ScalarAsync<long>("SELECT count(*) FROM audit_log WHERE kind = 'settings.change'"));
        Assert.Contains("Ajustes guardados", await client.GetStringAsync("/admin/settings"), StringComparison.Ordinal);
        await App.Db.ExecAsync("""
            UPDATE settings SET value = '0.8' WHERE key = 'placement.headroom';
            UPDATE settings SET value = '"spread"' WHERE key = 'placement.strategy';
            UPDATE settings SET value = '60' WHERE key = 'nodes.poll_interval_seconds';
            UPDATE settings SET value = '0.8' WHERE key = 'nodes.alert_threshold';
            UPDATE settings SET value = '0.7' WHERE key = 'nodes.alert_clear_below';
            """);
    }

    [Fact]
    public async Task Billing_ShowsSubscriptionsPastDueAndFailedPaymentEvents()
    {
        var sub = await App.TenantAsync("active", plan: "pro", subscriptionId: "sub_billing_" + Guid.NewGuid().ToString("N")[..6]);
        var late = await App.TenantAsync("past_due", plan: "basic", subscriptionId: "sub_late_" + Guid.NewGuid().ToString("N")[..6]);
        var eventId = "evt_failed_" + Guid.NewGuid().ToString("N")[..8];
        await App.Db.ExecAsync($$$$"""
            INSERT INTO stripe_events (id, type, created, tenant_id, payload)
            VALUES ('{{{{eventId}}}}', 'invoice.payment_failed', now(), '{{{{late}}}}', '{"data": {"object": {"id": "in_123", "amount_due": 2900}}}');
            """);
        var response = await (await App.AdminClientAsync()).GetAsync("/admin/billing");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains("<h1>Facturación</h1>", html, StringComparison.Ordinal);
        Assert.Contains($"data-testid=\"subscription-{sub}\"", html, StringComparison.Ordinal);
        Assert.Contains($"data-testid=\"past-due-{late}\"", html, StringComparison.Ordinal);
        Assert.Contains($"data-testid=\"failed-payment-{eventId}\"", html, StringComparison.Ordinal);
        var text = System.Net.WebUtility.HtmlDecode(html).Replace('\u00a0', ' ');
        Assert.Contains("29,00 US$", text, StringComparison.Ordinal);
        Assert.Contains("49,00 US$/mes", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Billing_PastDueRow_ShowsLastFailedInvoice_TestModeLink_AndRetryRefusalsInSpanish()
    {
        var late = await App.TenantAsync("past_due", plan: "basic", subscriptionId: "sub_late_" + Guid.NewGuid().ToString("N")[..6]);
        var invoice = "in_seed_" + Guid.NewGuid().ToString("N")[..10];
        // No hosted_invoice_url in the payload (an older event, or one Stripe sent without it): the back office link.
        await App.Db.ExecAsync($$$$"""
            INSERT INTO stripe_events (id, type, created, tenant_id, payload) VALUES
              ('evt_old_{{{{invoice}}}}', 'invoice.payment_failed', now() - interval '3 days', '{{{{late}}}}', '{"data": {"object": {"id": "in_older", "amount_due": 100, "attempt_count": 1}}}'),
              ('evt_new_{{{{invoice}}}}', 'invoice.payment_failed', now(), '{{{{late}}}}', '{"data": {"object": {"id": "{{{{invoice}}}}", "amount_due": 123456, "attempt_count": 3}}}');
            """);
        var client = await App.AdminClientAsync();
        var html = await client.GetStringAsync("/admin/billing");
        var text = System.Net.WebUtility.HtmlDecode(html).Replace('\u00a0', ' ');
        Assert.Contains($"data-testid=\"past-due-invoice-{late}\"", html, StringComparison.Ordinal);
        Assert.Contains(Sajet.WebFront.Tenants.TenantLabels.Usd(123456).Replace('\u00a0', ' '), text, StringComparison.Ordinal);
        Assert.Contains("3 intentos", text, StringComparison.Ordinal);
        Assert.Contains($"href=\"https://dashboard.stripe.com/test/invoices/{invoice}\"", html, StringComparison.Ordinal);
        Assert.Contains($"name=\"invoiceId\" value=\"{invoice}\"", html, StringComparison.Ordinal);
        Assert.DoesNotContain("name=\"invoiceId\" value=\"in_older\"", html, StringComparison.Ordinal);
        Assert.Contains("Reintentar el cobro", html, StringComparison.Ordinal);

        // Stripe has no such invoice (it was only seeded here): a Spanish answer, and the attempt is audited.
        await client.SubmitFormAsync("/admin/billing", "/admin/billing?handler=RetryCharge", new() { ["tenantId"] = late, ["invoiceId"] = invoice });
        Assert.Contains($"Stripe no conoce la factura {invoice}.", await client.GetStringAsync("/admin/billing"), StringComparison.Ordinal);
        Assert.Equal("notfound", await App.ScalarAsync<string>($"SELECT detail->>'outcome' FROM audit_log WHERE kind = 'billing.retry_charge' AND detail->>'invoice' = '{invoice}'"));

        // An invoice the page never showed for this tenant is not charged, nor sent to Stripe.
        var before = fx.Stripe.Control.RequestCount("POST", "/v1/invoices/in_someone_else/pay");
        await client.SubmitFormAsync("/admin/billing", "/admin/billing?handler=RetryCharge", new() { ["tenantId"] = late, ["invoiceId"] = "in_someone_else" });
        Assert.Contains("no es un cobro fallido de este cliente", await client.GetStringAsync("/admin/billing"), StringComparison.Ordinal);
        Assert.Equal(before, fx.Stripe.Control.RequestCount("POST", "/v1/invoices/in_someone_else/pay"));

        // Stripe does not answer (every attempt of the SDK's retries dropped): nothing is claimed either way.
        fx.Stripe.Control.AddFault(new StripeFault { PathPrefix = $"/v1/invoices/{invoice}", Status = 0 });
        try
        {
            await client.SubmitFormAsync("/admin/billing", "/admin/billing?handler=RetryCharge", new() { ["tenantId"] = late, ["invoiceId"] = invoice });
            Assert.Contains("Stripe no responde; inténtalo de nuevo en unos minutos.", await client.GetStringAsync("/admin/billing"), StringComparison.Ordinal);
        }
        finally
        {
            fx.Stripe.Control.ClearFaults();
        }
    }

    [Theory]
    [InlineData("/admin/billing")]
    [InlineData("/admin/settings")]
    public async Task Page_AnonymousOrTenant_IsRefused(string path)
    {
        var anonymous = await App.Client().GetAsync(path);
        Assert.Equal(HttpStatusCode.Redirect, anonymous.StatusCode);
        Assert.StartsWith("/login/admin?returnUrl=", anonymous.Headers.Location!.OriginalString, StringComparison.Ordinal);
        var (email, _) = await App.CreateTenantUserAsync();
        var tenant = App.Client();
        await tenant.LoginAsync(email, "tenant-password-1", "tenant");
        Assert.Equal(HttpStatusCode.Forbidden, (await tenant.GetAsync(path)).StatusCode);
    }

    [Fact]
    public async Task Portal_ShowsOnlyTheSignedInTenant_AndOpensStripesBillingPortal()
    {
        // Through the web front's own client, so this also checks that it is registered and points at the simulator.
        var customer = await new CustomerService(App.Services.GetRequiredService<IStripeClient>()).CreateAsync(new CustomerCreateOptions { Email = "portal@example.com" });
        var (email, tenantId) = await App.CreateTenantUserAsync();
        await App.TenantAsync("active", plan: "pro", customerId: customer.Id, id: tenantId);
        await App.Db.ExecAsync($"UPDATE tenants SET url = 'https://{tenantId}.example.com' WHERE id = '{tenantId}'");
        var other = await App.TenantAsync("suspended", plan: "enterprise", customerId: "cus_other_customer");

        var client = App.Client();
        Assert.Equal(HttpStatusCode.OK, (await client.LoginAsync(email, "tenant-password-1", "tenant")).StatusCode);
        var html = await client.GetStringAsync($"/tenant/portal?tenantId={other}");
        Assert.Contains("data-testid=\"portal-status\" data-status=\"active\">Activo<", html, StringComparison.Ordinal);
        Assert.Contains("Pro · 49,00 US$/mes", System.Net.WebUtility.HtmlDecode(html).Replace('\u00a0', ' '), StringComparison.Ordinal);
        Assert.Contains($"https://{tenantId}.example.com", html, StringComparison.Ordinal);
        Assert.DoesNotContain(other, html, StringComparison.Ordinal);
        Assert.DoesNotContain("Suspendido", html, StringComparison.Ordinal);

        var response = await client.SubmitFormAsync("/tenant/portal", "/tenant/portal?handler=BillingPortal", []);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith(fx.Stripe.BaseUrl + "/p/session/bps_", response.Headers.Location!.OriginalString, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Portal_WithoutStripeCustomer_ExplainsInSpanish()
    {
        var (email, tenantId) = await App.CreateTenantUserAsync();
        await App.TenantAsync("pending", id: tenantId);
        var client = App.Client();
        await client.LoginAsync(email, "tenant-password-1", "tenant");
        var response = await client.SubmitFormAsync("/tenant/portal", "/tenant/portal?handler=BillingPortal", []);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("aún no tiene datos de facturación", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
