using System.Net;
using Sajet.Integrations.Stripe;
using Sajet.Simulators.Stripe;

namespace Sajet.Integrations.Tests.Stripe;

/// <summary>StripeClient against the simulator over real HTTP, one method at a time.</summary>
public sealed class StripeClientTests : StripeSimulatorTest
{
    [Fact]
    public async Task CreateAndGetCustomer_RoundTripsFieldsAndMetadata()
    {
        var created = await Client.CreateCustomerAsync(new CustomerCreateRequest
        {
            Email = "owner@acme.test",
            Name = "Acme SL",
            PreferredLocales = ["es"],
            Metadata = new Dictionary<string, string> { ["tenant_id"] = "42" },
        });

        Assert.StartsWith("cus_", created.Id, StringComparison.Ordinal);
        var read = await Client.GetCustomerAsync(created.Id);
        Assert.Equal(("owner@acme.test", "Acme SL", "42"), (read.Email, read.Name, read.Metadata["tenant_id"]));
        Assert.Equal(["es"], read.PreferredLocales!);
        Assert.False(read.Livemode);
    }

    [Fact]
    public async Task GetCustomer_Missing_ThrowsResourceMissingWithRequestId()
    {
        var ex = await Assert.ThrowsAsync<StripeException>(() => Client.GetCustomerAsync("cus_Missing123"));

        Assert.Equal(HttpStatusCode.NotFound, ex.HttpStatus);
        Assert.Equal("invalid_request_error", ex.Type);
        Assert.True(ex.IsResourceMissing);
        Assert.Equal("id", ex.Param);
        Assert.Equal("No such customer: 'cus_Missing123'", ex.Message);
        Assert.StartsWith("req_", ex.RequestId, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WrongKey_Is401()
    {
        var ex = await Assert.ThrowsAsync<StripeException>(() => NewClient(key: "sk_live_notatestkey123").GetCustomerAsync("cus_x"));
        Assert.Equal(HttpStatusCode.Unauthorized, ex.HttpStatus);
        Assert.StartsWith("Invalid API Key provided: sk_live_", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CheckoutSession_CreateWithInlinePrice_IsOpenWithHostedUrl()
    {
        var customer = await Client.CreateCustomerAsync(new CustomerCreateRequest { Email = "owner@acme.test" });

        var session = await Client.CreateCheckoutSessionAsync(ProCheckout(customer.Id));

        Assert.StartsWith("cs_test_", session.Id, StringComparison.Ordinal);
        Assert.Equal(("subscription", "open", "unpaid"), (session.Mode, session.Status, session.PaymentStatus));
        Assert.Equal(customer.Id, session.Customer!.Id);
        Assert.Null(session.Subscription);
        Assert.Equal("tenant-42", session.ClientReferenceId);
        Assert.Equal("42", session.Metadata["tenant_id"]);
        Assert.Equal((4900L, "usd"), (session.AmountTotal!.Value, session.Currency!));
        Assert.Equal($"{Sim.BaseUrl}/c/pay/{session.Id}", session.Url);
        Assert.True(session.ExpiresAt > session.Created);
    }

    [Fact]
    public async Task CheckoutSession_WithPriceId_AndExpandLineItems()
    {
        var price = await Client.RequestAsync<Price>(HttpMethod.Post, "/v1/prices", new Dictionary<string, object?>
        {
            ["currency"] = "usd",
            ["unit_amount"] = 9900,
            ["product_data"] = new Dictionary<string, object?> { ["name"] = "Plan Enterprise" },
            ["recurring"] = new Dictionary<string, object?> { ["interval"] = "month" },
            ["lookup_key"] = "enterprise_monthly_usd",
        }, null, default);
        var request = ProCheckout();
        request.LineItems = [new CheckoutLineItem { Price = price.Id, Quantity = 1 }];

        var created = await Client.CreateCheckoutSessionAsync(request);
        var session = await Client.GetCheckoutSessionAsync(created.Id, ["line_items", "line_items.data.price.product"]);

        var item = Assert.Single(session.LineItems!.Data);
        Assert.Equal(price.Id, item.Price!.Id);
        Assert.Equal("Plan Enterprise", item.Price.Product!.Expanded!.Name);
        Assert.Equal(9900, session.AmountTotal);
    }

    [Fact]
    public async Task CheckoutSession_PaidThenRetrievedWithExpand_HasSubscriptionAndCustomer()
    {
        var session = await Client.CreateCheckoutSessionAsync(ProCheckout());
        Assert.True(Sim.Control.PayCheckoutSession(session.Id).Succeeded);

        var paid = await Client.GetCheckoutSessionAsync(session.Id, ["subscription", "customer"]);

        Assert.Equal(("complete", "paid"), (paid.Status, paid.PaymentStatus));
        Assert.True(paid.IsPaid);
        var subscription = paid.Subscription!.Expanded!;
        Assert.Equal("active", subscription.Status);
        Assert.Equal("42", subscription.Metadata["tenant_id"]);
        Assert.Equal(paid.Customer!.Id, paid.Customer.Expanded!.Id);
        Assert.True(subscription.CurrentPeriodEnd > subscription.CurrentPeriodStart);
    }

    [Fact]
    public async Task ExpireCheckoutSession_OpenThenAgain()
    {
        var session = await Client.CreateCheckoutSessionAsync(ProCheckout());

        var expired = await Client.ExpireCheckoutSessionAsync(session.Id);
        Assert.Equal("expired", expired.Status);
        Assert.Null(expired.Url);

        var ex = await Assert.ThrowsAsync<StripeException>(() => Client.ExpireCheckoutSessionAsync(session.Id));
        Assert.Equal(HttpStatusCode.BadRequest, ex.HttpStatus);
    }

    [Fact]
    public async Task Subscription_GetUpdateCancel()
    {
        var subscriptionId = await PaidSubscriptionAsync();

        var subscription = await Client.GetSubscriptionAsync(subscriptionId, ["latest_invoice"]);
        Assert.Equal("active", subscription.Status);
        Assert.Equal("paid", subscription.LatestInvoice!.Expanded!.Status);
        Assert.StartsWith("price_", subscription.PriceId, StringComparison.Ordinal);

        var updated = await Client.UpdateSubscriptionAsync(subscriptionId, new SubscriptionUpdateRequest
        {
            CancelAtPeriodEnd = true,
            Metadata = new Dictionary<string, string> { ["plan"] = "pro", ["tenant_id"] = "" },
        });
        Assert.True(updated.CancelAtPeriodEnd);
        Assert.Equal(updated.CurrentPeriodEnd, updated.CancelAt);
        Assert.Equal(new Dictionary<string, string> { ["plan"] = "pro" }, updated.Metadata);

        var canceled = await Client.CancelSubscriptionAsync(subscriptionId, new SubscriptionCancelRequest { CancellationComment = "Cierre" });
        Assert.Equal("canceled", canceled.Status);
        Assert.NotNull(canceled.CanceledAt);

        var again = await Assert.ThrowsAsync<StripeException>(() => Client.CancelSubscriptionAsync(subscriptionId));
        Assert.Equal(HttpStatusCode.BadRequest, again.HttpStatus);
        Assert.Equal("canceled", (await Client.GetSubscriptionAsync(subscriptionId)).Status);
    }

    [Fact]
    public async Task Subscription_ChangePlanThroughItems()
    {
        var subscriptionId = await PaidSubscriptionAsync();
        var subscription = await Client.GetSubscriptionAsync(subscriptionId);
        var business = await Client.RequestAsync<Price>(HttpMethod.Post, "/v1/prices", new Dictionary<string, object?>
        {
            ["currency"] = "usd",
            ["unit_amount"] = 9900,
            ["product_data"] = new Dictionary<string, object?> { ["name"] = "Plan Enterprise" },
            ["recurring"] = new Dictionary<string, object?> { ["interval"] = "month" },
        }, null, default);

        var updated = await Client.UpdateSubscriptionAsync(subscriptionId, new SubscriptionUpdateRequest
        {
            Items = [new SubscriptionItemUpdate { Id = subscription.Items.Data[0].Id, Price = business.Id }],
            ProrationBehavior = "none",
        });

        Assert.Equal(business.Id, updated.PriceId);
        Assert.Equal(9900, updated.Items.Data[0].Price!.UnitAmount);
    }

    [Fact]
    public async Task Invoice_GetAndList_ExposeSubscriptionAndPaymentIntent()
    {
        var subscriptionId = await PaidSubscriptionAsync();
        var subscription = await Client.GetSubscriptionAsync(subscriptionId);

        var invoice = await Client.GetInvoiceAsync(subscription.LatestInvoice!.Id);
        Assert.Equal("paid", invoice.Status);
        Assert.Equal((4900L, 4900L, 0L), (invoice.AmountDue, invoice.AmountPaid, invoice.AmountRemaining));
        Assert.Equal(subscriptionId, invoice.SubscriptionId);
        Assert.StartsWith("pi_", invoice.PaymentIntentId, StringComparison.Ordinal);
        Assert.StartsWith(Sim.BaseUrl, invoice.HostedInvoiceUrl, StringComparison.Ordinal);
        Assert.NotNull(invoice.StatusTransitions!.PaidAt);

        var list = await Client.ListInvoicesAsync(new InvoiceListRequest { Customer = subscription.Customer!.Id });
        Assert.Equal(invoice.Id, Assert.Single(list.Data).Id);
        Assert.Equal(invoice.PaymentIntentId, list.Data[0].PaymentIntentId);
        Assert.Empty((await Client.ListInvoicesAsync(new InvoiceListRequest { Customer = "cus_other" })).Data);
    }

    [Fact]
    public async Task Refund_ByPaymentIntent_PartialThenRest_ThenNothingLeft()
    {
        var subscription = await Client.GetSubscriptionAsync(await PaidSubscriptionAsync());
        var intent = (await Client.GetInvoiceAsync(subscription.LatestInvoice!.Id)).PaymentIntentId!;

        var partial = await Client.CreateRefundAsync(new RefundCreateRequest { PaymentIntent = intent, Amount = 900, Reason = "requested_by_customer" });
        Assert.Equal(("succeeded", 900L, intent), (partial.Status, partial.Amount, partial.PaymentIntent!));
        Assert.StartsWith("re_", partial.Id, StringComparison.Ordinal);

        var rest = await Client.CreateRefundAsync(new RefundCreateRequest { Charge = partial.Charge });
        Assert.Equal(4000, rest.Amount);

        var ex = await Assert.ThrowsAsync<StripeException>(() => Client.CreateRefundAsync(new RefundCreateRequest { PaymentIntent = intent }));
        Assert.Equal("charge_already_refunded", ex.Code);
    }

    [Fact]
    public async Task BillingPortalSession_PointsAtTheSpanishPortal()
    {
        var customer = await Client.CreateCustomerAsync(new CustomerCreateRequest { Email = "owner@acme.test" });

        var portal = await Client.CreateBillingPortalSessionAsync(new BillingPortalSessionCreateRequest
        {
            Customer = customer.Id,
            ReturnUrl = "https://app.sajet.test/facturacion",
        });

        Assert.StartsWith("bps_", portal.Id, StringComparison.Ordinal);
        var page = await Http.GetStringAsync(portal.Url);
        Assert.Contains("Portal de facturación", page, StringComparison.Ordinal);
        Assert.Contains("https://app.sajet.test/facturacion", page, StringComparison.Ordinal);

        var missing = await Assert.ThrowsAsync<StripeException>(() =>
            Client.CreateBillingPortalSessionAsync(new BillingPortalSessionCreateRequest { Customer = "cus_nope" }));
        Assert.Equal(("customer", HttpStatusCode.BadRequest), (missing.Param!, missing.HttpStatus));
    }

    [Fact]
    public async Task Events_GetAndListWithFilters()
    {
        var subscriptionId = await PaidSubscriptionAsync();

        var all = await Client.ListEventsAsync();
        Assert.Contains(all.Data, e => e.Type == "checkout.session.completed");
        var invoices = await Client.ListEventsAsync(new EventListRequest { Type = "invoice.*" });
        Assert.Equal(["invoice.payment_succeeded", "invoice.paid"], invoices.Data.Select(e => e.Type));
        var one = await Client.ListEventsAsync(new EventListRequest { Types = ["customer.subscription.created"], Limit = 1 });
        var created = Assert.Single(one.Data);
        Assert.False(one.HasMore);

        var fetched = await Client.GetEventAsync(created.Id);
        Assert.Equal("2026-07-29.dahlia", fetched.ApiVersion);
        Assert.Equal(subscriptionId, fetched.DataObjectAs<Subscription>().Id);

        var page1 = await Client.ListEventsAsync(new EventListRequest { Limit = 2 });
        Assert.True(page1.HasMore);
        var page2 = await Client.ListEventsAsync(new EventListRequest { Limit = 2, StartingAfter = page1.Data[^1].Id });
        Assert.DoesNotContain(page2.Data, e => page1.Data.Any(p => p.Id == e.Id));
    }

    [Fact]
    public async Task IdempotencyKey_SameKeySameParams_ReplaysOneObject()
    {
        var request = new CustomerCreateRequest { Email = "owner@acme.test" };

        var first = await Client.CreateCustomerAsync(request, "tenant-42:create-customer");
        var second = await Client.CreateCustomerAsync(request, "tenant-42:create-customer");

        Assert.Equal(first.Id, second.Id);
        Assert.Single(Sim.Control.Events, e => (string?)e["type"] == "customer.created");

        var ex = await Assert.ThrowsAsync<StripeException>(() =>
            Client.CreateCustomerAsync(new CustomerCreateRequest { Email = "other@acme.test" }, "tenant-42:create-customer"));
        Assert.Equal(("idempotency_error", HttpStatusCode.BadRequest), (ex.Type, ex.HttpStatus));
    }

    [Theory]
    [InlineData(500)]
    [InlineData(503)]
    [InlineData(409)]
    [InlineData(429)]
    [InlineData(0)]
    public async Task Retries_TransientFailures_SucceedWithOneCreatedObject(int status)
    {
        Sim.Control.AddFault(new StripeFault { PathPrefix = "/v1/customers", Method = "POST", Status = status, Remaining = 2 });

        var customer = await Client.CreateCustomerAsync(new CustomerCreateRequest { Email = "owner@acme.test" });

        Assert.StartsWith("cus_", customer.Id, StringComparison.Ordinal);
        Assert.Equal(0, Sim.Control.Faults[0].Remaining);
        Assert.Single(Sim.Control.Events, e => (string?)e["type"] == "customer.created");
        Assert.Equal(2, ClientTime.Delays.Count);
    }

    [Fact]
    public async Task Retries_GiveUpAfterMaxNetworkRetries()
    {
        Sim.Control.AddFault(new StripeFault { PathPrefix = "/v1/customers", Status = 500, Remaining = 10 });

        var ex = await Assert.ThrowsAsync<StripeException>(() => Client.CreateCustomerAsync(new CustomerCreateRequest()));

        Assert.Equal(("api_error", HttpStatusCode.InternalServerError), (ex.Type, ex.HttpStatus));
        Assert.Equal(7, Sim.Control.Faults[0].Remaining);
    }

    [Fact]
    public async Task Retries_ShouldRetryFalse_IsNotRetriedEvenOn500()
    {
        Sim.Control.AddFault(new StripeFault { PathPrefix = "/v1/customers", Status = 500, Remaining = 5, ShouldRetry = "false" });

        await Assert.ThrowsAsync<StripeException>(() => Client.CreateCustomerAsync(new CustomerCreateRequest()));

        Assert.Equal(4, Sim.Control.Faults[0].Remaining);
        Assert.Empty(ClientTime.Delays);
    }

    [Fact]
    public async Task Retries_ShouldRetryTrue_RetriesEvenA400()
    {
        Sim.Control.AddFault(new StripeFault { PathPrefix = "/v1/customers", Status = 400, Remaining = 1, ShouldRetry = "true" });

        var customer = await Client.CreateCustomerAsync(new CustomerCreateRequest());

        Assert.StartsWith("cus_", customer.Id, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Retries_HonourRetryAfter()
    {
        Sim.Control.AddFault(new StripeFault { PathPrefix = "/v1/customers", Status = 429, Remaining = 1, RetryAfterSeconds = 7 });

        await Client.CreateCustomerAsync(new CustomerCreateRequest());

        Assert.Equal(TimeSpan.FromSeconds(7), Assert.Single(ClientTime.Delays));
    }

    [Fact]
    public async Task Retries_NotFoundIsNotRetried()
    {
        await Assert.ThrowsAsync<StripeException>(() => Client.GetSubscriptionAsync("sub_missing"));
        Assert.Empty(ClientTime.Delays);
    }

    [Fact]
    public async Task ConnectionRefused_AfterRetries_IsStripeConnectionException()
    {
        var url = Sim.BaseUrl;
        await Sim.DisposeAsync();
        var client = new StripeClient(Http, Microsoft.Extensions.Options.Options.Create(new StripeOptions
        {
            SecretKey = "sk_test_x",
            BaseUrl = url,
            MaxNetworkRetries = 1,
        }), null, ClientTime);

        await Assert.ThrowsAsync<StripeConnectionException>(() => client.GetCustomerAsync("cus_x"));
        Assert.Single(ClientTime.Delays);
        Sim = await StripeSimulator.StartAsync(new StripeSimulatorOptions { Port = 0 });
    }

    private async Task<string> PaidSubscriptionAsync()
    {
        var session = await Client.CreateCheckoutSessionAsync(ProCheckout());
        Assert.True(Sim.Control.PayCheckoutSession(session.Id).Succeeded);
        return (await Client.GetCheckoutSessionAsync(session.Id)).Subscription!.Id;
    }
}
