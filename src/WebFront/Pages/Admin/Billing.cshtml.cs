using Microsoft.AspNetCore.Mvc.RazorPages;
using Npgsql;
using Sajet.Grains.Interfaces;
using Sajet.WebFront.Billing;
using Sajet.WebFront.Tenants;

namespace Sajet.WebFront.Pages.Admin;

/// <summary>Revenue at a glance: MRR, every subscription, and the payments that failed (tenants past due, Stripe's failure events).</summary>
public sealed class BillingModel(NpgsqlDataSource db) : PageModel
{
    public long MrrCents { get; private set; }

    public IReadOnlyList<Subscription> Subscriptions { get; private set; } = [];

    public IReadOnlyList<TenantListItem> PastDue { get; private set; } = [];

    public IReadOnlyList<FailedPayment> FailedPayments { get; private set; } = [];

    public async Task OnGetAsync(CancellationToken ct)
    {
        PastDue = await TenantsApi.ListAsync(db, TenantStatus.PastDue, null, ct);
        await using var conn = await db.OpenConnectionAsync(ct);
        MrrCents = await BillingQueries.MrrCentsAsync(conn, ct);
        Subscriptions = await BillingQueries.SubscriptionsAsync(conn, ct);
        FailedPayments = await BillingQueries.FailedPaymentsAsync(conn, ct);
    }
}
