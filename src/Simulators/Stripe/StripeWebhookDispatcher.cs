using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace Sajet.Simulators.Stripe;

/// <summary>
/// Posts events to the configured endpoints from a background queue, signed as Stripe signs them
/// (stripe.md §9), one delivery at a time unless duplicates are switched on. A non-2xx answer or a
/// timeout schedules a retry on an exponential schedule (1 min, 3 min, 9 min, … times RetryScale).
/// </summary>
internal sealed class StripeWebhookDispatcher : IAsyncDisposable
{
    private static readonly TimeSpan FirstRetry = TimeSpan.FromMinutes(1);

    private readonly StripeState _state;
    private readonly StripeSimulatorOptions _options;
    private readonly ILogger _logger;
    private readonly Channel<Delivery> _queue = Channel.CreateUnbounded<Delivery>();
    private readonly CancellationTokenSource _stop = new();
    private readonly HttpClient _http = new() { Timeout = Timeout.InfiniteTimeSpan };
    private readonly Task _loop;
    private int _inFlight;

    private sealed record Delivery(EventRecord Event, string Endpoint, int Attempt);

    public StripeWebhookDispatcher(StripeState state, StripeSimulatorOptions options, ILogger logger)
    {
        _state = state;
        _options = options;
        _logger = logger;
        _http.DefaultRequestHeaders.UserAgent.ParseAdd("Stripe/1.0 (+https://stripe.com/docs/webhooks)");
        _loop = Task.Run(RunAsync);
    }

    /// <summary>Deliveries queued, being sent, or waiting for a retry.</summary>
    public bool Idle => Volatile.Read(ref _inFlight) == 0;

    public void Enqueue(IReadOnlyList<EventRecord> events)
    {
        if (events.Count == 0)
        {
            return;
        }

        List<Delivery> deliveries;
        lock (_state.Gate)
        {
            var ordered = events.ToArray();
            if (_state.Switches.Shuffle)
            {
                _state.Random.Shuffle(ordered);
            }

            deliveries = [.. ordered.SelectMany(e => e.Pending.Order(StringComparer.Ordinal).Select(url => new Delivery(e, url, 1)))];
        }

        foreach (var delivery in deliveries)
        {
            Interlocked.Increment(ref _inFlight);
            _queue.Writer.TryWrite(delivery);
        }
    }

    /// <summary>Sends an existing event again to every endpoint that wants its type (like "Resend" in the dashboard).</summary>
    public void Resend(EventRecord record)
    {
        List<string> endpoints;
        lock (_state.Gate)
        {
            endpoints = [.. _state.Endpoints.Where(e => e.Wants(record.Type)).Select(e => e.Url)];
            record.Pending.UnionWith(endpoints);
        }

        foreach (var url in endpoints)
        {
            Interlocked.Increment(ref _inFlight);
            _queue.Writer.TryWrite(new Delivery(record, url, 1));
        }
    }

