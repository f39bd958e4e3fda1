using System.Globalization;
using System.Text;
using Stripe;

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
/// Checks the Stripe-Signature header of a webhook (stripe.md §9) with Stripe.net's
/// <see cref="EventUtility.ValidateSignature(string, string, string, long, long)"/>: any configured secret may match
/// (rotation), and the signing time may be at most <c>tolerance</c> away from now, in either direction, as the SDK
/// decides. Outcomes are values, not exceptions, so the endpoint can answer 400 and audit the reason.
/// </summary>
/// <remarks>
/// Only the signature is checked here, never the event parsed: the webhook reads the id, type and a few references
/// straight from the JSON and the grain re-reads Stripe's current objects through the API. So the event's
/// <c>api_version</c> is never compared with the SDK's (that is what <c>throwOnApiVersionMismatch</c> would do): the
/// account or endpoint may render events in another release, and nothing here depends on the object's shape.
/// </remarks>
public sealed class StripeWebhookVerifier
{
    private readonly string[] _secrets;
    private readonly long _toleranceSeconds;
    private readonly TimeProvider _time;

    public StripeWebhookVerifier(IEnumerable<string> secrets, TimeSpan tolerance, TimeProvider? timeProvider = null)
    {
        _secrets = [.. secrets.Where(s => !string.IsNullOrEmpty(s))];
        if (_secrets.Length == 0)
        {
            throw new ArgumentException("At least one webhook secret is required.", nameof(secrets));
        }

        _toleranceSeconds = (long)tolerance.TotalSeconds;
        _time = timeProvider ?? TimeProvider.System;
    }

    public StripeWebhookVerifier(StripeOptions options, TimeProvider? timeProvider = null)
        : this(options.WebhookSecrets, options.WebhookTolerance, timeProvider)
    {
    }

    /// <param name="payload">The raw request body exactly as received; re-serialised JSON will not match.</param>
    public StripeSignatureResult Verify(string payload, string? header) => Verify(payload, header, _time.GetUtcNow());

    public StripeSignatureResult Verify(ReadOnlySpan<byte> payload, string? header) => Verify(payload, header, _time.GetUtcNow());

    /// <param name="payload">
    /// The raw body. The SDK signs text, so the bytes are read as UTF-8 (Stripe sends nothing else); invalid bytes
    /// would be replaced and then fail to match, which is the right outcome for them.
    /// </param>
    public StripeSignatureResult Verify(ReadOnlySpan<byte> payload, string? header, DateTimeOffset now) =>
        Verify(Encoding.UTF8.GetString(payload), header, now);

    public StripeSignatureResult Verify(string payload, string? header, DateTimeOffset now)
    {
        if (string.IsNullOrWhiteSpace(header))
        {
            return new(StripeSignatureStatus.MissingHeader, null);
        }

        // Read only to name the reason of a refusal; the SDK makes the decision below.
        var (timestamp, hasV1) = Inspect(header);
        if (timestamp is not { } ts)
        {
            return new(StripeSignatureStatus.MalformedHeader, null);
        }

        if (!hasV1)
        {
            return new(StripeSignatureStatus.NoV1Signature, ts);
        }

        var utcNow = now.ToUnixTimeSeconds();
        foreach (var secret in _secrets)
        {
            if (Passes(payload, header, secret, _toleranceSeconds, utcNow))
            {
                return new(StripeSignatureStatus.Valid, ts);
            }
        }

        // Refused by every secret. An authentic but stale delivery (a replay, or a clock far off) is worth telling apart
        // from a forgery in the audit; that costs a second HMAC, on refusals only.
        var stale = Math.Abs(utcNow - ts) > _toleranceSeconds;
        return stale && _secrets.Any(secret => Passes(payload, header, secret, long.MaxValue, utcNow))
            ? new(StripeSignatureStatus.TimestampOutsideTolerance, ts)
            : new(StripeSignatureStatus.SignatureMismatch, ts);
    }

    private static bool Passes(string payload, string header, string secret, long tolerance, long utcNow)
    {
        try
        {
            EventUtility.ValidateSignature(payload, header, secret, tolerance, utcNow);
            return true;
        }
        catch (global::Stripe.StripeException)
        {
            return false;
        }
    }

    private static (long? Timestamp, bool HasV1) Inspect(string header)
    {
        long? timestamp = null;
        var hasV1 = false;
        foreach (var element in header.Split(','))
        {
            var eq = element.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                continue;
            }

            var key = element[..eq].Trim();
            if (key == "t")
            {
                // The SDK reads t as a 32-bit number (and throws something other than StripeException beyond it).
                if (!int.TryParse(element[(eq + 1)..].Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var t))
                {
                    return (null, false);
                }

                timestamp = t;
            }
            else if (key == "v1")
            {
                hasV1 = true;
            }
        }

        return (timestamp, hasV1);
    }
}

/// <summary>Produces Stripe-Signature headers, for tests, benchmarks and anything that replays events.</summary>
public static class StripeWebhookSigner
{
    /// <summary>Lowercase hex HMAC-SHA256 of "timestamp.payload" keyed with the whole secret, computed by Stripe.net.</summary>
    public static string ComputeSignature(string secret, long timestamp, string payload) =>
        EventUtility.ComputeSignature(secret, timestamp.ToString(CultureInfo.InvariantCulture), payload);

    /// <summary>
    /// "t=…,v1=…" with one v1 entry per secret, as Stripe sends while a secret is being rolled (the SDK's
    /// <see cref="EventUtility.GenerateSignatureHeader"/> signs with one secret only).
    /// </summary>
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
}
