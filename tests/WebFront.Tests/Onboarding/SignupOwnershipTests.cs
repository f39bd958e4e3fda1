using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Sajet.Grains.Interfaces;

namespace Sajet.WebFront.Tests.Onboarding;

/// <summary>
/// The tenants table has one writer, the tenant grain; the signup keeps its claim and Stripe objects in its own table
/// (sql/0008_signups.sql). With no silo running nothing can write tenants, so what works then works without it.
/// </summary>
public sealed class SignupOwnershipTests
{
    [Fact]
    public async Task SignupWhileNoSiloRuns_WebFrontWritesNoTenantRow_WebhooksRouteThroughTheClaim_TenantAppearsOnceDelivered()
    {
        await using var h = await OnboardingHarness.StartAsync(nodes: 1);
        var signed = await h.SignUpAsync("sin-silo");
        using var client = h.Web.Client();

        // Only the claim exists: the web front wrote no tenants row, yet /success knows the onboarding.
        Assert.Equal(0, await h.Db.ScalarAsync<long>("SELECT count(*) FROM tenants"));
        Assert.Equal(signed.SessionId, await h.Db.ScalarAsync<string>($"SELECT checkout_session_id FROM signups WHERE tenant_id = '{signed.TenantId}'"));
        var status = await client.GetFromJsonAsync<JsonElement>($"/api/onboarding/status?session_id={signed.SessionId}");
        Assert.Equal(TenantStatus.Pending, status.GetProperty("status").GetString());
        Assert.Equal("sin-silo", status.GetProperty("subdomain").GetString());

        // The customer pays: Stripe's webhooks are stored and routed to the tenant by the claim alone.
        h.Stripe.Control.PayCheckoutSession(signed.SessionId);
        await h.Stripe.Control.WaitForDeliveriesAsync(CancellationToken.None);
        Assert.Contains(h.Stripe.Control.DeliveryAttempts, a => a.StatusCode == 200);
        Assert.Equal(0, await h.Db.ScalarAsync<long>("SELECT count(*) FROM stripe_events WHERE tenant_id IS NULL"));
        Assert.True(await h.Db.ScalarAsync<long>($"SELECT count(*) FROM stripe_events WHERE tenant_id = '{signed.TenantId}' AND type = 'checkout.session.completed'") == 1);
        Assert.True(await h.Db.ScalarAsync<long>($"SELECT count(*) FROM outbox WHERE grain_key = '{signed.TenantId}' AND kind = 'tenant.stripe-event'") > 0);
        Assert.Equal(0, await h.Db.ScalarAsync<long>("SELECT count(*) FROM tenants"));

        // A silo comes up: the grain applies the signup (its row appears, whole) and then the routed payment. With
        // reconciliation half an hour away, only the webhooks can have told it about the payment.
        await h.StartSiloAsync("late", s => s["Tenants:ReconcileFirstInterval"] = "00:30:00");
        await h.WaitForStatusAsync(signed.TenantId, TenantStatus.WaitingForCapacity); // no node registered
        Assert.Equal(1, await h.Db.ScalarAsync<long>($"""
            SELECT count(*) FROM tenants
            WHERE id = '{signed.TenantId}' AND subdomain = 'sin-silo' AND plan_id = 'pro' AND country = 'ES' AND email = 'owner@sin-silo.example.com'
              AND checkout_session_id = '{signed.SessionId}' AND checkout_url = '{signed.CheckoutUrl}' AND stripe_customer_id LIKE 'cus_%'
              AND subscription_id IS NOT NULL AND NOT subdomain_released
            """));
        Assert.Equal(1, await h.Db.ScalarAsync<long>(
            $"SELECT count(*) FROM grain_events WHERE grain_key = '{signed.TenantId}' AND to_state = 'paid' AND correlation_id LIKE 'evt_%'"));
        Assert.Equal(1, await h.Db.ScalarAsync<long>("SELECT count(*) FROM tenants"));
    }

    [Fact]
    public async Task AbandonedSignup_GrainReleasesTheName_ANewSignupClaimsIt_OnceOnly()
    {
        await using var h = await OnboardingHarness.StartAsync(nodes: 1);
        await h.StartSiloAsync("release");
        var first = await h.SignUpAsync("reutilizable");
        await h.WaitForSignupAppliedAsync(first.TenantId);
        using var client = h.Web.Client();
        var again = new { companyName = "Otra", email = "b@c.example.com", subdomain = "reutilizable", plan = "pro", country = "MX" };
        Assert.Equal(HttpStatusCode.BadRequest, (await client.PostAsJsonAsync("/api/checkout", again)).StatusCode);

        // The checkout expires unpaid: the grain cancels and releases the name (on its own row, the only place it can).
        h.Stripe.Control.ExpireCheckoutSession(first.SessionId);
        await OnboardingHarness.WaitAsync(async () => await h.Db.ScalarAsync<bool>(
            $"SELECT subdomain_released FROM tenants WHERE id = '{first.TenantId}'"), "the grain released the subdomain", 60);

        // Two newcomers want it at once: one gets it, and the name is held again.
        var tries = await Task.WhenAll(Enumerable.Range(0, 2).Select(_ => client.PostAsJsonAsync("/api/checkout", again)));
        Assert.Equal(1, tries.Count(r => r.StatusCode == HttpStatusCode.Created));
        Assert.Equal(1, tries.Count(r => r.StatusCode == HttpStatusCode.BadRequest));
        Assert.Equal(1, await h.Db.ScalarAsync<long>("SELECT count(*) FROM signups WHERE subdomain = 'reutilizable' AND NOT released"));
        Assert.Equal(HttpStatusCode.BadRequest, (await client.PostAsJsonAsync("/api/checkout", again)).StatusCode);
    }
}
