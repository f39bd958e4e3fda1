using Dapper;
using Npgsql;
using Sajet.Grains.Interfaces;

namespace Sajet.WebFront.Billing;

public sealed record Subscription(string TenantId, string Subdomain, string CompanyName, string SubscriptionId, string? StripeCustomerId, string Status, string PlanName, int PriceCents);

/// <summary>The newest invoice.payment_failed Stripe sent for a tenant: what the operator may charge again.</summary>
public sealed record FailedInvoice(string TenantId, string InvoiceId, long? AmountDueCents, int? AttemptCount, string? HostedInvoiceUrl, DateTime Created);

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

    // Ties on created (Stripe counts whole seconds) go to the later attempt, then to the later delivery.
    private const string LastFailedInvoicesSql = """
        SELECT DISTINCT ON (e.tenant_id) e.tenant_id AS TenantId, e.payload #>> '{data,object,id}' AS InvoiceId,
               (e.payload #>> '{data,object,amount_due}')::bigint AS AmountDueCents, (e.payload #>> '{data,object,attempt_count}')::int AS AttemptCount,
               e.payload #>> '{data,object,hosted_invoice_url}' AS HostedInvoiceUrl, e.created
        FROM stripe_events e
        WHERE e.type = 'invoice.payment_failed' AND e.tenant_id = ANY(@tenants) AND e.payload #>> '{data,object,id}' IS NOT NULL
        ORDER BY e.tenant_id, e.created DESC, (e.payload #>> '{data,object,attempt_count}')::int DESC NULLS LAST, e.received_at DESC
        """;

    private const string TenantHadFailedInvoiceSql = """
        SELECT EXISTS (SELECT 1 FROM stripe_events
                       WHERE type = 'invoice.payment_failed' AND tenant_id = @tenant AND payload #>> '{data,object,id}' = @invoice)
        """;

    public static async Task<long> MrrCentsAsync(NpgsqlConnection conn, CancellationToken ct) =>
        await conn.ExecuteScalarAsync<long>(new CommandDefinition(MrrSql, new { active = TenantStatus.Active, pastDue = TenantStatus.PastDue }, cancellationToken: ct));

    public static async Task<IReadOnlyList<Subscription>> SubscriptionsAsync(NpgsqlConnection conn, CancellationToken ct) =>
        [.. await conn.QueryAsync<Subscription>(new CommandDefinition(SubscriptionsSql, cancellationToken: ct))];

    public static async Task<IReadOnlyList<FailedPayment>> FailedPaymentsAsync(NpgsqlConnection conn, CancellationToken ct) =>
        [.. await conn.QueryAsync<FailedPayment>(new CommandDefinition(FailedPaymentsSql, cancellationToken: ct))];

    /// <summary>Each tenant's last failed invoice, by tenant id; tenants Stripe never reported a failure for are absent.</summary>
    public static async Task<IReadOnlyDictionary<string, FailedInvoice>> LastFailedInvoicesAsync(NpgsqlConnection conn, IEnumerable<string> tenantIds, CancellationToken ct) =>
        (await conn.QueryAsync<FailedInvoice>(new CommandDefinition(LastFailedInvoicesSql, new { tenants = tenantIds.ToArray() }, cancellationToken: ct)))
            .ToDictionary(f => f.TenantId, StringComparer.Ordinal);

    /// <summary>Whether Stripe ever reported this invoice failing for this tenant: a retry may only charge what the page showed.</summary>
    public static async Task<bool> TenantHadFailedInvoiceAsync(NpgsqlConnection conn, string tenantId, string invoiceId, CancellationToken ct) =>
        await conn.ExecuteScalarAsync<bool>(new CommandDefinition(TenantHadFailedInvoiceSql, new { tenant = tenantId, invoice = invoiceId }, cancellationToken: ct));
}