    private async Task RunAsync()
    {
        try
        {
            await foreach (var delivery in _queue.Reader.ReadAllAsync(_stop.Token))
            {
                try
                {
                    await DeliverAsync(delivery);
                }
                catch (Exception ex) when (!_stop.IsCancellationRequested)
                {
                    _logger.LogError(ex, "Webhook delivery of {EventId} to {Endpoint} crashed", delivery.Event.Id, delivery.Endpoint);
                    Interlocked.Decrement(ref _inFlight);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Disposed.
        }
    }

    private async Task DeliverAsync(Delivery delivery)
    {
        StripeWebhookSwitches switches;
        lock (_state.Gate)
        {
            switches = _state.Switches;
        }

        if (switches.DropTypes.Contains(delivery.Event.Type))
        {
            Record(delivery, 1, null, "dropped by the simulator's drop switch", succeeded: false, dropped: true);
            Interlocked.Decrement(ref _inFlight);
            return;
        }

        if (switches.Delay > TimeSpan.Zero)
        {
            await Task.Delay(switches.Delay, _stop.Token);
        }

        var copies = Math.Max(1, switches.Duplicates);
        var results = await Task.WhenAll(Enumerable.Range(1, copies).Select(copy => SendAsync(delivery, copy)));
        if (results.Any(ok => ok))
        {
            lock (_state.Gate)
            {
                delivery.Event.Pending.Remove(delivery.Endpoint);
            }

            Interlocked.Decrement(ref _inFlight);
            return;
        }

        int maxAttempts;
        double scale;
        lock (_state.Gate)
        {
            maxAttempts = _state.MaxDeliveryAttempts;
            scale = _state.RetryScale;
        }

        if (delivery.Attempt >= maxAttempts)
        {
            _logger.LogWarning("Giving up on {EventId} ({EventType}) for {Endpoint} after {Attempts} attempts",
                delivery.Event.Id, delivery.Event.Type, delivery.Endpoint, delivery.Attempt);
            Interlocked.Decrement(ref _inFlight);
            return;
        }

        var wait = FirstRetry * Math.Pow(3, delivery.Attempt - 1) * scale;
        _ = RetryLaterAsync(delivery with { Attempt = delivery.Attempt + 1 }, wait);
    }

    private async Task RetryLaterAsync(Delivery next, TimeSpan wait)
    {
        try
        {
            await Task.Delay(wait, _stop.Token);
            _queue.Writer.TryWrite(next);
        }
        catch (OperationCanceledException)
        {
            // Disposed while waiting.
        }
    }

    private async Task<bool> SendAsync(Delivery delivery, int copy)
    {
        string payload;
        string header;
        lock (_state.Gate)
        {
            payload = StripeApi.EventJson(delivery.Event).ToJsonString(StripeState.Wire);
            header = SignatureHeader(payload, _options.TimeProvider.GetUtcNow().ToUnixTimeSeconds(), _state.WebhookSecrets);
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        timeout.CancelAfter(_options.DeliveryTimeout);
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, delivery.Endpoint)
            {
                Content = new StringContent(payload, Encoding.UTF8, "application/json"),
            };
            request.Headers.TryAddWithoutValidation("Stripe-Signature", header);
            using var response = await _http.SendAsync(request, timeout.Token);
            var ok = response.IsSuccessStatusCode;
            Record(delivery, copy, (int)response.StatusCode, ok ? null : $"HTTP {(int)response.StatusCode}", ok, dropped: false);
            return ok;
        }
        catch (Exception ex) when (ex is HttpRequestException || (ex is OperationCanceledException && !_stop.IsCancellationRequested))
        {
            Record(delivery, copy, null, ex is OperationCanceledException ? "timed out" : ex.Message, succeeded: false, dropped: false);
            return false;
        }
    }

    private void Record(Delivery delivery, int copy, int? status, string? error, bool succeeded, bool dropped)
    {
        lock (_state.Gate)
        {
            _state.Attempts.Add(new StripeDeliveryAttempt(delivery.Event.Id, delivery.Event.Type, delivery.Endpoint, delivery.Attempt, copy,
                status, error, succeeded, dropped, _options.TimeProvider.GetUtcNow()));
        }

        if (!succeeded && !dropped)
        {
            _logger.LogInformation("Webhook {EventId} ({EventType}) to {Endpoint} attempt {Attempt} failed: {Error}",
                delivery.Event.Id, delivery.Event.Type, delivery.Endpoint, delivery.Attempt, error);
        }
    }

    /// <summary>t=…,v1=… with one v1 per active secret (two while a secret is being rolled).</summary>
    internal static string SignatureHeader(string payload, long timestamp, IEnumerable<string> secrets)
    {
        var t = timestamp.ToString(CultureInfo.InvariantCulture);
        var builder = new StringBuilder("t=").Append(t);
        var message = Encoding.UTF8.GetBytes($"{t}.{payload}");
        foreach (var secret in secrets)
        {
            builder.Append(",v1=").Append(Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), message)));
        }

        return builder.ToString();
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _stop.CancelAsync();
        try
        {
            await _loop;
        }
        catch (OperationCanceledException)
        {
            // Expected on shutdown.
        }

        _http.Dispose();
        _stop.Dispose();
    }
}
