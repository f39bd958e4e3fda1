using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Sajet.Simulators.Shared;

namespace Sajet.Simulators.Stripe;

/// <summary>The loopback-only /_sim/ endpoints: the same switches and triggers as <see cref="StripeSimulatorControl"/>, JSON in snake_case.</summary>
internal static class StripeControlApi
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static void Map(WebApplication app, StripeSimulatorControl control)
    {
        var sim = app.MapGroup("/_sim").AddEndpointFilter(async (ctx, next) =>
        {
            if (!SimulatorHost.IsLoopback(ctx.HttpContext))
            {
                return Results.StatusCode(StatusCodes.Status403Forbidden);
            }

            try
            {
                return await next(ctx);
            }
            catch (ArgumentException ex)
            {
                return Results.Json(new { error = ex.Message }, statusCode: 404);
            }
            catch (InvalidOperationException ex)
            {
                return Results.Json(new { error = ex.Message }, statusCode: 400);
            }
        });

        sim.MapGet("/state", () => Results.Text(control.StateJson().ToJsonString(), "application/json"));
        sim.MapPost("/reset", () => Done(control.Reset));

        sim.MapGet("/webhooks/endpoints", () => Results.Json(control.WebhookEndpoints, Json));
        sim.MapPost("/webhooks/endpoints", async (HttpContext ctx) =>
        {
            var body = await BodyAsync(ctx);
            var events = body?["enabled_events"] as JsonArray;
            control.AddWebhookEndpoint(Str(body, "url") ?? "", events?.Select(e => (string)e!));
            return Results.NoContent();
        });
        sim.MapDelete("/webhooks/endpoints", () => Done(control.ClearWebhookEndpoints));
        sim.MapPost("/webhooks/secret/roll", async (HttpContext ctx) =>
        {
            var body = await BodyAsync(ctx);
            var secret = control.RollWebhookSecret(body?["expire_old"]?.GetValue<bool>() ?? false);
            return Results.Json(new { secret, secrets = control.WebhookSecrets }, Json);
        });
        sim.MapPut("/webhooks/switches", async (HttpContext ctx) =>
        {
            var body = await BodyAsync(ctx);
            var current = control.Switches;
            control.Switches = new StripeWebhookSwitches
            {
                Duplicates = body?["duplicates"]?.GetValue<int>() ?? current.Duplicates,
                Shuffle = body?["shuffle"]?.GetValue<bool>() ?? current.Shuffle,
                DropTypes = body?["drop_types"] is JsonArray drop ? drop.Select(t => (string)t!).ToHashSet() : current.DropTypes,
                Delay = body?["delay_ms"] is JsonValue delay ? TimeSpan.FromMilliseconds(delay.GetValue<double>()) : current.Delay,
            };
            if (body?["retry_scale"] is JsonValue scale)
            {
                control.RetryScale = scale.GetValue<double>();
            }

            if (body?["max_attempts"] is JsonValue attempts)
            {
                control.MaxDeliveryAttempts = attempts.GetValue<int>();
            }

            return Results.Text(control.StateJson()["switches"]!.ToJsonString(), "application/json");
        });
        sim.MapGet("/webhooks/deliveries", () => Results.Json(control.DeliveryAttempts, Json));
        sim.MapPost("/events/{id}/resend", (string id) => Done(() => control.ResendEvent(id)));

        sim.MapGet("/faults", () => Results.Json(control.Faults, Json));
        sim.MapPost("/faults", async (HttpContext ctx) =>
        {
            var body = await BodyAsync(ctx);
            control.AddFault(new StripeFault
            {
                PathPrefix = Str(body, "path_prefix") ?? "/v1/",
                Method = Str(body, "method"),
                Status = body?["status"]?.GetValue<int>() ?? 500,
                Rate = body?["rate"]?.GetValue<double>() ?? 1,
                Remaining = body?["remaining"]?.GetValue<int>(),
                Latency = TimeSpan.FromMilliseconds(body?["latency_ms"]?.GetValue<double>() ?? 0),
                ShouldRetry = body?["should_retry"] is JsonValue retry ? (retry.GetValue<bool>() ? "true" : "false") : null,
                RetryAfterSeconds = body?["retry_after"]?.GetValue<int>(),
                Code = Str(body, "code"),
            });
            return Results.NoContent();
        });
        sim.MapDelete("/faults", () => Done(control.ClearFaults));

        sim.MapPost("/checkout/sessions/{id}/pay", async (HttpContext ctx, string id) =>
        {
            var body = await BodyAsync(ctx);
            var result = control.PayCheckoutSession(id, Str(body, "card_number") ?? "4242424242424242", Str(body, "email"));
            return Results.Json(result, Json, statusCode: result.Succeeded ? 200 : 402);
        });
        sim.MapPost("/checkout/sessions/{id}/complete_pending", (string id) => Done(() => control.CompleteCheckoutWithPendingPayment(id)));
        sim.MapPost("/checkout/sessions/{id}/async_payment", async (HttpContext ctx, string id) =>
        {
            var body = await BodyAsync(ctx);
            control.SettleAsyncPayment(id, body?["succeeded"]?.GetValue<bool>() ?? true);
            return Results.NoContent();
        });
        sim.MapPost("/checkout/sessions/{id}/expire", (string id) => Done(() => control.ExpireCheckoutSession(id)));
        sim.MapPost("/customers/{id}/card", async (HttpContext ctx, string id) =>
        {
            var body = await BodyAsync(ctx);
            control.SetCustomerCard(id, Str(body, "card_number") ?? throw new InvalidOperationException("card_number is required."));
            return Results.NoContent();
        });
        sim.MapPost("/subscriptions/{id}/fail_renewal", (string id) => Done(() => control.FailSubscriptionRenewal(id)));
        sim.MapPost("/subscriptions/{id}/retry_payment", (string id) => Done(() => control.RetrySubscriptionPayment(id)));
        sim.MapPost("/subscriptions/{id}/advance_period", (string id) => Done(() => control.AdvanceSubscriptionPeriod(id)));
    }

    private static IResult Done(Action action)
    {
        action();
        return Results.NoContent();
    }

    private static async Task<JsonNode?> BodyAsync(HttpContext ctx)
    {
        try
        {
            return ctx.Request.ContentLength is 0 or null && ctx.Request.Headers.TransferEncoding.Count == 0
                ? null
                : await JsonNode.ParseAsync(ctx.Request.Body, cancellationToken: ctx.RequestAborted);
        }
        catch (JsonException)
        {
            throw new InvalidOperationException("The body is not valid JSON.");
        }
    }

    private static string? Str(JsonNode? node, string name) =>
        node?[name] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;
}
