using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Sajet.Grains.Interfaces;
using Sajet.Integrations.Odoo;
using Sajet.Persistence.Secrets;
using Sajet.WebFront.Auth;
using Sajet.WebFront.Tests.Mail;

namespace Sajet.WebFront.Tests.Onboarding;

/// <summary>
/// Issue 14: no password is ever shown on /success (its address, with the Checkout Session id, ends up in histories,
/// proxies and screenshots). The welcome mail carries a single-use link instead; the password chosen through it opens
/// the customer portal at once and, once the tenant grain has applied it, the Odoo administrator too.
/// </summary>
public sealed class WelcomeLinkTests
{
    private const string Chosen = "Mi-Primera-Clave-2026";

    [Fact]
    public async Task WelcomeMailLink_SetsPortalAndOdooPassword_Once_SuccessShowsNoPassword()
    {
        await using var h = await OnboardingHarness.StartAsync(nodes: 1);
        await using var sink = await MailHarness.StartSinkAsync();
        await h.StartSiloAsync("welcome-1", s => MailHarness.PointAt(s, sink));
        await h.RegisterNodesAsync("pve1");
        const string owner = "owner@bienvenido.example.com";

        using var payer = h.Web.Client();
        var signed = await h.SignUpAndPayAsync("bienvenido", client: payer);
        var generated = h.Web.Services.GetRequiredService<SecretProtector>().Unprotect(
            await h.Db.ScalarAsync<string>($"SELECT odoo_password_protected FROM tenants WHERE id = '{signed.TenantId}'"), TenantGrainPurpose)!;

        // The paying browser sees its login and where the link went; nobody sees a password, on the page or in the API.
        var status = await StatusAsync(payer, signed.SessionId);
        Assert.Equal(owner, status.GetProperty("login").GetString());
        Assert.Contains($"Te hemos enviado un correo a {owner}", status.GetProperty("signInNote").GetString(), StringComparison.Ordinal);
        Assert.False(status.TryGetProperty("password", out _));
        var page = await payer.GetStringAsync($"/success?session_id={signed.SessionId}");
        Assert.DoesNotContain(generated, page, StringComparison.Ordinal);
        Assert.Contains("con un enlace para elegir tu contraseña", page, StringComparison.Ordinal);
        using (var stranger = h.Web.Client())
        {
            var seen = await StatusAsync(stranger, signed.SessionId);
            Assert.Equal(JsonValueKind.Null, seen.GetProperty("login").ValueKind);
            Assert.DoesNotContain(owner, await stranger.GetStringAsync($"/success?session_id={signed.SessionId}"), StringComparison.Ordinal);
        }

        await OnboardingHarness.WaitAsync(() => Task.FromResult(sink.Messages.Count >= 1), "the welcome mail", 60);
        var mail = Assert.Single(sink.Messages);
        Assert.Equal([owner], mail.To);
        Assert.DoesNotContain(generated, mail.Text, StringComparison.Ordinal);
        Assert.Contains("caduca en 7 días", mail.Text, StringComparison.Ordinal);
        var link = PasswordResetTests.LinkPattern().Match(mail.Text ?? "");
        Assert.True(link.Success, mail.Text);
        Assert.Equal(h.Web.BaseUrl, link.Groups[1].Value);
        var token = link.Groups[2].Value;

        // The page the link opens speaks of a first password; a tampered token is refused and spends nothing.
        using var browser = h.Web.Client();
        Assert.Contains("Elige tu contraseña", await browser.GetStringAsync($"/contrasena/nueva?t={token}"), StringComparison.Ordinal);
        var tampered = token[..^2] + (token[^2] == 'A' ? "B" : "A") + token[^1];
        var forged = await browser.PostAsJsonAsync("/api/auth/password/reset", new { token = tampered, newPassword = Chosen });
        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        Assert.Contains(PasswordReset.InvalidLinkText, await forged.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var form = $"/contrasena/nueva?t={token}";
        var done = await browser.SubmitFormAsync(form, form, new() { ["t"] = token, ["NewPassword"] = Chosen, ["Repeat"] = Chosen });
        Assert.Contains("Tu contraseña está guardada", await done.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        using (var portal = h.Web.Client())
        {
            Assert.True((await portal.LoginAsync(owner, Chosen, "tenant")).IsSuccessStatusCode);
        }

        // The Odoo administrator follows: the grain sets it through Odoo's own RPC, and the real client signs in with it.
        using var http = new HttpClient();
        var odoo = new OdooClient(http, new OdooClientOptions { BaseUrl = h.Odoo.BaseUrl, MasterPassword = h.Odoo.MasterPassword }, NullLogger<OdooClient>.Instance);
        await OnboardingHarness.WaitAsync(async () => await odoo.AuthenticateAsync("bienvenido", owner, Chosen) is not null, "the Odoo administrator's new password", 60);
        Assert.Null(await odoo.AuthenticateAsync("bienvenido", owner, generated));
        await OnboardingHarness.WaitAsync(async () => await h.Db.ScalarAsync<long>(
            $"SELECT count(*) FROM grain_events WHERE grain_type = 'tenant' AND grain_key = '{signed.TenantId}' AND reason LIKE '%administrador de Odoo%'") >= 2,
            "the history of the password change", 30);

        // Used once: the same link again changes nothing.
        var again = await browser.PostAsJsonAsync("/api/auth/password/reset", new { token, newPassword = "Otra-Clave-2026-Nueva" });
        Assert.Equal(HttpStatusCode.BadRequest, again.StatusCode);
        Assert.Contains(PasswordReset.InvalidLinkText, await again.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.True((await h.Web.Client().LoginAsync(owner, Chosen, "tenant")).IsSuccessStatusCode);

        // Expired: a genuine link past its date says so, and points to "forgot password".
        var stale = WelcomeLink.Mint(h.Web.Services.GetRequiredService<SecretProtector>(), signed.TenantId, owner, DateTimeOffset.UtcNow.AddMinutes(-1));
        var expired = await browser.PostAsJsonAsync("/api/auth/password/reset", new { token = stale, newPassword = "Otra-Clave-2026-Nueva" });
        Assert.Equal(HttpStatusCode.BadRequest, expired.StatusCode);
        Assert.Contains(PasswordReset.ExpiredWelcomeText, await expired.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // A genuine link for another tenant's address opens nothing.
        var crossed = WelcomeLink.Mint(h.Web.Services.GetRequiredService<SecretProtector>(), "t_otro", owner, DateTimeOffset.UtcNow.AddDays(1));
        Assert.Equal(HttpStatusCode.BadRequest, (await browser.PostAsJsonAsync("/api/auth/password/reset", new { token = crossed, newPassword = "Otra-Clave-2026-Nueva" })).StatusCode);
        Assert.True((await h.Web.Client().LoginAsync(owner, Chosen, "tenant")).IsSuccessStatusCode);
    }

    private const string TenantGrainPurpose = SetOdooPassword.Purpose;

    private static async Task<JsonElement> StatusAsync(HttpClient client, string sessionId)
    {
        var response = await client.GetAsync($"/api/onboarding/status?session_id={sessionId}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }
}
