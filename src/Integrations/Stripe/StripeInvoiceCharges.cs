using System.Net;
using Microsoft.Extensions.Logging;
using Stripe;

namespace Sajet.Integrations.Stripe;

/// <summary>What came of charging an invoice again; UI wording is the caller's.</summary>
public enum InvoiceChargeOutcome
{
    /// <summary>Stripe charged the card: invoice.paid follows, and the subscription's update reactivates the tenant.</summary>
    Paid,

    /// <summary>The card was refused (402 card_error); <see cref="InvoiceChargeResult.DeclineCode"/> says why.</summary>
    Declined,

    AlreadyPaid,

    NotFound,

    /// <summary>Stripe refused for another reason (void, draft, uncollectible without a card…).</summary>
    NotPayable,

    /// <summary>No answer, or 5xx/429 after the SDK's own retries: whether the charge happened is unknown until Stripe's webhooks say.</summary>
    Unreachable,
}

/// <param name="DeclineCode">decline_code of a refused card, else the error code (expired_card, incorrect_cvc…).</param>
/// <param name="InvoiceStatus">The invoice's status when Stripe said it, if known.</param>
public sealed record InvoiceChargeResult(InvoiceChargeOutcome Outcome, string? DeclineCode = null, string? InvoiceStatus = null, string? RequestId = null);

/// <summary>
/// Charging a past-due invoice again, on an operator's request, through Stripe.net's <see cref="InvoiceService.PayAsync(string, InvoicePayOptions, RequestOptions, CancellationToken)"/>.
/// Every answer becomes an outcome rather than an exception, because each one is a message for the operator, not a fault.
/// No idempotency key of ours: a second click after the card was fixed must charge, not replay the first refusal; the
/// SDK adds its own key to its network retries, so one click never charges twice.
/// </summary>
public sealed class StripeInvoiceCharges(IStripeClient stripe, ILogger<StripeInvoiceCharges> logger)
{
    private readonly InvoiceService _invoices = new(stripe);

    public async Task<InvoiceChargeResult> RetryAsync(string invoiceId, CancellationToken ct)
    {
        try
        {
            // off_session: the customer is not there to authenticate, as for Stripe's own dunning retries.
            var invoice = await _invoices.PayAsync(invoiceId, new InvoicePayOptions { OffSession = true }, null, ct);
            return new InvoiceChargeResult(invoice.Status == "paid" ? InvoiceChargeOutcome.Paid : InvoiceChargeOutcome.NotPayable,
                InvoiceStatus: invoice.Status, RequestId: invoice.StripeResponse?.RequestId);
        }
        catch (StripeException ex) when (ex.HttpStatusCode == HttpStatusCode.PaymentRequired || ex.StripeError?.Type == "card_error")
        {
            logger.LogInformation("Charging invoice {InvoiceId} again was declined: {Code} {DeclineCode}", invoiceId, ex.StripeError?.Code, ex.StripeError?.DeclineCode);
            return new InvoiceChargeResult(InvoiceChargeOutcome.Declined, ex.StripeError?.DeclineCode ?? ex.StripeError?.Code, "open", RequestIdOf(ex));
        }
        catch (StripeException ex) when (ex.HttpStatusCode == HttpStatusCode.NotFound)
        {
            return new InvoiceChargeResult(InvoiceChargeOutcome.NotFound, RequestId: RequestIdOf(ex));
        }
        catch (StripeException ex) when (ex.HttpStatusCode == HttpStatusCode.BadRequest)
        {
            // "Invoice is already paid" carries no documented code: the invoice's own status decides, as for a second cancel.
            var status = await StatusAsync(invoiceId, ct);
            logger.LogInformation("Stripe refused to charge invoice {InvoiceId} ({Status}): {Message}", invoiceId, status, ex.Message);
            return new InvoiceChargeResult(status == "paid" ? InvoiceChargeOutcome.AlreadyPaid : InvoiceChargeOutcome.NotPayable, InvoiceStatus: status, RequestId: RequestIdOf(ex));
        }
        catch (Exception ex) when (ex is StripeException or HttpRequestException || (ex is OperationCanceledException && !ct.IsCancellationRequested))
        {
            logger.LogWarning(ex, "Stripe did not answer the charge of invoice {InvoiceId}", invoiceId);
            return new InvoiceChargeResult(InvoiceChargeOutcome.Unreachable, RequestId: (ex as StripeException) is { } se ? RequestIdOf(se) : null);
        }
    }

    private async Task<string?> StatusAsync(string invoiceId, CancellationToken ct)
    {
        try
        {
            return (await _invoices.GetAsync(invoiceId, null, null, ct)).Status;
        }
        catch (Exception ex) when (ex is StripeException or HttpRequestException || (ex is OperationCanceledException && !ct.IsCancellationRequested))
        {
            logger.LogWarning(ex, "Could not read invoice {InvoiceId} after Stripe refused to charge it", invoiceId);
            return null;
        }
    }

    private static string? RequestIdOf(StripeException ex) => ex.StripeResponse?.RequestId;
}
