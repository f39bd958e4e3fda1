using System.Net;
using Stripe;
using TestClock = Stripe.TestHelpers.TestClock;
using TestClockAdvanceOptions = Stripe.TestHelpers.TestClockAdvanceOptions;
using TestClockCreateOptions = Stripe.TestHelpers.TestClockCreateOptions;
using TestClockService = Stripe.TestHelpers.TestClockService;

namespace Sajet.Integrations.Tests.Stripe;

/// <summary>
/// Plan changes with each proration_behavior, invoice previews, test clocks driving renewals and Stripe's test payment
/// methods, through Stripe.net 53.1.0 over real HTTP, with the events a webhook endpoint receives.
/// </summary>
public sealed class StripeClockTests : StripeSimulatorTest
{
    /// <summary>2027-01-01 00:00 UTC: the first monthly period lasts 31 days, so its middle is a whole second.</summary>
    private static readonly DateTimeOffset Start = new(2027, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static readonly DateTimeOffset Middle = Start.AddDays(15.5);

    private WebhookReceiver _receiver = null!;

    private SubscriptionService Subscriptions => new(Client);

    private InvoiceService Invoices => new(Client);

    private TestClockService Clocks => new(Client);

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        _receiver = await WebhookReceiver.StartAsync();
        Sim.Control.AddWebhookEndpoint(_receiver.Url);
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await _receiver.DisposeAsync();
    }

    private async Task<Price> PriceAsync(long amount, string name) => await new PriceService(Client).CreateAsync(new PriceCreateOptions
    {
        Currency = "usd",
        UnitAmount = amount,
        Recurring = new PriceRecurringOptions { Interval = "month" },
        ProductData = new PriceProductDataOptions { Name = name },
    }, null, Patience);

    /// <summary>A customer (on a new clock at <see cref="Start"/> unless told otherwise) paying Pro at 49.00 a month.</summary>
    private async Task<(TestClock? Clock, Customer Customer, Subscription Subscription)> SubscribedAsync(
        string paymentMethod = "pm_card_visa", bool onClock = true)
    {
        var clock = onClock ? await Clocks.CreateAsync(new TestClockCreateOptions { FrozenTime = Start.UtcDateTime, Name = "renewals" }, null, Patience) : null;
        var customer = await new CustomerService(Client).CreateAsync(new CustomerCreateOptions
        {
            Email = "owner@acme.test",
            TestClock = clock?.Id,
            PaymentMethod = paymentMethod,
            InvoiceSettings = new CustomerInvoiceSettingsOptions { DefaultPaymentMethod = paymentMethod },
        }, null, Patience);
        var pro = await PriceAsync(4900, "Plan Pro");
        var subscription = await Subscriptions.CreateAsync(new SubscriptionCreateOptions
        {
            Customer = customer.Id,
            Items = [new SubscriptionItemOptions { Price = pro.Id }],
        }, null, Patience);
        await Sim.Control.WaitForDeliveriesAsync(Patience);
        _receiver.Drain();
        return (clock, customer, subscription);
    }

    private async Task<List<string>> EventTypesAsync()
    {
        await Sim.Control.WaitForDeliveriesAsync(Patience);
        return [.. _receiver.Drain().Select(w => w.Event.Type)];
    }

    [Fact]
    public async Task CreateSubscription_OnAClock_StartsAtTheFrozenTime_AndPaysWithTheDefaultPaymentMethod()
    {
        var (clock, customer, subscription) = await SubscribedAsync();

        Assert.Equal(clock!.Id, customer.TestClockId);
        Assert.Equal(("active", clock.Id), (subscription.Status, subscription.TestClockId));
        Assert.Equal(Start.UtcDateTime, subscription.Items.Data[0].CurrentPeriodStart);
        Assert.Equal(Start.AddMonths(1).UtcDateTime, subscription.Items.Data[0].CurrentPeriodEnd);
        var invoice = await Invoices.GetAsync(subscription.LatestInvoiceId, null, null, Patience);
        Assert.Equal(("paid", 4900L, "subscription_create"), (invoice.Status, invoice.AmountPaid, invoice.BillingReason));
        Assert.StartsWith("pm_", customer.InvoiceSettings.DefaultPaymentMethodId, StringComparison.Ordinal);
        Assert.NotEqual("pm_card_visa", customer.InvoiceSettings.DefaultPaymentMethodId);
    }

