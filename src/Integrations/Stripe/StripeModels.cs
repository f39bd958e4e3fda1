using System.Text.Json;
using System.Text.Json.Serialization;

namespace Sajet.Integrations.Stripe;

// Wire DTOs for API version 2026-07-29.dahlia (stripe.md §7-8). Property names map to snake_case
// through StripeJson.Options; timestamps stay Unix seconds as Stripe sends them.

public sealed class StripeList<T>
{
    public string Object { get; set; } = "list";
    public List<T> Data { get; set; } = [];
    public bool HasMore { get; set; }
    public string? Url { get; set; }
}

public sealed class Customer
{
    public string Id { get; set; } = "";
    public string Object { get; set; } = "customer";
    public string? Email { get; set; }
    public string? Name { get; set; }
    public string? Phone { get; set; }
    public string? Description { get; set; }
    public Dictionary<string, string> Metadata { get; set; } = [];
    public List<string>? PreferredLocales { get; set; }
    public long Created { get; set; }
    public bool Livemode { get; set; }
    public bool? Deleted { get; set; }
}

public sealed class CheckoutSession
{
    public string Id { get; set; } = "";
    public string Object { get; set; } = "checkout.session";
    public string? Mode { get; set; }

    /// <summary>open, complete or expired.</summary>
    public string? Status { get; set; }

    /// <summary>paid, unpaid or no_payment_required.</summary>
    public string? PaymentStatus { get; set; }

    public Expandable<Customer>? Customer { get; set; }
    public string? CustomerEmail { get; set; }
    public CheckoutCustomerDetails? CustomerDetails { get; set; }
    public Expandable<Subscription>? Subscription { get; set; }
    public Expandable<Invoice>? Invoice { get; set; }
    public string? ClientReferenceId { get; set; }
    public Dictionary<string, string> Metadata { get; set; } = [];
    public string? Url { get; set; }
    public string? SuccessUrl { get; set; }
    public string? CancelUrl { get; set; }
    public long ExpiresAt { get; set; }
    public long? AmountSubtotal { get; set; }
    public long? AmountTotal { get; set; }
    public string? Currency { get; set; }
    public long Created { get; set; }
    public bool Livemode { get; set; }

    /// <summary>Present only with <c>expand[]=line_items</c>.</summary>
    public StripeList<CheckoutLineItemObject>? LineItems { get; set; }

    [JsonIgnore]
    public bool IsPaid => PaymentStatus is "paid" or "no_payment_required";
}

public sealed class CheckoutCustomerDetails
{
    public string? Email { get; set; }
    public string? Name { get; set; }
    public string? Phone { get; set; }
}

public sealed class CheckoutLineItemObject
{
    public string Id { get; set; } = "";
    public string? Description { get; set; }
    public long AmountSubtotal { get; set; }
    public long AmountTotal { get; set; }
    public string? Currency { get; set; }
    public long? Quantity { get; set; }
    public Price? Price { get; set; }
}

public sealed class Product
{
    public string Id { get; set; } = "";
    public string? Name { get; set; }
    public bool Active { get; set; }
    public Dictionary<string, string> Metadata { get; set; } = [];
}

public sealed class Price
{
    public string Id { get; set; } = "";
    public bool Active { get; set; }
    public string? Currency { get; set; }
    public long? UnitAmount { get; set; }
    public Expandable<Product>? Product { get; set; }
    public PriceRecurring? Recurring { get; set; }
    public string? LookupKey { get; set; }
    public string? Type { get; set; }
    public Dictionary<string, string> Metadata { get; set; } = [];
}

public sealed class PriceRecurring
{
    public string Interval { get; set; } = "month";
    public long IntervalCount { get; set; } = 1;
}

public sealed class Subscription
{
    public string Id { get; set; } = "";
    public string Object { get; set; } = "subscription";

    /// <summary>incomplete, incomplete_expired, trialing, active, past_due, unpaid, canceled or paused.</summary>
    public string? Status { get; set; }

    public Expandable<Customer>? Customer { get; set; }
    public StripeList<SubscriptionItem> Items { get; set; } = new();
    public bool CancelAtPeriodEnd { get; set; }
    public long? CancelAt { get; set; }
    public long? CanceledAt { get; set; }
    public long? EndedAt { get; set; }
    public long? TrialStart { get; set; }
    public long? TrialEnd { get; set; }
    public Expandable<Invoice>? LatestInvoice { get; set; }
    public string? Currency { get; set; }
    public Dictionary<string, string> Metadata { get; set; } = [];
    public long Created { get; set; }
    public bool Livemode { get; set; }

    // Since 2025 the billing period lives on the items (stripe.md §8); Sajet sells one item per subscription.
    [JsonIgnore]
    public long? CurrentPeriodStart => Items.Data.Count == 0 ? null : Items.Data.Min(i => i.CurrentPeriodStart);

    [JsonIgnore]
    public long? CurrentPeriodEnd => Items.Data.Count == 0 ? null : Items.Data.Min(i => i.CurrentPeriodEnd);

    [JsonIgnore]
    public string? PriceId => Items.Data.FirstOrDefault()?.Price?.Id;
}

