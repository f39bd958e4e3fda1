using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Sajet.Simulators.Stripe;

/// <summary>
/// The simulated account: every object as the JSON Stripe would render at the configured API version,
/// the event log, idempotency records and switches. All members are used under <see cref="Gate"/>.
/// </summary>
internal sealed partial class StripeState
{
    private const string IdAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    private readonly StripeSimulatorOptions _options;
    private int _invoiceNumber;

    public StripeState(StripeSimulatorOptions options)
    {
        _options = options;
        Random = new Random(options.Seed ?? System.Random.Shared.Next());
        Endpoints = [.. options.WebhookEndpoints.Select(u => new StripeWebhookEndpoint(u))];
        WebhookSecrets = [options.WebhookSecret];
    }

    /// <summary>Stripe does not escape quotes or non-ASCII text in its JSON; neither do we.</summary>
    public static JsonSerializerOptions Wire { get; } = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public object Gate { get; } = new();
    public Random Random { get; private set; }
    public string BaseUrl { get; set; } = "";
    public string ApiVersion => _options.ApiVersion;
    public Dictionary<string, JsonObject> Objects { get; } = new(StringComparer.Ordinal);
    public List<string> Order { get; } = [];
    public Dictionary<string, JsonArray> SessionLineItems { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, JsonObject> SessionSubscriptionData { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, JsonArray> InvoicePayments { get; } = new(StringComparer.Ordinal);

    /// <summary>Card number on file per customer id, for charges made without the customer (renewals, invoice pay).</summary>
    public Dictionary<string, string> CustomerCards { get; } = new(StringComparer.Ordinal);

    /// <summary>Card number behind each payment method object (pm_card_visa and friends resolve to one of these).</summary>
    public Dictionary<string, string> PaymentMethodCards { get; } = new(StringComparer.Ordinal);
    public List<EventRecord> Events { get; } = [];
    public Dictionary<string, EventRecord> EventsById { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, IdempotencyRecord> Idempotency { get; } = new(StringComparer.Ordinal);
    public List<StripeWebhookEndpoint> Endpoints { get; private set; }
    public List<string> WebhookSecrets { get; private set; }
    public StripeWebhookSwitches Switches { get; set; } = new();
    public List<StripeFault> Faults { get; } = [];
    public List<StripeDeliveryAttempt> Attempts { get; } = [];

    /// <summary>API requests received, by "METHOD /path" (for tests that count what Sajet asks of Stripe).</summary>
    public Dictionary<string, int> Requests { get; } = new(StringComparer.Ordinal);
    public double RetryScale { get; set; } = 1.0;
    public int MaxDeliveryAttempts { get; set; } = 4;

    public void Reset()
    {
        Random = new Random(_options.Seed ?? System.Random.Shared.Next());
        Objects.Clear();
        Order.Clear();
        SessionLineItems.Clear();
        SessionSubscriptionData.Clear();
        InvoicePayments.Clear();
        CustomerCards.Clear();
        PaymentMethodCards.Clear();
        _frozenNow = null;
        Events.Clear();
        EventsById.Clear();
        Idempotency.Clear();
        Endpoints = [.. _options.WebhookEndpoints.Select(u => new StripeWebhookEndpoint(u))];
        WebhookSecrets = [_options.WebhookSecret];
        Switches = new StripeWebhookSwitches();
        Faults.Clear();
        Attempts.Clear();
        Requests.Clear();
        RetryScale = _options.RetryScale;
        MaxDeliveryAttempts = _options.MaxDeliveryAttempts;
        _invoiceNumber = 0;
    }

    /// <summary>The clock's frozen time while an operation acts for a customer on a test clock (see EnterClock).</summary>
    private long? _frozenNow;

    public long Now() => _frozenNow ?? _options.TimeProvider.GetUtcNow().ToUnixTimeSeconds();

    public string NewId(string prefix, int length = 24)
    {
        var chars = new char[length];
        for (var i = 0; i < length; i++)
        {
            chars[i] = IdAlphabet[Random.Next(IdAlphabet.Length)];
        }

        return prefix + new string(chars);
    }

    public JsonObject? Find(string id, string objectType) =>
        Objects.TryGetValue(id, out var obj) && (string?)obj["object"] == objectType ? obj : null;

    public IEnumerable<JsonObject> All(string objectType)
    {
        for (var i = Order.Count - 1; i >= 0; i--)
        {
            if (Objects.TryGetValue(Order[i], out var obj) && (string?)obj["object"] == objectType)
            {
                yield return obj;
            }
        }
    }

    private JsonObject Add(JsonObject obj)
    {
        var id = (string)obj["id"]!;
        Objects[id] = obj;
        Order.Add(id);
        return obj;
    }

    // ---- events -------------------------------------------------------------------------------

    public EventRecord Emit(Mutation m, string type, JsonObject dataObject, JsonObject? previousAttributes = null)
    {
        var id = NewId("evt_");
        var data = new JsonObject { ["object"] = dataObject.DeepClone() };
        if (previousAttributes is { Count: > 0 })
        {
            data["previous_attributes"] = previousAttributes.DeepClone();
        }

        var pending = Endpoints.Where(e => e.Wants(type)).Select(e => e.Url).ToList();
        var body = new JsonObject
        {
            ["id"] = id,
            ["object"] = "event",
            ["api_version"] = ApiVersion,
            ["created"] = Now(),
            ["data"] = data,
            ["livemode"] = false,
            ["pending_webhooks"] = pending.Count,
            ["request"] = new JsonObject { ["id"] = m.RequestId, ["idempotency_key"] = m.IdempotencyKey },
            ["type"] = type,
        };
        var record = new EventRecord(id, type, body);
        record.Pending.UnionWith(pending);
        Events.Add(record);
        EventsById[id] = record;
        m.Events.Add(record);
        return record;
    }

    /// <summary>Old values of the top-level fields that changed, as data.previous_attributes carries them.</summary>
    public static JsonObject Diff(JsonObject before, JsonObject after)
    {
        var previous = new JsonObject();
        foreach (var (key, value) in before)
        {
            if (!JsonNode.DeepEquals(value, after[key]))
            {
                previous[key] = value?.DeepClone();
            }
        }

        return previous;
    }

    // ---- rendering ----------------------------------------------------------------------------

    /// <summary>A copy of an object with <c>expand[]</c> applied (up to four levels, as Stripe allows).</summary>
    public JsonObject Render(JsonObject obj, IEnumerable<string> expand)
    {
        var copy = (JsonObject)obj.DeepClone();
        var i = 0;
        foreach (var path in expand)
        {
            var segments = path.Split('.');
            if (segments.Length > 4)
            {
                throw StripeApiError.Invalid($"expand[{i}]", $"You cannot expand more than 4 levels of a property. Property: {path}");
            }

            ExpandPath(copy, segments, 0, path, i);
            i++;
        }

        return copy;
    }

    private void ExpandPath(JsonNode? node, string[] segments, int index, string path, int expandIndex)
    {
        if (index >= segments.Length || node is not JsonObject obj)
        {
            return;
        }

        var field = segments[index];
        if (field == "data" && (string?)obj["object"] == "list" && obj["data"] is JsonArray items)
        {
            foreach (var item in items)
            {
                ExpandPath(item, segments, index + 1, path, expandIndex);
            }

            return;
        }

        var objectType = (string?)obj["object"];
        if (objectType == "checkout.session" && field == "line_items")
        {
            obj["line_items"] = LineItemsList((string)obj["id"]!);
        }
        else if (objectType == "invoice" && field == "payments")
        {
            obj["payments"] = PaymentsList((string)obj["id"]!);
        }
        else if (!obj.ContainsKey(field))
        {
            throw StripeApiError.Invalid($"expand[{expandIndex}]", $"This property cannot be expanded ({path}).");
        }
        else if (obj[field] is JsonValue value && value.GetValueKind() == JsonValueKind.String)
        {
            var id = value.GetValue<string>();
            if (!Objects.TryGetValue(id, out var target))
            {
                throw StripeApiError.Invalid($"expand[{expandIndex}]", $"This property cannot be expanded ({path}).");
            }

            obj[field] = target.DeepClone();
        }

        ExpandPath(obj[field], segments, index + 1, path, expandIndex);
    }

    public JsonObject LineItemsList(string sessionId) =>
        ListEnvelope(SessionLineItems.TryGetValue(sessionId, out var items) ? items : [], $"/v1/checkout/sessions/{sessionId}/line_items");

    public JsonObject PaymentsList(string invoiceId) =>
        ListEnvelope(InvoicePayments.TryGetValue(invoiceId, out var payments) ? payments : [], $"/v1/invoices/{invoiceId}/payments");

    public static JsonObject ListEnvelope(IEnumerable<JsonNode?> data, string url, bool hasMore = false) => new()
    {
        ["object"] = "list",
        ["data"] = new JsonArray([.. data.Select(d => d?.DeepClone())]),
        ["has_more"] = hasMore,
        ["url"] = url,
    };

    // ---- helpers ------------------------------------------------------------------------------

    public static JsonObject Metadata(IDictionary<string, string>? metadata)
    {
        var obj = new JsonObject();
        foreach (var (k, v) in metadata ?? new Dictionary<string, string>())
        {
            obj[k] = v;
        }

        return obj;
    }

    public static long PeriodEnd(long start, string interval, long count)
    {
        var from = DateTimeOffset.FromUnixTimeSeconds(start);
        var end = interval switch
        {
            "day" => from.AddDays(count),
            "week" => from.AddDays(7 * count),
            "year" => from.AddYears((int)count),
            _ => from.AddMonths((int)count),
        };
        return end.ToUnixTimeSeconds();
    }

    /// <summary>Reads a JSON number whatever CLR type it was stored from (int literals and longs both occur).</summary>
    public static long Long(JsonNode? node) =>
        LongOrNull(node) ?? throw new InvalidOperationException("Expected a number, found null.");

    public static long? LongOrNull(JsonNode? node) =>
        node is null ? null : long.Parse(node.ToJsonString(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);

    public static string Money(long amount, string currency) =>
        $"{(amount / 100).ToString(CultureInfo.InvariantCulture)}.{Math.Abs(amount % 100):00} {currency.ToUpperInvariant()}";

    public string NextInvoiceNumber() => $"SAJ-{++_invoiceNumber:0000}";
}