    [Fact]
    public async Task ChangePrice_CreateProrations_PendsItemsThatTheNextRenewalCharges_AsThePreviewSaid()
    {
        var (clock, _, subscription) = await SubscribedAsync();
        var business = await PriceAsync(9900, "Plan Business");
        await Clocks.AdvanceAsync(clock!.Id, new TestClockAdvanceOptions { FrozenTime = Middle.UtcDateTime }, null, Patience);
        var itemId = subscription.Items.Data[0].Id;

        var preview = await Invoices.CreatePreviewAsync(new InvoiceCreatePreviewOptions
        {
            Customer = subscription.CustomerId,
            Subscription = subscription.Id,
            SubscriptionDetails = new InvoiceSubscriptionDetailsOptions
            {
                Items = [new InvoiceSubscriptionDetailsItemOptions { Id = itemId, Price = business.Id }],
                ProrationBehavior = "create_prorations",
            },
        }, null, Patience);
        await EventTypesAsync();
        var updated = await Subscriptions.UpdateAsync(subscription.Id, new SubscriptionUpdateOptions
        {
            Items = [new SubscriptionItemOptions { Id = itemId, Price = business.Id }],
            ProrationBehavior = "create_prorations",
        }, null, Patience);

        // Half the period is left: 49.00 / 2 credited, 99.00 / 2 charged, on top of next month's 99.00.
        Assert.Null(preview.Id);
        Assert.Equal(9900 - 2450 + 4950, preview.AmountDue);
        Assert.Equal([9900L, -2450L, 4950L], preview.Lines.Data.Select(l => l.Amount));
        Assert.Equal([false, true, true], preview.Lines.Data.Select(l => l.Parent.SubscriptionItemDetails.Proration));
        Assert.Equal((business.Id, subscription.LatestInvoiceId), (updated.Items.Data[0].Price.Id, updated.LatestInvoiceId));
        Assert.Equal(["invoiceitem.created", "invoiceitem.created", "customer.subscription.updated"], await EventTypesAsync());

        await Clocks.AdvanceAsync(clock.Id, new TestClockAdvanceOptions { FrozenTime = Start.AddMonths(1).AddHours(1).UtcDateTime }, null, Patience);

        var renewed = await Subscriptions.GetAsync(subscription.Id, null, null, Patience);
        var invoice = await Invoices.GetAsync(renewed.LatestInvoiceId, null, null, Patience);
        Assert.Equal(("paid", "subscription_cycle"), (invoice.Status, invoice.BillingReason));
        Assert.Equal(preview.AmountDue, invoice.AmountPaid);
        Assert.Equal(preview.Lines.Data.Select(l => l.Amount), invoice.Lines.Data.Select(l => l.Amount));
    }

    [Fact]
    public async Task ChangePrice_AlwaysInvoice_ChargesTheProrationAtOnce_AsThePreviewSaid_WithEventsInOrder()
    {
        var (_, _, subscription) = await SubscribedAsync(onClock: false);
        var business = await PriceAsync(9900, "Plan Business");
        var item = subscription.Items.Data[0];
        var at = item.CurrentPeriodStart.AddDays(10);
        var itemOptions = new SubscriptionItemOptions { Id = item.Id, Price = business.Id };

        var preview = await Invoices.CreatePreviewAsync(new InvoiceCreatePreviewOptions
        {
            Subscription = subscription.Id,
            SubscriptionDetails = new InvoiceSubscriptionDetailsOptions
            {
                Items = [new InvoiceSubscriptionDetailsItemOptions { Id = item.Id, Price = business.Id }],
                ProrationBehavior = "always_invoice",
                ProrationDate = at,
            },
        }, null, Patience);
        var updated = await Subscriptions.UpdateAsync(subscription.Id,
            new SubscriptionUpdateOptions { Items = [itemOptions], ProrationBehavior = "always_invoice", ProrationDate = at }, null, Patience);

        var left = (decimal)(item.CurrentPeriodEnd - at).TotalSeconds / (decimal)(item.CurrentPeriodEnd - item.CurrentPeriodStart).TotalSeconds;
        var expected = (long)Math.Round(9900 * left, MidpointRounding.AwayFromZero) - (long)Math.Round(4900 * left, MidpointRounding.AwayFromZero);
        Assert.Equal(expected, preview.AmountDue);
        var invoice = await Invoices.GetAsync(updated.LatestInvoiceId, null, null, Patience);
        Assert.NotEqual(subscription.LatestInvoiceId, updated.LatestInvoiceId);
        Assert.Equal(("paid", "subscription_update", preview.AmountDue), (invoice.Status, invoice.BillingReason, invoice.AmountPaid));
        Assert.Equal(preview.Lines.Data.Select(l => l.Amount), invoice.Lines.Data.Select(l => l.Amount));
        Assert.All(invoice.Lines.Data, l => Assert.True(l.Parent.SubscriptionItemDetails.Proration));
        Assert.Equal(("active", business.Id), (updated.Status, updated.Items.Data[0].Price.Id));
        Assert.Equal(
            ["invoiceitem.created", "invoiceitem.created", "invoice.created", "invoice.finalized", "invoice.paid", "invoice.payment_succeeded",
             "customer.subscription.updated"],
            await EventTypesAsync());
    }

