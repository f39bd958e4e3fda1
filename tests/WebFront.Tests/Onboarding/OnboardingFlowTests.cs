
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
}
