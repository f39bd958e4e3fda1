using System.Net;
using Sajet.Grains.Mail;
using Sajet.WebFront.Tests.Admin;

namespace Sajet.WebFront.Tests.Mail;

/// <summary>/admin/logs lists the mail outbox under the origin "Correo": recipient, subject, status, attempts and last error.</summary>
public sealed class MailLogsTests(WebFixture fx) : IClassFixture<WebFixture>
{
    private SajetWebFactory App => fx.Factory;

    [Fact]
    public async Task Logs_MailOrigin_ShowsRecipientSubjectStatusAttemptsAndLastError()
    {
        var failing = MailOutbox.StableId("logs-test/failing");
        var sent = MailOutbox.StableId("logs-test/sent");
        await using (var conn = await App.Db.DataSource.OpenConnectionAsync())
        await using (var tx = await conn.BeginTransactionAsync())
        {
            await MailOutbox.EnqueueAsync(conn, tx, failing, MailTemplates.SuspendedMail("Acme <S.L.>", "impago"), ["duena@acme.example.com"], "t-logs", CancellationToken.None);
            await MailOutbox.EnqueueAsync(conn, tx, sent, MailTemplates.ResumedMail("Acme", null), ["duena@acme.example.com"], "t-logs", CancellationToken.None);
            await tx.CommitAsync();
        }

        await App.Db.ExecAsync($"""
            UPDATE mail_outbox SET status = 'dead', attempts = 20, last_error = '550 5.7.1 Simulated rejection' WHERE id = '{failing}';
            UPDATE mail_outbox SET status = 'sent', attempts = 1, sent_at = now() WHERE id = '{sent}';
            """);

        var admin = await App.AdminClientAsync();
        var html = WebUtility.HtmlDecode(await admin.GetStringAsync("/admin/logs?source=mail"));
        Assert.Contains("<option value=\"mail\" selected=\"selected\">Correo</option>", html, StringComparison.Ordinal);
        Assert.Contains("data-testid=\"log-count\">2 eventos", html, StringComparison.Ordinal);
        Assert.Contains("Correo abandonado", html, StringComparison.Ordinal);
        Assert.Contains("Correo enviado", html, StringComparison.Ordinal);
        Assert.Contains("duena@acme.example.com", html, StringComparison.Ordinal);
        Assert.Contains("Tu servicio está suspendido", html, StringComparison.Ordinal);
        Assert.Contains("550 5.7.1 Simulated rejection", html, StringComparison.Ordinal);
        Assert.Contains("Intentos", html, StringComparison.Ordinal);
        Assert.Contains($"<{failing}@sajet.mail>", html, StringComparison.Ordinal);

        var dead = WebUtility.HtmlDecode(await admin.GetStringAsync("/admin/logs?kind=mail.dead&severity=error"));
        Assert.Contains("data-testid=\"log-count\">1 evento", dead, StringComparison.Ordinal);
    }
}
