using System.Security.Cryptography;
using Npgsql;
using Sajet.Grains.Interfaces.Mail;
using Sajet.WebFront.Audit;

namespace Sajet.WebFront.Auth;

/// <summary>
/// "Forgot password" by mail: a single-use link, valid for <see cref="ValidMinutes"/>, sent through the silos' mail
/// outbox. The answer to a request never says whether the address has an account. Setting the new password uses the
/// link up, stores the hash and ends every session of the account in one transaction (whoever knew the old password
/// is out on every web front at once). The one owner of password_resets (sql/0017).
/// </summary>
public sealed class PasswordReset(NpgsqlDataSource db, IClusterClient grains, IConfiguration configuration, AuditLog audit, ILogger<PasswordReset> log)
{
    public const int ValidMinutes = 60;
    public const string InvalidLinkText = "El enlace no es válido, ya se usó o caducó. Pide uno nuevo desde «¿Olvidaste tu contraseña?».";
    public const string SentText = "Si la dirección tiene una cuenta, te hemos enviado un correo con un enlace para elegir una contraseña nueva. Caduca en 60 minutos.";

    private const string InsertSql = "INSERT INTO password_resets (token_hash, user_id, expires_at) VALUES (@hash, @user, now() + make_interval(mins => @minutes))";

    // A link spends itself in the UPDATE that finds it: two requests racing with the same link, only one gets a row.
    private const string UseSql = """
        UPDATE password_resets SET used_at = now()
        WHERE token_hash = @hash AND used_at IS NULL AND expires_at > now()
        RETURNING user_id
        """;

    private string AppUrl => (configuration["APP_URL"] is { Length: > 0 } url ? url : "http://127.0.0.1:4443").TrimEnd('/');

    /// <summary>Sends a link if <paramref name="email"/> has an account; false only when the mail could not be queued (no silo answered).</summary>
    public async Task<bool> RequestAsync(HttpContext http, string email, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        var user = await Users.FindByLoginAsync(conn, email.Trim(), ct);
        if (user is null || !user.Email.Contains('@', StringComparison.Ordinal))
        {
            await audit.WriteAsync(http, "auth.password_reset_unknown", new { email = email.Trim() }, AuditSeverity.Info);
            return true;
        }

        var token = RandomNumberGenerator.GetBytes(32);
        await using (var cmd = new NpgsqlCommand(InsertSql, conn))
        {
            cmd.Parameters.AddWithValue("hash", SHA256.HashData(token));
            cmd.Parameters.AddWithValue("user", user.Id);
            cmd.Parameters.AddWithValue("minutes", ValidMinutes);
            await cmd.ExecuteNonQueryAsync(ct);
        }

        // The link's host is the configured one, never the request's Host header: a forged header must not receive
        // someone else's reset link.
        var link = $"{AppUrl}/contrasena/nueva?t={Base64Url(token)}";
        try
        {
            await grains.GetGrain<IAccountMailGrain>(0).SendPasswordResetAsync(Guid.NewGuid(), user.Email, link, ValidMinutes).WaitAsync(TimeSpan.FromSeconds(8), ct);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            log.LogWarning("Password reset mail for user {UserId} could not be queued: {Error}", user.Id, ex.Message);
            return false;
        }

        await audit.WriteAsync(http, "auth.password_reset_requested", new { userId = user.Id }, AuditSeverity.Info);
        return true;
    }

    /// <summary>Null when the password was set; otherwise the Spanish reasons, per field.</summary>
    public async Task<Dictionary<string, string[]>?> ResetAsync(HttpContext http, string? token, string? newPassword, CancellationToken ct)
    {
        if (Users.PasswordProblem(newPassword) is { } weak)
        {
            return new() { ["newPassword"] = [weak] };
        }

        if (FromBase64Url(token) is not { Length: 32 } raw)
        {
            return new() { ["token"] = [InvalidLinkText] };
        }

        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        long userId;
        await using (var cmd = new NpgsqlCommand(UseSql, conn, tx))
        {
            cmd.Parameters.AddWithValue("hash", SHA256.HashData(raw));
            if (await cmd.ExecuteScalarAsync(ct) is not long id)
            {
                await tx.RollbackAsync(ct);
                await audit.WriteAsync(http, "auth.password_reset_refused", new { }, AuditSeverity.Warning);
                return new() { ["token"] = [InvalidLinkText] };
            }

            userId = id;
        }

        await Users.SetPasswordAsync(conn, tx, userId, newPassword!, ct);
        var ended = await Sessions.EndUserSessionsAsync(conn, tx, userId, null, ct);
        await tx.CommitAsync(ct);
        await audit.WriteAsync(http, "auth.password_reset", new { userId, sessionsEnded = ended.Count }, AuditSeverity.Warning);
        return null;
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static byte[]? FromBase64Url(string? text)
    {
        if (string.IsNullOrEmpty(text) || text.Length > 64)
        {
            return null;
        }

        var s = text.Replace('-', '+').Replace('_', '/');
        s += new string('=', (4 - (s.Length % 4)) % 4);
        try
        {
            return Convert.FromBase64String(s);
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
