using System.Text.Json.Nodes;

namespace Sajet.Simulators.Stripe;

/// <summary>
/// In-process switches and triggers, the same as the loopback /_sim/ API. Triggers run the same
/// transitions as real Stripe would and queue the resulting webhooks. Invalid requests throw
/// <see cref="ArgumentException"/> (unknown id) or <see cref="InvalidOperationException"/> (wrong state).
/// </summary>
public sealed class StripeSimulatorControl
{
    private readonly StripeState _state;
    private readonly StripeWebhookDispatcher _dispatcher;

    internal StripeSimulatorControl(StripeState state, StripeWebhookDispatcher dispatcher)
    {
        _state = state;
        _dispatcher = dispatcher;
    }

    // ---- webhooks -----------------------------------------------------------------------------

    public IReadOnlyList<StripeWebhookEndpoint> WebhookEndpoints => Read(() => _state.Endpoints.ToList());

    public void AddWebhookEndpoint(string url, IEnumerable<string>? enabledEvents = null)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out _))
        {
            throw new ArgumentException($"'{url}' is not an absolute URL.", nameof(url));
        }

        Write(() => _state.Endpoints.Add(new StripeWebhookEndpoint(url, enabledEvents?.ToList())));
    }

    public void ClearWebhookEndpoints() => Write(() => _state.Endpoints.Clear());

    /// <summary>Active signing secrets, oldest first; deliveries carry one v1 per secret.</summary>
    public IReadOnlyList<string> WebhookSecrets => Read(() => _state.WebhookSecrets.ToList());

    /// <summary>Starts a secret rotation: a new secret signs alongside the old one until <paramref name="expireOld"/>.</summary>
    public string RollWebhookSecret(bool expireOld = false) => Read(() =>
    {
        var secret = _state.NewId("whsec_", 32);
        if (expireOld)
        {
            _state.WebhookSecrets.Clear();
        }

        _state.WebhookSecrets.Add(secret);
        return secret;
    });

    public StripeWebhookSwitches Switches
    {
        get => Read(() => _state.Switches);
        set => Write(() => _state.Switches = value);
    }

    public double RetryScale
    {
        get => Read(() => _state.RetryScale);
        set => Write(() => _state.RetryScale = value);
    }

    public int MaxDeliveryAttempts
    {
        get => Read(() => _state.MaxDeliveryAttempts);
        set => Write(() => _state.MaxDeliveryAttempts = Math.Max(1, value));
    }

    public IReadOnlyList<StripeDeliveryAttempt> DeliveryAttempts => Read(() => _state.Attempts.ToList());

    /// <summary>Waits until no delivery is queued, in flight or waiting for a retry.</summary>
    public async Task WaitForDeliveriesAsync(CancellationToken ct)
    {
        while (!_dispatcher.Idle)
        {
            await Task.Delay(10, ct);
        }
    }

    public void ResendEvent(string eventId)
    {
        var record = Read(() => _state.EventsById.GetValueOrDefault(eventId)) ?? throw new ArgumentException($"No such event: '{eventId}'", nameof(eventId));
        _dispatcher.Resend(record);
    }

    /// <summary>Every event, oldest first, as GET /v1/events/{id} renders it.</summary>
    public IReadOnlyList<JsonObject> Events => Read(() => _state.Events.Select(StripeApi.EventJson).ToList());

    // ---- faults -------------------------------------------------------------------------------

    public IReadOnlyList<StripeFault> Faults => Read(() => _state.Faults.ToList());

    /// <summary>How many API requests came for <paramref name="method"/> <paramref name="path"/> (e.g. "GET", "/v1/checkout/sessions/cs_…").</summary>
    public int RequestCount(string method, string path) => Read(() => _state.Requests.GetValueOrDefault($"{method} {path}"));

    public void AddFault(StripeFault fault) => Write(() => _state.Faults.Add(fault));

    public void ClearFaults() => Write(() => _state.Faults.Clear());

    // ---- objects and triggers -----------------------------------------------------------------

    /// <summary>A copy of any object by id (cus_, cs_test_, sub_, in_, pi_, ch_, re_, price_, prod_, bps_), or null.</summary>
    public JsonObject? GetObject(string id) => Read(() => _state.Objects.GetValueOrDefault(id)?.DeepClone() as JsonObject);

    /// <summary>
    /// Pays a Checkout Session as the hosted page does. 4000 0000 0000 0002 and other decline cards
    /// leave the session open and send nothing; any other valid number completes it.
    /// </summary>
    public StripeCheckoutPayment PayCheckoutSession(string sessionId, string cardNumber = "4242424242424242", string? email = null)
    {
        var digits = new string(cardNumber.Where(char.IsAsciiDigit).ToArray());
        var (declineCode, message) = CardOutcome(digits);
        if (declineCode is not null)
        {
            Read(() => Session(sessionId));
            return new StripeCheckoutPayment(false, declineCode, message, null);
        }

        string? redirect = null;
        Mutate(m =>
        {
            var session = OpenSession(sessionId);
            _state.CompleteCheckout(m, session, email, paymentPending: false);
            redirect = ((string?)session["success_url"])?.Replace("{CHECKOUT_SESSION_ID}", sessionId, StringComparison.Ordinal);
        });
        return new StripeCheckoutPayment(true, null, null, redirect);
    }

    /// <summary>Completes a session with a delayed payment method: complete, payment_status unpaid, subscription incomplete.</summary>
    public void CompleteCheckoutWithPendingPayment(string sessionId, string? email = null) =>
        Mutate(m => _state.CompleteCheckout(m, OpenSession(sessionId), email, paymentPending: true));

    /// <summary>checkout.session.async_payment_succeeded (and invoice.paid) or async_payment_failed.</summary>
    public void SettleAsyncPayment(string sessionId, bool succeeded) =>
        Mutate(m => _state.SettleAsyncPayment(m, Session(sessionId), succeeded));

    public void ExpireCheckoutSession(string sessionId) => Mutate(m => _state.ExpireSession(m, Session(sessionId)));

    /// <summary>The next period's payment fails: invoice.payment_failed, subscription past_due.</summary>
    public void FailSubscriptionRenewal(string subscriptionId) => Mutate(m => _state.FailRenewal(m, Subscription(subscriptionId)));

    /// <summary>
    /// The card that charges made without the customer use (renewals, POST /v1/invoices/{id}/pay): a decline card from
    /// <see cref="PayCheckoutSession"/>'s list makes them fail with its decline code, any other valid number succeeds.
    /// A failed renewal switches a succeeding card to 4000 0000 0000 0002, so that paying again fails until this is called.
    /// </summary>
    public void SetCustomerCard(string customerId, string cardNumber)
    {
        var digits = new string(cardNumber.Where(char.IsAsciiDigit).ToArray());
        Write(() =>
        {
            _ = _state.Find(customerId, "customer") ?? throw new ArgumentException($"No such customer: '{customerId}'", nameof(customerId));
            _state.CustomerCards[customerId] = digits;
        });
    }

    /// <summary>The card number <see cref="SetCustomerCard"/> or a failed renewal left on file for the customer.</summary>
    public string CustomerCard(string customerId) => Read(() => _state.CardOf(customerId));

    /// <summary>The customer fixes the card and the open invoice of a past_due subscription is paid: invoice.paid, subscription active.</summary>
    public void RetrySubscriptionPayment(string subscriptionId) => Mutate(m => _state.RetryPayment(m, Subscription(subscriptionId)));

    /// <summary>The period ends: renews with a paid invoice, or ends a subscription set to cancel at period end.</summary>
    public void AdvanceSubscriptionPeriod(string subscriptionId) => Mutate(m => _state.AdvancePeriod(m, Subscription(subscriptionId)));

    /// <summary>Forgets every object, event, switch and fault; endpoints and secrets go back to the start options.</summary>
    public void Reset() => Write(_state.Reset);

    internal JsonObject StateJson() => Read(() => new JsonObject
    {
        ["objects"] = _state.Objects.Count,
        ["events"] = _state.Events.Count,
        ["webhook_endpoints"] = new JsonArray([.. _state.Endpoints.Select(e => (JsonNode)e.Url)]),
        ["pending_deliveries"] = !_dispatcher.Idle,
        ["faults"] = _state.Faults.Count,
        ["switches"] = new JsonObject
        {
            ["duplicates"] = _state.Switches.Duplicates,
            ["shuffle"] = _state.Switches.Shuffle,
            ["drop_types"] = new JsonArray([.. _state.Switches.DropTypes.Select(t => (JsonNode)t)]),
            ["delay_ms"] = _state.Switches.Delay.TotalMilliseconds,
            ["retry_scale"] = _state.RetryScale,
            ["max_attempts"] = _state.MaxDeliveryAttempts,
        },
    });

    // ---- page support -------------------------------------------------------------------------

    internal sealed record CheckoutPageView(JsonObject? Session, JsonArray LineItems, JsonObject? Customer, long TrialDays, string? SuccessUrl);

    internal CheckoutPageView CheckoutView(string sessionId) => Read(() =>
    {
        var session = _state.Find(sessionId, "checkout.session");
        if (session is null)
        {
            return new CheckoutPageView(null, [], null, 0, null);
        }

        var customer = (string?)session["customer"] is { } customerId ? _state.Objects.GetValueOrDefault(customerId) : null;
        var data = _state.SessionSubscriptionData.GetValueOrDefault(sessionId);
        var trial = long.TryParse((string?)data?["trial_period_days"], out var days) ? days : 0;
        return new CheckoutPageView((JsonObject)session.DeepClone(), (JsonArray)(_state.SessionLineItems.GetValueOrDefault(sessionId) ?? []).DeepClone(),
            customer?.DeepClone() as JsonObject, trial, ((string?)session["success_url"])?.Replace("{CHECKOUT_SESSION_ID}", sessionId, StringComparison.Ordinal));
    });

    internal (JsonObject Portal, JsonObject Customer, List<JsonObject> Subscriptions, Func<string, string?> ProductName)? PortalView(string portalId) => Read(() =>
    {
        var portal = _state.Find(portalId, "billing_portal.session");
        if (portal is null)
        {
            return ((JsonObject, JsonObject, List<JsonObject>, Func<string, string?>)?)null;
        }

        var customerId = (string)portal["customer"]!;
        var subscriptions = _state.All("subscription").Where(s => (string?)s["customer"] == customerId).Select(s => (JsonObject)s.DeepClone()).ToList();
        var names = _state.All("product").ToDictionary(p => (string)p["id"]!, p => (string?)p["name"]);
        return ((JsonObject)portal.DeepClone(), (JsonObject)_state.Objects[customerId].DeepClone(), subscriptions, id => names.GetValueOrDefault(id));
    });

    internal void CancelFromPortal(string portalId, string subscriptionId) => Mutate(m =>
    {
        var portal = _state.Find(portalId, "billing_portal.session") ?? throw new ArgumentException($"No such portal session: '{portalId}'");
        var subscription = Subscription(subscriptionId);
        if ((string?)subscription["customer"] != (string?)portal["customer"] || (bool?)subscription["cancel_at_period_end"] == true)
        {
            return;
        }

        var before = (JsonObject)subscription.DeepClone();
        subscription["cancel_at_period_end"] = true;
        subscription["canceled_at"] = _state.Now();
        subscription["cancel_at"] = ((JsonArray)subscription["items"]!["data"]!).OfType<JsonObject>().Min(i => StripeState.LongOrNull(i["current_period_end"]));
        subscription["cancellation_details"] = new JsonObject { ["comment"] = null, ["feedback"] = null, ["reason"] = "cancellation_requested" };
        _state.Emit(m, "customer.subscription.updated", subscription, StripeState.Diff(before, subscription));
    });

    // ---- helpers ------------------------------------------------------------------------------

    internal static (string? DeclineCode, string? Message) CardOutcome(string digits) => digits switch
    {
        "4000000000000002" => ("generic_decline", "Tu tarjeta ha sido rechazada. Prueba con otra tarjeta."),
        // Stripe's pm_card_chargeCustomerFail: attaches fine, every charge declines.
        "4000000000000341" => ("generic_decline", "Tu tarjeta ha sido rechazada. Prueba con otra tarjeta."),
        "4000000000009995" => ("insufficient_funds", "Tu tarjeta no tiene fondos suficientes. Prueba con otra tarjeta."),
        "4000000000000069" => ("expired_card", "Tu tarjeta ha caducado. Prueba con otra tarjeta."),
        "4000000000000127" => ("incorrect_cvc", "El código de seguridad de tu tarjeta no es correcto."),
        _ when digits.Length is < 12 or > 19 || !Luhn(digits) => ("incorrect_number", "El número de tarjeta no es válido."),
        _ => (null, null),
    };

    private static bool Luhn(string digits)
    {
        var sum = 0;
        for (var i = 0; i < digits.Length; i++)
        {
            var d = digits[digits.Length - 1 - i] - '0';
            if (i % 2 == 1)
            {
                d = d * 2 > 9 ? d * 2 - 9 : d * 2;
            }

            sum += d;
        }

        return sum % 10 == 0;
    }

    private JsonObject Session(string id) =>
        _state.Find(id, "checkout.session") ?? throw new ArgumentException($"No such checkout.session: '{id}'", nameof(id));

    private JsonObject OpenSession(string id)
    {
        var session = Session(id);
        return (string?)session["status"] == "open"
            ? session
            : throw new InvalidOperationException($"Checkout Session {id} is {(string?)session["status"]}, not open.");
    }

    private JsonObject Subscription(string id) =>
        _state.Find(id, "subscription") ?? throw new ArgumentException($"No such subscription: '{id}'", nameof(id));

    private void Mutate(Action<Mutation> action)
    {
        var m = new Mutation();
        lock (_state.Gate)
        {
            try
            {
                action(m);
            }
            catch (StripeApiError error)
            {
                throw new InvalidOperationException(error.Message, error);
            }
        }

        _dispatcher.Enqueue(m.Events);
    }

    private T Read<T>(Func<T> read)
    {
        lock (_state.Gate)
        {
            return read();
        }
    }

    private void Write(Action write)
    {
        lock (_state.Gate)
        {
            write();
        }
    }
}
