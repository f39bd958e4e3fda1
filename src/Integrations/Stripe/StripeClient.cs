using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Sajet.Integrations.Stripe;

/// <summary>
/// Typed client for the part of Stripe's REST API Sajet uses. Behaves like the official SDKs on the
/// wire: form bodies, pinned Stripe-Version, an Idempotency-Key on every POST that is kept across
/// retries, and retries with jittered exponential backoff that obey Stripe-Should-Retry and Retry-After.
/// </summary>
public sealed class StripeClient
{
    // The SDKs ignore a Retry-After longer than this and fall back to their own backoff.
    private static readonly TimeSpan MaxRetryAfter = TimeSpan.FromSeconds(60);

    private readonly HttpClient _http;
    private readonly StripeOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Uri _baseUri;

    public StripeClient(HttpClient http, IOptions<StripeOptions> options, ILogger<StripeClient>? logger = null, TimeProvider? timeProvider = null)
    {
        _http = http;
        _options = options.Value;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _time = timeProvider ?? TimeProvider.System;
        _baseUri = new Uri(_options.BaseUrl.TrimEnd('/') + "/");
    }

    public Task<Customer> CreateCustomerAsync(CustomerCreateRequest request, string? idempotencyKey = null, CancellationToken ct = default) =>
        RequestAsync<Customer>(HttpMethod.Post, "v1/customers", request.ToParams(), idempotencyKey, ct);

    public Task<Customer> GetCustomerAsync(string id, CancellationToken ct = default) =>
        RequestAsync<Customer>(HttpMethod.Get, $"v1/customers/{Segment(id)}", null, null, ct);

    public Task<CheckoutSession> CreateCheckoutSessionAsync(CheckoutSessionCreateRequest request, string? idempotencyKey = null, CancellationToken ct = default) =>
        RequestAsync<CheckoutSession>(HttpMethod.Post, "v1/checkout/sessions", request.ToParams(), idempotencyKey, ct);

    /// <param name="expand">e.g. "subscription", "customer", "line_items", "invoice".</param>
    public Task<CheckoutSession> GetCheckoutSessionAsync(string id, IEnumerable<string>? expand = null, CancellationToken ct = default) =>
        RequestAsync<CheckoutSession>(HttpMethod.Get, $"v1/checkout/sessions/{Segment(id)}", Expand(expand), null, ct);

    public Task<CheckoutSession> ExpireCheckoutSessionAsync(string id, string? idempotencyKey = null, CancellationToken ct = default) =>
        RequestAsync<CheckoutSession>(HttpMethod.Post, $"v1/checkout/sessions/{Segment(id)}/expire", null, idempotencyKey, ct);

    public Task<Subscription> GetSubscriptionAsync(string id, IEnumerable<string>? expand = null, CancellationToken ct = default) =>
        RequestAsync<Subscription>(HttpMethod.Get, $"v1/subscriptions/{Segment(id)}", Expand(expand), null, ct);

    public Task<Subscription> UpdateSubscriptionAsync(string id, SubscriptionUpdateRequest request, string? idempotencyKey = null, CancellationToken ct = default) =>
        RequestAsync<Subscription>(HttpMethod.Post, $"v1/subscriptions/{Segment(id)}", request.ToParams(), idempotencyKey, ct);

    /// <summary>Cancels now. A second cancel fails with a 4xx; re-read the subscription and treat "canceled" as done.</summary>
    public Task<Subscription> CancelSubscriptionAsync(string id, SubscriptionCancelRequest? request = null, CancellationToken ct = default) =>
        RequestAsync<Subscription>(HttpMethod.Delete, $"v1/subscriptions/{Segment(id)}", request?.ToParams(), null, ct);

    /// <summary>Expands <c>payments</c> so that <see cref="Invoice.PaymentIntentId"/> is filled.</summary>
    public Task<Invoice> GetInvoiceAsync(string id, CancellationToken ct = default) =>
        RequestAsync<Invoice>(HttpMethod.Get, $"v1/invoices/{Segment(id)}", Expand(["payments"]), null, ct);

