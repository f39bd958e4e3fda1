using System.Net;
using System.Text;
using Sajet.Integrations.Stripe;
using Sajet.Simulators.Stripe;
using Stripe;
using Stripe.Checkout;
using PortalSessionCreateOptions = Stripe.BillingPortal.SessionCreateOptions;
using PortalSessionService = Stripe.BillingPortal.SessionService;

namespace Sajet.Integrations.Tests.Stripe;

/// <summary>The hosted checkout page driven by plain form posts, and the signed webhooks it causes, read with Stripe.net.</summary>
public sealed class StripeCheckoutFlowTests : StripeSimulatorTest
{
    private static readonly string[] PaymentEvents =
        ["checkout.session.completed", "customer.subscription.created", "invoice.paid", "invoice.payment_succeeded"];

    private WebhookReceiver _receiver = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        _receiver = await WebhookReceiver.StartAsync();
        Sim.Control.AddWebhookEndpoint(_receiver.Url, PaymentEvents.Concat([
            "checkout.session.expired", "checkout.session.async_payment_succeeded", "checkout.session.async_payment_failed",
            "invoice.payment_failed", "customer.subscription.updated", "customer.subscription.deleted", "charge.refunded"]));
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await _receiver.DisposeAsync();
    }

    [Fact]
    public async Task Page_IsSpanishWithPlanAmountPrefilledCardAndNoScript()
    {
        var session = await CreateCheckoutAsync();

        using var response = await Http.GetAsync(session.Url);
        var html = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("lang=\"es\"", html, StringComparison.Ordinal);
        Assert.Contains("Plan Pro", html, StringComparison.Ordinal);
        Assert.Contains("49,00 USD", html, StringComparison.Ordinal);
        Assert.Contains("al mes", html, StringComparison.Ordinal);
        Assert.Contains("value=\"4242 4242 4242 4242\"", html, StringComparison.Ordinal);
        Assert.Contains("<button type=\"submit\">Pagar</button>", html, StringComparison.Ordinal);
        Assert.Contains($"<form method=\"post\" action=\"/c/pay/{session.Id}\">", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("style=", html, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("default-src 'none'", response.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await Http.GetAsync($"{Sim.BaseUrl}/c/assets/checkout.css")).StatusCode);
    }

    [Fact]
    public async Task Pay_RedirectsToSuccessUrl_AndSendsSignedEventsThatVerify()
    {
        var session = await CreateCheckoutAsync();

        using var response = await PayOnPageAsync(session);

        Assert.Equal(HttpStatusCode.SeeOther, response.StatusCode);
        Assert.Equal($"https://app.sajet.test/bienvenida?session_id={session.Id}", response.Headers.Location!.ToString());

        var received = await _receiver.ReceiveAsync(4, Patience);
        var verifier = new StripeWebhookVerifier([Sim.WebhookSecret], TimeSpan.FromSeconds(300));
        Assert.All(received, w =>
        {
            Assert.Equal(StripeSignatureStatus.Valid, verifier.Verify(w.Body, w.Signature).Status);
            Assert.StartsWith("application/json", w.ContentType, StringComparison.Ordinal);
        });
        Assert.Equal(PaymentEvents, received.Select(w => w.Event.Type));

        // The webhook verifies through Stripe.net too; each body also parses into the SDK's event and object types.
        Assert.All(received, w => EventUtility.ConstructEvent(w.Body, w.Signature, Sim.WebhookSecret, throwOnApiVersionMismatch: false));
        var completed = received[0].Event;
        Assert.Equal(("event", "2026-07-29.dahlia", false), (completed.Object, completed.ApiVersion, completed.Livemode));
        Assert.Equal(1, completed.PendingWebhooks);
        var checkout = Assert.IsType<Session>(completed.Data.Object);
        Assert.Equal(("complete", "paid", "tenant-42"), (checkout.Status, checkout.PaymentStatus, checkout.ClientReferenceId));
        Assert.StartsWith("sub_", checkout.SubscriptionId, StringComparison.Ordinal);
        Assert.Equal("42", Assert.IsType<Subscription>(received[1].Event.Data.Object).Metadata["tenant_id"]);
        var invoice = Assert.IsType<Invoice>(received[2].Event.Data.Object);
        Assert.Equal(("paid", checkout.SubscriptionId), (invoice.Status, invoice.Parent.SubscriptionDetails.SubscriptionId));

        // The completed page now says so instead of offering to pay twice.
        Assert.Contains("ya se completó", await Http.GetStringAsync(session.Url ?? $"{Sim.BaseUrl}/c/pay/{session.Id}"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task DeclinedCard_ShowsSpanishMessage_SessionStaysOpen_NoEvents()
    {
        var session = await CreateCheckoutAsync();

        using var response = await PayOnPageAsync(session, "4000 0000 0000 0002");

        Assert.Equal(HttpStatusCode.PaymentRequired, response.StatusCode);
        Assert.Contains("Tu tarjeta ha sido rechazada", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal("open", (await new SessionService(Client).GetAsync(session.Id)).Status);
        await Sim.Control.WaitForDeliveriesAsync(Patience);
        Assert.Empty(_receiver.Drain());
        Assert.Empty((await new EventService(Client).ListAsync()).Data);

        using var retry = await PayOnPageAsync(session);
        Assert.Equal(HttpStatusCode.SeeOther, retry.StatusCode);
    }

    [Fact]
    public async Task Duplicates_DeliverEachEventTwice()
    {
        Sim.Control.Switches = new StripeWebhookSwitches { Duplicates = 2 };
        var session = await CreateCheckoutAsync();

        await PayOnPageAsync(session);

        var received = await _receiver.ReceiveAsync(8, Patience);
        Assert.All(received.GroupBy(w => w.Event.Id), g => Assert.Equal(2, g.Count()));
        Assert.Equal(4, received.Select(w => w.Event.Id).Distinct().Count());
    }

    [Fact]
    public async Task Shuffle_DeliversTheSameEventsOutOfCreationOrder()
    {
        Sim.Control.Switches = new StripeWebhookSwitches { Shuffle = true };
        var session = await CreateCheckoutAsync();

        await PayOnPageAsync(session);

        var received = (await _receiver.ReceiveAsync(4, Patience)).Select(w => w.Event).ToList();
        Assert.Equal(PaymentEvents.Order(), received.Select(e => e.Type).Order());
        // Seeded, so this order is the same on every run.
        Assert.NotEqual(PaymentEvents, received.Select(e => e.Type));
    }

    [Fact]
    public async Task Drop_NeverDeliversThatType_ButTheEventExists()
    {
        Sim.Control.Switches = new StripeWebhookSwitches { DropTypes = new HashSet<string> { "invoice.paid" } };
        var session = await CreateCheckoutAsync();

        await PayOnPageAsync(session);
        await Sim.Control.WaitForDeliveriesAsync(Patience);

        var types = _receiver.Drain().Select(w => w.Event.Type).ToList();
        Assert.Equal(3, types.Count);
        Assert.DoesNotContain("invoice.paid", types);
        Assert.Contains(Sim.Control.DeliveryAttempts, a => a.EventType == "invoice.paid" && a.Dropped);
        var missed = await new EventService(Client).ListAsync(new EventListOptions { DeliverySuccess = false });
        Assert.Equal("invoice.paid", Assert.Single(missed.Data).Type);
    }

    [Fact]
    public async Task ReceiverAnswering500_IsRetriedUntilItAccepts()
    {
        _receiver.StatusFor = call => call <= 2 ? 500 : 200;
        var session = await CreateCheckoutAsync();

        // One event, so every call the receiver sees is a delivery attempt of it.
        Sim.Control.ExpireCheckoutSession(session.Id);
        await Sim.Control.WaitForDeliveriesAsync(Patience);

        var received = _receiver.Drain();
        Assert.Equal([500, 500, 200], received.Select(w => w.AnsweredStatus));
        Assert.Equal(received[0].Event.Id, received[2].Event.Id);
        var attempts = Sim.Control.DeliveryAttempts.Where(a => a.EventId == received[0].Event.Id).ToList();
        Assert.Equal([1, 2, 3], attempts.Select(a => a.Attempt));
        Assert.Equal([false, false, true], attempts.Select(a => a.Succeeded));
        Assert.Equal(0, (await new EventService(Client).GetAsync(received[0].Event.Id)).PendingWebhooks);
    }

    [Fact]
    public async Task ReceiverAlwaysFailing_IsAbandonedAfterMaxAttempts()
    {
        _receiver.StatusFor = _ => 503;
        Sim.Control.MaxDeliveryAttempts = 3;
        var session = await CreateCheckoutAsync();

        Sim.Control.ExpireCheckoutSession(session.Id);
        await Sim.Control.WaitForDeliveriesAsync(Patience);

        Assert.Equal(3, _receiver.Drain().Count);
        Assert.Equal(1, (await new EventService(Client).ListAsync(new EventListOptions { Type = "checkout.session.expired" })).Data.Single().PendingWebhooks);
    }

    [Fact]
    public async Task SecretRotation_SignsWithBothSecrets()
    {
        var oldSecret = Sim.WebhookSecret;
        var newSecret = Sim.Control.RollWebhookSecret();
        var session = await CreateCheckoutAsync();

        Sim.Control.ExpireCheckoutSession(session.Id);

        var webhook = Assert.Single(await _receiver.ReceiveAsync(1, Patience));
        Assert.Equal(2, webhook.Signature.Split(',').Count(p => p.StartsWith("v1=", StringComparison.Ordinal)));
        Assert.True(new StripeWebhookVerifier([oldSecret], TimeSpan.FromMinutes(5)).Verify(webhook.Body, webhook.Signature).IsValid);
        Assert.True(new StripeWebhookVerifier([newSecret], TimeSpan.FromMinutes(5)).Verify(webhook.Body, webhook.Signature).IsValid);
        Assert.False(new StripeWebhookVerifier(["whsec_other"], TimeSpan.FromMinutes(5)).Verify(webhook.Body, webhook.Signature).IsValid);
    }

    [Fact]
    public async Task AsyncPayment_CompletesUnpaidThenSucceeds()
    {
        var session = await CreateCheckoutAsync();

        Sim.Control.CompleteCheckoutWithPendingPayment(session.Id);
        var first = await _receiver.ReceiveAsync(2, Patience);
        Assert.Equal(["checkout.session.completed", "customer.subscription.created"], first.Select(w => w.Event.Type));
        Assert.Equal("unpaid", Assert.IsType<Session>(first[0].Event.Data.Object).PaymentStatus);
        Assert.Equal("incomplete", Assert.IsType<Subscription>(first[1].Event.Data.Object).Status);

        Sim.Control.SettleAsyncPayment(session.Id, succeeded: true);
        var second = await _receiver.ReceiveAsync(4, Patience);
        Assert.Equal(["checkout.session.async_payment_succeeded", "invoice.paid", "invoice.payment_succeeded", "customer.subscription.updated"],
            second.Select(w => w.Event.Type));
        Assert.Equal("paid", (await new SessionService(Client).GetAsync(session.Id)).PaymentStatus);
        Assert.Equal("incomplete", second[3].PreviousAttributes.GetProperty("status").GetString());
    }

    [Fact]
    public async Task AsyncPayment_Fails()
    {
        var session = await CreateCheckoutAsync();
        Sim.Control.CompleteCheckoutWithPendingPayment(session.Id);
        await _receiver.ReceiveAsync(2, Patience);

        Sim.Control.SettleAsyncPayment(session.Id, succeeded: false);

        var failed = await _receiver.ReceiveAsync(2, Patience);
        Assert.Equal(["checkout.session.async_payment_failed", "invoice.payment_failed"], failed.Select(w => w.Event.Type));
        Assert.Equal("unpaid", (await new SessionService(Client).GetAsync(session.Id)).PaymentStatus);
    }

    [Fact]
    public async Task RenewalFailure_PastDue_ThenRecovery_ThenCancelAtPeriodEnd()
    {
        var session = await CreateCheckoutAsync();
        Sim.Control.PayCheckoutSession(session.Id);
        await _receiver.ReceiveAsync(4, Patience);
        var subscriptionId = (await new SessionService(Client).GetAsync(session.Id)).SubscriptionId;
        var subscriptions = new SubscriptionService(Client);

        Sim.Control.FailSubscriptionRenewal(subscriptionId);
        var failed = await _receiver.ReceiveAsync(2, Patience);
        Assert.Equal(["invoice.payment_failed", "customer.subscription.updated"], failed.Select(w => w.Event.Type));
        Assert.Equal("past_due", (await subscriptions.GetAsync(subscriptionId)).Status);
        var openInvoice = Assert.IsType<Invoice>(failed[0].Event.Data.Object);
        Assert.Equal(("open", 1L), (openInvoice.Status, openInvoice.AttemptCount));
        Assert.NotNull(openInvoice.NextPaymentAttempt);

        Sim.Control.RetrySubscriptionPayment(subscriptionId);
        await _receiver.ReceiveAsync(3, Patience);
        Assert.Equal("active", (await subscriptions.GetAsync(subscriptionId)).Status);

        await subscriptions.UpdateAsync(subscriptionId, new SubscriptionUpdateOptions { CancelAtPeriodEnd = true });
        var update = Assert.Single(await _receiver.ReceiveAsync(1, Patience));
        Assert.False(update.PreviousAttributes.GetProperty("cancel_at_period_end").GetBoolean());
        Assert.NotNull(update.Event.Request.Id);

        Sim.Control.AdvanceSubscriptionPeriod(subscriptionId);
        var deleted = Assert.Single(await _receiver.ReceiveAsync(1, Patience));
        Assert.Equal("customer.subscription.deleted", deleted.Event.Type);
        Assert.Equal("canceled", Assert.IsType<Subscription>(deleted.Event.Data.Object).Status);
    }

    [Fact]
    public async Task Refund_SendsChargeRefunded()
    {
        var session = await CreateCheckoutAsync();
        Sim.Control.PayCheckoutSession(session.Id);
        var paid = await _receiver.ReceiveAsync(4, Patience);
        var invoice = await new InvoiceService(Client).GetAsync(Assert.IsType<Invoice>(paid[2].Event.Data.Object).Id,
            new InvoiceGetOptions { Expand = ["payments"] });

        await new RefundService(Client).CreateAsync(new RefundCreateOptions { PaymentIntent = invoice.Payments.Data[0].Payment.PaymentIntentId });

        var refunded = Assert.Single(await _receiver.ReceiveAsync(1, Patience));
        Assert.Equal("charge.refunded", refunded.Event.Type);
        Assert.True(Assert.IsType<Charge>(refunded.Event.Data.Object).Refunded);
    }

    [Fact]
    public async Task ExpiredSession_PageSaysSo_AndCannotBePaid()
    {
        var session = await CreateCheckoutAsync();
        await new SessionService(Client).ExpireAsync(session.Id);

        using var response = await PayOnPageAsync(session);

        Assert.Equal(HttpStatusCode.Gone, response.StatusCode);
        Assert.Contains("ha caducado", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal("checkout.session.expired", Assert.Single(await _receiver.ReceiveAsync(1, Patience)).Event.Type);
    }

    [Fact]
    public async Task Portal_CancelButton_SetsCancelAtPeriodEnd()
    {
        var session = await CreateCheckoutAsync();
        Sim.Control.PayCheckoutSession(session.Id);
        await _receiver.ReceiveAsync(4, Patience);
        var paid = await new SessionService(Client).GetAsync(session.Id);
        var portal = await new PortalSessionService(Client).CreateAsync(new PortalSessionCreateOptions { Customer = paid.CustomerId });

        using var post = await Http.PostAsync($"{portal.Url}/subscriptions/{paid.SubscriptionId}/cancel", new StringContent("", Encoding.UTF8, "application/x-www-form-urlencoded"));

        Assert.Equal(HttpStatusCode.Redirect, post.StatusCode);
        Assert.True((await new SubscriptionService(Client).GetAsync(paid.SubscriptionId)).CancelAtPeriodEnd);
        Assert.Contains("Se cancelará al final del periodo", await Http.GetStringAsync(portal.Url), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ControlApi_OverHttp_SwitchesAndTriggers()
    {
        await PutJsonAsync("/_sim/webhooks/switches", """{"duplicates":2}""");
        await PostJsonAsync("/_sim/faults", """{"path_prefix":"/v1/customers","status":503,"remaining":1}""");
        var session = await CreateCheckoutAsync();

        using var pay = await PostJsonAsync($"/_sim/checkout/sessions/{session.Id}/pay", """{"card_number":"4242424242424242"}""");
        Assert.Contains($"session_id={session.Id}", await pay.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(8, (await _receiver.ReceiveAsync(8, Patience)).Count);

        using var declined = await PostJsonAsync($"/_sim/checkout/sessions/{(await CreateCheckoutAsync()).Id}/pay", """{"card_number":"4000000000000002"}""");
        Assert.Equal(HttpStatusCode.PaymentRequired, declined.StatusCode);

        // The fault is consumed by the client's first attempt and retried away.
        Assert.StartsWith("cus_", (await new CustomerService(Client).CreateAsync(new CustomerCreateOptions())).Id, StringComparison.Ordinal);
        var deliveries = await Http.GetStringAsync($"{Sim.BaseUrl}/_sim/webhooks/deliveries");
        Assert.Contains("\"event_type\":\"invoice.paid\"", deliveries, StringComparison.Ordinal);

        using var reset = await PostJsonAsync("/_sim/reset", "");
        Assert.Empty((await new EventService(Client).ListAsync()).Data);
        using var missing = await PostJsonAsync("/_sim/subscriptions/sub_nope/advance_period", "");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    private async Task<HttpResponseMessage> PostJsonAsync(string path, string json) =>
        await Http.PostAsync(Sim.BaseUrl + path, new StringContent(json, Encoding.UTF8, "application/json"));

    private async Task PutJsonAsync(string path, string json)
    {
        using var response = await Http.PutAsync(Sim.BaseUrl + path, new StringContent(json, Encoding.UTF8, "application/json"));
        response.EnsureSuccessStatusCode();
    }
}