public sealed class SubscriptionItem
{
    public string Id { get; set; } = "";
    public Price? Price { get; set; }
    public long? Quantity { get; set; }
    public long CurrentPeriodStart { get; set; }
    public long CurrentPeriodEnd { get; set; }
    public Dictionary<string, string> Metadata { get; set; } = [];
}

public sealed class Invoice
{
    public string Id { get; set; } = "";
    public string Object { get; set; } = "invoice";

    /// <summary>draft, open, paid, uncollectible or void.</summary>
    public string? Status { get; set; }

    public Expandable<Customer>? Customer { get; set; }
    public long AmountDue { get; set; }
    public long AmountPaid { get; set; }
    public long AmountRemaining { get; set; }
    public string? Currency { get; set; }
    public string? BillingReason { get; set; }
    public string? HostedInvoiceUrl { get; set; }
    public long AttemptCount { get; set; }
    public long? NextPaymentAttempt { get; set; }
    public long PeriodStart { get; set; }
    public long PeriodEnd { get; set; }
    public InvoiceParent? Parent { get; set; }
    public InvoiceStatusTransitions? StatusTransitions { get; set; }

    /// <summary>Present only with <c>expand[]=payments</c>, which <see cref="StripeClient"/> always asks for.</summary>
    public StripeList<InvoicePayment>? Payments { get; set; }

    public Dictionary<string, string> Metadata { get; set; } = [];
    public long Created { get; set; }
    public bool Livemode { get; set; }

    // Moved under parent.subscription_details in 2025 (stripe.md §8).
    [JsonIgnore]
    public string? SubscriptionId => Parent?.SubscriptionDetails?.Subscription?.Id;

    // invoice.payment_intent was replaced by the payments list (stripe.md §8).
    [JsonIgnore]
    public string? PaymentIntentId =>
        Payments?.Data.Where(p => p.Payment?.Type == "payment_intent").OrderByDescending(p => p.IsDefault).FirstOrDefault()?.Payment?.PaymentIntent;
}

public sealed class InvoiceParent
{
    public string? Type { get; set; }
    public InvoiceSubscriptionDetails? SubscriptionDetails { get; set; }
}

public sealed class InvoiceSubscriptionDetails
{
    public Expandable<Subscription>? Subscription { get; set; }
    public Dictionary<string, string>? Metadata { get; set; }
}

public sealed class InvoiceStatusTransitions
{
    public long? FinalizedAt { get; set; }
    public long? PaidAt { get; set; }
    public long? MarkedUncollectibleAt { get; set; }
    public long? VoidedAt { get; set; }
}

public sealed class InvoicePayment
{
    public string Id { get; set; } = "";
    public long? AmountPaid { get; set; }
    public string? Status { get; set; }
    public bool IsDefault { get; set; }
    public InvoicePaymentTarget? Payment { get; set; }
}

public sealed class InvoicePaymentTarget
{
    public string? Type { get; set; }
    public string? PaymentIntent { get; set; }
    public string? Charge { get; set; }
}

public sealed class Refund
{
    public string Id { get; set; } = "";
    public string Object { get; set; } = "refund";
    public long Amount { get; set; }
    public string? Charge { get; set; }
    public string? Currency { get; set; }
    public string? PaymentIntent { get; set; }

    /// <summary>pending, requires_action, succeeded, failed or canceled.</summary>
    public string? Status { get; set; }

    public string? Reason { get; set; }
    public Dictionary<string, string> Metadata { get; set; } = [];
    public long Created { get; set; }
}

public sealed class BillingPortalSession
{
    public string Id { get; set; } = "";
    public string Object { get; set; } = "billing_portal.session";
    public string? Customer { get; set; }
    public string? Url { get; set; }
    public string? ReturnUrl { get; set; }
    public string? Locale { get; set; }
    public long Created { get; set; }
    public bool Livemode { get; set; }
}

public sealed class StripeEvent
{
    public string Id { get; set; } = "";
    public string Object { get; set; } = "event";
    public string Type { get; set; } = "";
    public string? ApiVersion { get; set; }
    public long Created { get; set; }
    public bool Livemode { get; set; }
    public long PendingWebhooks { get; set; }
    public StripeEventRequest? Request { get; set; }
    public StripeEventData Data { get; set; } = new();

    /// <summary>Parses a webhook body; call only after <see cref="StripeWebhookVerifier"/> accepted it.</summary>
    public static StripeEvent Parse(string json) =>
        JsonSerializer.Deserialize<StripeEvent>(json, StripeJson.Options) ?? throw new JsonException("The event body is JSON null.");

    /// <summary>Reads data.object as a typed DTO, e.g. <c>DataObjectAs&lt;CheckoutSession&gt;()</c>.</summary>
    public T DataObjectAs<T>() =>
        Data.Object.Deserialize<T>(StripeJson.Options) ?? throw new JsonException($"data.object of {Id} is JSON null.");
}

public sealed class StripeEventRequest
{
    public string? Id { get; set; }
    public string? IdempotencyKey { get; set; }
}

public sealed class StripeEventData
{
    public JsonElement Object { get; set; }
    public JsonElement? PreviousAttributes { get; set; }
}

public static class StripeJson
{
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };
}