    [Fact]
    public async Task UpdateSubscriptionItem_AlwaysInvoice_ProratesLikeTheSubscriptionUpdate()
    {
        var (clock, _, subscription) = await SubscribedAsync();
        var business = await PriceAsync(9900, "Plan Business");
        await Clocks.AdvanceAsync(clock!.Id, new TestClockAdvanceOptions { FrozenTime = Middle.UtcDateTime }, null, Patience);

        var item = await new SubscriptionItemService(Client).UpdateAsync(subscription.Items.Data[0].Id,
            new SubscriptionItemUpdateOptions { Price = business.Id, ProrationBehavior = "always_invoice" }, null, Patience);

        Assert.Equal((subscription.Items.Data[0].Id, business.Id), (item.Id, item.Price.Id));
        var invoice = await Invoices.GetAsync((await Subscriptions.GetAsync(subscription.Id, null, null, Patience)).LatestInvoiceId, null, null, Patience);
        Assert.Equal(("paid", 4950L - 2450L), (invoice.Status, invoice.AmountPaid));
    }

    [Fact]
    public async Task Preview_ForACustomerOnly_IsItsSubscriptionsNextRenewal()
    {
        var (_, customer, subscription) = await SubscribedAsync();

        var preview = await Invoices.CreatePreviewAsync(new InvoiceCreatePreviewOptions { Customer = customer.Id }, null, Patience);

        Assert.Equal((4900L, "subscription_cycle", subscription.Id), (preview.AmountDue, preview.BillingReason, preview.Parent.SubscriptionDetails.SubscriptionId));
        Assert.Equal(Start.AddMonths(1).UtcDateTime, preview.PeriodStart);
    }

    [Fact]
    public async Task ChangePrice_None_ChargesNothingNow_AndTheNextInvoiceIsTheNewPriceOnly()
    {
        var (_, _, subscription) = await SubscribedAsync(onClock: false);
        var business = await PriceAsync(9900, "Plan Business");
        var item = subscription.Items.Data[0];

        var preview = await Invoices.CreatePreviewAsync(new InvoiceCreatePreviewOptions
        {
            Subscription = subscription.Id,
            SubscriptionDetails = new InvoiceSubscriptionDetailsOptions
            {
                Items = [new InvoiceSubscriptionDetailsItemOptions { Id = item.Id, Price = business.Id }],
                ProrationBehavior = "none",
            },
        }, null, Patience);
        var updated = await Subscriptions.UpdateAsync(subscription.Id, new SubscriptionUpdateOptions
        {
            Items = [new SubscriptionItemOptions { Id = item.Id, Price = business.Id }],
            ProrationBehavior = "none",
        }, null, Patience);

        Assert.Equal(9900, preview.AmountDue);
        Assert.Single(preview.Lines.Data);
        Assert.Equal(subscription.LatestInvoiceId, updated.LatestInvoiceId);
        Assert.Equal(["customer.subscription.updated"], await EventTypesAsync());
    }

    [Fact]
    public async Task ChangePrice_DowngradeAlwaysInvoice_CreditsTheCustomerBalance_WhichTheNextRenewalUses()
    {
        var (clock, customer, subscription) = await SubscribedAsync();
        var basic = await PriceAsync(1900, "Plan Básico");
        await Clocks.AdvanceAsync(clock!.Id, new TestClockAdvanceOptions { FrozenTime = Middle.UtcDateTime }, null, Patience);

        var updated = await Subscriptions.UpdateAsync(subscription.Id, new SubscriptionUpdateOptions
        {
            Items = [new SubscriptionItemOptions { Id = subscription.Items.Data[0].Id, Price = basic.Id }],
            ProrationBehavior = "always_invoice",
        }, null, Patience);

        var invoice = await Invoices.GetAsync(updated.LatestInvoiceId, null, null, Patience);
        Assert.Equal((-2450L + 950L, 0L, "paid"), (invoice.Total, invoice.AmountDue, invoice.Status));
        Assert.Equal(-1500, (await new CustomerService(Client).GetAsync(customer.Id, null, null, Patience)).Balance);
        await Clocks.AdvanceAsync(clock.Id, new TestClockAdvanceOptions { FrozenTime = Start.AddMonths(1).UtcDateTime }, null, Patience);
        var renewal = await Invoices.GetAsync((await Subscriptions.GetAsync(subscription.Id, null, null, Patience)).LatestInvoiceId, null, null, Patience);
        Assert.Equal((1900L, 400L, -1500L, 0L), (renewal.Total, renewal.AmountDue, renewal.StartingBalance, renewal.EndingBalance));
    }

