using Npgsql;
using Sajet.WebFront.Audit;

namespace Sajet.WebFront.Auth;

/// <summary>
/// A signed-in user changes their password with the current one. The new hash and the end of every other session of
/// the account commit in one transaction: whoever learnt the old password and signed in with it is out on every web
/// front at once. The session that made the change keeps working (its tokens are not re-issued).
/// </summary>
public sealed class PasswordChange(NpgsqlDataSource db, AuditLog audit)
{
    public const string WrongCurrentText = "La contraseña actual no es correcta.";

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
        if (user is null || !await Users.VerifyPasswordAsync(conn, user, currentPassword!, ct))
        {
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
