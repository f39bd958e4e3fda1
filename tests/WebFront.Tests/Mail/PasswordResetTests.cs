using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Sajet.WebFront.Auth;
using Sajet.WebFront.Tests.Onboarding;

namespace Sajet.WebFront.Tests.Mail;

/// <summary>
/// "Forgot password" end to end: the web front asks a silo to mail a single-use link, the SMTP sink receives it, and the
/// link sets the customer's password once, ends the account's sessions, and is refused when spent or expired.
/// </summary>
public sealed partial class PasswordResetTests
{
    private const string NewPassword = "Nueva-Contraseña-2026";

    /// <summary>A mailed /contrasena/nueva link: its base and its token (reset and welcome links alike).</summary>
    [GeneratedRegex(@"(https?://\S+?)/contrasena/nueva\?t=([A-Za-z0-9_-]+)")]
    internal static partial Regex LinkPattern();

    [Fact]
    public async Task MailedLink_SetsThePasswordOnce_EndsTheSessions_SpentExpiredAndUnknownRefused()
    {
        await using var h = await OnboardingHarness.StartAsync(nodes: 1);
        await using var sink = await MailHarness.StartSinkAsync();
        await h.StartSiloAsync("reset-1", s => MailHarness.PointAt(s, sink));
        await h.ClusterConnectedAsync();
        await h.SignUpAsync("olvido");
        const string owner = "owner@olvido.example.com";
        var client = h.Web.Client();

        // An address without an account gets the same answer and no mail; a malformed one a Spanish error.
        Assert.Equal(HttpStatusCode.Accepted, (await client.PostAsJsonAsync("/api/auth/password/forgot", new { email = "nadie@example.com" })).StatusCode);
        var bad = await client.PostAsJsonAsync("/api/auth/password/forgot", new { email = "sin-arroba" });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("Escribe la dirección de correo", await bad.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        Assert.Equal(HttpStatusCode.Accepted, (await client.PostAsJsonAsync("/api/auth/password/forgot", new { email = owner })).StatusCode);
        await OnboardingHarness.WaitAsync(() => Task.FromResult(sink.Messages.Count >= 1), "the reset mail", 60);
        await Task.Delay(300); // Room for a (wrong) mail to the unknown address.
        var mail = Assert.Single(sink.Messages);
        Assert.Equal([owner], mail.To);
        Assert.Equal("Restablece tu contraseña de Sajet", mail.Subject);
        var link = LinkPattern().Match(mail.Text ?? "");
        Assert.True(link.Success, mail.Text);
        // The configured address, never the request's Host header.
        Assert.Equal(h.Web.BaseUrl.TrimEnd('/'), link.Groups[1].Value);
        var token = link.Groups[2].Value;
        Assert.Contains("caduca en 60 minutos", mail.Text, StringComparison.Ordinal);

        // A weak password is refused and leaves the link unspent.
        var weak = await client.PostAsJsonAsync("/api/auth/password/reset", new { token, newPassword = "corta" });
        Assert.Equal(HttpStatusCode.BadRequest, weak.StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await client.PostAsJsonAsync("/api/auth/password/reset", new { token, newPassword = NewPassword })).StatusCode);
        var customer = h.Web.Client();
        Assert.Equal(HttpStatusCode.OK, (await customer.PostAsJsonAsync("/api/auth/login", new { email = owner, password = NewPassword, role = "tenant" })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await customer.GetAsync("/api/auth/me")).StatusCode);

        // Spent: the same link again changes nothing.
        var again = await client.PostAsJsonAsync("/api/auth/password/reset", new { token, newPassword = "Otra-Contraseña-2026" });
        Assert.Equal(HttpStatusCode.BadRequest, again.StatusCode);
        Assert.Contains(PasswordReset.InvalidLinkText, await again.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // A second link ends the session the first password opened, at once.
        Assert.Equal(HttpStatusCode.Accepted, (await client.PostAsJsonAsync("/api/auth/password/forgot", new { email = owner })).StatusCode);
        await OnboardingHarness.WaitAsync(() => Task.FromResult(sink.Messages.Count >= 2), "the second reset mail", 60);
        var second = LinkPattern().Match(sink.Messages[1].Text ?? "").Groups[2].Value;
        Assert.NotEqual(token, second);
        Assert.Equal(HttpStatusCode.NoContent, (await client.PostAsJsonAsync("/api/auth/password/reset", new { token = second, newPassword = "Segunda-Contraseña-2026" })).StatusCode);
        await OnboardingHarness.WaitAsync(async () => (await customer.GetAsync("/api/auth/me")).StatusCode == HttpStatusCode.Unauthorized, "the old session refused", 10);
        Assert.Equal(HttpStatusCode.Unauthorized, (await h.Web.Client().PostAsJsonAsync("/api/auth/login", new { email = owner, password = NewPassword, role = "tenant" })).StatusCode);

        // Expired: a third link, past its hour.
        Assert.Equal(HttpStatusCode.Accepted, (await client.PostAsJsonAsync("/api/auth/password/forgot", new { email = owner })).StatusCode);
        await OnboardingHarness.WaitAsync(() => Task.FromResult(sink.Messages.Count >= 3), "the third reset mail", 60);
        var third = LinkPattern().Match(sink.Messages[2].Text ?? "").Groups[2].Value;
        await using (var cmd = h.Db.DataSource.CreateCommand("UPDATE password_resets SET expires_at = now() - interval '1 minute' WHERE used_at IS NULL"))
        {
            Assert.Equal(1, await cmd.ExecuteNonQueryAsync());
        }

        var expired = await client.PostAsJsonAsync("/api/auth/password/reset", new { token = third, newPassword = "Otra-Contraseña-2026" });
        Assert.Equal(HttpStatusCode.BadRequest, expired.StatusCode);
        Assert.Contains(PasswordReset.InvalidLinkText, await expired.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // The same through the pages a customer clicks: the login form's link, the request form, the mailed link's form.
        var browser = h.Web.Client();
        Assert.Contains("href=\"/contrasena/olvidada\"", await (await browser.GetAsync("/login/tenant")).Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var sent = await browser.SubmitFormAsync("/contrasena/olvidada", "/contrasena/olvidada", new() { ["Email"] = owner });
        Assert.Contains(PasswordReset.SentText, await sent.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        await OnboardingHarness.WaitAsync(() => Task.FromResult(sink.Messages.Count >= 4), "the fourth reset mail", 60);
        var fourth = LinkPattern().Match(sink.Messages[3].Text ?? "").Groups[2].Value;
        var page = $"/contrasena/nueva?t={fourth}";
        var mismatch = await browser.SubmitFormAsync(page, page, new() { ["t"] = fourth, ["NewPassword"] = "Por-Pagina-2026", ["Repeat"] = "Por-Pagina-2027" });
        Assert.Contains("Las dos contraseñas no coinciden.", await mismatch.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var done = await browser.SubmitFormAsync(page, page, new() { ["t"] = fourth, ["NewPassword"] = "Por-Pagina-2026", ["Repeat"] = "Por-Pagina-2026" });
        Assert.Contains("Tu contraseña ha cambiado", await done.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await h.Web.Client().PostAsJsonAsync("/api/auth/login", new { email = owner, password = "Por-Pagina-2026", role = "tenant" })).StatusCode);

        Assert.Equal(4, await h.Db.ScalarAsync<long>("SELECT count(*) FROM mail_outbox WHERE template = 'account.password-reset'"));
        Assert.Equal(3, await h.Db.ScalarAsync<long>("SELECT count(*) FROM audit_log WHERE kind = 'auth.password_reset'"));
        Assert.Equal(1, await h.Db.ScalarAsync<long>("SELECT count(*) FROM audit_log WHERE kind = 'auth.password_reset_unknown'"));
    }
}
