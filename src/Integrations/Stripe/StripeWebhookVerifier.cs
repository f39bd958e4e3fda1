using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Sajet.Integrations.Stripe;

public enum StripeSignatureStatus
{
    Valid,
    MissingHeader,
    MalformedHeader,
    NoV1Signature,
    TimestampOutsideTolerance,
    SignatureMismatch,
}

public readonly record struct StripeSignatureResult(StripeSignatureStatus Status, long? Timestamp)
{
    public bool IsValid => Status == StripeSignatureStatus.Valid;
}

/// <summary>
/// Checks the Stripe-Signature header of a webhook (stripe.md §9): HMAC-SHA256 of "t.body" keyed
/// with the whole endpoint secret, any v1 entry may match (rotation), and the signing time may be
/// at most <c>tolerance</c> old. Outcomes are values, not exceptions, so the endpoint can answer 400
/// and log the reason.
/// </summary>
public sealed class StripeWebhookVerifier
{
    private readonly byte[][] _keys;
    private readonly TimeSpan _tolerance;
    private readonly TimeProvider _time;

    public StripeWebhookVerifier(IEnumerable<string> secrets, TimeSpan tolerance, TimeProvider? timeProvider = null)
    {
        _keys = [.. secrets.Where(s => !string.IsNullOrEmpty(s)).Select(Encoding.UTF8.GetBytes)];
        if (_keys.Length == 0)
        {
            throw new ArgumentException("At least one webhook secret is required.", nameof(secrets));
        }

        _tolerance = tolerance;
        _time = timeProvider ?? TimeProvider.System;
    }

    public StripeWebhookVerifier(StripeOptions options, TimeProvider? timeProvider = null)
        : this(options.WebhookSecrets, options.WebhookTolerance, timeProvider)
    {
    }

    public StripeSignatureResult Verify(string payload, string? header) =>
        Verify(Encoding.UTF8.GetBytes(payload), header, _time.GetUtcNow());

    public StripeSignatureResult Verify(ReadOnlySpan<byte> payload, string? header) =>
        Verify(payload, header, _time.GetUtcNow());

    /// <param name="payload">The raw request body exactly as received; re-serialised JSON will not match.</param>
    public StripeSignatureResult Verify(ReadOnlySpan<byte> payload, string? header, DateTimeOffset now)
    {
        if (string.IsNullOrWhiteSpace(header))
        {
            return new(StripeSignatureStatus.MissingHeader, null);
        }

        long? timestamp = null;
        var signatures = new List<byte[]>();
        var sawV1 = false;
        foreach (var element in header.Split(','))
        {
            var eq = element.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                continue;
            }

            var key = element[..eq].Trim();
            var value = element[(eq + 1)..].Trim();
            if (key == "t")
            {
                if (!long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var t))
                {
                    return new(StripeSignatureStatus.MalformedHeader, null);
                }

                timestamp = t;
            }
            else if (key == "v1")
            {
                sawV1 = true;
                // A v1 that is not 64 hex digits can never match; keep looking at the others.
                if (value.Length == 64 && TryFromHex(value, out var bytes))
                {
                    signatures.Add(bytes);
                }
            }
        }

        if (timestamp is not { } ts)
        {
            return new(StripeSignatureStatus.MalformedHeader, null);
        }

        if (!sawV1)
        {
            return new(StripeSignatureStatus.NoV1Signature, ts);
        }

        var matched = false;
        foreach (var key in _keys)
        {
            var expected = StripeWebhookSigner.ComputeSignatureBytes(key, ts, payload);
            foreach (var candidate in signatures)
            {
                // No early exit: every comparison runs so timing reveals nothing about which one matched.
                matched |= CryptographicOperations.FixedTimeEquals(expected, candidate);
            }
        }

        if (!matched)
        {
            return new(StripeSignatureStatus.SignatureMismatch, ts);
        }

        // Like the SDKs: reject only when strictly older than the tolerance; future timestamps pass.
        return now.ToUnixTimeSeconds() - ts > (long)_tolerance.TotalSeconds
            ? new(StripeSignatureStatus.TimestampOutsideTolerance, ts)
            : new(StripeSignatureStatus.Valid, ts);
    }

    private static bool TryFromHex(string hex, out byte[] bytes)
    {
        try
        {
            bytes = Convert.FromHexString(hex);
            return true;
        }
        catch (FormatException)
        {
            bytes = [];
            return false;
        }
    }
}

/// <summary>Produces Stripe-Signature headers, for tests, benchmarks and anything that replays events.</summary>
public static class StripeWebhookSigner
{
    /// <summary>Lowercase hex HMAC-SHA256 of "timestamp.payload" keyed with the UTF-8 bytes of the whole secret.</summary>
    public static string ComputeSignature(string secret, long timestamp, string payload) =>
        Convert.ToHexStringLower(ComputeSignatureBytes(Encoding.UTF8.GetBytes(secret), timestamp, Encoding.UTF8.GetBytes(payload)));

    /// <summary>"t=…,v1=…" with one v1 entry per secret, as Stripe sends while a secret is being rolled.</summary>
    public static string GenerateHeader(string payload, long timestamp, params IEnumerable<string> secrets)
    {
        var builder = new StringBuilder("t=").Append(timestamp.ToString(CultureInfo.InvariantCulture));
        foreach (var secret in secrets)
        {
            builder.Append(",v1=").Append(ComputeSignature(secret, timestamp, payload));
        }

        return builder.ToString();
    }

    public static string GenerateHeader(string payload, DateTimeOffset signedAt, params IEnumerable<string> secrets) =>
        GenerateHeader(payload, signedAt.ToUnixTimeSeconds(), secrets);

    internal static byte[] ComputeSignatureBytes(byte[] key, long timestamp, ReadOnlySpan<byte> payload)
    {
        var prefix = Encoding.ASCII.GetBytes(timestamp.ToString(CultureInfo.InvariantCulture) + ".");
        var message = new byte[prefix.Length + payload.Length];
        prefix.CopyTo(message, 0);
        payload.CopyTo(message.AsSpan(prefix.Length));
        return HMACSHA256.HashData(key, message);
    }
}
