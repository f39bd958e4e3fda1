namespace Sajet.Integrations.Stripe;

// Parameters Sajet sends. Each ToParams mirrors the endpoint's form fields (stripe-api-subset.json);
// ExtraParams carries anything not modelled here and is encoded the same way.

public abstract class StripeRequest
{
    /// <summary>Extra fields, e.g. <c>["allow_promotion_codes"] = true</c>; nested dictionaries and lists become bracketed keys.</summary>
    public Dictionary<string, object?> ExtraParams { get; } = [];

    internal Dictionary<string, object?> ToParams()
    {
        var parameters = new Dictionary<string, object?>();
        Fill(parameters);
        foreach (var (key, value) in ExtraParams)
        {
            parameters[key] = value;
        }

        return parameters;
    }

    private protected abstract void Fill(Dictionary<string, object?> p);
}

public sealed class CustomerCreateRequest : StripeRequest
{
    public string? Email { get; set; }
    public string? Name { get; set; }
    public string? Phone { get; set; }
    public string? Description { get; set; }
    public IList<string>? PreferredLocales { get; set; }
    public IDictionary<string, string>? Metadata { get; set; }

    private protected override void Fill(Dictionary<string, object?> p)
    {
        p["email"] = Email;
        p["name"] = Name;
        p["phone"] = Phone;
        p["description"] = Description;
        p["preferred_locales"] = PreferredLocales;
        p["metadata"] = Metadata;
    }
}

public sealed class CheckoutSessionCreateRequest : StripeRequest
{
    public string Mode { get; set; } = "subscription";

    /// <summary>Mutually exclusive with <see cref="CustomerEmail"/>.</summary>
    public string? Customer { get; set; }

    public string? CustomerEmail { get; set; }
    public string? ClientReferenceId { get; set; }

    /// <summary>May contain <c>{CHECKOUT_SESSION_ID}</c>, which Stripe substitutes.</summary>
    public required string SuccessUrl { get; set; }

    public string? CancelUrl { get; set; }
    public IList<CheckoutLineItem> LineItems { get; set; } = [];

    /// <summary>Stays on the session.</summary>
    public IDictionary<string, string>? Metadata { get; set; }

    /// <summary>Copied onto the subscription Checkout creates (subscription_data[metadata]).</summary>
    public IDictionary<string, string>? SubscriptionMetadata { get; set; }

    public int? TrialPeriodDays { get; set; }
    public string? Locale { get; set; }
    public DateTimeOffset? ExpiresAt { get; set; }

    private protected override void Fill(Dictionary<string, object?> p)
    {
        p["mode"] = Mode;
        p["customer"] = Customer;
        p["customer_email"] = CustomerEmail;
        p["client_reference_id"] = ClientReferenceId;
        p["success_url"] = SuccessUrl;
        p["cancel_url"] = CancelUrl;
        p["line_items"] = LineItems.Select(i => i.ToParams()).ToList();
        p["metadata"] = Metadata;
        p["locale"] = Locale;
        p["expires_at"] = ExpiresAt;
        if (SubscriptionMetadata is not null || TrialPeriodDays is not null)
        {
            p["subscription_data"] = new Dictionary<string, object?>
            {
                ["metadata"] = SubscriptionMetadata,
                ["trial_period_days"] = TrialPeriodDays,
            };
        }
    }
}

/// <summary>Either <see cref="Price"/> (a price id) or <see cref="PriceData"/> (an inline price).</summary>
public sealed class CheckoutLineItem
{
    public string? Price { get; set; }
    public CheckoutPriceData? PriceData { get; set; }
    public long Quantity { get; set; } = 1;

    internal Dictionary<string, object?> ToParams()
    {
        if ((Price is null) == (PriceData is null))
        {
            throw new ArgumentException("A line item needs exactly one of Price or PriceData.");
        }

        return new()
        {
            ["price"] = Price,
            ["price_data"] = PriceData?.ToParams(),
            ["quantity"] = Quantity,
        };
    }
}

public sealed class CheckoutPriceData
{
    /// <summary>Lowercase ISO code, e.g. "usd".</summary>
    public required string Currency { get; set; }

    /// <summary>Minor units: 2900 = 29.00.</summary>
    public required long UnitAmount { get; set; }

    public required string ProductName { get; set; }

    /// <summary>day, week, month or year; null for a one-off price.</summary>
    public string? RecurringInterval { get; set; } = "month";

    public int? RecurringIntervalCount { get; set; }

