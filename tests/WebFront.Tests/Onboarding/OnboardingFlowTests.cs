
namespace Sajet.WebFront.Tests.Onboarding;

public sealed class OnboardingFlowTests
{
    [Fact]
    public async Task Signup_Pay_BecomesActive_WithUrlAndHistory()
    {
        await using var h = await OnboardingHarness.StartAsync();
        await h.StartSiloAsync("flow-1");
        await h.RegisterNodesAsync("pve1", "pve2", "pve3");

        var signed = await h.SignUpAsync("acme-flow");
        Assert.Equal("pending", await h.StatusAsync(signed.TenantId));
        h.Stripe.Control.PayCheckoutSession(signed.SessionId);

        await h.WaitForStatusAsync(signed.TenantId, "active", 40);
        Assert.Equal($"https://acme-flow.{OnboardingHarness.Domain}", await h.Db.ScalarAsync<string>($"SELECT url FROM tenants WHERE id = '{signed.TenantId}'"));
        Assert.Contains(h.Odoo.Control.Databases, d => d.Name == "acme-flow");
        Assert.Equal(1, await h.Db.ScalarAsync<long>("SELECT count(*) FROM containers WHERE hostname = 't-acme-flow'"));
        var history = await h.Db.ScalarAsync<string>($"SELECT string_agg(coalesce(to_state, from_state, '') || ':' || coalesce(correlation_id,''), ' ' ORDER BY id) FROM grain_events WHERE grain_key = '{signed.TenantId}'");
        Assert.Contains(":evt_", history);
        Assert.Contains("paid:", history);
        Assert.Contains("provisioning:UPID:", history);
        Assert.Contains("active:", history);
    }

    [Fact]
    public async Task SuccessPagePolls_AskStripeAboutTheCheckoutOncePerInterval()
    {
        await using var h = await OnboardingHarness.StartAsync(nodes: 1);
        // No reconciliation and no webhooks (customer.created would make the grain read Stripe too), so every read of
        // the session comes from the polls.
        await h.StartSiloAsync("polls", s => s["Tenants:ReconcileFirstInterval"] = "00:30:00");
        h.Stripe.Control.ClearWebhookEndpoints();
        var signed = await h.SignUpAsync("polling-tab");
        using var client = h.Web.Client();
        var session = $"/v1/checkout/sessions/{signed.SessionId}";
        var before = h.Stripe.Control.RequestCount("GET", session);

        // An open /success tab of a customer who has not paid yet: six polls, each one handled before the next.
        for (var i = 0; i < 6; i++)
        {
            var response = await client.GetAsync($"/api/onboarding/status?session_id={signed.SessionId}");
            Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
            await OnboardingHarness.WaitAsync(async () => await h.Db.ScalarAsync<long>(
                $"SELECT count(*) FROM outbox WHERE grain_key = '{signed.TenantId}'") == 0
                && !(await h.Tenant(signed.TenantId).GetScheduledAsync()).Contains("billing-sync"),
                "the poll's command and any Stripe read it asked for are done", 30);
        }

        Assert.Equal(1, h.Stripe.Control.RequestCount("GET", session) - before);
        Assert.Equal("pending", await h.StatusAsync(signed.TenantId));
    }
}
