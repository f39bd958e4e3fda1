using System.ComponentModel.DataAnnotations;
using MailKit;
using MailKit.Net.Smtp;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Sajet.Grains.Interfaces.Mail;
using Sajet.Integrations.Mail;
using Sajet.Persistence.Secrets;

namespace Sajet.Grains.Mail;

/// <summary>How the silos send the mail outbox. Section "MailOutbox".</summary>
public sealed class MailOutboxOptions
{
    public const string Section = "MailOutbox";

    /// <summary>
    /// Safety-net poll, and how soon a retry that came due is picked up: new mail wakes the senders at once (NOTIFY on
    /// commit), so an idle silo costs one statement per interval.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:10:00")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a claimed batch is this silo's; a silo that dies mid-batch loses its rows to another after this.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan Lease { get; set; } = TimeSpan.FromMinutes(5);

    [Range(1, 500)]
    public int BatchSize { get; set; } = 20;

    /// <summary>First retry delay; doubled per attempt with ±20 % jitter, up to <see cref="MaxBackoff"/>.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00")]
    public TimeSpan BackoffBase { get; set; } = TimeSpan.FromSeconds(30);

    [Range(typeof(TimeSpan), "00:00:00.010", "1.00:00:00")]
    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Attempts before a mail is given up ("dead", shown on /admin/logs with its last error).</summary>
    [Range(1, 100)]
    public int MaxAttempts { get; set; } = 20;
}