    public Task<StripeList<Invoice>> ListInvoicesAsync(InvoiceListRequest request, CancellationToken ct = default)
    {
        var parameters = request.ToParams();
        parameters["expand"] = new List<string> { "data.payments" };
        return RequestAsync<StripeList<Invoice>>(HttpMethod.Get, "v1/invoices", parameters, null, ct);
    }

    public Task<Refund> CreateRefundAsync(RefundCreateRequest request, string? idempotencyKey = null, CancellationToken ct = default)
    {
        if ((request.PaymentIntent is null) == (request.Charge is null))
        {
            throw new ArgumentException("A refund needs exactly one of PaymentIntent or Charge.", nameof(request));
        }

        return RequestAsync<Refund>(HttpMethod.Post, "v1/refunds", request.ToParams(), idempotencyKey, ct);
    }

    public Task<BillingPortalSession> CreateBillingPortalSessionAsync(BillingPortalSessionCreateRequest request, string? idempotencyKey = null, CancellationToken ct = default) =>
        RequestAsync<BillingPortalSession>(HttpMethod.Post, "v1/billing_portal/sessions", request.ToParams(), idempotencyKey, ct);

    public Task<StripeEvent> GetEventAsync(string id, CancellationToken ct = default) =>
        RequestAsync<StripeEvent>(HttpMethod.Get, $"v1/events/{Segment(id)}", null, null, ct);

    public Task<StripeList<StripeEvent>> ListEventsAsync(EventListRequest? request = null, CancellationToken ct = default) =>
        RequestAsync<StripeList<StripeEvent>>(HttpMethod.Get, "v1/events", request?.ToParams(), null, ct);

