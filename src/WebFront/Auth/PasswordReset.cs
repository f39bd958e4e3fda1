using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Npgsql;
using Sajet.Grains.Interfaces;
using Sajet.Grains.Interfaces.Mail;
using Sajet.Grains.Interfaces.Outbox;
using Sajet.Persistence.Secrets;
using Sajet.WebFront.Audit;
using Sajet.WebFront.Hosting;

namespace Sajet.WebFront.Auth;

/// <summary>
/// "Forgot password" by mail: a single-use link, valid for <see cref="ValidMinutes"/>, sent through the silos' mail
/// outbox. The answer to a request never says whether the address has an account. Setting the new password uses the
/// link up, stores the hash and ends every session of the account in one transaction (whoever knew the old password
/// is out on every web front at once). The one owner of password_resets (sql/0017).
/// The welcome mail's link (<see cref="WelcomeLink"/>, minted by the silo) is redeemed here too, and made single-use by
/// recording its hash as spent. A customer's password set by either link is the Odoo administrator's too: the tenant
/// grain is told in the same transaction (outbox) and sets it in Odoo.
/// </summary>
public sealed class PasswordReset(NpgsqlDataSource db, IClusterClient grains, GrainOutbox outbox, SecretProtector secrets, IOptions<AppOptions> app,
    TimeProvider time, AuditLog audit, ILogger<PasswordReset> log)
{
    public const int ValidMinutes = 60;
    public const string InvalidLinkText = "El enlace no es válido, ya se usó o caducó. Pide uno nuevo desde «¿Olvidaste tu contraseña?».";
    public const string ExpiredWelcomeText = "El enlace del correo de bienvenida caducó. Pide uno nuevo desde «¿Olvidaste tu contraseña?» con tu correo.";
    public const string SentText = "Si la dirección tiene una cuenta, te hemos enviado un correo con un enlace para elegir una contraseña nueva. Caduca en 60 minutos.";

    private const string InsertSql = "INSERT INTO password_resets (token_hash, user_id, expires_at) VALUES (@hash, @user, now() + make_interval(mins => @minutes))";

    // A link spends itself in the UPDATE that finds it: two requests racing with the same link, only one gets a row.
    private const string UseSql = """
        UPDATE password_resets SET used_at = now()
        WHERE token_hash = @hash AND used_at IS NULL AND expires_at > now()
        RETURNING user_id
        """;

    // A welcome link spends itself by leaving its hash behind: a second use finds the row and inserts nothing.
    private const string UseWelcomeSql = """
        INSERT INTO password_resets (token_hash, user_id, expires_at, used_at) VALUES (@hash, @user, @expires, now())
        ON CONFLICT (token_hash) DO NOTHING
        RETURNING user_id
        """;

    /// <summary>Whether <paramref name="token"/> is a welcome link's (the page then speaks of a first password).</summary>
    public bool IsWelcome(string? token) => WelcomeLink.Read(secrets, token) is not null;

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
        var link = $"{app.Value.PublicBaseUrl}/contrasena/nueva?t={Base64Url.EncodeToString(token)}";
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

        var welcome = WelcomeLink.Read(secrets, token);
        if (welcome is not null && welcome.ExpiresAt <= time.GetUtcNow())
        {
            await audit.WriteAsync(http, "auth.password_reset_refused", new { reason = "welcome link expired", tenantId = welcome.TenantId }, AuditSeverity.Info);
            return new() { ["token"] = [ExpiredWelcomeText] };
        }

        var raw = welcome is null ? FromBase64Url(token) : null;
        if (welcome is null && raw is not { Length: 32 })
        {
            return new() { ["token"] = [InvalidLinkText] };
        }

        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var user = welcome is null ? await SpendResetAsync(conn, tx, raw!, ct) : await SpendWelcomeAsync(conn, tx, welcome, token!, ct);
        if (user is null)
        {
            await tx.RollbackAsync(ct);
            await audit.WriteAsync(http, "auth.password_reset_refused", new { }, AuditSeverity.Warning);
            return new() { ["token"] = [InvalidLinkText] };
        }

        await Users.SetPasswordAsync(conn, tx, user.Id, newPassword!, ct);
        var ended = await Sessions.EndUserSessionsAsync(conn, tx, user.Id, null, ct);
        if (user.TenantId is { } tenantId)
        {
            await outbox.SendAsync(OutboxCommand.SetOdooPassword(tenantId,
                new SetOdooPassword(secrets.Protect(newPassword!, SetOdooPassword.Purpose), $"{user.Email} (enlace del correo)")), tx, ct);
        }

        await tx.CommitAsync(ct);
        outbox.Wake();
        await audit.WriteAsync(http, "auth.password_reset", new { userId = user.Id, welcome = welcome is not null, sessionsEnded = ended.Count }, AuditSeverity.Warning);
        return null;
    }

    private static async Task<UserAccount?> SpendResetAsync(NpgsqlConnection conn, NpgsqlTransaction tx, byte[] raw, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(UseSql, conn, tx);
        cmd.Parameters.AddWithValue("hash", SHA256.HashData(raw));
        return await cmd.ExecuteScalarAsync(ct) is long id ? await Users.FindByIdAsync(conn, id, ct) : null;
    }

    private static async Task<UserAccount?> SpendWelcomeAsync(NpgsqlConnection conn, NpgsqlTransaction tx, WelcomeLinkClaims welcome, string token, CancellationToken ct)
    {
        // The account the signup created for this tenant and address; an address changed since makes the link void.
        if (await Users.FindByLoginAsync(conn, welcome.Email, ct) is not { } user || user.TenantId != welcome.TenantId)
        {
            return null;
        }

        await using var cmd = new NpgsqlCommand(UseWelcomeSql, conn, tx);
        cmd.Parameters.AddWithValue("hash", SHA256.HashData(Encoding.ASCII.GetBytes(token)));
        cmd.Parameters.AddWithValue("user", user.Id);
        cmd.Parameters.AddWithValue("expires", welcome.ExpiresAt);
        return await cmd.ExecuteScalarAsync(ct) is long ? user : null;
    }

    // A reset token is 32 random bytes; the bound keeps a huge query string from being decoded at all.
    private static byte[]? FromBase64Url(string? text) =>
        text is { Length: > 0 and <= 64 } && Base64Url.IsValid(text) ? Base64Url.DecodeFromChars(text) : null;
}