/// <summary>
/// Sends the mail outbox from every silo: claims a batch (SKIP LOCKED, so silos never wait on each other nor take the
/// same row), sends it over one SMTP connection, and marks each row sent as soon as the server accepted its DATA — the
/// window in which a crash makes a resend is that one round trip, and the resend carries the same Message-Id. A failure
/// keeps its error and is retried with exponential backoff until the attempt budget, then the row is given up. New mail
/// wakes the senders through LISTEN; the poll is the safety net and picks up retries that came due.
/// </summary>
public sealed class MailSender(NpgsqlDataSource db, SecretProtector secrets, IOptions<MailOptions> mail, IOptions<MailOutboxOptions> options,
    TimeProvider time, ILogger<MailSender> logger) : BackgroundService
{
    private readonly SemaphoreSlim _wake = new(0);
    private bool _warnedUnconfigured;

    private MailOutboxOptions Options => options.Value;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _ = ListenAsync(stoppingToken);
        while (!stoppingToken.IsCancellationRequested)
        {
            var sent = 0;
            try
            {
                sent = await SendBatchAsync(stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning("Mail pass failed: {Error}", ex.Message);
            }

            if (sent < Options.BatchSize)
            {
                try
                {
                    await _wake.WaitAsync(Jitter(Options.PollInterval), stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                // Coalesce a burst of wake-ups into one pass.
                while (_wake.CurrentCount > 0)
                {
                    await _wake.WaitAsync(stoppingToken);
                }
            }
        }
    }

    /// <summary>One pass: claim, send, finish. Returns how many rows were claimed.</summary>
    public async Task<int> SendBatchAsync(CancellationToken ct)
    {
        // The claim first: an idle pass is this one statement, the settings are read only when there is mail.
        var claimed = await MailOutbox.ClaimAsync(db, Options.BatchSize, Options.Lease, ct);
        if (claimed.Count == 0)
        {
            return 0;
        }

        SmtpServer server;
        try
        {
            server = await ServerAsync(ct);
        }
        catch (InvalidOperationException ex)
        {
            // A stored password this silo cannot decrypt: every claimed mail keeps the reason, for /admin/logs.
            foreach (var mail in claimed)
            {
                await FailAsync(mail, null, ex);
            }

            return claimed.Count;
        }

        if (!server.Configured)
        {
            // Handed back with no attempt spent: the mail waits until an operator configures the server.
            await MailOutbox.ReleaseAsync(db, claimed, Options.PollInterval, CancellationToken.None);
            if (!_warnedUnconfigured)
            {
                logger.LogWarning("Mail is not configured (no SMTP host); {Count} mails wait in the outbox until it is", claimed.Count);
                _warnedUnconfigured = true;
            }

            return 0;
        }

        _warnedUnconfigured = false;

        SmtpMailer? mailer = null;
        try
        {
            foreach (var mail in claimed)
            {
                try
                {
                    if (mailer is not { Connected: true })
                    {
                        if (mailer is not null)
                        {
                            await mailer.DisposeAsync();
                        }

                        mailer = null;
                        mailer = await SmtpMailer.ConnectAsync(server, ct);
                    }

                    await mailer.SendAsync(new OutgoingMail(mail.MessageId, mail.To, mail.Subject, mail.Text, mail.Html, mail.CreatedAt), ct);
                }
                catch (Exception ex) when (!ct.IsCancellationRequested)
                {
                    await FailAsync(mail, server, ex);
                    if (ex is not SmtpCommandException)
                    {
                        // The connection itself failed (refused, dropped, timed out): a new one for the next mail.
                        if (mailer is not null)
                        {
                            await mailer.DisposeAsync();
                        }

                        mailer = null;
                    }

                    continue;
                }

                // Accepted: recorded at once, with no cancellation, so a stopping silo does not leave it to be sent again.
                if (!await MailOutbox.SentAsync(db, mail, CancellationToken.None))
                {
                    logger.LogWarning("Mail {MessageId} was sent after its lease ran out; another silo may send it again", mail.MessageId);
                }
            }
        }
        finally
        {
            if (mailer is not null)
            {
                await mailer.DisposeAsync();
            }
        }

        return claimed.Count;
    }

    private async Task FailAsync(ClaimedMail mail, SmtpServer? server, Exception ex)
    {
        var error = ex switch
        {
            SmtpCommandException c => $"{(int)c.StatusCode} {c.Message}",
            SmtpProtocolException or ServiceNotConnectedException or IOException => $"Conexión perdida con {server?.Host}:{server?.Port}: {ex.Message}",
            _ => ex.Message,
        };
        var giveUp = mail.Attempts >= Options.MaxAttempts;
        var delay = Backoff(mail.Attempts);
        if (giveUp)
        {
            logger.LogError("Mail {MessageId} given up after {Attempts} attempts: {Error}", mail.MessageId, mail.Attempts, error);
        }
        else
        {
            logger.LogWarning("Mail {MessageId} failed (attempt {Attempts}), retry in {Delay}: {Error}", mail.MessageId, mail.Attempts, delay, error);
        }

        try
        {
            await MailOutbox.FailedAsync(db, mail, error, delay, giveUp, CancellationToken.None);
        }
        catch (Exception recordFailure)
        {
            // The lease runs out anyway and the row is claimed again.
            logger.LogWarning("Could not record a mail failure: {Error}", recordFailure.Message);
        }
    }

    /// <summary>The settings page's values laid over the silo's MailOptions, read for each batch.</summary>
    private async Task<SmtpServer> ServerAsync(CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        var saved = await MailSettings.ReadAsync(conn, null, ct);
        var defaults = mail.Value;
        var password = defaults.Password;
        if (saved.PasswordProtected is { } protectedPassword)
        {
            password = protectedPassword.Length == 0 ? ""
                : secrets.Unprotect(protectedPassword, MailSettings.PasswordPurpose)
                  ?? throw new InvalidOperationException("La contraseña SMTP guardada no se puede descifrar (¿cambió SAJET_SECRET_KEY?); guárdala de nuevo en Ajustes.");
        }

        return new SmtpServer(saved.Host ?? defaults.Host, saved.Port ?? defaults.Port, saved.Tls ?? defaults.Tls, saved.User ?? defaults.User,
            password, saved.From ?? defaults.From, defaults.Timeout);
    }

    private async Task ListenAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await using var conn = await db.OpenConnectionAsync(ct);
                conn.Notification += (_, _) => _wake.Release();
                await using (var listen = new NpgsqlCommand($"LISTEN {MailOutbox.Channel}", conn))
                {
                    await listen.ExecuteNonQueryAsync(ct);
                }

                _wake.Release(); // Mail enqueued while not listening.
                while (!ct.IsCancellationRequested)
                {
                    await conn.WaitAsync(ct);
                }
            }
            catch (Exception ex) when (!ct.IsCancellationRequested)
            {
                logger.LogInformation("Mail listener lost its connection ({Error}); reconnecting", ex.Message);
                try
                {
                    await Task.Delay(Jitter(TimeSpan.FromSeconds(2)), time, ct);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private TimeSpan Backoff(int attempt)
    {
        var ticks = Math.Min(Options.MaxBackoff.Ticks, Options.BackoffBase.Ticks * (1L << Math.Min(attempt - 1, 30)));
        return Jitter(TimeSpan.FromTicks(ticks));
    }

    private static TimeSpan Jitter(TimeSpan t) => t * (0.8 + (Random.Shared.NextDouble() * 0.4));
}
