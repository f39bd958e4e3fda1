using System.Globalization;
using System.Text.Json.Nodes;

namespace Sajet.Simulators.Stripe;

// Test clocks, test payment methods, renewals and prorations. Renewals run only when a test clock is advanced
// (or through the control API), in period-end order across the clock's subscriptions, and send their events in
// Stripe's order: invoice.created, invoice.finalized, invoice.paid + invoice.payment_succeeded or
// invoice.payment_failed, then customer.subscription.updated.
internal sealed partial class StripeState
{
    /// <summary>Stripe's test payment method tokens and the test card each one stands for.</summary>
    private static readonly Dictionary<string, (string Card, string Brand)> TestPaymentMethods = new(StringComparer.Ordinal)
    {
        ["pm_card_visa"] = ("4242424242424242", "visa"),
        ["pm_card_mastercard"] = ("5555555555554444", "mastercard"),
        ["pm_card_chargeCustomerFail"] = ("4000000000000341", "visa"),
        ["pm_card_chargeDeclined"] = ("4000000000000002", "visa"),
        ["pm_card_chargeDeclinedInsufficientFunds"] = ("4000000000009995", "visa"),
        ["pm_card_chargeDeclinedExpiredCard"] = ("4000000000000069", "visa"),
    };

    /// <summary>Renewals one clock advance may run, so that a far jump over daily prices cannot loop for long.</summary>
    private const int MaxRenewalsPerAdvance = 1000;

    private sealed class ClockScope(StripeState state, long? previous) : IDisposable
    {
        public void Dispose() => state._frozenNow = previous;
    }

    /// <summary>Until disposed, Now() is the frozen time of the customer's test clock (no change without one).</summary>
    public IDisposable EnterClock(string? customerId)
    {
        var previous = _frozenNow;
        if (customerId is not null && (string?)Objects.GetValueOrDefault(customerId)?["test_clock"] is { } clockId
            && Objects.GetValueOrDefault(clockId) is { } clock)
        {
            _frozenNow = Long(clock["frozen_time"]);
        }

        return new ClockScope(this, previous);
    }

    // ---- payment methods ----------------------------------------------------------------------

    /// <summary>
    /// A payment method for the customer: a test token (pm_card_visa …) becomes a new attached pm_ object, as in
    /// Stripe; an existing id must belong to the customer or be unattached (then it is attached).
    /// </summary>
    public JsonObject AttachPaymentMethod(string idOrToken, string customerId, string param)
    {
        if (TestPaymentMethods.TryGetValue(idOrToken, out var test))
        {
            var pm = Add(new JsonObject
            {
                ["id"] = NewId("pm_"),
                ["object"] = "payment_method",
                ["allow_redisplay"] = "unspecified",
                ["billing_details"] = new JsonObject { ["address"] = null, ["email"] = null, ["name"] = null, ["phone"] = null },
                ["card"] = new JsonObject
                {
                    ["brand"] = test.Brand,
                    ["country"] = "US",
                    ["exp_month"] = 12,
                    ["exp_year"] = DateTimeOffset.FromUnixTimeSeconds(Now()).Year + 3,
                    ["funding"] = "credit",
                    ["last4"] = test.Card[^4..],
                },
                ["created"] = Now(),
                ["customer"] = customerId,
                ["livemode"] = false,
                ["metadata"] = new JsonObject(),
                ["type"] = "card",
            });
            PaymentMethodCards[(string)pm["id"]!] = test.Card;
            CustomerCards.Remove(customerId);
            return pm;
        }

        var existing = Find(idOrToken, "payment_method") ?? throw StripeApiError.NoSuchParam("payment_method", idOrToken, param);
        var owner = (string?)existing["customer"];
        if (owner is not null && owner != customerId)
        {
            throw StripeApiError.Invalid(param, $"The payment method you provided has already been attached to another customer.");
        }

        existing["customer"] = customerId;
        CustomerCards.Remove(customerId);
        return existing;
    }

