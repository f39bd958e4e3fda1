using Dapper;
using Npgsql;
using Sajet.Grains.Interfaces;

namespace Sajet.WebFront.Billing;

public sealed record Subscription(string TenantId, string Subdomain, string CompanyName, string SubscriptionId, string? StripeCustomerId, string Status, string PlanName, int PriceCents);

public sealed record FailedPayment(string EventId, DateTime Created, string? TenantId, string? Subdomain, int? AmountDueCents, string? InvoiceId);

/// <summary>What the billing page and the dashboard read: revenue from tenants and plans, failures from stored Stripe events.</summary>
public static class BillingQueries
{
    // MRR counts what is billed every month: active tenants and those whose last payment failed but are still served.
    private const string MrrSql = """
        SELECT coalesce(sum(p.price_cents), 0)::bigint FROM tenants t JOIN plans p ON p.id = t.plan_id
        WHERE t.status IN (@active, @pastDue)
        """;

    private const string SubscriptionsSql = """
        SELECT t.id AS TenantId, t.subdomain, t.company_name AS CompanyName, t.subscription_id AS SubscriptionId, t.stripe_customer_id AS StripeCustomerId,
               t.status, p.name AS PlanName, p.price_cents AS PriceCents
        FROM tenants t JOIN plans p ON p.id = t.plan_id
        WHERE t.subscription_id IS NOT NULL
        ORDER BY t.created_at DESC
        LIMIT 500
        """;

    private const string FailedPaymentsSql = """
        SELECT e.id AS EventId, e.created, e.tenant_id AS TenantId, t.subdomain,
               (e.payload #>> '{data,object,amount_due}')::int AS AmountDueCents, e.payload #>> '{data,object,id}' AS InvoiceId
        FROM stripe_events e LEFT JOIN tenants t ON t.id = e.tenant_id
        WHERE e.type = 'invoice.payment_failed'
        ORDER BY e.created DESC
        LIMIT 100
        """;

    public static async Task<long> MrrCentsAsync(NpgsqlConnection conn, CancellationToken ct) =>
        await conn.ExecuteScalarAsync<long>(new CommandDefinition(MrrSql, new { active = TenantStatus.Active, pastDue = TenantStatus.PastDue }, cancellationToken: ct));

    public static async Task<IReadOnlyList<Subscription>> SubscriptionsAsync(NpgsqlConnection conn, CancellationToken ct) =>
        [.. await conn.QueryAsync<Subscription>(new CommandDefinition(SubscriptionsSql, cancellationToken: ct))];

    public static async Task<IReadOnlyList<FailedPayment>> FailedPaymentsAsync(NpgsqlConnection conn, CancellationToken ct) =>
        [.. await conn.QueryAsync<FailedPayment>(new CommandDefinition(FailedPaymentsSql, cancellationToken: ct))];
}