    internal Dictionary<string, object?> ToParams() => new()
    {
        ["currency"] = Currency,
        ["unit_amount"] = UnitAmount,
        ["product_data"] = new Dictionary<string, object?> { ["name"] = ProductName },
        ["recurring"] = RecurringInterval is null
            ? null
            : new Dictionary<string, object?> { ["interval"] = RecurringInterval, ["interval_count"] = RecurringIntervalCount },
    };
}

public sealed class SubscriptionUpdateRequest : StripeRequest
{
    public bool? CancelAtPeriodEnd { get; set; }

    /// <summary>Keys with an empty value are removed, as Stripe does.</summary>
    public IDictionary<string, string>? Metadata { get; set; }

    public IList<SubscriptionItemUpdate>? Items { get; set; }

    /// <summary>create_prorations, always_invoice or none.</summary>
    public string? ProrationBehavior { get; set; }

    private protected override void Fill(Dictionary<string, object?> p)
    {
        p["cancel_at_period_end"] = CancelAtPeriodEnd;
        p["metadata"] = Metadata;
        p["proration_behavior"] = ProrationBehavior;
        p["items"] = Items?.Select(i => new Dictionary<string, object?>
        {
            ["id"] = i.Id,
            ["price"] = i.Price,
            ["quantity"] = i.Quantity,
            ["deleted"] = i.Deleted ? true : null,
        }).ToList();
    }
}

public sealed class SubscriptionItemUpdate
{
    public string? Id { get; set; }
    public string? Price { get; set; }
    public long? Quantity { get; set; }
    public bool Deleted { get; set; }
}

public sealed class SubscriptionCancelRequest : StripeRequest
{
    public bool? InvoiceNow { get; set; }
    public bool? Prorate { get; set; }
    public string? CancellationComment { get; set; }

    private protected override void Fill(Dictionary<string, object?> p)
    {
        p["invoice_now"] = InvoiceNow;
        p["prorate"] = Prorate;
        if (CancellationComment is not null)
        {
            p["cancellation_details"] = new Dictionary<string, object?> { ["comment"] = CancellationComment };
        }
    }
}

/// <summary>Refund a payment intent or a charge (exactly one), fully unless Amount is set.</summary>
public sealed class RefundCreateRequest : StripeRequest
{
    public string? PaymentIntent { get; set; }
    public string? Charge { get; set; }
    public long? Amount { get; set; }

    /// <summary>duplicate, fraudulent or requested_by_customer.</summary>
    public string? Reason { get; set; }

    public IDictionary<string, string>? Metadata { get; set; }

    private protected override void Fill(Dictionary<string, object?> p)
    {
        p["payment_intent"] = PaymentIntent;
        p["charge"] = Charge;
        p["amount"] = Amount;
        p["reason"] = Reason;
        p["metadata"] = Metadata;
    }
}

public sealed class BillingPortalSessionCreateRequest : StripeRequest
{
    public required string Customer { get; set; }
    public string? ReturnUrl { get; set; }
    public string? Locale { get; set; }

    private protected override void Fill(Dictionary<string, object?> p)
    {
        p["customer"] = Customer;
        p["return_url"] = ReturnUrl;
        p["locale"] = Locale;
    }
}

public sealed class InvoiceListRequest : StripeRequest
{
    public string? Customer { get; set; }
    public string? Subscription { get; set; }
    public string? Status { get; set; }
    public int? Limit { get; set; }
    public string? StartingAfter { get; set; }

    private protected override void Fill(Dictionary<string, object?> p)
    {
        p["customer"] = Customer;
        p["subscription"] = Subscription;
        p["status"] = Status;
        p["limit"] = Limit;
        p["starting_after"] = StartingAfter;
    }
}

public sealed class EventListRequest : StripeRequest
{
    /// <summary>One type, or a group with a wildcard such as <c>invoice.*</c>.</summary>
    public string? Type { get; set; }

    public IList<string>? Types { get; set; }
    public DateTimeOffset? CreatedGte { get; set; }
    public bool? DeliverySuccess { get; set; }
    public int? Limit { get; set; }
    public string? StartingAfter { get; set; }

    private protected override void Fill(Dictionary<string, object?> p)
    {
        p["type"] = Type;
        p["types"] = Types;
        p["delivery_success"] = DeliverySuccess;
        p["limit"] = Limit;
        p["starting_after"] = StartingAfter;
        if (CreatedGte is { } gte)
        {
            p["created"] = new Dictionary<string, object?> { ["gte"] = gte };
        }
    }
}
