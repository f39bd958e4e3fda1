using System.Net;
using Sajet.Simulators.Stripe;
using Stripe;
using Stripe.Checkout;
using PortalSessionCreateOptions = Stripe.BillingPortal.SessionCreateOptions;
using PortalSessionService = Stripe.BillingPortal.SessionService;

namespace Sajet.Integrations.Tests.Stripe;

/// <summary>
/// Stripe.net 53.1.0 against the simulator over real HTTP, one service at a time: what the simulator answers must be
/// what the official SDK sends and parses (shapes, error envelopes, idempotent replays, retry hints).
/// </summary>
public sealed class StripeSdkTests : StripeSimulatorTest
{
    private CustomerService Customers => new(Client);

    private SessionService Sessions => new(Client);

    private SubscriptionService Subscriptions => new(Client);

    private InvoiceService Invoices => new(Client);

    [Fact]
    public async Task CreateAndGetCustomer_RoundTripsFieldsAndMetadata()
    {
        var created = await Customers.CreateAsync(new CustomerCreateOptions
        {
            Email = "owner@acme.test",
            Name = "Acme SL",
            PreferredLocales = ["es"],
            Metadata = new Dictionary<string, string> { ["tenant_id"] = "42" },
        });

        Assert.StartsWith("cus_", created.Id, StringComparison.Ordinal);
        var read = await Customers.GetAsync(created.Id);
        Assert.Equal(("owner@acme.test", "Acme SL", "42"), (read.Email, read.Name, read.Metadata["tenant_id"]));
        Assert.Equal(["es"], read.PreferredLocales);
        Assert.False(read.Livemode);
    }

