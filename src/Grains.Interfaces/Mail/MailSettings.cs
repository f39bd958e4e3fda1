using System.Text.Json;
using Npgsql;

namespace Sajet.Grains.Interfaces.Mail;

/// <summary>
/// The SMTP server as the operator saved it on the admin settings page: the <c>mail.*</c> keys of the settings table.
/// A key never saved is null, and the silo's MailOptions fill it in. The one owner of that SQL: the page writes here and
/// the silos' mail sender reads here, once per batch, so a saved change applies to the next mail without a restart.
/// The password is stored only in its SecretProtector form (purpose <see cref="PasswordPurpose"/>), as Proxmox tokens are.
/// </summary>
public sealed record MailSettings(string? Host, int? Port, string? Tls, string? User, string? PasswordProtected, string? From)
{
    public const string HostKey = "mail.host";
    public const string PortKey = "mail.port";
    public const string TlsKey = "mail.tls";
    public const string UserKey = "mail.user";
    public const string PasswordKey = "mail.password_protected";
    public const string FromKey = "mail.from";

    /// <summary>
    /// The channel the silos' mail senders LISTEN on: new mail NOTIFYs it on commit, and so does a save of these settings
    /// (mail that waited for a server leaves at once).
    /// </summary>
    public const string Channel = "sajet_mail";

    /// <summary>SecretProtector purpose of the SMTP password in the settings table.</summary>
    public const string PasswordPurpose = "smtp-password";

    private const string ReadSql = """
        SELECT (SELECT value #>> '{}' FROM settings WHERE key = 'mail.host'),
               (SELECT (value #>> '{}')::int FROM settings WHERE key = 'mail.port'),
               (SELECT value #>> '{}' FROM settings WHERE key = 'mail.tls'),
               (SELECT value #>> '{}' FROM settings WHERE key = 'mail.user'),
               (SELECT value #>> '{}' FROM settings WHERE key = 'mail.password_protected'),
               (SELECT value #>> '{}' FROM settings WHERE key = 'mail.from')
        """;

    private const string UpsertSql = """
        INSERT INTO settings (key, value) VALUES (@key, @value::jsonb)
        ON CONFLICT (key) DO UPDATE SET value = excluded.value
        """;

    public static async Task<MailSettings> ReadAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(ReadSql, conn, tx);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        await r.ReadAsync(ct);
        string? Text(int i) => r.IsDBNull(i) ? null : r.GetString(i);
        return new MailSettings(Text(0), r.IsDBNull(1) ? null : r.GetInt32(1), Text(2), Text(3), Text(4), Text(5));
    }

    /// <summary>Writes every key; an empty user or password is stored empty (the operator removed it), not left unset.</summary>
    public async Task WriteAsync(NpgsqlConnection conn, NpgsqlTransaction tx, CancellationToken ct)
    {
        foreach (var (key, value) in new (string, object?)[]
        {
            (HostKey, Host), (PortKey, Port), (TlsKey, Tls), (UserKey, User ?? ""), (PasswordKey, PasswordProtected ?? ""), (FromKey, From),
        })
        {
            await using var cmd = new NpgsqlCommand(UpsertSql, conn, tx);
            cmd.Parameters.AddWithValue("key", key);
            cmd.Parameters.AddWithValue("value", JsonSerializer.Serialize(value));
            await cmd.ExecuteNonQueryAsync(ct);
        }

        await using var notify = new NpgsqlCommand($"SELECT pg_notify('{Channel}', '')", conn, tx);
        await notify.ExecuteNonQueryAsync(ct);
    }
}
