using System.Net;
using Stripe;
using Stripe.Checkout;

namespace Sajet.Integrations.Tests.Stripe;

/// <summary>
/// POST /v1/invoices/{id}/pay through Stripe.net's own InvoiceService.PayAsync: the answers Sajet's "retry the charge"
/// button must understand (402 card_error, 400 already paid, 404) and the webhooks a successful charge sends.
/// </summary>
public sealed class StripeInvoicePayTests : StripeSimulatorTest
{
    private WebhookReceiver _receiver = null!;

    private InvoiceService Invoices => new(Client);

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        _receiver = await WebhookReceiver.StartAsync();
        Sim.Control.AddWebhookEndpoint(_receiver.Url, ["invoice.paid", "invoice.payment_succeeded", "invoice.payment_failed", "customer.subscription.updated"]);
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await _receiver.DisposeAsync();
    }

    /// <summary>A paid subscription whose renewal then failed: (subscription id, customer id, open invoice id).</summary>
    private async Task<(string Subscription, string Customer, string Invoice)> PastDueAsync()
    {
        var session = await CreateCheckoutAsync();
        Sim.Control.PayCheckoutSession(session.Id);
        await _receiver.ReceiveAsync(2, Patience);
        var read = await new SessionService(Client).GetAsync(session.Id);
        Sim.Control.FailSubscriptionRenewal(read.SubscriptionId);
        var failed = await _receiver.ReceiveAsync(2, Patience);
        var invoice = Assert.IsType<Invoice>(failed.Single(w => w.Event.Type == "invoice.payment_failed").Event.Data.Object);
        return (read.SubscriptionId, read.CustomerId, invoice.Id);
    }

    [Fact]
    public async Task Pay_UnknownInvoice_Is404ResourceMissing()
    {
        var ex = await Assert.ThrowsAsync<StripeException>(() => Invoices.PayAsync("in_Missing123", null, null, Patience));

        Assert.Equal(HttpStatusCode.NotFound, ex.HttpStatusCode);
        Assert.Equal(("invalid_request_error", "resource_missing", "id"), (ex.StripeError.Type, ex.StripeError.Code, ex.StripeError.Param));
        Assert.Equal("No such invoice: 'in_Missing123'", ex.Message);
    }

    [Fact]
    public async Task Pay_CardStillDeclines_Is402CardDeclined_CountsTheAttempt_SubscriptionStaysPastDue()
    {
        var (subscription, _, invoiceId) = await PastDueAsync();

        var ex = await Assert.ThrowsAsync<StripeException>(() => Invoices.PayAsync(invoiceId, null, null, Patience));

        Assert.Equal(HttpStatusCode.PaymentRequired, ex.HttpStatusCode);
        Assert.Equal(("card_error", "card_declined", "generic_decline"), (ex.StripeError.Type, ex.StripeError.Code, ex.StripeError.DeclineCode));
        Assert.Equal("Your card was declined.", ex.Message);
        Assert.StartsWith("pi_", ex.StripeError.PaymentIntent?.Id, StringComparison.Ordinal);
        var failed = Assert.Single(await _receiver.ReceiveAsync(1, Patience));
        Assert.Equal("invoice.payment_failed", failed.Event.Type);
        var invoice = await Invoices.GetAsync(invoiceId, null, null, Patience);
        Assert.Equal(("open", 2L), (invoice.Status, invoice.AttemptCount));
        Assert.Equal("past_due", (await new SubscriptionService(Client).GetAsync(subscription, null, null, Patience)).Status);
    }

    [Fact]
    public async Task Pay_InsufficientFundsCard_Is402WithItsDeclineCode()
    {
        var (_, customer, invoiceId) = await PastDueAsync();
        Sim.Control.SetCustomerCard(customer, "4000 0000 0000 9995");

        var ex = await Assert.ThrowsAsync<StripeException>(() => Invoices.PayAsync(invoiceId, null, null, Patience));

        Assert.Equal(HttpStatusCode.PaymentRequired, ex.HttpStatusCode);
        Assert.Equal(("card_declined", "insufficient_funds"), (ex.StripeError.Code, ex.StripeError.DeclineCode));
        Assert.Equal("Your card has insufficient funds.", ex.Message);
    }

    [Fact]
    public async Task Pay_CardFixed_ReturnsThePaidInvoice_SendsInvoicePaidAndReactivatesTheSubscription()
    {
        var (subscription, customer, invoiceId) = await PastDueAsync();
        Sim.Control.SetCustomerCard(customer, "4242 4242 4242 4242");

        var paid = await Invoices.PayAsync(invoiceId, new InvoicePayOptions { OffSession = true }, null, Patience);

        Assert.Equal((invoiceId, "paid", 0L), (paid.Id, paid.Status, paid.AmountRemaining));
        Assert.Equal(paid.AmountDue, paid.AmountPaid);
        Assert.NotNull(paid.StatusTransitions.PaidAt);
        var events = await _receiver.ReceiveAsync(3, Patience);
        Assert.Equal(["invoice.paid", "invoice.payment_succeeded", "customer.subscription.updated"], events.Select(w => w.Event.Type));
        Assert.Equal("active", Assert.IsType<Subscription>(events[2].Event.Data.Object).Status);
        Assert.Equal("past_due", events[2].PreviousAttributes.GetProperty("status").GetString());
        Assert.Equal("active", (await new SubscriptionService(Client).GetAsync(subscription, null, null, Patience)).Status);
    }

    [Fact]
    public async Task Pay_AlreadyPaid_Is400InvalidRequest()
    {
        var (_, customer, invoiceId) = await PastDueAsync();
        Sim.Control.SetCustomerCard(customer, "4242424242424242");
        await Invoices.PayAsync(invoiceId, null, null, Patience);

        var ex = await Assert.ThrowsAsync<StripeException>(() => Invoices.PayAsync(invoiceId, null, null, Patience));

        Assert.Equal(HttpStatusCode.BadRequest, ex.HttpStatusCode);
        Assert.Equal("invalid_request_error", ex.StripeError.Type);
        Assert.Equal("Invoice is already paid", ex.Message);
    }

    [Fact]
    public async Task RetrySubscriptionPayment_FixesTheCard_SoALaterRenewalFailureDeclinesAgain()
    {
        var (subscription, customer, _) = await PastDueAsync();

        Sim.Control.RetrySubscriptionPayment(subscription);

        Assert.Equal("4242424242424242", Sim.Control.CustomerCard(customer));
        Sim.Control.FailSubscriptionRenewal(subscription);
        Assert.Equal("4000000000000002", Sim.Control.CustomerCard(customer));
    }
}
