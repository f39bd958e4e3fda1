using System.Security.Cryptography;
using System.Text;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;
using Sajet.WebFront.Audit;

namespace Sajet.WebFront.Auth;

/// <summary>
/// Sign-in sessions as families of rotating refresh tokens.
/// <code>
///   sign-in ──► token₁ ──refresh──► token₂ ──refresh──► token₃ …   (each used once; expiry ≤ family start + max)
///                 │                                  logout ──► family revoked
///                 └── presented again after rotation ──► reuse: whole family revoked, audited
/// </code>
/// Times come from the database clock so every web front agrees on expiry.
/// </summary>
public sealed class Sessions(NpgsqlDataSource db, TokenService tokens, IOptions<AuthOptions> options, AuditLog audit)
{
    public sealed record IssuedSession(UserAccount User, Guid SessionId, string AccessToken, DateTimeOffset AccessExpiresAt, string RefreshToken, DateTimeOffset RefreshExpiresAt);

    public enum RefreshStatus
    {
        Rotated,
        Invalid,
        Reused,
    }

    public sealed record RefreshResult(RefreshStatus Status, IssuedSession? Session = null);

    private const string InsertToken = """
        INSERT INTO refresh_tokens (user_id, family_id, token_hash, family_started_at, expires_at)
        VALUES (@userId, @familyId, @hash, COALESCE(@familyStartedAt, now()),
                LEAST(now() + make_interval(secs => @lifetimeSeconds), COALESCE(@familyStartedAt, now()) + make_interval(secs => @maxLifetimeSeconds)))
        RETURNING expires_at
        """;

    private const string LockToken = """
        SELECT id AS Id, user_id AS UserId, family_id AS FamilyId, family_started_at AS FamilyStartedAt,
               expires_at <= now() AS Expired, rotated_at IS NOT NULL AS Rotated, revoked_at IS NOT NULL AS Revoked
        FROM refresh_tokens WHERE token_hash = @hash
        FOR UPDATE
        """;

    private const string MarkRotated = "UPDATE refresh_tokens SET rotated_at = now() WHERE id = @id";

    // Tells every web front (RevokedSessions) in the same transaction, so the session's access tokens stop working at once.
    private const string RevokeFamily = $"""
        UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = @familyId AND revoked_at IS NULL;
        SELECT pg_notify('{RevokedSessions.Channel}', @familyId::text);
        """;

    // Every live session of a user but the one kept (none when @keep is null), each announced in the same transaction.
    private const string RevokeUserFamilies = $"""
        WITH ended AS (
            UPDATE refresh_tokens SET revoked_at = now()
            WHERE user_id = @userId AND revoked_at IS NULL AND family_id IS DISTINCT FROM @keep
            RETURNING family_id)
        SELECT family_id, pg_notify('{RevokedSessions.Channel}', family_id::text)
        FROM (SELECT DISTINCT family_id FROM ended) f
        """;

    private const string FamilyOfToken = "SELECT family_id FROM refresh_tokens WHERE token_hash = @hash";

    private sealed record TokenRow(long Id, long UserId, Guid FamilyId, DateTime FamilyStartedAt, bool Expired, bool Rotated, bool Revoked);