    /// <summary>
    /// The card a subscription's charges use: a card set by the control API, else the subscription's own
    /// default_payment_method, else the customer's (<see cref="CardOf"/>).
    /// </summary>
    public string CardFor(string customerId, JsonObject? subscription) =>
        !CustomerCards.ContainsKey(customerId) && (string?)subscription?["default_payment_method"] is { } pm && PaymentMethodCards.TryGetValue(pm, out var card)
            ? card
            : CardOf(customerId);

    /// <summary>The card behind a payment method id or test token (for invoices paid with payment_method).</summary>
    public string CardOfPaymentMethod(string idOrToken, string customerId, string param) =>
        PaymentMethodCards[(string)AttachPaymentMethod(idOrToken, customerId, param)["id"]!];

    // ---- test clocks --------------------------------------------------------------------------

    public JsonObject CreateTestClock(long frozenTime, string? name) => Add(new JsonObject
    {
        ["id"] = NewId("clock_"),
        ["object"] = "test_helpers.test_clock",
        ["created"] = Now(),
        ["deletes_after"] = Now() + 30 * 86400,
        ["frozen_time"] = frozenTime,
        ["livemode"] = false,
        ["name"] = name,
        ["status"] = "ready",
        ["status_details"] = new JsonObject(),
    });

    /// <summary>
    /// Moves the clock to <paramref name="target"/>, running every renewal due on the way at its own time. The answer is
    /// the clock as Stripe answers the advance request (status advancing); the work is done by the time it returns, so
    /// the next GET reads ready.
    /// </summary>
    public JsonObject AdvanceTestClock(Mutation m, JsonObject clock, long target)
    {
        var id = (string)clock["id"]!;
        var frozen = Long(clock["frozen_time"]);
        if ((string?)clock["status"] != "ready")
        {
            throw StripeApiError.Invalid("test_clock", $"The test clock {id} is currently advancing and cannot be advanced again until it is ready.");
        }

        if (target <= frozen)
        {
            throw StripeApiError.Invalid("frozen_time", $"The frozen_time {target} must be after the test clock's current frozen_time {frozen}.");
        }

        // Stripe refuses to jump more than two intervals of the shortest subscription on the clock in one advance.
        var limit = All("subscription")
            .Where(s => (string?)s["test_clock"] == id && (string?)s["status"] is not ("canceled" or "incomplete_expired"))
            .SelectMany(s => SubscriptionItems(s).OfType<JsonObject>())
            .Select(i => PeriodEnd(frozen, (string?)i["price"]!["recurring"]?["interval"] ?? "month", 2 * (LongOrNull(i["price"]!["recurring"]?["interval_count"]) ?? 1)))
            .DefaultIfEmpty(long.MaxValue)
            .Min();
        if (target > limit)
        {
            throw StripeApiError.Invalid("frozen_time",
                $"Cannot advance the test clock {id} more than two intervals of its shortest subscription at a time (up to {limit}).");
        }

        clock["status"] = "advancing";
        clock["status_details"] = new JsonObject { ["advancing"] = new JsonObject { ["target_frozen_time"] = target } };
        var answer = (JsonObject)clock.DeepClone();
        Emit(m, "test_helpers.test_clock.advancing", clock);

        var previous = _frozenNow;
        try
        {
            for (var i = 0; i < MaxRenewalsPerAdvance; i++)
            {
                var due = All("subscription")
                    .Where(s => (string?)s["test_clock"] == id && (string?)s["status"] is "active" or "trialing" or "past_due" or "unpaid")
                    .Select(s => (Subscription: s, End: SubscriptionItems(s).OfType<JsonObject>().Min(x => Long(x["current_period_end"]))))
                    .Where(x => x.End <= target)
                    .OrderBy(x => x.End)
                    .FirstOrDefault();
                if (due.Subscription is null)
                {
                    break;
                }

                _frozenNow = due.End;
                clock["frozen_time"] = due.End;
                Renew(m, due.Subscription);
            }
        }
        finally
        {
            _frozenNow = previous;
        }

        clock["frozen_time"] = target;
        clock["status"] = "ready";
        clock["status_details"] = new JsonObject();
        using (EnterClockAt(target))
        {
            Emit(m, "test_helpers.test_clock.ready", clock);
        }

        return answer;
    }

