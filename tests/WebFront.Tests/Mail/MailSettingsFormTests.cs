using System.Net;
using Sajet.Grains.Interfaces.Mail;
using Sajet.Persistence.Secrets;
using Sajet.WebFront.Tests.Admin;

namespace Sajet.WebFront.Tests.Mail;

/// <summary>The settings page's mail form: refusals in Spanish that store nothing, and a password stored encrypted and never shown back.</summary>
public sealed class MailSettingsFormTests(WebFixture fx) : IClassFixture<WebFixture>
{
    private const string MailSettingsSql = "SELECT coalesce(string_agg(key || '=' || value::text, ';' ORDER BY key), '') FROM settings WHERE key LIKE 'mail.%'";
    private const string Secret = "pw-Ñandú-never-shown-7f3a";

    private SajetWebFactory App => fx.Factory;

    private static Dictionary<string, string> Form(string host = "smtp.ejemplo.com", string port = "587", string tls = "starttls", string user = "envios",
        string password = "", string from = "Sajet <no-reply@ejemplo.com>", bool clear = false)
    {
        var form = new Dictionary<string, string>
        {
            ["Mail.Host"] = host,
            ["Mail.Port"] = port,
            ["Mail.Tls"] = tls,
            ["Mail.User"] = user,
            ["Mail.Password"] = password,
            ["Mail.From"] = from,
        };
        if (clear)
        {
            form["Mail.ClearPassword"] = "true";
        }

        return form;
    }

    private async Task<HttpResponseMessage> PostAsync(Dictionary<string, string> form) =>
        await (await App.AdminClientAsync()).SubmitFormAsync("/admin/settings", "/admin/settings?handler=Mail", form);

    [Theory]
    [InlineData("smtp ejemplo", "587", "starttls", "", "Sajet <a@b.es>", "mailHost", "El servidor debe ser un nombre de máquina o una dirección IP (p. ej. smtp.ejemplo.com), o quedar vacío para no enviar correo.")]
    [InlineData("smtp.ejemplo.com", "0", "starttls", "", "Sajet <a@b.es>", "mailPort", "El puerto debe ser un número entero entre 1 y 65535.")]
    [InlineData("smtp.ejemplo.com", "70000", "starttls", "", "Sajet <a@b.es>", "mailPort", "El puerto debe ser un número entero entre 1 y 65535.")]
    [InlineData("smtp.ejemplo.com", "587", "ssl3", "", "Sajet <a@b.es>", "mailTls", "El cifrado debe ser STARTTLS, TLS directo o sin cifrar.")]
    [InlineData("smtp.ejemplo.com", "587", "starttls", "", "no es un correo", "mailFrom", "El remitente debe ser una dirección de correo, con un nombre delante si quieres (p. ej. Sajet <no-reply@ejemplo.com>).")]
    [InlineData("smtp.ejemplo.com", "587", "starttls", "", "Sajet <sin-dominio@>", "mailFrom", "El remitente debe ser una dirección de correo, con un nombre delante si quieres (p. ej. Sajet <no-reply@ejemplo.com>).")]
    public async Task Mail_InvalidField_IsRefusedInSpanish_AndNothingIsStored(string host, string port, string tls, string user, string from, string field, string message)
    {
        var before = await App.ScalarAsync<string>(MailSettingsSql);
        var audited = await App.ScalarAsync<long>("SELECT count(*) FROM audit_log WHERE kind = 'settings.mail.change'");
        var response = await PostAsync(Form(host, port, tls, user, Secret, from));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var raw = await response.Content.ReadAsStringAsync();
        var html = WebUtility.HtmlDecode(raw);
        Assert.Contains($"data-testid=\"error-{field}\">{message}<", html, StringComparison.Ordinal);
        Assert.Contains("data-testid=\"mail-error\"", html, StringComparison.Ordinal);
        // A refused form shows what was typed back, except the password.
        Assert.DoesNotContain(Secret, html, StringComparison.Ordinal);
        Assert.Equal(before, await App.ScalarAsync<string>(MailSettingsSql));
        Assert.Equal(audited, await App.ScalarAsync<long>("SELECT count(*) FROM audit_log WHERE kind = 'settings.mail.change'"));
    }

    [Fact]
    public async Task Mail_PasswordWithoutUser_IsRefused()
    {
        var html = WebUtility.HtmlDecode(await (await PostAsync(Form(user: "", password: Secret))).Content.ReadAsStringAsync());
        Assert.Contains("data-testid=\"error-mailPassword\">Indica también el usuario: la contraseña solo se usa con él.<", html, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Mail_Saved_PasswordEncryptedAtRest_NeverRendered_KeptWhenBlank_RemovedOnRequest()
    {
        var saved = await PostAsync(Form(host: "smtp.ejemplo.com", port: "465", tls: "tls", password: Secret));
        Assert.Equal(HttpStatusCode.Redirect, saved.StatusCode);

        var stored = await App.ScalarAsync<string>($"SELECT value #>> '{{}}' FROM settings WHERE key = '{MailSettings.PasswordKey}'");
        Assert.StartsWith("v1.", stored);
        Assert.DoesNotContain(Secret, await App.ScalarAsync<string>("SELECT string_agg(value::text, ';') FROM settings"), StringComparison.Ordinal);
        Assert.Equal(Secret, new SecretProtector(SajetWebFactory.JwtSecretKey).Unprotect(stored, MailSettings.PasswordPurpose));
        Assert.Equal("465", await App.ScalarAsync<string>($"SELECT value::text FROM settings WHERE key = '{MailSettings.PortKey}'"));

        var admin = await App.AdminClientAsync();
        var page = await admin.GetStringAsync("/admin/settings");
        Assert.DoesNotContain(Secret, WebUtility.HtmlDecode(page), StringComparison.Ordinal);
        Assert.DoesNotContain(stored, page, StringComparison.Ordinal);
        Assert.Contains("name=\"Mail.Password\" type=\"password\" value=\"\"", page, StringComparison.Ordinal);
        Assert.Contains("Hay una contraseña guardada", WebUtility.HtmlDecode(page), StringComparison.Ordinal);
        Assert.Contains("value=\"smtp.ejemplo.com\" autocomplete=\"off\" data-testid=\"mail-host\"", page, StringComparison.Ordinal);

        var audit = await App.ScalarAsync<string>("SELECT detail::text FROM audit_log WHERE kind = 'settings.mail.change' ORDER BY id DESC LIMIT 1");
        Assert.Contains("\"passwordChanged\": true", audit, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, audit, StringComparison.Ordinal);
        Assert.DoesNotContain(stored, audit, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, await File.ReadAllTextAsync(Path.Combine(App.AuditDirectory, "security_audit.log")), StringComparison.Ordinal);

        // Blank keeps it (the page cannot send it back); the checkbox removes it.
        Assert.Equal(HttpStatusCode.Redirect, (await PostAsync(Form(host: "smtp2.ejemplo.com"))).StatusCode);
        Assert.Equal(stored, await App.ScalarAsync<string>($"SELECT value #>> '{{}}' FROM settings WHERE key = '{MailSettings.PasswordKey}'"));
        Assert.Equal(HttpStatusCode.Redirect, (await PostAsync(Form(clear: true))).StatusCode);
        Assert.Equal("", await App.ScalarAsync<string>($"SELECT value #>> '{{}}' FROM settings WHERE key = '{MailSettings.PasswordKey}'"));
        Assert.Contains("No hay contraseña guardada.", WebUtility.HtmlDecode(await admin.GetStringAsync("/admin/settings")), StringComparison.Ordinal);
    }
}
