using System.ComponentModel.DataAnnotations;
using MimeKit;

namespace Sajet.Integrations.Mail;

/// <summary>The SMTP server's TLS modes, as stored in settings and configuration.</summary>
public static class MailTls
{
    public const string None = "none";
    public const string StartTls = "starttls";
    public const string Tls = "tls";

    public static readonly IReadOnlyList<string> All = [None, StartTls, Tls];
}

/// <summary>
/// The SMTP server mail goes through, section "Mail". These are the defaults: what an operator saves on the admin
/// settings page (the settings table's <c>mail.*</c> keys) wins key by key, so a deploy needs no restart to change it.
/// An empty <see cref="Host"/> means mail is not configured: it waits in the outbox until it is.
/// </summary>
public sealed class MailOptions : IValidatableObject
{
    public const string Section = "Mail";

    public string Host { get; set; } = "";

    [Range(1, 65535)]
    public int Port { get; set; } = 587;

    /// <summary><see cref="MailTls"/>: none, starttls (the submission port's usual) or tls (implicit, port 465).</summary>
    public string Tls { get; set; } = MailTls.StartTls;

    public string User { get; set; } = "";

    /// <summary>From configuration (an environment variable, a secret store); never logged.</summary>
    public string Password { get; set; } = "";

    public string From { get; set; } = "Sajet <no-reply@sajet.local>";

    /// <summary>Connecting, authenticating and each command; a server slower than this counts as a failed attempt.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!MailTls.All.Contains(Tls))
        {
            yield return new ValidationResult($"Mail:Tls must be one of {string.Join(", ", MailTls.All)}.", [nameof(Tls)]);
        }

        if (!MailAddresses.IsMailbox(From))
        {
            yield return new ValidationResult("Mail:From must be a mail address, optionally with a display name (\"Sajet <no-reply@example.com>\").", [nameof(From)]);
        }
    }
}

public static class MailAddresses
{
    /// <summary>One mailbox ("a@b.c" or "Name &lt;a@b.c&gt;") with a domain: what a From or a To may hold.</summary>
    public static bool IsMailbox(string? text) =>
        !string.IsNullOrWhiteSpace(text) && MailboxAddress.TryParse(text.Trim(), out var address)
        && address.Address.IndexOf('@', StringComparison.Ordinal) is > 0 and var at && at < address.Address.Length - 1;
}
