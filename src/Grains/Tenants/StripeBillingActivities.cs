using System.Net;
using Microsoft.Extensions.Logging;
using Stripe;
using Stripe.Checkout;

namespace Sajet.Grains.Tenants;

/// <summary>
/// Every Stripe call the tenant grain makes, through Stripe.net. Each method is a read or an effect that may run again
/// (a reminder retried, a second activation during a partition): effects carry idempotency keys derived from the
/// workflow step, and "already done" answers count as done. Errors a retry can fix (network, 5xx after the SDK's own
/// retries) propagate as <see cref="StripeException"/> or <see cref="HttpRequestException"/> for the reminder to retry.
/// </summary>
public sealed class StripeBillingActivities(IStripeClient stripe, ILogger<StripeBillingActivities> logger)
{
    private readonly SessionService _sessions = new(stripe);
    private readonly SubscriptionService _subscriptions = new(stripe);
    private readonly InvoiceService _invoices = new(stripe);
    private readonly RefundService _refunds = new(stripe);

    /// <summary>
    /// Stripe's current word on a checkout: the session, and its subscription (expanded with the session, or read by the
    /// id the tenant already knows when the session no longer names one).
    /// </summary>
    public async Task<BillingFacts> ReadBillingFactsAsync(string sessionId, string? knownSubscriptionId, CancellationToken ct)
    {
        var session = await _sessions.GetAsync(sessionId, new SessionGetOptions { Expand = ["subscription"] }, null, ct);
        var subscription = session.Subscription;
        var subscriptionId = session.SubscriptionId ?? knownSubscriptionId;
        if (subscription is null && subscriptionId is not null)
        {
            subscription = await _subscriptions.GetAsync(subscriptionId, null, null, ct);
        }

        return new BillingFacts(session.Status, session.PaymentStatus, subscriptionId, subscription?.Status);
    }

    /// <summary>
    /// Refunds the customer's latest paid invoice in full, if it was paid through a payment intent; returns the refund id,
    /// or null when there was nothing to refund. The key makes a repeated call return the same refund.
    /// </summary>
    public async Task<string?> RefundLastPaymentAsync(string customerId, string idempotencyKey, CancellationToken ct)
    {
        // invoice.payment_intent became the payments list in 2025 (stripe.md §8); it is only there when expanded.
        var invoices = await _invoices.ListAsync(new InvoiceListOptions
        {
            Customer = customerId,
            Status = "paid",
            Limit = 1,
            Expand = ["data.payments"],
        }, null, ct);
        if (invoices.Data.FirstOrDefault() is not { AmountPaid: > 0 } invoice || PaymentIntentOf(invoice) is not { } paymentIntent)
        {
            return null;
        }

        var refund = await _refunds.CreateAsync(new RefundCreateOptions { PaymentIntent = paymentIntent, Reason = "requested_by_customer" },
            new RequestOptions { IdempotencyKey = idempotencyKey }, ct);
        return refund.Id;
    }

    /// <summary>Cancels now; a subscription that has already ended, or that Stripe does not know, counts as cancelled.</summary>
    public async Task CancelSubscriptionAsync(string subscriptionId, CancellationToken ct)
    {
        try
        {
            // DELETE needs no idempotency key: cancelling twice cannot do more than cancelling once.
            await _subscriptions.CancelAsync(subscriptionId, null, null, ct);
        }
        catch (StripeException ex) when (ex.HttpStatusCode == HttpStatusCode.NotFound)
        {
            logger.LogInformation("Subscription {SubscriptionId} is unknown to Stripe; nothing to cancel", subscriptionId);
        }
        catch (StripeException ex) when (ex.HttpStatusCode == HttpStatusCode.BadRequest)
        {
            // A second cancel is a 4xx whose code Stripe does not document (stripe.md §6): the subscription's status decides.
            var current = await _subscriptions.GetAsync(subscriptionId, null, null, ct);
            if (current.Status is not ("canceled" or "incomplete_expired"))
            {
                throw;
            }
        }
    }

    /// <summary>Closes an open checkout so it can no longer be paid; one that is already complete or expired is left as it is.</summary>
    public async Task ExpireCheckoutAsync(string sessionId, CancellationToken ct)
    {
        try
        {
            await _sessions.ExpireAsync(sessionId, null, new RequestOptions { IdempotencyKey = $"expire-{sessionId}" }, ct);
        }
        catch (StripeException ex) when (ex.HttpStatusCode == HttpStatusCode.NotFound)
        {
            logger.LogInformation("Checkout session {SessionId} is unknown to Stripe; nothing to expire", sessionId);
        }
        catch (StripeException ex) when (ex.HttpStatusCode == HttpStatusCode.BadRequest)
        {
            // Only an open session can be expired; anything else already cannot be paid through.
            var current = await _sessions.GetAsync(sessionId, null, null, ct);
            if (current.Status == "open")
            {
                throw;
            }
        }
    }

    private static string? PaymentIntentOf(Invoice invoice) =>
        invoice.Payments?.Data
            .Where(p => p.Payment?.Type == "payment_intent" && p.Payment.PaymentIntentId is not null)
            .OrderByDescending(p => p.IsDefault)
            .FirstOrDefault()?.Payment.PaymentIntentId;
}