    [Fact]
    public async Task AdvanceClock_PastThePeriodEnd_RenewsAndPaysWithVisa_InStripesEventOrder()
    {
        var (clock, _, subscription) = await SubscribedAsync();
        var target = Start.AddMonths(1).AddHours(1).UtcDateTime;

        var advancing = await Clocks.AdvanceAsync(clock!.Id, new TestClockAdvanceOptions { FrozenTime = target }, null, Patience);

        Assert.Equal("advancing", advancing.Status);
        var ready = await Clocks.GetAsync(clock.Id, null, null, Patience);
        Assert.Equal(("ready", target), (ready.Status, ready.FrozenTime));
        var events = await ReceivedAsync();
        Assert.Equal(
            ["test_helpers.test_clock.advancing", "invoice.created", "invoice.finalized", "invoice.paid", "invoice.payment_succeeded",
             "customer.subscription.updated", "test_helpers.test_clock.ready"],
            events.Select(w => w.Event.Type));
        Assert.Equal("draft", Assert.IsType<Invoice>(events[1].Event.Data.Object).Status);
        Assert.Equal("open", Assert.IsType<Invoice>(events[2].Event.Data.Object).Status);
        var paid = Assert.IsType<Invoice>(events[3].Event.Data.Object);
        Assert.Equal(("paid", 4900L, "subscription_cycle"), (paid.Status, paid.AmountPaid, paid.BillingReason));
        Assert.Equal(Start.AddMonths(1).UtcDateTime, paid.Created);
        Assert.Equal("ready", TestClockStatus(events[6]));
        var renewed = await Subscriptions.GetAsync(subscription.Id, null, null, Patience);
        Assert.Equal(("active", paid.Id), (renewed.Status, renewed.LatestInvoiceId));
        Assert.Equal((Start.AddMonths(1).UtcDateTime, Start.AddMonths(2).UtcDateTime),
            (renewed.Items.Data[0].CurrentPeriodStart, renewed.Items.Data[0].CurrentPeriodEnd));
    }

    private static string TestClockStatus(ReceivedWebhook webhook) => Assert.IsType<TestClock>(webhook.Event.Data.Object).Status;

    private async Task<List<ReceivedWebhook>> ReceivedAsync()
    {
        await Sim.Control.WaitForDeliveriesAsync(Patience);
        return _receiver.Drain();
    }

    [Fact]
    public async Task AdvanceClock_TwoPeriods_RenewsTwice_ButNotMoreThanTwoIntervalsAtOnce()
    {
        var (clock, _, subscription) = await SubscribedAsync();

        var tooFar = await Assert.ThrowsAsync<StripeException>(() =>
            Clocks.AdvanceAsync(clock!.Id, new TestClockAdvanceOptions { FrozenTime = Start.AddMonths(2).AddDays(1).UtcDateTime }, null, Patience));
        await Clocks.AdvanceAsync(clock!.Id, new TestClockAdvanceOptions { FrozenTime = Start.AddMonths(2).UtcDateTime }, null, Patience);

        var invoices = await Invoices.ListAsync(new InvoiceListOptions { Subscription = subscription.Id }, null, Patience);
        Assert.Equal(["subscription_cycle", "subscription_cycle", "subscription_create"], invoices.Data.Select(i => i.BillingReason));
        Assert.All(invoices.Data, i => Assert.Equal("paid", i.Status));
        Assert.Equal(Start.AddMonths(3).UtcDateTime, (await Subscriptions.GetAsync(subscription.Id, null, null, Patience)).Items.Data[0].CurrentPeriodEnd);
        // Like Stripe: at most two intervals of the shortest subscription per advance.
        Assert.Equal((HttpStatusCode.BadRequest, "frozen_time"), (tooFar.HttpStatusCode, tooFar.StripeError.Param));
    }

