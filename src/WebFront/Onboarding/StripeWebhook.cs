using System.Text.Json;
using Sajet.Integrations.Stripe;
using Sajet.WebFront.Audit;
using Sajet.WebFront.Security;

namespace Sajet.WebFront.Onboarding;

/// <summary>
/// POST /webhook/stripe: verify the signature on the raw bytes, store the event once (unique id) and route it to its
/// tenant's grain in the same transaction (<see cref="StripeEventStore"/>), and answer 2xx only after that commit. A
/// duplicate answers 2xx and changes nothing; a bad or stale signature answers 400, stores nothing and is audited.
/// </summary>
public static class StripeWebhook
{
    public static IEndpointRouteBuilder MapStripeWebhook(this IEndpointRouteBuilder app)
    {
        app.MapPost("/webhook/stripe", HandleAsync)
            .AllowAnonymous()
            .DisableAntiforgery()
            .RequireRateLimiting(RateLimitPolicies.Webhook)
            .WithTags("Pagos")
            .WithSummary("Recibe los eventos firmados de Stripe (pagos, facturas, suscripciones); los repetidos se ignoran.");
        return app;
    }

    private static async Task<IResult> HandleAsync(HttpContext http, StripeEventStore store, StripeWebhookVerifier verifier,
        AuditLog audit, TimeProvider time, ILogger<StripeWebhookLog> logger, CancellationToken ct)
    {
        using var buffer = new MemoryStream();
        await http.Request.Body.CopyToAsync(buffer, ct);
        var body = buffer.ToArray();
        // Decoded once: Stripe.net verifies the text, and the same text is what gets stored.
        var json = System.Text.Encoding.UTF8.GetString(body);
        var verdict = verifier.Verify(json, http.Request.Headers["Stripe-Signature"].ToString());
        if (!verdict.IsValid)
        {
            await audit.WriteAsync(http, "stripe.bad_signature", new { reason = verdict.Status.ToString() }, AuditSeverity.Warning, actor: "stripe");
            return TypedResults.Problem(statusCode: 400, title: "Firma de Stripe no válida",
                detail: "La firma del webhook no es válida o ha caducado; el evento no se ha procesado.");
        }

        using var document = ParseOrNull(body);
        if (document is null)
        {
            return TypedResults.Problem(statusCode: 400, title: "Evento no válido", detail: "El cuerpo no es un evento JSON de Stripe.");
        }

        var root = document.RootElement;
        if (!root.TryGetProperty("id", out var idElement) || idElement.GetString() is not { Length: > 0 } eventId
            || !root.TryGetProperty("type", out var typeElement) || typeElement.GetString() is not { } type)
        {
            return TypedResults.Problem(statusCode: 400, title: "Evento no válido", detail: "Falta el id o el tipo del evento.");
        }

        var obj = root.TryGetProperty("data", out var data) && data.TryGetProperty("object", out var o) ? o : default;
        var (reference, customer, subscription) = References(obj);

        var created = root.TryGetProperty("created", out var c) && c.TryGetInt64(out var seconds) ? seconds : time.GetUtcNow().ToUnixTimeSeconds();
        var livemode = root.TryGetProperty("livemode", out var l) && l.ValueKind == JsonValueKind.True;
        var result = await store.StoreAsync(new IncomingStripeEvent(
            eventId, type, created, livemode, json, reference, customer, subscription));
        if (result.Stored)
        {
            logger.LogDebug("Stripe event {EventId} ({Type}) stored for tenant {TenantId}", eventId, type, result.TenantId ?? "(none)");
        }

        return TypedResults.Ok(new { received = true, duplicate = !result.Stored });
    }

    private static JsonDocument? ParseOrNull(byte[] body)
    {
        try
        {
            return JsonDocument.Parse(body);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Where an event's object names its tenant: our reference or metadata, else its customer or subscription.</summary>
    private static (string? Reference, string? Customer, string? Subscription) References(JsonElement obj)
    {
        if (obj.ValueKind != JsonValueKind.Object)
        {
            return (null, null, null);
        }

        static string? Str(JsonElement e, string name) =>
            e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) ? v.ValueKind switch
            {
                JsonValueKind.String => v.GetString(),
                JsonValueKind.Object when v.TryGetProperty("id", out var id) => id.GetString(),
                _ => null,
            } : null;

        var reference = Str(obj, "client_reference_id")
            ?? (obj.TryGetProperty("metadata", out var md) ? Str(md, "tenant_id") : null)
            ?? (obj.TryGetProperty("parent", out var parent) && parent.ValueKind == JsonValueKind.Object
                && parent.TryGetProperty("subscription_details", out var sd) && sd.ValueKind == JsonValueKind.Object
                && sd.TryGetProperty("metadata", out var smd) ? Str(smd, "tenant_id") : null);
        var objectType = Str(obj, "object");
        var subscription = objectType == "subscription" ? Str(obj, "id") : Str(obj, "subscription");
        return (reference, Str(obj, "customer"), subscription);
    }
}

/// <summary>Log category of the webhook.</summary>
public sealed class StripeWebhookLog;