    /// <summary>
    /// Any endpoint, for what the typed methods do not cover. Parameters go in the query string for
    /// GET and DELETE and in a form body otherwise; POSTs always carry an Idempotency-Key.
    /// </summary>
    public async Task<T> RequestAsync<T>(HttpMethod method, string path, IEnumerable<KeyValuePair<string, object?>>? parameters,
        string? idempotencyKey, CancellationToken ct)
    {
        var encoded = parameters is null ? "" : StripeFormEncoder.Encode(parameters);
        var inQuery = method == HttpMethod.Get || method == HttpMethod.Delete;
        var uri = new Uri(_baseUri, inQuery && encoded.Length > 0 ? $"{path.TrimStart('/')}?{encoded}" : path.TrimStart('/'));
        if (method == HttpMethod.Post)
        {
            idempotencyKey ??= $"sajet-{Guid.NewGuid()}";
        }

        for (var retry = 0; ; retry++)
        {
            using var request = new HttpRequestMessage(method, uri);
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _options.SecretKey);
            request.Headers.TryAddWithoutValidation("Stripe-Version", _options.ApiVersion);
            request.Headers.UserAgent.ParseAdd("Sajet/1.0");
            if (idempotencyKey is not null)
            {
                request.Headers.TryAddWithoutValidation("Idempotency-Key", idempotencyKey);
            }

            if (!inQuery)
            {
                request.Content = new StringContent(encoded, Encoding.UTF8, "application/x-www-form-urlencoded");
            }

            HttpResponseMessage response;
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct))
            {
                timeout.CancelAfter(_options.Timeout);
                try
                {
                    response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, timeout.Token);
                }
                catch (Exception ex) when (ex is HttpRequestException || (ex is OperationCanceledException && !ct.IsCancellationRequested))
                {
                    if (retry < _options.MaxNetworkRetries)
                    {
                        var delay = ComputeRetryDelay(retry + 1, null, _options, Random.Shared.NextDouble());
                        _logger.LogWarning("Stripe {Method} {Path} failed to connect ({Error}); retry {Retry} in {DelayMs} ms",
                            method, path, ex.Message, retry + 1, (long)delay.TotalMilliseconds);
                        await Task.Delay(delay, _time, ct);
                        continue;
                    }

                    throw new StripeConnectionException($"Could not reach Stripe for {method} /{path.TrimStart('/')} after {retry + 1} attempt(s): {ex.Message}", ex);
                }
            }

            using (response)
            {
                var body = await response.Content.ReadAsStringAsync(ct);
                var requestId = Header(response, "Request-Id");
                if (response.IsSuccessStatusCode)
                {
                    try
                    {
                        return JsonSerializer.Deserialize<T>(body, StripeJson.Options)
                            ?? throw new StripeException(response.StatusCode, "api_error", "Stripe returned JSON null.", requestId: requestId);
                    }
                    catch (JsonException ex)
                    {
                        throw new StripeException(response.StatusCode, "api_error", $"Invalid JSON from Stripe: {ex.Message}", requestId: requestId);
                    }
                }

                if (retry < _options.MaxNetworkRetries && ShouldRetry(response))
                {
                    var delay = ComputeRetryDelay(retry + 1, RetryAfter(response), _options, Random.Shared.NextDouble());
                    _logger.LogWarning("Stripe {Method} {Path} answered {Status} (request {RequestId}); retry {Retry} in {DelayMs} ms",
                        method, path, (int)response.StatusCode, requestId, retry + 1, (long)delay.TotalMilliseconds);
                    await Task.Delay(delay, _time, ct);
                    continue;
                }

                var error = ParseError(response.StatusCode, body, requestId);
                _logger.LogInformation("Stripe {Method} {Path} failed: {Status} {ErrorType} {ErrorCode} (request {RequestId})",
                    method, path, (int)response.StatusCode, error.Type, error.Code, requestId);
                throw error;
            }
        }
    }

    /// <summary>
    /// The official SDKs' backoff: min(initial·2^(n-1), max), scaled by a jitter factor in [0.5, 1),
    /// never below the initial delay, and never below a Retry-After of at most 60 s.
    /// </summary>
    /// <param name="retryNumber">1 for the first retry.</param>
    /// <param name="jitterSample">A sample in [0, 1).</param>
    public static TimeSpan ComputeRetryDelay(int retryNumber, TimeSpan? retryAfter, StripeOptions options, double jitterSample)
    {
        var exponential = options.InitialNetworkRetryDelay * Math.Pow(2, Math.Max(0, retryNumber - 1));
        var delay = exponential < options.MaxNetworkRetryDelay ? exponential : options.MaxNetworkRetryDelay;
        delay *= 0.5 * (1 + jitterSample);
        if (delay < options.InitialNetworkRetryDelay)
        {
            delay = options.InitialNetworkRetryDelay;
        }

        if (retryAfter is { } hint && hint <= MaxRetryAfter && hint > delay)
        {
            delay = hint;
        }

        return delay;
    }

    private static bool ShouldRetry(HttpResponseMessage response)
    {
        // The server's explicit hint wins over the status code, as in every official SDK.
        switch (Header(response, "Stripe-Should-Retry"))
        {
            case "true":
                return true;
            case "false":
                return false;
        }

        var status = (int)response.StatusCode;
        return status is 409 or 429 || status >= 500;
    }

    private static TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        if (response.Headers.RetryAfter is { Delta: { } delta })
        {
            return delta;
        }

        return Header(response, "Retry-After") is { } raw && double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds)
            ? TimeSpan.FromSeconds(seconds)
            : null;
    }

    private static StripeException ParseError(HttpStatusCode status, string body, string? requestId)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("error", out var e) && e.ValueKind == JsonValueKind.Object)
            {
                return new StripeException(status,
                    Str(e, "type") ?? "api_error",
                    Str(e, "message") ?? $"Stripe answered HTTP {(int)status}.",
                    Str(e, "code"), Str(e, "decline_code"), Str(e, "param"), requestId, Str(e, "doc_url"));
            }
        }
        catch (JsonException)
        {
            // Not Stripe's envelope (a proxy page, say); fall through to a generic error.
        }

        return new StripeException(status, "api_error", $"Stripe answered HTTP {(int)status} without an error object.", requestId: requestId);
    }

    private static string? Str(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? values.FirstOrDefault() : null;

    private static Dictionary<string, object?>? Expand(IEnumerable<string>? expand)
    {
        var list = expand?.ToList();
        return list is { Count: > 0 } ? new() { ["expand"] = list } : null;
    }

    private static string Segment(string id)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(id);
        return Uri.EscapeDataString(id);
    }
}
