using System.Net;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Sajet.Integrations.Stripe;
using Sajet.Simulators.Stripe;

namespace Sajet.Integrations.Tests.Stripe;

/// <summary>A Stripe simulator on a free port plus a client pointed at it; one per test.</summary>
public abstract class StripeSimulatorTest : IAsyncLifetime
{
    protected StripeSimulator Sim { get; set; } = null!;
    protected StripeClient Client { get; private set; } = null!;
    protected HttpClient Http { get; } = new(new HttpClientHandler { AllowAutoRedirect = false });
    protected RecordingTimeProvider ClientTime { get; } = new();

    /// <summary>Guards against hangs only; no assertion depends on how long anything takes.</summary>
    protected static CancellationToken Patience => new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token;

    public virtual async Task InitializeAsync()
    {
        Sim = await StripeSimulator.StartAsync(new StripeSimulatorOptions { Port = 0, RetryScale = 0.0001 });
        Client = NewClient();
    }

    public virtual async Task DisposeAsync()
    {
        await Sim.DisposeAsync();
        Http.Dispose();
    }

    protected StripeClient NewClient(int maxNetworkRetries = 2, string? key = null) => new(Http, Options.Create(new StripeOptions
    {
        SecretKey = key ?? Sim.SecretKey,
        WebhookSecrets = [Sim.WebhookSecret],
        BaseUrl = Sim.BaseUrl,
        MaxNetworkRetries = maxNetworkRetries,
        Timeout = TimeSpan.FromSeconds(20),
    }), null, ClientTime);

    protected static CheckoutSessionCreateRequest ProCheckout(string? customer = null, string tenant = "tenant-42") => new()
    {
        Customer = customer,
        ClientReferenceId = tenant,
        SuccessUrl = "https://app.sajet.test/bienvenida?session_id={CHECKOUT_SESSION_ID}",
        CancelUrl = "https://app.sajet.test/planes",
        LineItems =
        [
            new CheckoutLineItem
            {
                PriceData = new CheckoutPriceData { Currency = "usd", UnitAmount = 4900, ProductName = "Plan Pro", RecurringInterval = "month" },
            },
        ],
        Metadata = new Dictionary<string, string> { ["tenant_id"] = "42" },
        SubscriptionMetadata = new Dictionary<string, string> { ["tenant_id"] = "42" },
    };

    /// <summary>Pays through the hosted page with a plain form post, as a browser without script would.</summary>
    protected async Task<HttpResponseMessage> PayOnPageAsync(CheckoutSession session, string card = "4242 4242 4242 4242")
    {
        using var form = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["email"] = "owner@acme.test",
            ["card_number"] = card,
            ["card_expiry"] = "12 / 34",
            ["card_cvc"] = "123",
            ["cardholder"] = "Ana Pérez",
        });
        return await Http.PostAsync(session.Url, form);
    }
}

/// <summary>
/// Test double for time only: every delay completes at once, and the requested durations are kept,
/// so backoff and Retry-After can be asserted without waiting.
/// </summary>
public sealed class RecordingTimeProvider : TimeProvider
{
    private readonly List<TimeSpan> _delays = [];

    public IReadOnlyList<TimeSpan> Delays
    {
        get
        {
            lock (_delays)
            {
                return [.. _delays];
            }
        }
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        lock (_delays)
        {
            _delays.Add(dueTime);
        }

        ThreadPool.QueueUserWorkItem(_ => callback(state));
        return new NoTimer();
    }

    private sealed class NoTimer : ITimer
    {
        public bool Change(TimeSpan dueTime, TimeSpan period) => true;

        public void Dispose()
        {
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}

/// <summary>A tiny Kestrel app on a free port that records every webhook POST and answers with a chosen status.</summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly Channel<ReceivedWebhook> _received = Channel.CreateUnbounded<ReceivedWebhook>();
    private int _calls;

    private WebhookReceiver(WebApplication app) => _app = app;

    public string Url { get; private set; } = "";

    /// <summary>Status for the n-th call (1-based); 200 by default.</summary>
    public Func<int, int> StatusFor { get; set; } = _ => 200;

    public static async Task<WebhookReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new WebhookReceiver(app);
        app.MapPost("/webhook/stripe", async (HttpContext ctx) =>
        {
            using var reader = new StreamReader(ctx.Request.Body);
            var body = await reader.ReadToEndAsync();
            var call = Interlocked.Increment(ref receiver._calls);
            var status = receiver.StatusFor(call);
            receiver._received.Writer.TryWrite(new ReceivedWebhook(ctx.Request.Headers["Stripe-Signature"].ToString(), body, status,
                ctx.Request.ContentType ?? ""));
            ctx.Response.StatusCode = status;
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        receiver.Url = address.TrimEnd('/') + "/webhook/stripe";
        return receiver;
    }

    public async Task<List<ReceivedWebhook>> ReceiveAsync(int count, CancellationToken ct)
    {
        var list = new List<ReceivedWebhook>();
        while (list.Count < count)
        {
            list.Add(await _received.Reader.ReadAsync(ct));
        }

        return list;
    }

    /// <summary>Whatever arrived so far, without waiting.</summary>
    public List<ReceivedWebhook> Drain()
    {
        var list = new List<ReceivedWebhook>();
        while (_received.Reader.TryRead(out var item))
        {
            list.Add(item);
        }

        return list;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

public sealed record ReceivedWebhook(string Signature, string Body, int AnsweredStatus, string ContentType)
{
    public StripeEvent Event => StripeEvent.Parse(Body);
}
