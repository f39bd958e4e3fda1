using System.Text.Json.Nodes;

namespace Sajet.Simulators.Stripe;

/// <summary>A webhook endpoint; <see cref="EnabledEvents"/> of null or ["*"] means every event.</summary>
public sealed record StripeWebhookEndpoint(string Url, IReadOnlyList<string>? EnabledEvents = null)
{
    internal bool Wants(string type) =>
        EnabledEvents is null || EnabledEvents.Count == 0 || EnabledEvents.Any(e => e == "*" || e == type);
}

/// <summary>One POST of an event to an endpoint (or a drop), as the delivery history shows it.</summary>
public sealed record StripeDeliveryAttempt(
    string EventId, string EventType, string Endpoint, int Attempt, int Copy, int? StatusCode, string? Error, bool Succeeded, bool Dropped, DateTimeOffset At);

/// <summary>
/// Makes matching REST requests fail before they execute (so nothing is stored under their idempotency key).
/// Status 0 drops the connection instead of answering.
/// </summary>
public sealed record StripeFault
{
    /// <summary>Matches request paths that start with this, e.g. "/v1/customers".</summary>
    public string PathPrefix { get; init; } = "/v1/";

    /// <summary>GET, POST or DELETE; null matches any.</summary>
    public string? Method { get; init; }

    public int Status { get; init; } = 500;

    /// <summary>Probability per matching request, drawn from the seeded generator.</summary>
    public double Rate { get; init; } = 1.0;

    /// <summary>How many requests it may still fail; null for no limit.</summary>
    public int? Remaining { get; init; }

    /// <summary>Added before the request is handled (or failed).</summary>
    public TimeSpan Latency { get; init; }

    /// <summary>Value of the Stripe-Should-Retry header ("true"/"false"), if any.</summary>
    public string? ShouldRetry { get; init; }

    public int? RetryAfterSeconds { get; init; }

    public string? Code { get; init; }
}

/// <summary>Delivery switches: duplicates, shuffling, dropped types and delay.</summary>
public sealed record StripeWebhookSwitches
{
    /// <summary>Each delivery is POSTed this many times, concurrently (at-least-once delivery).</summary>
    public int Duplicates { get; init; } = 1;

    /// <summary>Events produced together (e.g. by one payment) are queued in a seeded random order.</summary>
    public bool Shuffle { get; init; }

    /// <summary>Event types that are recorded but never delivered (a missed webhook).</summary>
    public IReadOnlySet<string> DropTypes { get; init; } = new HashSet<string>();

    /// <summary>Waited before each delivery.</summary>
    public TimeSpan Delay { get; init; }
}

public sealed record StripeCheckoutPayment(bool Succeeded, string? DeclineCode, string? Message, string? RedirectUrl);

internal sealed class EventRecord(string id, string type, JsonObject body)
{
    public string Id { get; } = id;
    public string Type { get; } = type;
    public JsonObject Body { get; } = body;

    /// <summary>Endpoints that have not acknowledged it yet (pending_webhooks).</summary>
    public HashSet<string> Pending { get; } = new(StringComparer.Ordinal);
}

internal sealed record IdempotencyRecord(string Fingerprint, int Status, string Body, bool InFlight);

/// <summary>Collects what one state change produced, so that events are queued after the lock is released.</summary>
internal sealed class Mutation(string? requestId = null, string? idempotencyKey = null)
{
    public string? RequestId { get; } = requestId;
    public string? IdempotencyKey { get; } = idempotencyKey;
    public List<EventRecord> Events { get; } = [];
}
