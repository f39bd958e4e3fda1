using Npgsql;
using Sajet.WebFront.Audit;
using Sajet.WebFront.Security;

namespace Sajet.WebFront.Auth;

/// <summary>
/// A signed-in user changes their password with the current one. The new hash and the end of every other session of
/// the account commit in one transaction: whoever learnt the old password and signed in with it is out on every web
/// front at once. The session that made the change keeps working (its tokens are not re-issued).
/// </summary>
public sealed class PasswordChange(NpgsqlDataSource db, AuditLog audit, LoginThrottle throttle)
{
    public const string WrongCurrentText = "La contraseña actual no es correcta.";
    public const string ThrottledText = "Demasiados intentos fallidos con esta cuenta: espera un minuto antes de volver a intentarlo.";

    /// <summary>Null when the password was changed; otherwise the Spanish reasons, per field.</summary>
    public async Task<Dictionary<string, string[]>?> ChangeAsync(HttpContext http, string? currentPassword, string? newPassword, CancellationToken ct = default)
    {
        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrEmpty(currentPassword))
        {
            errors["currentPassword"] = ["Escribe tu contraseña actual."];
        }

        if (Users.PasswordProblem(newPassword) is { } weak)
        {
            errors["newPassword"] = [weak];
        }
        else if (newPassword == currentPassword)
        {
            errors["newPassword"] = ["La contraseña nueva debe ser distinta de la actual."];
        }

        if (errors.Count > 0)
        {
            return errors;
        }

        await using var conn = await db.OpenConnectionAsync(ct);
        var user = SajetClaims.UserIdOf(http.User) is { } id ? await Users.FindByIdAsync(conn, id, ct) : null;
        // A wrong current password is a password guess like a failed sign-in (a stolen session trying to take the
        // account over), so it counts against, and is held back by, the same per-IP and per-account limits.
        var ip = RateLimitPolicies.ClientIp(http);
        var account = Users.NormalizeLogin(user?.Email ?? "");
        if (await throttle.BlockedAsync(ip, account, ct) is not null)
        {
            await audit.WriteAsync(http, "auth.password_change_failed", new { userId = user?.Id, reason = "throttled" }, AuditSeverity.Warning);
            return new() { ["currentPassword"] = [ThrottledText] };
        }

        if (user is null || !await Users.VerifyPasswordAsync(conn, user, currentPassword!, ct))
        {
            await throttle.RecordFailureAsync(ip, account, CancellationToken.None); // counted even if the client hangs up
            await audit.WriteAsync(http, "auth.password_change_failed", new { userId = user?.Id }, AuditSeverity.Warning);
            return new() { ["currentPassword"] = [WrongCurrentText] };
        }

        await using var tx = await conn.BeginTransactionAsync(ct);
        await Users.SetPasswordAsync(conn, tx, user.Id, newPassword!, ct);
        var ended = await Sessions.EndUserSessionsAsync(conn, tx, user.Id, SajetClaims.SessionIdOf(http.User), ct);
        await tx.CommitAsync(ct);
        await audit.WriteAsync(http, "auth.password_changed", new { userId = user.Id, sessionsEnded = ended.Count }, AuditSeverity.Warning);
        return null;
    }
}