    /// <summary>Until disposed, Now() is <paramref name="time"/> (a test clock's frozen time).</summary>
    public IDisposable EnterClockAt(long time)
    {
        var scope = new ClockScope(this, _frozenNow);
        _frozenNow = time;
        return scope;
    }

    /// <summary>Deleting a clock deletes its customers and their subscriptions, as Stripe does.</summary>
    public JsonObject DeleteTestClock(JsonObject clock)
    {
        var id = (string)clock["id"]!;
        var customers = All("customer").Where(c => (string?)c["test_clock"] == id).Select(c => (string)c["id"]!).ToHashSet(StringComparer.Ordinal);
        foreach (var sub in All("subscription").Where(s => customers.Contains((string)s["customer"]!)).ToList())
        {
            Objects.Remove((string)sub["id"]!);
        }

        foreach (var customer in customers)
        {
            Objects.Remove(customer);
        }

        Objects.Remove(id);
        return new JsonObject { ["id"] = id, ["object"] = "test_helpers.test_clock", ["deleted"] = true };
    }

    // ---- renewals -----------------------------------------------------------------------------

    /// <summary>
    /// The current period ended (Now() is its end): a subscription set to cancel ends; any other starts the next period
    /// with an invoice of its items plus the pending proration items, finalized and charged to the card on file.
    /// </summary>
    private void Renew(Mutation m, JsonObject subscription)
    {
        var end = SubscriptionItems(subscription).OfType<JsonObject>().Min(i => Long(i["current_period_end"]));
        if ((bool?)subscription["cancel_at_period_end"] == true || (LongOrNull(subscription["cancel_at"]) is { } cancelAt && cancelAt <= end))
        {
            Cancel(m, subscription, "cancellation_requested", null, end);
            return;
        }

        var before = (JsonObject)subscription.DeepClone();
        AdvanceItems(subscription);
        var customer = Objects[(string)subscription["customer"]!];
        var pending = PendingItems((string)subscription["id"]!);
        var invoice = CreateInvoice(subscription, "subscription_cycle", SubscriptionAmount(subscription), paid: false, customer,
            [.. pending.Select(ii => ProrationLine(ii, null))], applyBalance: true);
        foreach (var ii in pending)
        {
            ii["invoice"] = invoice["id"]?.DeepClone();
        }

        subscription["latest_invoice"] = invoice["id"]?.DeepClone();
        if ((string?)subscription["status"] == "trialing")
        {
            subscription["status"] = "active";
        }

        var paid = FinalizeAndAttempt(m, invoice, CardFor((string)customer["id"]!, subscription));
        if (!paid)
        {
            subscription["status"] = "past_due";
        }

        Emit(m, "customer.subscription.updated", subscription, Diff(before, subscription));
    }

    /// <summary>
    /// invoice.created (as the draft it was), invoice.finalized, then the charge: invoice.paid and
    /// invoice.payment_succeeded, or invoice.payment_failed with the attempt counted. True when paid.
    /// </summary>
    private bool FinalizeAndAttempt(Mutation m, JsonObject invoice, string card)
    {
        var draft = (JsonObject)invoice.DeepClone();
        draft["status"] = "draft";
        draft["number"] = null;
        draft["status_transitions"]!["finalized_at"] = null;
        Emit(m, "invoice.created", draft);
        Emit(m, "invoice.finalized", invoice);
        if (Long(invoice["amount_due"]) == 0 || StripeSimulatorControl.CardOutcome(card).DeclineCode is null)
        {
            PayInvoice(m, invoice);
            return true;
        }

        var before = (JsonObject)invoice.DeepClone();
        invoice["attempted"] = true;
        invoice["attempt_count"] = Long(invoice["attempt_count"]) + 1;
        // Smart Retries' first retry; the simulator does not run retries, the field tells dunning code one is due.
        invoice["next_payment_attempt"] = Now() + 3 * 86400;
        Emit(m, "invoice.payment_failed", invoice, Diff(before, invoice));
        return false;
    }

    // ---- subscriptions created over the API ---------------------------------------------------

