using Orleans.Concurrency;

namespace Sajet.Grains.Interfaces;

/// <summary>Grain and state names; they are stored in the database (history rows, Orleans storage), so they never change.</summary>
public static class GrainTypes
{
    public const string Tenant = "tenant";
    public const string Node = "node";
    public const string Container = "container";
    public const string Capacity = "capacity";

    /// <summary>The key of the one capacity grain that places waiting tenants first-come first-served.</summary>
    public const string WaitingQueue = "waiting";

    /// <summary>pg_notify channel on which a grain's projection announces a changed grain: payload "type/key/status".</summary>
    public const string GrainsChannel = "sajet_grains";
}

/// <summary>The tenant state names (onboarding, then lifecycle), as stored in the tenant grain's state and tenants.status.</summary>
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

/// <summary>
/// The tenant's workflow: onboarding from signup to a working Odoo, then the billing lifecycle. Commands carry the id of
/// the outbox row (or caller) that sent them; the grain keeps recent ids, so a retried delivery changes nothing.
/// </summary>
[Alias("sajet.tenant")]
public interface ITenantGrain : IGrainWithStringKey
{
    [Alias("signed-up")]
    Task SignedUpAsync(Guid commandId, TenantSignedUp command);

    [Alias("stripe-event")]
    Task StripeEventAsync(Guid commandId, StripeEventReceived command);

    [Alias("checkout-returned")]
    Task CheckoutReturnedAsync(Guid commandId, CheckoutReturned command);

    /// <summary>Operator actions: each answers whether it was applied or refused, and why (see <see cref="TenantActions"/>).</summary>
    [Alias("resolve")]
    Task<TenantActionResult> ResolveAsync(Guid commandId, ResolveTenant command);

    [Alias("suspend")]
    Task<TenantActionResult> SuspendAsync(Guid commandId, SuspendTenant command);

    [Alias("resume")]
    Task<TenantActionResult> ResumeAsync(Guid commandId, ResumeTenant command);

    /// <summary>The customer chose a password by a mail link: the Odoo administrator gets it too (applied by a reminder, retried).</summary>
    [Alias("set-odoo-password")]
    Task SetOdooPasswordAsync(Guid commandId, SetOdooPassword command);

    /// <summary>Called by the capacity queue: places the tenant if it is still waiting; true when it left the queue.</summary>
    [Alias("retry-placement")]
    Task<bool> RetryPlacementIfWaitingAsync(string reason);

    /// <summary>The state name now (for tests and tools; lists read the tenants table).</summary>
    [Alias("status")]
    Task<string?> GetStatusAsync();

    /// <summary>The durable timers the workflow is waiting on ("step", "billing-sync", "reconcile"…), for diagnostics.</summary>
    [Alias("scheduled")]
    Task<IReadOnlyList<string>> GetScheduledAsync();
}

/// <summary>The one queue of tenants waiting for capacity (key <see cref="GrainTypes.WaitingQueue"/>).</summary>
[Alias("sajet.capacity")]
public interface ICapacityGrain : IGrainWithStringKey
{
    /// <summary>
    /// A node came (back) online or freed capacity: waiting tenants may fit now. Drains the queue in order. One-way: the
    /// drain calls tenants, which call node grains, so a node grain awaiting this notice could wait on itself; a lost
    /// notice is covered by each waiting tenant's own re-check reminder.
    /// </summary>
    [Alias("changed"), OneWay]
    Task CapacityChangedAsync(string nodeId);

    /// <summary>The nodes of the most recent capacity notices, oldest first (what the admin console and tests show).</summary>
    [Alias("notices")]
    Task<IReadOnlyList<string>> GetRecentNoticesAsync();
}

/// <summary>
/// Sent by signup once the subdomain is claimed and the Stripe customer and Checkout Session exist. It carries every
/// column of the tenants row, which only the grain writes. Fields added later have defaults, so a message stored in
/// the outbox before they existed still reads.
/// </summary>
[GenerateSerializer, Immutable, Alias("sajet.TenantSignedUp")]
public sealed record TenantSignedUp(
    [property: Id(0)] string TenantId,
    [property: Id(1)] string Subdomain,
    [property: Id(2)] string CompanyName,
    [property: Id(3)] string Email,
    [property: Id(4)] string Country,
    [property: Id(5)] string PlanId,
    [property: Id(6)] string StripeCustomerId,
    [property: Id(7)] string CheckoutSessionId,
    [property: Id(8)] string OdooPasswordProtected,
    [property: Id(9)] string? CheckoutUrl = null);

/// <summary>Sent for each stored Stripe event that concerns a tenant.</summary>
[GenerateSerializer, Immutable, Alias("sajet.StripeEventReceived")]
public sealed record StripeEventReceived([property: Id(0)] string EventId, [property: Id(1)] string Type);

/// <summary>Sent by /success: the customer came back from Checkout; check the session now.</summary>
[GenerateSerializer, Immutable, Alias("sajet.CheckoutReturned")]
public sealed record CheckoutReturned([property: Id(0)] string SessionId);

/// <summary>An admin's resolution of a waiting or failed tenant: retry, place_on_node, keep_waiting or cancel.</summary>
[GenerateSerializer, Immutable, Alias("sajet.ResolveTenant")]
public sealed record ResolveTenant([property: Id(0)] string Action, [property: Id(1)] string? NodeId, [property: Id(2)] string Actor);

/// <summary>Admin lifecycle actions on an active tenant.</summary>
[GenerateSerializer, Immutable, Alias("sajet.SuspendTenant")]
public sealed record SuspendTenant([property: Id(0)] string Actor);

[GenerateSerializer, Immutable, Alias("sajet.ResumeTenant")]
public sealed record ResumeTenant([property: Id(0)] string Actor);

/// <summary>A new password for the tenant's Odoo administrator, protected for <see cref="Purpose"/> (it travels through the outbox table).</summary>
[GenerateSerializer, Immutable, Alias("sajet.SetOdooPassword")]
public sealed record SetOdooPassword([property: Id(0)] string PasswordProtected, [property: Id(1)] string Actor)
{
    /// <summary>The purpose a tenant's Odoo administrator password is protected for, wherever it is stored or sent.</summary>
    public const string Purpose = "odoo-admin";
}

public static class ResolveActions
{
    public const string Retry = "retry";
    public const string PlaceOnNode = "place_on_node";
    public const string KeepWaiting = "keep_waiting";
    public const string Cancel = "cancel";

    public static readonly IReadOnlyList<string> All = [Retry, PlaceOnNode, KeepWaiting, Cancel];
}
