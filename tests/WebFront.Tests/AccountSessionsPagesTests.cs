using System.Net;
using System.Net.Http.Headers;
using Sajet.WebFront.Auth;
using Sajet.WebFront.Tests.Admin;
using Sajet.WebFront.Tests.Onboarding;

namespace Sajet.WebFront.Tests;

/// <summary>The forms that end sessions: the signed-in user's password change (beside 2FA) and the admin's "Cerrar sesiones".</summary>
public sealed class AccountSessionsPagesTests(WebFixture fx) : IClassFixture<WebFixture>
{
    private SajetWebFactory App => fx.Factory;

    [Fact]
    public async Task PortalPasswordForm_WrongCurrentInSpanish_ThenChanges_AndEndsTheOtherSession()
    {
        var (email, tenantId) = await TenantWithUserAsync();
        var browser = App.Client();
        Assert.Equal(HttpStatusCode.OK, (await browser.LoginAsync(email, "tenant-password-1", "tenant")).StatusCode);
        using var other = await BearerOfNewSessionAsync(email);

        var page = await browser.GetStringAsync("/tenant/portal");
        Assert.Contains("data-testid=\"password\"", page, StringComparison.Ordinal);
        Assert.Contains(tenantId, page, StringComparison.Ordinal);

        var wrong = await (await browser.SubmitFormAsync("/tenant/portal", "/tenant/portal?handler=Password",
            new() { ["CurrentPassword"] = "not-the-password", ["NewPassword"] = "portal-password-2" })).Content.ReadAsStringAsync();
        Assert.Contains(PasswordChange.WrongCurrentText, wrong, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await other.GetAsync("/api/auth/me")).StatusCode);

        var done = await (await browser.SubmitFormAsync("/tenant/portal", "/tenant/portal?handler=Password",
            new() { ["CurrentPassword"] = "tenant-password-1", ["NewPassword"] = "portal-password-2" })).Content.ReadAsStringAsync();
        Assert.Contains("data-testid=\"password-notice\"", done, StringComparison.Ordinal);
        await OnboardingHarness.WaitAsync(async () => (await other.GetAsync("/api/auth/me")).StatusCode == HttpStatusCode.Unauthorized, "the other session ended", 10);
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/tenant/portal")).StatusCode);
        Assert.Equal(1L, await App.ScalarAsync<long>("SELECT count(*) FROM audit_log WHERE kind = 'auth.password_changed' AND actor = @e", ("e", email)));
    }

    [Fact]
    public async Task TenantDetail_EndSessionsButton_SignsTheCustomerOutEverywhere_Audited()
    {
        var (email, tenantId) = await TenantWithUserAsync();
        using var customer = await BearerOfNewSessionAsync(email);
        var admin = await App.AdminClientAsync();

        Assert.Contains("data-testid=\"end-sessions\"", await admin.GetStringAsync($"/admin/tenants/{tenantId}"), StringComparison.Ordinal);
        var response = await admin.SubmitFormAsync($"/admin/tenants/{tenantId}", $"/admin/tenants/{tenantId}?handler=EndSessions", []);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        await OnboardingHarness.WaitAsync(async () => (await customer.GetAsync("/api/auth/me")).StatusCode == HttpStatusCode.Unauthorized, "the customer's session ended", 10);
        Assert.Contains("Sesiones cerradas: 1.", await admin.GetStringAsync($"/admin/tenants/{tenantId}"), StringComparison.Ordinal);
        Assert.Equal(1L, await App.ScalarAsync<long>(
            "SELECT count(*) FROM audit_log a JOIN users u ON a.detail->>'userId' = u.id::text WHERE a.kind = 'user.sessions_ended' AND u.email = @e", ("e", email)));
    }

    private async Task<(string Email, string TenantId)> TenantWithUserAsync()
    {
        var tenantId = await App.TenantAsync("active");
        var email = $"{tenantId}@example.com";
        await using var conn = await App.Db.DataSource.OpenConnectionAsync();
        Assert.NotNull(await Users.CreateTenantUserAsync(conn, email, "tenant-password-1", tenantId));
        return (email, tenantId);
    }

    private async Task<HttpClient> BearerOfNewSessionAsync(string email)
    {
        var login = await App.Client().LoginAsync(email, "tenant-password-1", "tenant", tokenInBody: true);
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        var client = App.CreateClient(new() { AllowAutoRedirect = false, HandleCookies = false });
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", (await login.JsonAsync()).GetProperty("accessToken").GetString()!);
        return client;
    }
}