    /// <summary>
    /// POST /v1/subscriptions: the first invoice is charged at once to the card on file (allow_incomplete), or left
    /// open with the subscription incomplete (default_incomplete, or a declining card).
    /// </summary>
    public JsonObject CreateSubscriptionNow(Mutation m, JsonObject customer, IReadOnlyList<(JsonObject Price, long Quantity)> items,
        JsonObject? metadata, long trialDays, string? defaultPaymentMethod, bool attemptPayment)
    {
        var customerId = (string)customer["id"]!;
        using var clock = EnterClock(customerId);
        var currency = (string)items[0].Price["currency"]!;
        var lines = new JsonArray([.. items.Select(i => (JsonNode)new JsonObject { ["price"] = i.Price.DeepClone(), ["quantity"] = i.Quantity })]);
        var subscription = CreateSubscription(customerId, currency, lines, metadata, trialDays, trialDays > 0 ? "trialing" : "incomplete");
        // Without its own, a subscription charges the customer's default payment method (null here, as in Stripe).
        subscription["default_payment_method"] = defaultPaymentMethod;

        var invoice = CreateInvoice(subscription, "subscription_create", trialDays > 0 ? 0 : SubscriptionAmount(subscription), paid: false, customer,
            applyBalance: true);
        subscription["latest_invoice"] = invoice["id"]?.DeepClone();
        Emit(m, "customer.subscription.created", subscription);
        var before = (JsonObject)subscription.DeepClone();
        if (trialDays > 0 || attemptPayment)
        {
            var card = CardFor(customerId, subscription);
            if (FinalizeAndAttempt(m, invoice, card) && trialDays == 0)
            {
                subscription["status"] = "active";
            }
        }
        else
        {
            Emit(m, "invoice.created", invoice);
        }

        var previous = Diff(before, subscription);
        if (previous.Count > 0)
        {
            Emit(m, "customer.subscription.updated", subscription, previous);
        }

        return subscription;
    }

    // ---- prorations ---------------------------------------------------------------------------

    /// <summary>Invoice items not yet on an invoice, for one subscription, oldest first.</summary>
    private List<JsonObject> PendingItems(string subscriptionId) =>
        [.. All("invoiceitem").Reverse().Where(ii => ii["invoice"] is null && (string?)ii["parent"]?["subscription_details"]?["subscription"] == subscriptionId)];

    /// <summary>
    /// The proration invoice items of an item change at <paramref name="at"/>: for every changed or removed item a
    /// credit for the unused time of the old price, for every changed or added item a charge for the remaining time
    /// of the new one, each by the seconds left in the item's period and rounded to the minor unit on its own.
    /// Stored (and announced with invoiceitem.created) unless <paramref name="store"/> is false (a preview).
    /// </summary>
    public List<JsonObject> Prorate(Mutation? m, JsonObject subscription, JsonArray oldItems, JsonArray newItems, long at, bool store)
    {
        var result = new List<JsonObject>();
        var oldById = oldItems.OfType<JsonObject>().ToDictionary(i => (string)i["id"]!, StringComparer.Ordinal);
        var newById = newItems.OfType<JsonObject>().ToDictionary(i => (string)i["id"]!, StringComparer.Ordinal);
        foreach (var (itemId, old) in oldById)
        {
            var now = newById.GetValueOrDefault(itemId);
            if (now is not null && SameCharge(old, now))
            {
                continue;
            }

            result.Add(ProrationItem(subscription, old, at, credit: true));
            if (now is not null)
            {
                result.Add(ProrationItem(subscription, now, at, credit: false));
            }
        }

        foreach (var (itemId, added) in newById)
        {
            if (!oldById.ContainsKey(itemId))
            {
                result.Add(ProrationItem(subscription, added, at, credit: false));
            }
        }

        result.RemoveAll(ii => Long(ii["amount"]) == 0);
        if (store)
        {
            foreach (var ii in result)
            {
                Add(ii);
                if (m is not null)
                {
                    Emit(m, "invoiceitem.created", ii);
                }
            }
        }

        return result;
    }

