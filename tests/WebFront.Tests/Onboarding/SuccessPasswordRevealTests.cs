using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Sajet.Grains.Interfaces;
using Sajet.Persistence.Secrets;

namespace Sajet.WebFront.Tests.Onboarding;

/// <summary>
/// Issue 10, defect 3: /success and its status API are anonymous and keyed by the Checkout Session id, which travels in
/// a URL (history, proxies, screenshots). The generated password is therefore shown once, to the browser that signed up,
/// shortly after activation; anyone else holding the id sees the progress and never the password.
/// </summary>
public sealed class SuccessPasswordRevealTests
{
    [Fact]
    public async Task OnboardingStatus_AfterActivation_PasswordOnlyOnceAndOnlyToThePayingBrowser()
    {
        await using var h = await OnboardingHarness.StartAsync(nodes: 1);
        await h.StartSiloAsync("reveal");
        await h.RegisterNodesAsync("pve1");

        using var payer = h.Web.Client();
        using var latePayer = h.Web.Client();
        var signed = await h.SignUpAsync("solo-una-vez", client: payer);
        var late = await h.SignUpAsync("demasiado-tarde", client: latePayer);
        h.Stripe.Control.PayCheckoutSession(signed.SessionId);
        h.Stripe.Control.PayCheckoutSession(late.SessionId);
        await h.WaitForStatusAsync(signed.TenantId, TenantStatus.Active);
        await h.WaitForStatusAsync(late.TenantId, TenantStatus.Active);
        var password = await PasswordOfAsync(h, signed.TenantId);

        // Someone else with the session id (a shared link, a screenshot of the address bar): progress, no secrets.
        using var stranger = h.Web.Client();
        var seen = await StatusAsync(stranger, signed.SessionId);
        Assert.Equal(TenantStatus.Active, seen.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Null, seen.GetProperty("password").ValueKind);
        Assert.Equal(JsonValueKind.Null, seen.GetProperty("login").ValueKind);
        Assert.DoesNotContain(password, await stranger.GetStringAsync($"/success?session_id={signed.SessionId}"), StringComparison.Ordinal);

        // The paying browser: the first read shows it, and it is the portal's password too.
        var first = await StatusAsync(payer, signed.SessionId);
        Assert.Equal(password, first.GetProperty("password").GetString());
        Assert.Equal("owner@solo-una-vez.example.com", first.GetProperty("login").GetString());
        using (var portal = h.Web.Client())
        {
            Assert.True((await portal.LoginAsync("owner@solo-una-vez.example.com", password, "tenant")).IsSuccessStatusCode);
        }

        // A second read from the same browser (the page's next poll, a reload) no longer gets it, and says why.
        var second = await StatusAsync(payer, signed.SessionId);
        Assert.Equal(JsonValueKind.Null, second.GetProperty("password").ValueKind);
        Assert.Contains("ya se mostró", second.GetProperty("passwordNote").GetString(), StringComparison.Ordinal);
        var reloaded = await payer.GetStringAsync($"/success?session_id={signed.SessionId}");
        Assert.DoesNotContain(password, reloaded, StringComparison.Ordinal);
        Assert.Contains("ya se mostró", reloaded, StringComparison.Ordinal);
        Assert.Equal(1, await h.Db.ScalarAsync<long>($"SELECT count(*) FROM signups WHERE tenant_id = '{signed.TenantId}' AND password_revealed_at IS NOT NULL"));

        // The other customer comes back after the window: not revealed, even to the browser that paid.
        h.Web.Clock.Advance(TimeSpan.FromMinutes(31));
        var tooLate = await StatusAsync(latePayer, late.SessionId);
        Assert.Equal(JsonValueKind.Null, tooLate.GetProperty("password").ValueKind);
        Assert.DoesNotContain(await PasswordOfAsync(h, late.TenantId), await latePayer.GetStringAsync($"/success?session_id={late.SessionId}"), StringComparison.Ordinal);
        Assert.Equal(0, await h.Db.ScalarAsync<long>($"SELECT count(*) FROM signups WHERE tenant_id = '{late.TenantId}' AND password_revealed_at IS NOT NULL"));
    }

    [Fact]
    public async Task OnboardingStatus_ConcurrentReadsFromThePayingBrowser_ExactlyOneGetsThePassword()
    {
        await using var h = await OnboardingHarness.StartAsync(nodes: 1);
        await h.StartSiloAsync("reveal-race");
        await h.RegisterNodesAsync("pve1");
        using var payer = h.Web.Client();
        var signed = await h.SignUpAndPayAsync("carrera", client: payer);

        // The page's live event and its poll can fire together; the reveal is one UPDATE, so only one of them wins.
        var reads = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => StatusAsync(payer, signed.SessionId)));
        Assert.Single(reads, r => r.GetProperty("password").ValueKind == JsonValueKind.String);
    }

    private static async Task<JsonElement> StatusAsync(HttpClient client, string sessionId)
    {
        var response = await client.GetAsync($"/api/onboarding/status?session_id={sessionId}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    private static async Task<string> PasswordOfAsync(OnboardingHarness h, string tenantId) =>
        h.Web.Services.GetRequiredService<SecretProtector>().Unprotect(
            await h.Db.ScalarAsync<string>($"SELECT odoo_password_protected FROM tenants WHERE id = '{tenantId}'"), "odoo-admin")!;
}
