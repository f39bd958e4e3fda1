using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;
using Sajet.WebFront.Audit;
using Sajet.WebFront.Security;

namespace Sajet.WebFront.Auth;

public enum LoginStatus
{
    /// <summary>Signed in; <see cref="LoginResult.Session"/> holds the tokens.</summary>
    Success,

    /// <summary>Unknown login, wrong password, wrong role or locked account: deliberately indistinguishable.</summary>
    InvalidCredentials,

    /// <summary>The password was right and the account has 2FA: ask for a code.</summary>
    SecondFactorRequired,

    SecondFactorInvalid,

    /// <summary>Too many failures from this IP or for this login name.</summary>
    Throttled,
}

public sealed record LoginResult(LoginStatus Status, UserAccount? User = null, Sessions.IssuedSession? Session = null, TimeSpan? RetryAfter = null);

/// <summary>
/// The one sign-in procedure behind both the JSON API and the login pages:
/// throttle → look up → password (dummy hash when unknown) → lockout → second factor → session.
/// </summary>
public sealed class LoginService(
    NpgsqlDataSource db, Sessions sessions, TwoFactor twoFactor, LoginThrottle throttle, AuditLog audit, IOptions<AuthOptions> options)
{
    // One statement counts the failure and, at the threshold, locks: concurrent failures cannot skip the lock.
    private const string RecordFailure = """
        WITH counted AS (
            SELECT id,
                   CASE WHEN failed_window_start > now() - make_interval(secs => @windowSeconds) THEN failed_count + 1 ELSE 1 END AS n,
                   CASE WHEN failed_window_start > now() - make_interval(secs => @windowSeconds) THEN failed_window_start ELSE now() END AS started
            FROM users WHERE id = @id FOR UPDATE
        )
        UPDATE users u
        SET failed_count = c.n,
            failed_window_start = c.started,
            locked_until = CASE WHEN c.n >= @max THEN now() + make_interval(secs => @lockSeconds) ELSE u.locked_until END
        FROM counted c WHERE u.id = c.id
        RETURNING c.n >= @max AS locked_now
        """;

    private const string ResetFailures = """
        UPDATE users SET failed_count = 0, failed_window_start = NULL, locked_until = NULL
        WHERE id = @id AND (failed_count <> 0 OR locked_until IS NOT NULL)
        """;

    /// <summary>First (or only) step: login name and password, plus a second factor when the caller already has one.</summary>
    public async Task<LoginResult> SignInAsync(string login, string password, string role, string? totpCode, string? recoveryCode, string ip, CancellationToken ct = default)
    {
        var account = Users.NormalizeLogin(login);
        if (await throttle.BlockedAsync(ip, account, ct) is { } wait)
        {
            return new LoginResult(LoginStatus.Throttled, RetryAfter: wait);
        }

        await using var conn = await db.OpenConnectionAsync(ct);
        var user = await Users.FindByLoginAsync(conn, account, ct);
        // A user of the other role is treated exactly like an unknown one, hash work included.
        var candidate = user?.Role == role ? user : null;
        var passwordOk = await Users.VerifyPasswordAsync(conn, candidate, password, ct);
        if (candidate is null)
        {
            await throttle.RecordFailureAsync(ip, account, CancellationToken.None); // counted even if the client hangs up
            await audit.WriteAsync("auth.login_failed", account, ip, new { role, reason = user is null ? "unknown_login" : "wrong_role" }, AuditSeverity.Warning);
            return new LoginResult(LoginStatus.InvalidCredentials);
        }

        if (candidate.LockedUntil is { } until && until > DateTime.UtcNow)
        {
            await throttle.RecordFailureAsync(ip, account, CancellationToken.None); // counted even if the client hangs up
            await audit.WriteAsync("auth.login_locked", account, ip, new { role, lockedUntil = until }, AuditSeverity.Warning);
            return new LoginResult(LoginStatus.InvalidCredentials);
        }

        if (!passwordOk)
        {
            await FailAsync(conn, candidate, ip, "wrong_password", ct);
            return new LoginResult(LoginStatus.InvalidCredentials);
        }

        if (candidate.TotpEnabled)
        {
            if (string.IsNullOrWhiteSpace(totpCode) && string.IsNullOrWhiteSpace(recoveryCode))
            {
                return new LoginResult(LoginStatus.SecondFactorRequired, candidate);
            }

            return await CompleteSecondFactorAsync(conn, candidate, totpCode, recoveryCode, ip, ct);
        }

        return await SucceedAsync(conn, candidate, ip, "password", ct);
    }

    /// <summary>Second step of the two-step page flow: the password was proven moments ago for this user id.</summary>
    public async Task<LoginResult> SecondFactorAsync(long userId, string role, string? totpCode, string? recoveryCode, string ip, CancellationToken ct = default)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        var user = await Users.FindByIdAsync(conn, userId, ct);
        if (user is null || user.Role != role || !user.TotpEnabled)
        {
            return new LoginResult(LoginStatus.InvalidCredentials);
        }

        if (await throttle.BlockedAsync(ip, user.Email, ct) is { } wait)
        {
            return new LoginResult(LoginStatus.Throttled, RetryAfter: wait);
        }

        if (user.LockedUntil is { } until && until > DateTime.UtcNow)
        {
            return new LoginResult(LoginStatus.InvalidCredentials);
        }

        return await CompleteSecondFactorAsync(conn, user, totpCode, recoveryCode, ip, ct);
    }

    private async Task<LoginResult> CompleteSecondFactorAsync(NpgsqlConnection conn, UserAccount user, string? totpCode, string? recoveryCode, string ip, CancellationToken ct)
    {
        if (!await twoFactor.VerifySecondFactorAsync(conn, user, totpCode, recoveryCode, ct))
        {
            await FailAsync(conn, user, ip, "wrong_second_factor", ct);
            return new LoginResult(LoginStatus.SecondFactorInvalid, user);
        }

        var method = string.IsNullOrWhiteSpace(totpCode) ? "recovery_code" : "totp";
        if (method == "recovery_code")
        {
            await audit.WriteAsync("auth.recovery_code_used", user.Email, ip, new { userId = user.Id }, AuditSeverity.Warning);
        }

        return await SucceedAsync(conn, user, ip, method, ct);
    }

    private async Task FailAsync(NpgsqlConnection conn, UserAccount user, string ip, string reason, CancellationToken ct)
    {
        await throttle.RecordFailureAsync(ip, user.Email, CancellationToken.None);
        var o = options.Value;
        var lockedNow = await conn.ExecuteScalarAsync<bool>(new CommandDefinition(RecordFailure, new
        {
            id = user.Id,
            max = o.MaxFailedAttempts,
            windowSeconds = o.FailureWindow.TotalSeconds,
            lockSeconds = o.LockoutDuration.TotalSeconds,
        }, cancellationToken: ct));
        await audit.WriteAsync("auth.login_failed", user.Email, ip, new { role = user.Role, reason }, AuditSeverity.Warning);
        if (lockedNow)
        {
            await audit.WriteAsync("auth.account_locked", user.Email, ip, new { userId = user.Id, minutes = o.LockoutDuration.TotalMinutes }, AuditSeverity.Critical);
        }
    }

    private async Task<LoginResult> SucceedAsync(NpgsqlConnection conn, UserAccount user, string ip, string method, CancellationToken ct)
    {
        await conn.ExecuteAsync(new CommandDefinition(ResetFailures, new { id = user.Id }, cancellationToken: ct));
        var session = await sessions.StartAsync(user, ct);
        await audit.WriteAsync("auth.login_succeeded", user.Email, ip, new { role = user.Role, method });
        return new LoginResult(LoginStatus.Success, user, session);
    }
}
