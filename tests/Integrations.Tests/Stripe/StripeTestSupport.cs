using System.Net;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Sajet.Simulators.Stripe;
using Stripe;
using Stripe.Checkout;

namespace Sajet.Integrations.Tests.Stripe;

/// <summary>A Stripe simulator on a free port plus Stripe.net's client pointed at it; one per test.</summary>
public abstract class StripeSimulatorTest : IAsyncLifetime
{
    protected StripeSimulator Sim { get; set; } = null!;
    protected StripeClient Client { get; private set; } = null!;
    protected HttpClient Http { get; } = new(new HttpClientHandler { AllowAutoRedirect = false });

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

    /// <summary>The SDK as Sajet builds it (StripeServiceCollectionExtensions), without the container.</summary>
    protected StripeClient NewClient(int maxNetworkRetries = 2, string? key = null, string? apiBase = null) => new(new StripeClientOptions
    {
        ApiKey = key ?? Sim.SecretKey,
        ApiBase = apiBase ?? Sim.BaseUrl,
        HttpClient = new SystemNetHttpClient(Http, maxNetworkRetries),
    });

    protected static SessionCreateOptions ProCheckout(string? customer = null, string tenant = "tenant-42") => new()
    {
        Mode = "subscription",
        Customer = customer,
        ClientReferenceId = tenant,
        SuccessUrl = "https://app.sajet.test/bienvenida?session_id={CHECKOUT_SESSION_ID}",
        CancelUrl = "https://app.sajet.test/planes",
        LineItems =
        [
            new SessionLineItemOptions
            {
                Quantity = 1,
                PriceData = new SessionLineItemPriceDataOptions
                {
                    Currency = "usd",
                    UnitAmount = 4900,
                    ProductData = new SessionLineItemPriceDataProductDataOptions { Name = "Plan Pro" },
                    Recurring = new SessionLineItemPriceDataRecurringOptions { Interval = "month" },
                },
            },
        ],
        Metadata = new Dictionary<string, string> { ["tenant_id"] = "42" },
        SubscriptionData = new SessionSubscriptionDataOptions { Metadata = new Dictionary<string, string> { ["tenant_id"] = "42" } },
    };

    protected Task<Session> CreateCheckoutAsync(string? customer = null) => new SessionService(Client).CreateAsync(ProCheckout(customer));

    /// <summary>Pays through the hosted page with a plain form post, as a browser without script would.</summary>
    protected async Task<HttpResponseMessage> PayOnPageAsync(Session session, string card = "4242 4242 4242 4242")
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
    /// <summary>
    /// The body as Stripe.net reads it. The simulator renders 2026-07-29.dahlia and the SDK expects its own release, so
    /// the version check is off, as it is wherever Sajet reads an event.
    /// </summary>
    public Event Event => EventUtility.ParseEvent(Body, throwOnApiVersionMismatch: false);

    /// <summary>data.previous_attributes as plain JSON, which the SDK leaves untyped.</summary>
    public System.Text.Json.JsonElement PreviousAttributes =>
        System.Text.Json.JsonDocument.Parse(Body).RootElement.GetProperty("data").GetProperty("previous_attributes").Clone();
}
