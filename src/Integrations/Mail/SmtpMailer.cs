using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;

namespace Sajet.Integrations.Mail;

/// <summary>Where and how to send, after the settings page's values were laid over <see cref="MailOptions"/>.</summary>
public sealed record SmtpServer(string Host, int Port, string Tls, string User, string Password, string From, TimeSpan Timeout)
{
    public bool Configured => Host.Length > 0;

    // The password stays out of logs and exceptions that print the record.
    public override string ToString() => $"{Host}:{Port} ({Tls}{(User.Length > 0 ? ", user " + User : "")})";
}

/// <summary>A mail as the outbox holds it, ready to become a MIME message.</summary>
public sealed record OutgoingMail(string MessageId, IReadOnlyList<string> To, string Subject, string Text, string Html, DateTimeOffset Date);

/// <summary>
/// One SMTP connection (MailKit), for a batch of mails. <see cref="SendAsync"/> returns once the server accepted the
/// message's DATA: that is the moment a mail counts as sent.
/// </summary>
public sealed class SmtpMailer : IAsyncDisposable
{
    private readonly SmtpClient _client = new();
    private readonly SmtpServer _server;

    private SmtpMailer(SmtpServer server)
    {
        _server = server;
        _client.Timeout = (int)server.Timeout.TotalMilliseconds;
    }

    public static async Task<SmtpMailer> ConnectAsync(SmtpServer server, CancellationToken ct)
    {
        var mailer = new SmtpMailer(server);
        try
        {
            var tls = server.Tls switch
            {
                MailTls.Tls => SecureSocketOptions.SslOnConnect,
                MailTls.StartTls => SecureSocketOptions.StartTls,
                _ => SecureSocketOptions.None,
            };
            await mailer._client.ConnectAsync(server.Host, server.Port, tls, ct);
            if (server.User.Length > 0)
            {
                await mailer._client.AuthenticateAsync(server.User, server.Password, ct);
            }

            return mailer;
        }
        catch
        {
            await mailer.DisposeAsync();
            throw;
        }
    }

    /// <summary>A connection the server dropped (after a refused message, say) cannot carry the next one.</summary>
    public bool Connected => _client.IsConnected;

    public async Task SendAsync(OutgoingMail mail, CancellationToken ct) => await _client.SendAsync(ToMime(mail, _server.From), ct);

    /// <summary>Text and HTML as multipart/alternative, with the outbox's Message-Id so a resend is the same message.</summary>
    public static MimeMessage ToMime(OutgoingMail mail, string from)
    {
        var message = new MimeMessage { Subject = mail.Subject, Date = mail.Date, MessageId = mail.MessageId.Trim('<', '>') };
        message.From.Add(MailboxAddress.Parse(from));
        foreach (var to in mail.To)
        {
            message.To.Add(MailboxAddress.Parse(to));
        }

        message.Body = new BodyBuilder { TextBody = mail.Text, HtmlBody = mail.Html }.ToMessageBody();
        return message;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_client.IsConnected)
            {
                using var quit = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await _client.DisconnectAsync(true, quit.Token);
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or SmtpProtocolException or SmtpCommandException)
        {
            // The mails were already accepted or not; a failed QUIT changes neither.
        }

        _client.Dispose();
    }
}
