using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Sajet.Simulators.Shared;

namespace Sajet.Simulators.Stripe;

/// <summary>
/// A Stripe test-mode account on loopback: the /v1 REST subset Sajet uses, hosted Checkout and
/// portal pages that a browser (or a form post) can complete, signed webhooks from a background
/// queue, and switches for faults and delivery anomalies (/_sim/... and <see cref="Control"/>).
/// </summary>
public sealed class StripeSimulator : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly StripeWebhookDispatcher _dispatcher;

    private StripeSimulator(WebApplication app, StripeState state, StripeWebhookDispatcher dispatcher, StripeSimulatorOptions options)
    {
        _app = app;
        _dispatcher = dispatcher;
        SecretKey = options.SecretKey;
        Control = new StripeSimulatorControl(state, dispatcher);
    }

    /// <summary>e.g. http://127.0.0.1:12111 (the real port when started with port 0); use it as the client's BaseUrl.</summary>
    public string BaseUrl { get; private set; } = "";

    public string SecretKey { get; }

    /// <summary>The current signing secret (the newest one after a roll).</summary>
    public string WebhookSecret => Control.WebhookSecrets[^1];

    public StripeSimulatorControl Control { get; }

    public static async Task<StripeSimulator> StartAsync(StripeSimulatorOptions options, CancellationToken ct = default)
    {
        var app = SimulatorHost.Create(IPAddress.Loopback, options.Port, options.LogToConsole);
        var state = new StripeState(options);
        state.Reset();
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Sajet.Simulators.Stripe");
        var dispatcher = new StripeWebhookDispatcher(state, options, logger);
        var simulator = new StripeSimulator(app, state, dispatcher, options);
        var api = new StripeApi(state, dispatcher, options);

        app.Map("/v1/{**rest}", api.HandleAsync);
        simulator.MapPages(app, state);
        StripeControlApi.Map(app, simulator.Control);

        await app.StartAsync(ct);
        simulator.BaseUrl = SimulatorHost.ListeningUrl(app);
        lock (state.Gate)
        {
            state.BaseUrl = simulator.BaseUrl;
        }

        return simulator;
    }

    private void MapPages(WebApplication app, StripeState state)
    {
        app.MapGet("/c/assets/checkout.css", () => Results.Text(StripeHostedPages.Css, "text/css"));

        app.MapGet("/c/pay/{id}", async (HttpContext ctx, string id) =>
        {
            var view = Control.CheckoutView(id);
            await RenderCheckoutAsync(ctx, view, error: null, email: null, card: "4242 4242 4242 4242");
        });

        app.MapPost("/c/pay/{id}", async (HttpContext ctx, string id) =>
        {
            var form = ctx.Request.HasFormContentType ? await ctx.Request.ReadFormAsync(ctx.RequestAborted) : null;
            var card = form?["card_number"].FirstOrDefault() ?? "";
            var email = form?["email"].FirstOrDefault() is { Length: > 0 } e ? e : null;
            var view = Control.CheckoutView(id);
            if (view.Session is null || (string?)view.Session["status"] != "open")
            {
                await RenderCheckoutAsync(ctx, view, null, email, card);
                return;
            }

            var result = Control.PayCheckoutSession(id, card, email);
            if (!result.Succeeded)
            {
                // Declined: the session stays open and the customer may try another card.
                await RenderCheckoutAsync(ctx, Control.CheckoutView(id), result.Message, email, card, StatusCodes.Status402PaymentRequired);
                return;
            }

            if (result.RedirectUrl is { } redirect)
            {
                ctx.Response.Redirect(redirect);
                ctx.Response.StatusCode = StatusCodes.Status303SeeOther;
                return;
            }

            await StripeHostedPages.WriteAsync(ctx, 200, "Pago completado", StripeHostedPages.Message("¡Gracias!", "Tu pago se ha completado."));
        });

        app.MapGet("/p/session/{id}", async (HttpContext ctx, string id) =>
        {
            var view = Control.PortalView(id);
            if (view is null)
            {
                await StripeHostedPages.WriteAsync(ctx, 404, "No encontrado", StripeHostedPages.Message("Sesión no encontrada", "Este enlace del portal de facturación no existe o ha caducado."));
                return;
            }

            await StripeHostedPages.WriteAsync(ctx, 200, "Portal de facturación",
                StripeHostedPages.Portal(view.Value.Portal, view.Value.Customer, view.Value.Subscriptions, view.Value.ProductName));
        });

        app.MapPost("/p/session/{id}/subscriptions/{subscriptionId}/cancel", (string id, string subscriptionId) =>
        {
            Control.CancelFromPortal(id, subscriptionId);
            return Results.Redirect($"/p/session/{id}", permanent: false, preserveMethod: false);
        });

        app.MapGet("/i/{id}", async (HttpContext ctx, string id) =>
        {
            JsonObject? invoice;
            lock (state.Gate)
            {
                invoice = state.Find(id, "invoice")?.DeepClone() as JsonObject;
            }

            await (invoice is null
                ? StripeHostedPages.WriteAsync(ctx, 404, "No encontrado", StripeHostedPages.Message("Factura no encontrada", "Esta factura no existe."))
                : StripeHostedPages.WriteAsync(ctx, 200, "Factura", StripeHostedPages.Invoice(invoice)));
        });
    }

    private static async Task RenderCheckoutAsync(HttpContext ctx, StripeSimulatorControl.CheckoutPageView view, string? error, string? email, string card, int status = 200)
    {
        var session = view.Session;
        if (session is null)
        {
            await StripeHostedPages.WriteAsync(ctx, 404, "No encontrado",
                StripeHostedPages.Message("Sesión de pago no encontrada", "Este enlace de pago no existe."));
            return;
        }

        switch ((string?)session["status"])
        {
            case "expired":
                await StripeHostedPages.WriteAsync(ctx, 410, "Sesión caducada",
                    StripeHostedPages.Message("Esta sesión de pago ha caducado", "Vuelve a la tienda para empezar de nuevo.", (string?)session["cancel_url"], "Volver"));
                return;
            case "complete":
                await StripeHostedPages.WriteAsync(ctx, 200, "Pago completado",
                    StripeHostedPages.Message("Este pago ya se completó", "No es necesario volver a pagar.", view.SuccessUrl, "Continuar"));
                return;
        }

        await StripeHostedPages.WriteAsync(ctx, status, "Pagar · Sajet",
            StripeHostedPages.CheckoutForm(session, view.LineItems, view.Customer, view.TrialDays, error, email, card));
    }

    public async ValueTask DisposeAsync()
    {
        await _dispatcher.DisposeAsync();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