    [Fact]
    public async Task AdvanceClock_ChargeCustomerFail_GoesPastDue_ThenANewCardPaysTheOpenInvoice()
    {
        var (clock, customer, subscription) = await SubscribedAsync();
        var customers = new CustomerService(Client);
        await customers.UpdateAsync(customer.Id, new CustomerUpdateOptions
        {
            InvoiceSettings = new CustomerInvoiceSettingsOptions { DefaultPaymentMethod = "pm_card_chargeCustomerFail" },
        }, null, Patience);
        Assert.Equal(["customer.updated"], await EventTypesAsync());

        await Clocks.AdvanceAsync(clock!.Id, new TestClockAdvanceOptions { FrozenTime = Start.AddMonths(1).AddHours(1).UtcDateTime }, null, Patience);

        var events = await ReceivedAsync();
        Assert.Equal(
            ["test_helpers.test_clock.advancing", "invoice.created", "invoice.finalized", "invoice.payment_failed",
             "customer.subscription.updated", "test_helpers.test_clock.ready"],
            events.Select(w => w.Event.Type));
        var failed = Assert.IsType<Invoice>(events.Single(w => w.Event.Type == "invoice.payment_failed").Event.Data.Object);
        Assert.Equal(("open", 1L, 4900L), (failed.Status, failed.AttemptCount, failed.AmountRemaining));
        Assert.NotNull(failed.NextPaymentAttempt);
        var pastDue = events.Single(w => w.Event.Type == "customer.subscription.updated");
        Assert.Equal("past_due", Assert.IsType<Subscription>(pastDue.Event.Data.Object).Status);
        Assert.Equal("active", pastDue.PreviousAttributes.GetProperty("status").GetString());

        // The failing card still declines when the invoice is paid again.
        var declined = await Assert.ThrowsAsync<StripeException>(() => Invoices.PayAsync(failed.Id, null, null, Patience));
        Assert.Equal((HttpStatusCode.PaymentRequired, "card_declined"), (declined.HttpStatusCode, declined.StripeError.Code));

        var visa = await new PaymentMethodService(Client).AttachAsync("pm_card_visa", new PaymentMethodAttachOptions { Customer = customer.Id }, null, Patience);
        await customers.UpdateAsync(customer.Id, new CustomerUpdateOptions
        {
            InvoiceSettings = new CustomerInvoiceSettingsOptions { DefaultPaymentMethod = visa.Id },
        }, null, Patience);
        await EventTypesAsync();
        var paid = await Invoices.PayAsync(failed.Id, null, null, Patience);

        Assert.Equal(("paid", 4900L, 3L), (paid.Status, paid.AmountPaid, paid.AttemptCount));
        Assert.Equal(("visa", "4242"), (visa.Card.Brand, visa.Card.Last4));
        Assert.Equal(["invoice.paid", "invoice.payment_succeeded", "customer.subscription.updated"], (await ReceivedAsync()).Select(w => w.Event.Type));
        Assert.Equal("active", (await Subscriptions.GetAsync(subscription.Id, null, null, Patience)).Status);
    }

    [Fact]
    public async Task ChangePrice_AlwaysInvoiceErrorIfIncomplete_DeclinedCardFailsTheRequest_AndChangesNothing()
    {
        var (clock, customer, subscription) = await SubscribedAsync();
        var business = await PriceAsync(9900, "Plan Business");
        await new CustomerService(Client).UpdateAsync(customer.Id, new CustomerUpdateOptions
        {
            InvoiceSettings = new CustomerInvoiceSettingsOptions { DefaultPaymentMethod = "pm_card_chargeCustomerFail" },
        }, null, Patience);

        var ex = await Assert.ThrowsAsync<StripeException>(() => Subscriptions.UpdateAsync(subscription.Id, new SubscriptionUpdateOptions
        {
            Items = [new SubscriptionItemOptions { Id = subscription.Items.Data[0].Id, Price = business.Id }],
            ProrationBehavior = "always_invoice",
            PaymentBehavior = "error_if_incomplete",
        }, null, Patience));

        Assert.Equal((HttpStatusCode.PaymentRequired, "card_error"), (ex.HttpStatusCode, ex.StripeError.Type));
        var unchanged = await Subscriptions.GetAsync(subscription.Id, null, null, Patience);
        Assert.Equal((subscription.Items.Data[0].Price.Id, subscription.LatestInvoiceId, "active"),
            (unchanged.Items.Data[0].Price.Id, unchanged.LatestInvoiceId, unchanged.Status));

        // The subscription's own payment method wins over the customer's failing default.
        var visa = await Subscriptions.UpdateAsync(subscription.Id, new SubscriptionUpdateOptions { DefaultPaymentMethod = "pm_card_visa" }, null, Patience);
        await Clocks.AdvanceAsync(clock!.Id, new TestClockAdvanceOptions { FrozenTime = Start.AddMonths(1).AddHours(1).UtcDateTime }, null, Patience);
        Assert.StartsWith("pm_", visa.DefaultPaymentMethodId, StringComparison.Ordinal);
        Assert.Equal("active", (await Subscriptions.GetAsync(subscription.Id, null, null, Patience)).Status);
    }