    private static bool SameCharge(JsonObject a, JsonObject b) =>
        (string?)a["price"]!["id"] == (string?)b["price"]!["id"] && (LongOrNull(a["quantity"]) ?? 1) == (LongOrNull(b["quantity"]) ?? 1);

    private JsonObject ProrationItem(JsonObject subscription, JsonObject item, long at, bool credit)
    {
        var start = Long(item["current_period_start"]);
        var end = Long(item["current_period_end"]);
        var from = Math.Clamp(at, start, end);
        var price = (JsonObject)item["price"]!;
        var quantity = LongOrNull(item["quantity"]) ?? 1;
        var full = (LongOrNull(price["unit_amount"]) ?? 0) * quantity;
        var amount = end <= start ? 0 : (long)Math.Round((decimal)full * (end - from) / (end - start), MidpointRounding.AwayFromZero);
        var product = (string?)Objects.GetValueOrDefault((string)price["product"]!)?["name"];
        var date = DateTimeOffset.FromUnixTimeSeconds(from).ToString("d MMM yyyy", CultureInfo.InvariantCulture);
        return new JsonObject
        {
            ["id"] = NewId("ii_"),
            ["object"] = "invoiceitem",
            ["amount"] = credit ? -amount : amount,
            ["currency"] = subscription["currency"]?.DeepClone(),
            ["customer"] = subscription["customer"]?.DeepClone(),
            ["date"] = Now(),
            ["description"] = credit ? $"Unused time on {quantity} × {product} after {date}" : $"Remaining time on {quantity} × {product} after {date}",
            ["discountable"] = false,
            ["discounts"] = new JsonArray(),
            ["invoice"] = null,
            ["livemode"] = false,
            ["metadata"] = new JsonObject(),
            ["net_amount"] = credit ? -amount : amount,
            ["parent"] = new JsonObject
            {
                ["subscription_details"] = new JsonObject
                {
                    ["subscription"] = subscription["id"]?.DeepClone(),
                    ["subscription_item"] = item["id"]?.DeepClone(),
                },
                ["type"] = "subscription_details",
            },
            ["period"] = new JsonObject { ["end"] = end, ["start"] = from },
            ["pricing"] = new JsonObject
            {
                ["price_details"] = new JsonObject { ["price"] = price["id"]?.DeepClone(), ["product"] = price["product"]?.DeepClone() },
                ["type"] = "price_details",
                ["unit_amount_decimal"] = price["unit_amount_decimal"]?.DeepClone(),
            },
            ["proration"] = true,
            ["quantity"] = quantity,
            ["tax_rates"] = new JsonArray(),
            ["test_clock"] = subscription["test_clock"]?.DeepClone(),
        };
    }

    /// <summary>An invoice item as the invoice line it becomes.</summary>
    private JsonObject ProrationLine(JsonObject ii, string? invoiceId) => InvoiceLine(
        ii["amount"]?.DeepClone(), ii["currency"]?.DeepClone(), ii["description"]?.DeepClone(), discountable: false, invoiceId,
        invoiceItem: ii["id"]?.DeepClone(), proration: true,
        ii["parent"]!["subscription_details"]!["subscription"]?.DeepClone(), ii["parent"]!["subscription_details"]!["subscription_item"]?.DeepClone(),
        ii["period"]?.DeepClone(), ii["pricing"]?.DeepClone(), ii["quantity"]?.DeepClone());

    /// <summary>
    /// always_invoice: the pending items (with this change's prorations) are invoiced now and charged to the card on
    /// file. True when paid; a declined charge leaves the invoice open and the subscription past_due.
    /// </summary>
    public bool InvoiceProrationsNow(Mutation m, JsonObject subscription)
    {
        var customer = Objects[(string)subscription["customer"]!];
        var pending = PendingItems((string)subscription["id"]!);
        var invoice = CreateInvoice(subscription, "subscription_update", 0, paid: false, customer, [], applyBalance: true);
        // The period lines of a subscription_update invoice are not charged again; only the proration lines are.
        ((JsonArray)invoice["lines"]!["data"]!).Clear();
        AppendLines(invoice, customer, [.. pending.Select(ii => ProrationLine(ii, (string)invoice["id"]!))]);
        foreach (var ii in pending)
        {
            ii["invoice"] = invoice["id"]?.DeepClone();
        }

        subscription["latest_invoice"] = invoice["id"]?.DeepClone();
        var paid = FinalizeAndAttempt(m, invoice, CardFor((string)customer["id"]!, subscription));
        if (!paid)
        {
            subscription["status"] = "past_due";
        }

        return paid;
    }

