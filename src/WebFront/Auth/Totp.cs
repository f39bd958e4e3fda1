using OtpNet;

namespace Sajet.WebFront.Auth;

/// <summary>
/// Time-based one-time passwords (RFC 6238 over RFC 4226) through Otp.NET: HMAC-SHA-1, 30-second steps, 6 digits, as
/// every authenticator app expects. Verification accepts the previous, current and next step for clock drift; replay
/// of an already used step is refused by the caller, which stores the last accepted step. What stays here is Sajet's
/// policy (digits, window, seed size, input clean-up), not the algorithm.
/// </summary>
public static class Totp
{
    public const int StepSeconds = 30;
    public const int Digits = 6;
    public const int SeedBytes = 20;

    // One step either side: RFC 6238's recommended network-delay allowance, enough for a phone's clock drift.
    private static readonly VerificationWindow Window = new(previous: 1, future: 1);

    public static long StepAt(DateTimeOffset time) => time.ToUnixTimeSeconds() / StepSeconds;

    public static string Compute(byte[] key, long step, int digits = Digits) =>
        Generator(key, digits).ComputeTotp(DateTimeOffset.FromUnixTimeSeconds(step * StepSeconds).UtcDateTime);

    /// <summary>The step (within ±1 of now) whose code matches, or null. Otp.NET compares in constant time.</summary>
    public static long? Match(byte[] key, string? code, DateTimeOffset now)
    {
        var normalized = (code ?? "").Replace(" ", "", StringComparison.Ordinal);
        if (normalized.Length != Digits || !normalized.All(char.IsAsciiDigit))
        {
            return null;
        }

        return Generator(key, Digits).VerifyTotp(now.UtcDateTime, normalized, out var step, Window) ? step : null;
    }

    public static byte[] NewSeed() => KeyGeneration.GenerateRandomKey(SeedBytes);

    /// <summary>The provisioning URI authenticator apps read from the QR code (Google Authenticator key URI format).</summary>
    public static string OtpauthUri(string issuer, string account, byte[] seed) =>
        new OtpUri(OtpType.Totp, Base32.Encode(seed), account, issuer, OtpHashMode.Sha1, Digits, StepSeconds).ToString();

    private static OtpNet.Totp Generator(byte[] key, int digits) => new(key, StepSeconds, OtpHashMode.Sha1, digits);
}

/// <summary>RFC 4648 base32 as TOTP seeds are shown: without padding; read back with or without it, spaces and case.</summary>
public static class Base32
{
    public static string Encode(ReadOnlySpan<byte> data) => Base32Encoding.ToString(data.ToArray()).TrimEnd('=');

    public static byte[] Decode(string text)
    {
        var clean = text.Replace(" ", "", StringComparison.Ordinal).TrimEnd('=').ToUpperInvariant();
        if (clean.Any(c => c is not (>= 'A' and <= 'Z') and not (>= '2' and <= '7')))
        {
            throw new FormatException("Not a base32 string.");
        }

        return Base32Encoding.ToBytes(clean);
    }
}