    [Fact]
    public async Task PayInvoice_WithAPaymentMethod_PaysWithIt()
    {
        var (clock, customer, _) = await SubscribedAsync();
        await new CustomerService(Client).UpdateAsync(customer.Id, new CustomerUpdateOptions
        {
            InvoiceSettings = new CustomerInvoiceSettingsOptions { DefaultPaymentMethod = "pm_card_chargeCustomerFail" },
        }, null, Patience);
        await Clocks.AdvanceAsync(clock!.Id, new TestClockAdvanceOptions { FrozenTime = Start.AddMonths(1).AddHours(1).UtcDateTime }, null, Patience);
        var open = Assert.Single((await Invoices.ListAsync(new InvoiceListOptions { Customer = customer.Id, Status = "open" }, null, Patience)).Data);

        var paid = await Invoices.PayAsync(open.Id, new InvoicePayOptions { PaymentMethod = "pm_card_visa" }, null, Patience);

        Assert.Equal("paid", paid.Status);
    }

    [Fact]
    public async Task Refund_OfARenewalCharge_IsPartialThenRefusesMoreThanWhatIsLeft()
    {
        var (clock, customer, subscription) = await SubscribedAsync();
        await Clocks.AdvanceAsync(clock!.Id, new TestClockAdvanceOptions { FrozenTime = Start.AddMonths(1).AddHours(1).UtcDateTime }, null, Patience);
        var renewal = await Invoices.GetAsync((await Subscriptions.GetAsync(subscription.Id, null, null, Patience)).LatestInvoiceId,
            new InvoiceGetOptions { Expand = ["payments"] }, null, Patience);
        var intent = renewal.Payments.Data[0].Payment.PaymentIntentId;
        var refunds = new RefundService(Client);
        await EventTypesAsync();

        var refund = await refunds.CreateAsync(new RefundCreateOptions { PaymentIntent = intent, Amount = 1000, Reason = "requested_by_customer" }, null, Patience);
        var tooMuch = await Assert.ThrowsAsync<StripeException>(() => refunds.CreateAsync(new RefundCreateOptions { PaymentIntent = intent, Amount = 4000 }, null, Patience));

        Assert.Equal(("succeeded", 1000L, intent), (refund.Status, refund.Amount, refund.PaymentIntentId));
        var charge = await new ChargeService(Client).GetAsync(refund.ChargeId, null, null, Patience);
        Assert.Equal((1000L, false, customer.Id), (charge.AmountRefunded, charge.Refunded, charge.CustomerId));
        Assert.Equal((HttpStatusCode.BadRequest, "amount_too_large"), (tooMuch.HttpStatusCode, tooMuch.StripeError.Code));
        Assert.Equal(["charge.refunded", "refund.created"], await EventTypesAsync());
    }

    [Fact]
    public async Task TestClock_RefusesToGoBack_AndDeletingItDeletesItsCustomers()
    {
        var (clock, customer, _) = await SubscribedAsync();

        var back = await Assert.ThrowsAsync<StripeException>(() =>
            Clocks.AdvanceAsync(clock!.Id, new TestClockAdvanceOptions { FrozenTime = Start.AddDays(-1).UtcDateTime }, null, Patience));
        var deleted = await Clocks.DeleteAsync(clock!.Id, null, null, Patience);
        var gone = await Assert.ThrowsAsync<StripeException>(() => new CustomerService(Client).GetAsync(customer.Id, null, null, Patience));

        Assert.Equal((HttpStatusCode.BadRequest, "frozen_time"), (back.HttpStatusCode, back.StripeError.Param));
        Assert.True(deleted.Deleted);
        Assert.Equal(HttpStatusCode.NotFound, gone.HttpStatusCode);
    }
}
