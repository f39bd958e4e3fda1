namespace Sajet.Grains.Interfaces;

/// <summary>Grain type names; they are stored in the database, so they never change.</summary>
public static class GrainTypes
{
    public const string Tenant = "tenant";
    public const string Node = "node";
    public const string Capacity = "capacity";

    /// <summary>The key of the one capacity grain that places waiting tenants first-come first-served.</summary>
    public const string WaitingQueue = "waiting";
}

/// <summary>The tenant state names (onboarding, then lifecycle), as stored in grains.status and tenants.status.</summary>
public static class TenantStatus
{
    public const string Pending = "pending";
    public const string Paid = "paid";
    public const string Placing = "placing";
    public const string Provisioning = "provisioning";
    public const string Active = "active";
    public const string WaitingForCapacity = "waiting_for_capacity";
    public const string Failed = "failed";
    public const string PastDue = "past_due";
    public const string Suspended = "suspended";
    public const string Cancelled = "cancelled";
    public const string Deleted = "deleted";
    public const string Migrating = "migrating";
}

/// <summary>Sent by signup once the tenant row, the Stripe customer and the Checkout Session exist.</summary>
public sealed record TenantSignedUp(
    string TenantId,
    string Subdomain,
    string CompanyName,
    string Email,
    string Country,
    string PlanId,
    string StripeCustomerId,
    string CheckoutSessionId,
    string OdooPasswordProtected);

/// <summary>Sent by the Stripe webhook, in the transaction that stored the event.</summary>
public sealed record StripeEventReceived(string EventId, string Type);

/// <summary>Sent by /success: the customer came back from Checkout; check the session now.</summary>
public sealed record CheckoutReturned(string SessionId);

/// <summary>An admin's resolution of a waiting or failed tenant: retry, place_on_node, keep_waiting or cancel.</summary>
public sealed record ResolveTenant(string Action, string? NodeId, string Actor);

/// <summary>Admin lifecycle actions on an active tenant.</summary>
public sealed record SuspendTenant(string Actor);

public sealed record ResumeTenant(string Actor);

public static class ResolveActions
{
    public const string Retry = "retry";
    public const string PlaceOnNode = "place_on_node";
    public const string KeepWaiting = "keep_waiting";
    public const string Cancel = "cancel";

    public static readonly IReadOnlyList<string> All = [Retry, PlaceOnNode, KeepWaiting, Cancel];
}
