using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using Sajet.Grains.Interfaces.Mail;
using Sajet.Integrations.Mail;

namespace Sajet.WebFront.Settings;

/// <summary>
/// The SMTP server as the settings page shows it: what the operator saved, else the MailOptions every process reads from
/// configuration. The password itself never leaves the server: the page learns only whether there is one.
/// </summary>
public sealed record MailServerView(string Host, int Port, string Tls, string User, string From, bool HasPassword)
{
    public static MailServerView Of(MailSettings saved, MailOptions defaults) => new(
        saved.Host ?? defaults.Host, saved.Port ?? defaults.Port, saved.Tls ?? defaults.Tls, saved.User ?? defaults.User, saved.From ?? defaults.From,
        saved.PasswordProtected is { } p ? p.Length > 0 : defaults.Password.Length > 0);

    /// <summary>What the audit records of a save: everything but the password, of which only whether one is set.</summary>
    public object Audited => new { Host, Port, Tls, User, From, passwordSet = HasPassword };
}

/// <summary>The settings page's mail form: parsed and checked in Spanish, nothing stored when anything is off.</summary>
public static partial class MailSettingsInput
{
    [GeneratedRegex(@"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$")]
    private static partial Regex HostName();

    public static readonly IReadOnlyList<(string Value, string Label)> TlsModes =
    [
        (MailTls.StartTls, "STARTTLS (puerto 587)"),
        (MailTls.Tls, "TLS directo (SMTPS, puerto 465)"),
        (MailTls.None, "Sin cifrar (solo en una red de confianza)"),
    ];

    /// <summary>
    /// Checks the form. A blank password keeps the stored one (the page never shows it, so it cannot be sent back);
    /// <paramref name="clearPassword"/> removes it. Returns what to store, with the password already given as the new
    /// plain value (null: keep, "": remove), or null and Spanish messages per field.
    /// </summary>
    public static (MailSettings Settings, string? NewPassword)? Parse(string? host, string? port, string? tls, string? user, string? password, bool clearPassword,
        string? from, Dictionary<string, string> errors)
    {
        var h = host?.Trim() ?? "";
        if (h.Length > 0 && !HostName().IsMatch(h) && !IPAddress.TryParse(h, out _))
        {
            errors["mailHost"] = "El servidor debe ser un nombre de máquina o una dirección IP (p. ej. smtp.ejemplo.com), o quedar vacío para no enviar correo.";
        }

        var p = int.TryParse(port?.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n is >= 1 and <= 65535 ? n : (int?)null;
        if (p is null)
        {
            errors["mailPort"] = "El puerto debe ser un número entero entre 1 y 65535.";
        }

        if (tls is null || !MailTls.All.Contains(tls))
        {
            errors["mailTls"] = "El cifrado debe ser STARTTLS, TLS directo o sin cifrar.";
        }

        var u = user?.Trim() ?? "";
        if (u.Length > 254 || u.Any(char.IsControl))
        {
            errors["mailUser"] = "El usuario no puede tener más de 254 caracteres ni saltos de línea.";
        }

        var newPassword = clearPassword ? "" : string.IsNullOrEmpty(password) ? null : password;
        if (newPassword is { Length: > 256 } || (newPassword?.Any(char.IsControl) ?? false))
        {
            errors["mailPassword"] = "La contraseña no puede tener más de 256 caracteres ni saltos de línea.";
        }
        else if (newPassword is { Length: > 0 } && u.Length == 0)
        {
            errors["mailPassword"] = "Indica también el usuario: la contraseña solo se usa con él.";
        }

        var f = from?.Trim() ?? "";
        if (!MailAddresses.IsMailbox(f) || f.Length > 300)
        {
            errors["mailFrom"] = "El remitente debe ser una dirección de correo, con un nombre delante si quieres (p. ej. Sajet <no-reply@ejemplo.com>).";
        }

        return errors.Count > 0 ? null : (new MailSettings(h, p!.Value, tls!, u, null, f), newPassword);
    }
}

public static class MailSettingsServiceCollectionExtensions
{
    /// <summary>The SMTP defaults from configuration (section "Mail"), which the settings page shows under what was saved.</summary>
    public static IServiceCollection AddSajetMailSettings(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<MailOptions>().Bind(configuration.GetSection(MailOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        return services;
    }
}