    /// <summary>Starts a new session (a new token family) for a user who just proved who they are.</summary>
    public async Task<IssuedSession> StartAsync(UserAccount user, CancellationToken ct = default)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return await IssueAsync(conn, null, user, Guid.NewGuid(), null, ct);
    }

    /// <summary>Exchanges a refresh token for a new pair. A token used twice revokes its family.</summary>
    public async Task<RefreshResult> RotateAsync(string refreshToken, string? ip, CancellationToken ct = default)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var row = await conn.QuerySingleOrDefaultAsync<TokenRow>(new CommandDefinition(LockToken, new { hash = Hash(refreshToken) }, tx, cancellationToken: ct));
        if (row is null)
        {
            return new RefreshResult(RefreshStatus.Invalid);
        }

        if (row.Rotated && !row.Revoked)
        {
            // Someone holds a copy of a token that was already exchanged: end the session for everyone.
            await conn.ExecuteAsync(new CommandDefinition(RevokeFamily, new { familyId = row.FamilyId }, tx, cancellationToken: ct));
            await tx.CommitAsync(ct);
            await audit.WriteAsync("auth.refresh_reuse", $"user:{row.UserId}", ip, new { userId = row.UserId, session = row.FamilyId }, AuditSeverity.Critical);
            return new RefreshResult(RefreshStatus.Reused);
        }

        if (row.Revoked || row.Expired)
        {
            return new RefreshResult(RefreshStatus.Invalid);
        }

        var user = await Users.FindByIdAsync(conn, row.UserId, ct);
        if (user is null)
        {
            return new RefreshResult(RefreshStatus.Invalid);
        }

        await conn.ExecuteAsync(new CommandDefinition(MarkRotated, new { id = row.Id }, tx, cancellationToken: ct));
        var session = await IssueAsync(conn, tx, user, row.FamilyId, new DateTimeOffset(DateTime.SpecifyKind(row.FamilyStartedAt, DateTimeKind.Utc)), ct);
        await tx.CommitAsync(ct);
        return new RefreshResult(RefreshStatus.Rotated, session);
    }

    /// <summary>Ends a session: no token of its family can be refreshed any more.</summary>
    public async Task RevokeAsync(Guid sessionId, CancellationToken ct = default)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await conn.ExecuteAsync(new CommandDefinition(RevokeFamily, new { familyId = sessionId }, cancellationToken: ct));
    }

    /// <summary>
    /// Ends every session of a user except <paramref name="keep"/> (a password or 2FA change keeps the session that made
    /// it). Runs in the caller's transaction, so the change and the end of the sessions commit together; each ended
    /// session's access tokens are refused by every web front as soon as the notification arrives.
    /// </summary>
    public static async Task<IReadOnlyList<Guid>> EndUserSessionsAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, long userId, Guid? keep, CancellationToken ct = default) =>
        [.. await conn.QueryAsync<Guid>(new CommandDefinition(RevokeUserFamilies, new { userId, keep }, tx, cancellationToken: ct))];

    /// <summary>Ends all sessions of a user (an admin's action); returns how many were live.</summary>
    public async Task<int> EndAllOfUserAsync(long userId, CancellationToken ct = default)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return (await EndUserSessionsAsync(conn, null, userId, keep: null, ct)).Count;
    }

    public async Task<Guid?> SessionOfAsync(string refreshToken, CancellationToken ct = default)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return await conn.ExecuteScalarAsync<Guid?>(new CommandDefinition(FamilyOfToken, new { hash = Hash(refreshToken) }, cancellationToken: ct));
    }

    private async Task<IssuedSession> IssueAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, UserAccount user, Guid familyId, DateTimeOffset? familyStartedAt, CancellationToken ct)
    {
        var refresh = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var expires = await conn.ExecuteScalarAsync<DateTime>(new CommandDefinition(InsertToken, new
        {
            userId = user.Id,
            familyId,
            hash = Hash(refresh),
            familyStartedAt,
            lifetimeSeconds = options.Value.RefreshTokenLifetime.TotalSeconds,
            maxLifetimeSeconds = options.Value.SessionMaxLifetime.TotalSeconds,
        }, tx, cancellationToken: ct));
        var (access, accessExpires) = tokens.CreateAccessToken(user, familyId);
        return new IssuedSession(user, familyId, access, accessExpires, refresh, new DateTimeOffset(DateTime.SpecifyKind(expires, DateTimeKind.Utc)));
    }

    // The token is 256 random bits, so a plain SHA-256 is enough to make a stolen table useless.
    private static byte[] Hash(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));
}