    [Fact]
    public async Task GetCustomer_Missing_ThrowsResourceMissingWithRequestId()
    {
        var ex = await Assert.ThrowsAsync<StripeException>(() => Customers.GetAsync("cus_Missing123"));

        Assert.Equal(HttpStatusCode.NotFound, ex.HttpStatusCode);
        Assert.Equal(("invalid_request_error", "resource_missing", "id"), (ex.StripeError.Type, ex.StripeError.Code, ex.StripeError.Param));
        Assert.Equal("No such customer: 'cus_Missing123'", ex.Message);
        Assert.StartsWith("req_", ex.StripeResponse.RequestId, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WrongKey_Is401()
    {
        var ex = await Assert.ThrowsAsync<StripeException>(() => new CustomerService(NewClient(key: "sk_live_notatestkey123")).GetAsync("cus_x"));
        Assert.Equal(HttpStatusCode.Unauthorized, ex.HttpStatusCode);
        Assert.StartsWith("Invalid API Key provided: sk_live_", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Requests_CarryTheSdksPinnedVersion_AndTheSimulatorAcceptsIt()
    {
        await Customers.CreateAsync(new CustomerCreateOptions { Email = "owner@acme.test" });

        // The simulator renders one version whatever is asked; that it accepts the SDK's header is what matters here.
        Assert.Equal("2026-10-28.endive", StripeConfiguration.ApiVersion);
        Assert.Equal(1, Sim.Control.RequestCount("POST", "/v1/customers"));
    }

    [Fact]
    public async Task CheckoutSession_CreateWithInlinePrice_IsOpenWithHostedUrl()
    {
        var customer = await Customers.CreateAsync(new CustomerCreateOptions { Email = "owner@acme.test" });

        var session = await CreateCheckoutAsync(customer.Id);

        Assert.StartsWith("cs_test_", session.Id, StringComparison.Ordinal);
        Assert.Equal(("subscription", "open", "unpaid"), (session.Mode, session.Status, session.PaymentStatus));
        Assert.Equal(customer.Id, session.CustomerId);
        Assert.Null(session.SubscriptionId);
        Assert.Equal("tenant-42", session.ClientReferenceId);
        Assert.Equal("42", session.Metadata["tenant_id"]);
        Assert.Equal((4900L, "usd"), (session.AmountTotal!.Value, session.Currency));
        Assert.Equal($"{Sim.BaseUrl}/c/pay/{session.Id}", session.Url);
        Assert.True(session.ExpiresAt > session.Created);
    }

    [Fact]
    public async Task CheckoutSession_WithPriceId_AndExpandLineItems()
    {
        var price = await new PriceService(Client).CreateAsync(new PriceCreateOptions
        {
            Currency = "usd",
            UnitAmount = 9900,
            ProductData = new PriceProductDataOptions { Name = "Plan Enterprise" },
            Recurring = new PriceRecurringOptions { Interval = "month" },
            LookupKey = "enterprise_monthly_usd",
        });
        var request = ProCheckout();
        request.LineItems = [new SessionLineItemOptions { Price = price.Id, Quantity = 1 }];

        var created = await Sessions.CreateAsync(request);
        var session = await Sessions.GetAsync(created.Id, new SessionGetOptions { Expand = ["line_items", "line_items.data.price.product"] });

        var item = Assert.Single(session.LineItems.Data);
        Assert.Equal(price.Id, item.Price.Id);
        Assert.Equal("Plan Enterprise", item.Price.Product.Name);
        Assert.Equal(9900, session.AmountTotal);
    }

    [Fact]
    public async Task CheckoutSession_PaidThenRetrievedWithExpand_HasSubscriptionAndCustomer()
    {
        var session = await CreateCheckoutAsync();
        Assert.True(Sim.Control.PayCheckoutSession(session.Id).Succeeded);

        var paid = await Sessions.GetAsync(session.Id, new SessionGetOptions { Expand = ["subscription", "customer"] });

        Assert.Equal(("complete", "paid"), (paid.Status, paid.PaymentStatus));
        var subscription = paid.Subscription;
        Assert.Equal(paid.SubscriptionId, subscription.Id);
        Assert.Equal("active", subscription.Status);
        Assert.Equal("42", subscription.Metadata["tenant_id"]);
        Assert.Equal(paid.CustomerId, paid.Customer.Id);
        Assert.True(subscription.Items.Data[0].CurrentPeriodEnd > subscription.Items.Data[0].CurrentPeriodStart);
    }

    [Fact]
    public async Task ExpireCheckoutSession_OpenThenAgain()
    {
        var session = await CreateCheckoutAsync();

        var expired = await Sessions.ExpireAsync(session.Id);
        Assert.Equal("expired", expired.Status);
        Assert.Null(expired.Url);

        var ex = await Assert.ThrowsAsync<StripeException>(() => Sessions.ExpireAsync(session.Id));
        Assert.Equal(HttpStatusCode.BadRequest, ex.HttpStatusCode);
    }

    [Fact]
    public async Task Subscription_GetUpdateCancel()
    {
        var subscriptionId = await PaidSubscriptionAsync();

        var subscription = await Subscriptions.GetAsync(subscriptionId, new SubscriptionGetOptions { Expand = ["latest_invoice"] });
        Assert.Equal("active", subscription.Status);
        Assert.Equal("paid", subscription.LatestInvoice.Status);
        Assert.StartsWith("price_", subscription.Items.Data[0].Price.Id, StringComparison.Ordinal);

        var updated = await Subscriptions.UpdateAsync(subscriptionId, new SubscriptionUpdateOptions
        {
            CancelAtPeriodEnd = true,
            Metadata = new Dictionary<string, string> { ["plan"] = "pro", ["tenant_id"] = "" },
        });
        Assert.True(updated.CancelAtPeriodEnd);
        Assert.Equal(updated.Items.Data[0].CurrentPeriodEnd, updated.CancelAt);
        Assert.Equal(new Dictionary<string, string> { ["plan"] = "pro" }, updated.Metadata);

        var canceled = await Subscriptions.CancelAsync(subscriptionId, new SubscriptionCancelOptions
        {
            CancellationDetails = new SubscriptionCancellationDetailsOptions { Comment = "Cierre" },
        });
        Assert.Equal("canceled", canceled.Status);
        Assert.NotNull(canceled.CanceledAt);

        var again = await Assert.ThrowsAsync<StripeException>(() => Subscriptions.CancelAsync(subscriptionId));
        Assert.Equal(HttpStatusCode.BadRequest, again.HttpStatusCode);
        Assert.Equal("canceled", (await Subscriptions.GetAsync(subscriptionId)).Status);
    }

    [Fact]
    public async Task Subscription_ChangePlanThroughItems()
    {
        var subscriptionId = await PaidSubscriptionAsync();
        var subscription = await Subscriptions.GetAsync(subscriptionId);
        var business = await new PriceService(Client).CreateAsync(new PriceCreateOptions
        {
            Currency = "usd",
            UnitAmount = 9900,
            ProductData = new PriceProductDataOptions { Name = "Plan Enterprise" },
            Recurring = new PriceRecurringOptions { Interval = "month" },
        });

        var updated = await Subscriptions.UpdateAsync(subscriptionId, new SubscriptionUpdateOptions
        {
            Items = [new SubscriptionItemOptions { Id = subscription.Items.Data[0].Id, Price = business.Id }],
            ProrationBehavior = "none",
        });

        Assert.Equal(business.Id, updated.Items.Data[0].Price.Id);
        Assert.Equal(9900, updated.Items.Data[0].Price.UnitAmount);
    }

    [Fact]
    public async Task Invoice_GetAndList_ExposeSubscriptionAndPaymentIntent()
    {
        var subscriptionId = await PaidSubscriptionAsync();
        var subscription = await Subscriptions.GetAsync(subscriptionId);

        var invoice = await Invoices.GetAsync(subscription.LatestInvoiceId, new InvoiceGetOptions { Expand = ["payments"] });
        Assert.Equal("paid", invoice.Status);
        Assert.Equal((4900L, 4900L, 0L), (invoice.AmountDue, invoice.AmountPaid, invoice.AmountRemaining));
        Assert.Equal(("subscription_details", subscriptionId), (invoice.Parent.Type, invoice.Parent.SubscriptionDetails.SubscriptionId));
        var payment = Assert.Single(invoice.Payments.Data).Payment;
        Assert.Equal("payment_intent", payment.Type);
        Assert.StartsWith("pi_", payment.PaymentIntentId, StringComparison.Ordinal);
        Assert.StartsWith(Sim.BaseUrl, invoice.HostedInvoiceUrl, StringComparison.Ordinal);
        Assert.NotNull(invoice.StatusTransitions.PaidAt);

        var list = await Invoices.ListAsync(new InvoiceListOptions { Customer = subscription.CustomerId, Status = "paid", Expand = ["data.payments"] });
        Assert.Equal(invoice.Id, Assert.Single(list.Data).Id);
        Assert.Equal(payment.PaymentIntentId, list.Data[0].Payments.Data[0].Payment.PaymentIntentId);
        Assert.Empty((await Invoices.ListAsync(new InvoiceListOptions { Customer = "cus_other" })).Data);
    }

    [Fact]
    public async Task Refund_ByPaymentIntent_PartialThenRest_ThenNothingLeft()
    {
        var subscription = await Subscriptions.GetAsync(await PaidSubscriptionAsync());
        var invoice = await Invoices.GetAsync(subscription.LatestInvoiceId, new InvoiceGetOptions { Expand = ["payments"] });
        var intent = invoice.Payments.Data[0].Payment.PaymentIntentId;
        var refunds = new RefundService(Client);

        var partial = await refunds.CreateAsync(new RefundCreateOptions { PaymentIntent = intent, Amount = 900, Reason = "requested_by_customer" });
        Assert.Equal(("succeeded", 900L, intent), (partial.Status, partial.Amount, partial.PaymentIntentId));
        Assert.StartsWith("re_", partial.Id, StringComparison.Ordinal);

        var rest = await refunds.CreateAsync(new RefundCreateOptions { Charge = partial.ChargeId });
        Assert.Equal(4000, rest.Amount);

        var ex = await Assert.ThrowsAsync<StripeException>(() => refunds.CreateAsync(new RefundCreateOptions { PaymentIntent = intent }));
        Assert.Equal("charge_already_refunded", ex.StripeError.Code);
    }

    [Fact]
    public async Task BillingPortalSession_PointsAtTheSpanishPortal()
    {
        var customer = await Customers.CreateAsync(new CustomerCreateOptions { Email = "owner@acme.test" });
        var portals = new PortalSessionService(Client);

        var portal = await portals.CreateAsync(new PortalSessionCreateOptions { Customer = customer.Id, ReturnUrl = "https://app.sajet.test/facturacion" });

        Assert.StartsWith("bps_", portal.Id, StringComparison.Ordinal);
        var page = await Http.GetStringAsync(portal.Url);
        Assert.Contains("Portal de facturación", page, StringComparison.Ordinal);
        Assert.Contains("https://app.sajet.test/facturacion", page, StringComparison.Ordinal);

        var missing = await Assert.ThrowsAsync<StripeException>(() => portals.CreateAsync(new PortalSessionCreateOptions { Customer = "cus_nope" }));
        Assert.Equal(("customer", HttpStatusCode.BadRequest), (missing.StripeError.Param, missing.HttpStatusCode));
    }

    [Fact]
    public async Task Events_GetAndListWithFilters()
    {
        var subscriptionId = await PaidSubscriptionAsync();
        var events = new EventService(Client);

        var all = await events.ListAsync();
        Assert.Contains(all.Data, e => e.Type == "checkout.session.completed");
        var invoices = await events.ListAsync(new EventListOptions { Type = "invoice.*" });
        Assert.Equal(["invoice.payment_succeeded", "invoice.paid"], invoices.Data.Select(e => e.Type));
        var one = await events.ListAsync(new EventListOptions { Types = ["customer.subscription.created"], Limit = 1 });
        var created = Assert.Single(one.Data);
        Assert.False(one.HasMore);

        var fetched = await events.GetAsync(created.Id);
        Assert.Equal("2026-07-29.dahlia", fetched.ApiVersion);
        Assert.Equal(subscriptionId, Assert.IsType<Subscription>(fetched.Data.Object).Id);

        var page1 = await events.ListAsync(new EventListOptions { Limit = 2 });
        Assert.True(page1.HasMore);
        var page2 = await events.ListAsync(new EventListOptions { Limit = 2, StartingAfter = page1.Data[^1].Id });
        Assert.DoesNotContain(page2.Data, e => page1.Data.Any(p => p.Id == e.Id));
    }

    [Fact]
    public async Task IdempotencyKey_SameKeySameParams_ReplaysOneObject()
    {
        var key = new RequestOptions { IdempotencyKey = "tenant-42:create-customer" };

        var first = await Customers.CreateAsync(new CustomerCreateOptions { Email = "owner@acme.test" }, key);
        var second = await Customers.CreateAsync(new CustomerCreateOptions { Email = "owner@acme.test" }, key);

        Assert.Equal(first.Id, second.Id);
        Assert.Single(Sim.Control.Events, e => (string?)e["type"] == "customer.created");

        var ex = await Assert.ThrowsAsync<StripeException>(() => Customers.CreateAsync(new CustomerCreateOptions { Email = "other@acme.test" }, key));
        Assert.Equal(("idempotency_error", HttpStatusCode.BadRequest), (ex.StripeError.Type, ex.HttpStatusCode));
    }

    [Fact]
    public async Task NoKeyOfOurs_TheSdksOwnKeySurvivesItsRetries()
    {
        Sim.Control.AddFault(new StripeFault { PathPrefix = "/v1/customers", Method = "POST", Status = 500, Remaining = 1 });

        await Customers.CreateAsync(new CustomerCreateOptions { Email = "owner@acme.test" });
        await Customers.CreateAsync(new CustomerCreateOptions { Email = "owner@acme.test" });

        // Two calls, three requests: the retry replayed the first call's key, the second call drew a new one.
        Assert.Equal(3, Sim.Control.RequestCount("POST", "/v1/customers"));
        Assert.Equal(2, Sim.Control.Events.Count(e => (string?)e["type"] == "customer.created"));
    }

    [Theory]
    [InlineData(500)]
    [InlineData(503)]
    [InlineData(409)]
    [InlineData(0)]
    public async Task Retries_TransientFailures_SucceedWithOneCreatedObject(int status)
    {
        Sim.Control.AddFault(new StripeFault { PathPrefix = "/v1/customers", Method = "POST", Status = status, Remaining = 2 });

        var customer = await Customers.CreateAsync(new CustomerCreateOptions { Email = "owner@acme.test" });

        Assert.StartsWith("cus_", customer.Id, StringComparison.Ordinal);
        Assert.Equal(0, Sim.Control.Faults[0].Remaining);
        Assert.Single(Sim.Control.Events, e => (string?)e["type"] == "customer.created");
    }

    [Fact]
    public async Task Retries_RateLimitWithoutHint_IsNotRetried_WithHintIs()
    {
        // Stripe.net retries a 429 only when Stripe-Should-Retry says so (stripe.md §5: "429-with-hint").
        Sim.Control.AddFault(new StripeFault { PathPrefix = "/v1/customers", Method = "POST", Status = 429, Remaining = 1 });
        var limited = await Assert.ThrowsAsync<StripeException>(() => Customers.CreateAsync(new CustomerCreateOptions()));
        Assert.Equal(((HttpStatusCode)429, "rate_limit"), (limited.HttpStatusCode, limited.StripeError.Code));

        Sim.Control.ClearFaults();
        Sim.Control.AddFault(new StripeFault { PathPrefix = "/v1/customers", Method = "POST", Status = 429, Remaining = 1, ShouldRetry = "true" });
        Assert.StartsWith("cus_", (await Customers.CreateAsync(new CustomerCreateOptions())).Id, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Retries_GiveUpAfterMaxNetworkRetries()
    {
        Sim.Control.AddFault(new StripeFault { PathPrefix = "/v1/customers", Status = 500, Remaining = 10 });

        var ex = await Assert.ThrowsAsync<StripeException>(() => Customers.CreateAsync(new CustomerCreateOptions()));

        Assert.Equal(("api_error", HttpStatusCode.InternalServerError), (ex.StripeError.Type, ex.HttpStatusCode));
        Assert.Equal(7, Sim.Control.Faults[0].Remaining);
    }

    [Fact]
    public async Task Retries_ShouldRetryFalse_IsNotRetriedEvenOn500()
    {
        Sim.Control.AddFault(new StripeFault { PathPrefix = "/v1/customers", Status = 500, Remaining = 5, ShouldRetry = "false" });

        await Assert.ThrowsAsync<StripeException>(() => Customers.CreateAsync(new CustomerCreateOptions()));

        Assert.Equal(4, Sim.Control.Faults[0].Remaining);
    }

    [Fact]
    public async Task Retries_ShouldRetryTrue_RetriesEvenA400()
    {
        Sim.Control.AddFault(new StripeFault { PathPrefix = "/v1/customers", Status = 400, Remaining = 1, ShouldRetry = "true" });

        var customer = await Customers.CreateAsync(new CustomerCreateOptions());

        Assert.StartsWith("cus_", customer.Id, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Retries_NotFoundIsNotRetried()
    {
        await Assert.ThrowsAsync<StripeException>(() => Subscriptions.GetAsync("sub_missing"));
        Assert.Equal(1, Sim.Control.RequestCount("GET", "/v1/subscriptions/sub_missing"));
    }

    [Fact]
    public async Task ConnectionRefused_AfterRetries_IsHttpRequestException()
    {
        var url = Sim.BaseUrl;
        await Sim.DisposeAsync();

        await Assert.ThrowsAsync<HttpRequestException>(() => new CustomerService(NewClient(maxNetworkRetries: 1, apiBase: url)).GetAsync("cus_x"));
        Sim = await StripeSimulator.StartAsync(new StripeSimulatorOptions { Port = 0 });
    }

    private async Task<string> PaidSubscriptionAsync()
    {
        var session = await CreateCheckoutAsync();
        Assert.True(Sim.Control.PayCheckoutSession(session.Id).Succeeded);
        return (await Sessions.GetAsync(session.Id)).SubscriptionId;
    }
}
