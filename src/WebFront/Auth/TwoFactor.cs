using System.Security.Cryptography;
using System.Text;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;
using QRCoder;
using Sajet.WebFront.Security;
using Sajet.Persistence.Secrets;

namespace Sajet.WebFront.Auth;

/// <summary>
/// TOTP two-factor authentication: set-up (pending seed + QR), enabling with a first valid code (which also
/// issues ten single-use recovery codes), disabling, and checking a second factor at sign-in.
/// Seeds are stored encrypted for the purpose "totp:{userId}"; recovery codes as HMAC-SHA256 under a derived key.
/// </summary>
public sealed class TwoFactor(NpgsqlDataSource db, SecretProtector protector, IOptions<AuthOptions> options, TimeProvider time)
{
    public const int RecoveryCodeCount = 10;

    // No 0/o, 1/l/i: codes are read from paper and typed by hand.
    private const string RecoveryAlphabet = "abcdefghjkmnpqrstuvwxyz23456789";

    private const string StorePending = "UPDATE users SET totp_pending_secret = @secret WHERE id = @id";

    // Guarded by the pending value read, so a set-up started in another tab meanwhile is not enabled by mistake.
    private const string Enable = """
        UPDATE users
        SET totp_secret = totp_pending_secret, totp_pending_secret = NULL, totp_enabled = true, totp_last_step = @step
        WHERE id = @id AND totp_pending_secret = @pending
        """;

    private const string Disable = """
        UPDATE users SET totp_secret = NULL, totp_pending_secret = NULL, totp_enabled = false, totp_last_step = NULL WHERE id = @id
        """;

    private const string DeleteRecoveryCodes = "DELETE FROM user_recovery_codes WHERE user_id = @id";

    private const string InsertRecoveryCode = "INSERT INTO user_recovery_codes (user_id, code_hash) VALUES (@id, @hash)";

    // One statement decides, so two sign-ins racing with the same code cannot both win.
    private const string ConsumeStep = """
        UPDATE users SET totp_last_step = @step
        WHERE id = @id AND totp_enabled AND (totp_last_step IS NULL OR totp_last_step < @step)
        """;

    private const string ConsumeRecoveryCode = """
        UPDATE user_recovery_codes SET used_at = now() WHERE user_id = @id AND code_hash = @hash AND used_at IS NULL
        """;

    private readonly byte[] _recoveryKey = protector.DeriveKey("recovery-codes/v1");

    public sealed record SetupInfo(string OtpauthUri, string QrCodeDataUri, string Secret);

    /// <summary>Creates a new pending seed (replacing any earlier pending one) and the QR code that carries it.</summary>
    public async Task<SetupInfo> BeginSetupAsync(UserAccount user, CancellationToken ct = default)
    {
        var seed = Totp.NewSeed();
        await using var conn = await db.OpenConnectionAsync(ct);
        await conn.ExecuteAsync(new CommandDefinition(StorePending, new { id = user.Id, secret = protector.Protect(seed, SeedPurpose(user.Id)) }, cancellationToken: ct));
        var uri = Totp.OtpauthUri(options.Value.TotpIssuer, user.Email, seed);
        using var qr = QRCodeGenerator.GenerateQrCode(uri, QRCodeGenerator.ECCLevel.M);
        var png = new PngByteQRCode(qr).GetGraphic(6);
        return new SetupInfo(uri, "data:image/png;base64," + Convert.ToBase64String(png), Base32.Encode(seed));
    }

    /// <summary>
    /// Turns 2FA on when the code matches the pending seed; returns the recovery codes (shown once), or null. Every other
    /// session of the user ends: one signed in before with only the password must prove the second factor too.
    /// </summary>
    public async Task<string[]?> EnableAsync(long userId, string? code, Guid? keepSession, CancellationToken ct = default)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        var user = await Users.FindByIdAsync(conn, userId, ct);
        if (user?.TotpPendingSecret is null || protector.UnprotectBytes(user.TotpPendingSecret, SeedPurpose(user.Id)) is not { } seed)
        {
            return null;
        }