    /// <summary>What always_invoice would charge for changing the items from <paramref name="oldItems"/> to those of <paramref name="changed"/>.</summary>
    public long ProrationAmountDue(JsonObject changed, JsonArray oldItems, long at)
    {
        var customer = Objects[(string)changed["customer"]!];
        var prorations = (string?)changed["status"] == "trialing" ? [] : Prorate(null, changed, oldItems, (JsonArray)changed["items"]!["data"]!, at, store: false);
        return Long(PreviewProrationInvoice(changed, customer, prorations, now: true)["amount_due"]);
    }

    /// <summary>The card of a payment method id or test token, without attaching it; null if unknown.</summary>
    public string? PeekCard(string idOrToken) =>
        TestPaymentMethods.TryGetValue(idOrToken, out var test) ? test.Card : PaymentMethodCards.GetValueOrDefault(idOrToken);

    /// <summary>The invoice create_preview answers for the same change.</summary>
    public JsonObject PreviewProrationInvoice(JsonObject subscription, JsonObject customer, IReadOnlyList<JsonObject> prorations, bool now)
    {
        var pending = PendingItems((string)subscription["id"]!).Concat(prorations).Select(ii => ProrationLine(ii, null)).ToList();
        if (now)
        {
            var invoice = CreateInvoice(subscription, "subscription_update", 0, paid: false, customer, [], applyBalance: true, preview: true);
            ((JsonArray)invoice["lines"]!["data"]!).Clear();
            AppendLines(invoice, customer, pending, preview: true);
            return invoice;
        }

        // The next invoice: the next period of the changed items plus every pending proration.
        var next = (JsonObject)subscription.DeepClone();
        AdvanceItems(next);
        return CreateInvoice(next, "subscription_cycle", SubscriptionAmount(next), paid: false, customer, pending, applyBalance: true, preview: true);
    }

    /// <summary>Puts lines on an invoice whose lines were emptied and recomputes the amounts (balance included) and its payment.</summary>
    private void AppendLines(JsonObject invoice, JsonObject customer, List<JsonObject> lines, bool preview = false)
    {
        var data = (JsonArray)invoice["lines"]!["data"]!;
        foreach (var line in lines)
        {
            data.Add(line);
        }

        invoice["lines"]!["total_count"] = data.Count;
        var total = lines.Sum(l => Long(l["amount"]));
        var starting = Long(invoice["starting_balance"]);
        var due = Math.Max(0, total + starting);
        var ending = total + starting - due;
        invoice["subtotal"] = total;
        invoice["total"] = total;
        invoice["amount_due"] = due;
        invoice["amount_remaining"] = due;
        invoice["ending_balance"] = ending;
        if (preview)
        {
            return;
        }

        customer["balance"] = ending;
        var id = (string)invoice["id"]!;
        if (due > 0)
        {
            var (intent, _) = CreatePayment((string)customer["id"]!, due, (string)invoice["currency"]!, succeeded: false, description: "Subscription update");
            InvoicePayments[id] = [new JsonObject
            {
                ["id"] = NewId("inpay_"),
                ["object"] = "invoice_payment",
                ["amount_paid"] = null,
                ["amount_requested"] = due,
                ["created"] = Now(),
                ["currency"] = invoice["currency"]?.DeepClone(),
                ["invoice"] = id,
                ["is_default"] = true,
                ["livemode"] = false,
                ["payment"] = new JsonObject { ["type"] = "payment_intent", ["payment_intent"] = intent["id"]?.DeepClone() },
                ["status"] = "open",
                ["status_transitions"] = new JsonObject { ["canceled_at"] = null, ["paid_at"] = null },
            }];
        }
    }
}
