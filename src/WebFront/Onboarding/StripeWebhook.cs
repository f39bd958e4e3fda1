using System.Text.Json;
using Microsoft.Extensions.Options;
using Npgsql;
using Sajet.Grains.Interfaces;
using Sajet.Integrations.Stripe;
using Sajet.Runtime;
using Sajet.WebFront.Audit;
using Sajet.WebFront.Security;

namespace Sajet.WebFront.Onboarding;

/// <summary>
/// POST /webhook/stripe: verify the signature on the raw bytes, store the event once (unique id) and route it to
/// its tenant's grain in the same transaction, and answer 2xx only after that commit. A duplicate answers 2xx and
/// changes nothing; a bad or stale signature answers 400, stores nothing and is audited.
/// </summary>
public static class StripeWebhook
{
    // One statement, so one round trip and one commit: find the tenant, store the event once, and (only when it was
    // new and has a tenant) enqueue the grain message. A duplicate inserts nothing at all. The silos are woken after
    // the commit (coalesced), not by a NOTIFY inside it, which would serialise concurrent webhook commits.
    private const string StoreAndRouteSql = """
        WITH tenant AS (
            SELECT id FROM tenants
            WHERE id = @ref OR (@customer::text IS NOT NULL AND stripe_customer_id = @customer)
               OR (@subscription::text IS NOT NULL AND subscription_id = @subscription)
            ORDER BY (id = @ref) DESC, created_at DESC
            LIMIT 1
        ), stored AS (
            INSERT INTO stripe_events (id, type, created, livemode, tenant_id, payload)
            VALUES (@id, @type, to_timestamp(@created), @livemode, (SELECT id FROM tenant), @payload::jsonb)
            ON CONFLICT (id) DO NOTHING
            RETURNING tenant_id
        ), routed AS (
            INSERT INTO reminders (grain_type, grain_key, name, payload, due_at, run_at, max_attempts)
            SELECT @grain_type, tenant_id, @message_name, @message::jsonb, now(), now(), @message_attempts
            FROM stored WHERE tenant_id IS NOT NULL
            RETURNING grain_key
        )
        SELECT (SELECT count(*) FROM stored), (SELECT max(grain_key) FROM routed)
        """;

    public static IEndpointRouteBuilder MapStripeWebhook(this IEndpointRouteBuilder app)
    {
        app.MapPost("/webhook/stripe", HandleAsync)
            .AllowAnonymous()
            .DisableAntiforgery()
            .RequireRateLimiting(RateLimitPolicies.Webhook)
            .WithTags("Stripe")
            .WithSummary("Stripe webhook endpoint (signed events).");
        return app;
    }

    private static async Task<IResult> HandleAsync(HttpContext http, NpgsqlDataSource db, StripeWebhookVerifier verifier,
        AuditLog audit, SiloWaker waker, TimeProvider time, ILogger<StripeWebhookLog> logger, CancellationToken ct)
    {
        using var buffer = new MemoryStream();
        await http.Request.Body.CopyToAsync(buffer, ct);
        var body = buffer.ToArray();
        var verdict = verifier.Verify(body, http.Request.Headers["Stripe-Signature"].ToString());
        if (!verdict.IsValid)
        {
            await audit.WriteAsync(http, "stripe.bad_signature", new { reason = verdict.Status.ToString() }, AuditSeverity.Warning, actor: "stripe");
            return TypedResults.Problem(statusCode: 400, title: "Firma de Stripe no válida",
                detail: "La firma del webhook no es válida o ha caducado; el evento no se ha procesado.");
        }

        JsonElement root;
        try
        {
            root = JsonDocument.Parse(body).RootElement;
        }
        catch (JsonException)
        {
            return TypedResults.Problem(statusCode: 400, title: "Evento no válido", detail: "El cuerpo no es un evento JSON de Stripe.");
        }

        if (!root.TryGetProperty("id", out var idElement) || idElement.GetString() is not { Length: > 0 } eventId
            || !root.TryGetProperty("type", out var typeElement) || typeElement.GetString() is not { } type)
        {
            return TypedResults.Problem(statusCode: 400, title: "Evento no válido", detail: "Falta el id o el tipo del evento.");
        }

        var obj = root.TryGetProperty("data", out var data) && data.TryGetProperty("object", out var o) ? o : default;
        var (reference, customer, subscription) = References(obj);

        var message = GrainMessages.Prepare(new StripeEventReceived(eventId, type));
        await using var cmd = db.CreateCommand(StoreAndRouteSql);
        cmd.Parameters.AddWithValue("ref", reference ?? "");
        cmd.Parameters.AddWithValue("customer", (object?)customer ?? DBNull.Value);
        cmd.Parameters.AddWithValue("subscription", (object?)subscription ?? DBNull.Value);
        cmd.Parameters.AddWithValue("id", eventId);
        cmd.Parameters.AddWithValue("type", type);
        cmd.Parameters.AddWithValue("created", root.TryGetProperty("created", out var c) && c.TryGetInt64(out var created) ? created : time.GetUtcNow().ToUnixTimeSeconds());
        cmd.Parameters.AddWithValue("livemode", root.TryGetProperty("livemode", out var l) && l.ValueKind == JsonValueKind.True);
        cmd.Parameters.AddWithValue("payload", System.Text.Encoding.UTF8.GetString(body));
        cmd.Parameters.AddWithValue("grain_type", GrainTypes.Tenant);
        cmd.Parameters.AddWithValue("message_name", message.Name);
        cmd.Parameters.AddWithValue("message", message.PayloadJson);
        cmd.Parameters.AddWithValue("message_attempts", message.MaxAttempts);
        long stored;
        string? tenantId;
        await using (var reader = await cmd.ExecuteReaderAsync(ct))
        {
            await reader.ReadAsync(ct);
            stored = reader.GetInt64(0);
            tenantId = reader.IsDBNull(1) ? null : reader.GetString(1);
        }

        if (tenantId is not null)
        {
            waker.Wake();
        }

        if (stored == 1)
        {
            logger.LogDebug("Stripe event {EventId} ({Type}) stored for tenant {TenantId}", eventId, type, tenantId ?? "(none)");
        }

        return TypedResults.Ok(new { received = true, duplicate = stored == 0 });
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