        if (Totp.Match(seed, code, time.GetUtcNow()) is not { } step)
        {
            return null;
        }

        await using var tx = await conn.BeginTransactionAsync(ct);
        if (await conn.ExecuteAsync(new CommandDefinition(Enable, new { id = userId, step, pending = user.TotpPendingSecret }, tx, cancellationToken: ct)) != 1)
        {
            return null;
        }

        var codes = await ReplaceRecoveryCodesAsync(conn, tx, userId, ct);
        await Sessions.EndUserSessionsAsync(conn, tx, userId, keepSession, ct);
        await tx.CommitAsync(ct);
        return codes;
    }

    /// <summary>
    /// Turns 2FA off after checking a current code or an unused recovery code, and ends the user's other sessions: if
    /// someone else turned it off from a stolen session, the owner's devices notice, and no other session outlives it.
    /// </summary>
    public async Task<bool> DisableAsync(long userId, string? code, Guid? keepSession, CancellationToken ct = default)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        var user = await Users.FindByIdAsync(conn, userId, ct);
        if (user is null || !user.TotpEnabled || !await VerifySecondFactorAsync(conn, user, code, code, ct))
        {
            return false;
        }

        await using var tx = await conn.BeginTransactionAsync(ct);
        await conn.ExecuteAsync(new CommandDefinition(Disable, new { id = userId }, tx, cancellationToken: ct));
        await conn.ExecuteAsync(new CommandDefinition(DeleteRecoveryCodes, new { id = userId }, tx, cancellationToken: ct));
        await Sessions.EndUserSessionsAsync(conn, tx, userId, keepSession, ct);
        await tx.CommitAsync(ct);
        return true;
    }

    /// <summary>Checks and consumes a TOTP code (each time step once) or a recovery code (each code once).</summary>
    public async Task<bool> VerifySecondFactorAsync(NpgsqlConnection conn, UserAccount user, string? totpCode, string? recoveryCode, CancellationToken ct = default)
    {
        if (!string.IsNullOrWhiteSpace(totpCode) && user.TotpSecret is not null
            && protector.UnprotectBytes(user.TotpSecret, SeedPurpose(user.Id)) is { } seed
            && Totp.Match(seed, totpCode, time.GetUtcNow()) is { } step
            && await conn.ExecuteAsync(new CommandDefinition(ConsumeStep, new { id = user.Id, step }, cancellationToken: ct)) == 1)
        {
            return true;
        }

        return !string.IsNullOrWhiteSpace(recoveryCode)
            && await conn.ExecuteAsync(new CommandDefinition(ConsumeRecoveryCode, new { id = user.Id, hash = HashRecoveryCode(recoveryCode) }, cancellationToken: ct)) == 1;
    }

    private async Task<string[]> ReplaceRecoveryCodesAsync(NpgsqlConnection conn, NpgsqlTransaction tx, long userId, CancellationToken ct)
    {
        await conn.ExecuteAsync(new CommandDefinition(DeleteRecoveryCodes, new { id = userId }, tx, cancellationToken: ct));
        var codes = Enumerable.Range(0, RecoveryCodeCount).Select(_ => NewRecoveryCode()).ToArray();
        foreach (var code in codes)
        {
            await conn.ExecuteAsync(new CommandDefinition(InsertRecoveryCode, new { id = userId, hash = HashRecoveryCode(code) }, tx, cancellationToken: ct));
        }

        return codes;
    }

    private static string NewRecoveryCode()
    {
        var chars = new char[11];
        for (var i = 0; i < chars.Length; i++)
        {
            chars[i] = i == 5 ? '-' : RecoveryAlphabet[RandomNumberGenerator.GetInt32(RecoveryAlphabet.Length)];
        }

        return new string(chars);
    }

    private byte[] HashRecoveryCode(string code)
    {
        var normalized = new string([.. code.Where(char.IsAsciiLetterOrDigit).Select(char.ToLowerInvariant)]);
        return HMACSHA256.HashData(_recoveryKey, Encoding.UTF8.GetBytes(normalized));
    }

    private static string SeedPurpose(long userId) => $"totp:{userId}";
}
