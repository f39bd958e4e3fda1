using Dapper;
using Microsoft.AspNetCore.Identity;
using Npgsql;

namespace Sajet.WebFront.Auth;

/// <summary>A row of <c>users</c> as sign-in needs it. Secrets stay encrypted or hashed here.</summary>
public sealed class UserAccount
{
    public long Id { get; init; }

    public string Email { get; init; } = "";

    public string Role { get; init; } = "";

    public string? TenantId { get; init; }

    public string PasswordHash { get; init; } = "";

    public bool TotpEnabled { get; init; }

    public string? TotpSecret { get; init; }

    public string? TotpPendingSecret { get; init; }

    public DateTime? LockedUntil { get; init; }
}

/// <summary>
/// The users table: lookups, password hashing, and account creation. <see cref="CreateTenantUserAsync"/> is the
/// entry point for other features (onboarding creates the customer's account after signup, in its own transaction).
/// </summary>
public static class Users
{
    public const int MinPasswordLength = 10;
    public const int MaxPasswordLength = 128;

    internal const string Columns = """
        id AS Id, email AS Email, role AS Role, tenant_id AS TenantId, password_hash AS PasswordHash,
        totp_enabled AS TotpEnabled, totp_secret AS TotpSecret, totp_pending_secret AS TotpPendingSecret,
        locked_until AS LockedUntil
        """;

    private const string ByLogin = $"SELECT {Columns} FROM users WHERE lower(email) = lower(@login)";

    private const string ById = $"SELECT {Columns} FROM users WHERE id = @id";

    private const string InsertUser = """
        INSERT INTO users (email, role, tenant_id, password_hash)
        VALUES (@email, @role, @tenantId, @hash)
        ON CONFLICT ((lower(email))) DO NOTHING
        RETURNING id
        """;

    // "If no admin exists": a second web front starting at the same moment hits the unique index and does nothing.
    private const string InsertFirstAdmin = """
        INSERT INTO users (email, role, password_hash)
        SELECT @email, 'admin', @hash
        WHERE NOT EXISTS (SELECT 1 FROM users WHERE role = 'admin')
        ON CONFLICT ((lower(email))) DO NOTHING
        RETURNING id
        """;

    private const string TenantUserIds = "SELECT id FROM users WHERE tenant_id = @tenantId AND role = 'tenant' ORDER BY id";

    private const string UpdateHash = "UPDATE users SET password_hash = @hash WHERE id = @id";

    // The user argument of PasswordHasher is unused by its default implementation; the hasher is stateless.
    private static readonly PasswordHasher<UserAccount> Hasher = new();
    private static readonly UserAccount NoUser = new();

    /// <summary>A hash of a random password, verified when the login name is unknown so both answers cost the same.</summary>
    private static readonly string DummyHash = Hasher.HashPassword(NoUser, Guid.NewGuid().ToString());

    public static string NormalizeLogin(string login) => login.Trim().ToLowerInvariant();

    public static string HashPassword(string password) => Hasher.HashPassword(NoUser, password);

    /// <summary>Spanish reason why a new password is not acceptable, or null when it is.</summary>
    public static string? PasswordProblem(string? password) => password switch
    {
        null or "" => "La contraseña es obligatoria.",
        { Length: < MinPasswordLength } => $"La contraseña debe tener al menos {MinPasswordLength} caracteres.",
        { Length: > MaxPasswordLength } => $"La contraseña no puede superar {MaxPasswordLength} caracteres.",
        _ => null,
    };

    /// <summary>
    /// Creates a customer account for a tenant. Returns the new user id, or null when the email is already taken.
    /// Pass the caller's transaction to create the account atomically with the tenant.
    /// </summary>
    public static async Task<long?> CreateTenantUserAsync(NpgsqlConnection conn, string email, string password, string tenantId, NpgsqlTransaction? tx = null, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(email);
        ArgumentException.ThrowIfNullOrWhiteSpace(tenantId);
        if (PasswordProblem(password) is { } problem)
        {
            throw new ArgumentException(problem, nameof(password));
        }

        return await conn.ExecuteScalarAsync<long?>(new CommandDefinition(InsertUser,
            new { email = NormalizeLogin(email), role = Roles.Tenant, tenantId, hash = HashPassword(password) }, tx, cancellationToken: ct));
    }

    /// <summary>Creates the first admin from ADMIN_USERNAME/ADMIN_PASSWORD when no admin exists yet. True when created.</summary>
    public static async Task<bool> EnsureFirstAdminAsync(NpgsqlDataSource db, string login, string password, CancellationToken ct = default)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        var id = await conn.ExecuteScalarAsync<long?>(new CommandDefinition(InsertFirstAdmin,
            new { email = NormalizeLogin(login), hash = HashPassword(password) }, cancellationToken: ct));
        return id is not null;
    }

    public static async Task<UserAccount?> FindByLoginAsync(NpgsqlConnection conn, string login, CancellationToken ct = default) =>
        await conn.QuerySingleOrDefaultAsync<UserAccount>(new CommandDefinition(ByLogin, new { login = login.Trim() }, cancellationToken: ct));

    public static async Task<UserAccount?> FindByIdAsync(NpgsqlConnection conn, long id, CancellationToken ct = default) =>
        await conn.QuerySingleOrDefaultAsync<UserAccount>(new CommandDefinition(ById, new { id }, cancellationToken: ct));

    /// <summary>The customer accounts of a tenant (onboarding creates one).</summary>
    public static async Task<IReadOnlyList<long>> TenantUserIdsAsync(NpgsqlConnection conn, string tenantId, CancellationToken ct = default) =>
        [.. await conn.QueryAsync<long>(new CommandDefinition(TenantUserIds, new { tenantId }, cancellationToken: ct))];

    public static async Task SetPasswordAsync(NpgsqlConnection conn, NpgsqlTransaction tx, long userId, string password, CancellationToken ct = default) =>
        await conn.ExecuteAsync(new CommandDefinition(UpdateHash, new { id = userId, hash = HashPassword(password) }, tx, cancellationToken: ct));

    /// <summary>Checks a password; for an unknown user (null) it checks a dummy hash and fails, in about the same time.</summary>
    public static async Task<bool> VerifyPasswordAsync(NpgsqlConnection conn, UserAccount? user, string password, CancellationToken ct = default)
    {
        if (user is null)
        {
            Hasher.VerifyHashedPassword(NoUser, DummyHash, password);
            return false;
        }

        var result = Hasher.VerifyHashedPassword(user, user.PasswordHash, password);
        if (result == PasswordVerificationResult.SuccessRehashNeeded)
        {
            // The hasher's defaults got stronger since this hash was made: upgrade it while we hold the password.
            await conn.ExecuteAsync(new CommandDefinition(UpdateHash, new { id = user.Id, hash = HashPassword(password) }, cancellationToken: ct));
        }

        return result != PasswordVerificationResult.Failed;
    }
}
