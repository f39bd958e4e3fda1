using System.Text.Json.Nodes;

namespace Sajet.Simulators.Stripe;

// Object factories and lifecycle transitions. Shapes follow API version 2026-07-29.dahlia
// (stripe-api-subset.json "latest" blocks): billing periods on subscription items, the invoice's
// subscription under parent.subscription_details, payments as an includable list.
internal sealed partial class StripeState
{
    public JsonObject CreateCustomer(Mutation m, string? email, string? name, string? phone, string? description,
        IDictionary<string, string>? metadata, IEnumerable<string>? locales, JsonObject? testClock = null)
    {
        // A customer on a test clock lives at the clock's time from its creation on.
        using var clock = testClock is null ? null : EnterClockAt(Long(testClock["frozen_time"]));
        var customer = Add(new JsonObject
        {
            ["id"] = NewId("cus_", 14),
            ["object"] = "customer",
            ["address"] = null,
            ["balance"] = 0,
            ["created"] = Now(),
            ["currency"] = null,
            ["default_source"] = null,
            ["delinquent"] = false,
            ["description"] = description,
            ["discount"] = null,
            ["email"] = email,
            ["invoice_prefix"] = NewId("", 8).ToUpperInvariant(),
            ["invoice_settings"] = new JsonObject { ["custom_fields"] = null, ["default_payment_method"] = null, ["footer"] = null, ["rendering_options"] = null },
            ["livemode"] = false,
            ["metadata"] = Metadata(metadata),
            ["name"] = name,
            ["next_invoice_sequence"] = 1,
            ["phone"] = phone,
            ["preferred_locales"] = new JsonArray([.. (locales ?? []).Select(l => (JsonNode)l)]),
            ["shipping"] = null,
            ["tax_exempt"] = "none",
            ["test_clock"] = testClock?["id"]?.DeepClone(),
        });
        Emit(m, "customer.created", customer);
        return customer;
    }

    public JsonObject CreateProduct(string? id, string name, string? description, bool active, IDictionary<string, string>? metadata)
    {
        var now = Now();
        return Add(new JsonObject
        {
            ["id"] = id ?? NewId("prod_", 14),
            ["object"] = "product",
            ["active"] = active,
            ["created"] = now,
            ["default_price"] = null,
            ["description"] = description,
            ["images"] = new JsonArray(),
            ["livemode"] = false,
            ["marketing_features"] = new JsonArray(),
            ["metadata"] = Metadata(metadata),
            ["name"] = name,
            ["package_dimensions"] = null,
            ["shippable"] = null,
            ["statement_descriptor"] = null,
            ["tax_code"] = null,
            ["type"] = "service",
            ["unit_label"] = null,
            ["updated"] = now,
            ["url"] = null,
        });
    }

    public JsonObject CreatePrice(string currency, long unitAmount, string productId, string? interval, long intervalCount,
        string? lookupKey, string? nickname, bool active, IDictionary<string, string>? metadata)
    {
        if (lookupKey is not null)
        {
            // transfer_lookup_key semantics: a lookup key names at most one price.
            foreach (var other in All("price").Where(p => (string?)p["lookup_key"] == lookupKey))
            {
                other["lookup_key"] = null;
            }
        }

        return Add(new JsonObject
        {
            ["id"] = NewId("price_"),
            ["object"] = "price",
            ["active"] = active,
            ["billing_scheme"] = "per_unit",
            ["created"] = Now(),
            ["currency"] = currency,
            ["custom_unit_amount"] = null,
            ["livemode"] = false,
            ["lookup_key"] = lookupKey,
            ["metadata"] = Metadata(metadata),
            ["nickname"] = nickname,
            ["product"] = productId,
            ["recurring"] = interval is null ? null : new JsonObject
            {
                ["interval"] = interval,
                ["interval_count"] = intervalCount,
                ["meter"] = null,
                ["trial_period_days"] = null,
                ["usage_type"] = "licensed",
            },
            ["tax_behavior"] = "unspecified",
            ["tiers_mode"] = null,
            ["transform_quantity"] = null,
            ["type"] = interval is null ? "one_time" : "recurring",
            ["unit_amount"] = unitAmount,
            ["unit_amount_decimal"] = unitAmount.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
    }

    /// <param name="lineItems">Each {price: price object, quantity}.</param>
    public JsonObject CreateCheckoutSession(string mode, string? customerId, string? customerEmail, string? clientReferenceId,
        string? successUrl, string? cancelUrl, IDictionary<string, string>? metadata, IReadOnlyList<(JsonObject Price, long Quantity)> lineItems,
        JsonObject subscriptionData, long? expiresAt, string? locale)
    {
        var id = NewId("cs_test_a1", 56);
        var now = Now();
        var currency = lineItems.Count > 0 ? (string?)lineItems[0].Price["currency"] : null;
        var subtotal = lineItems.Sum(li => StripeState.Long(li.Price["unit_amount"]) * li.Quantity);
        var trial = TrialDays(subscriptionData) > 0;
        SessionLineItems[id] = new JsonArray([.. lineItems.Select(li => (JsonNode)new JsonObject
        {
            ["id"] = NewId("li_"),
            ["object"] = "item",
            ["amount_discount"] = 0,
            ["amount_subtotal"] = StripeState.Long(li.Price["unit_amount"]) * li.Quantity,
            ["amount_tax"] = 0,
            ["amount_total"] = StripeState.Long(li.Price["unit_amount"]) * li.Quantity,
            ["currency"] = li.Price["currency"]?.DeepClone(),
            ["description"] = (string?)Objects.GetValueOrDefault((string)li.Price["product"]!)?["name"],
            ["price"] = li.Price.DeepClone(),
            ["quantity"] = li.Quantity,
        })]);
        SessionSubscriptionData[id] = subscriptionData;

        return Add(new JsonObject
        {
            ["id"] = id,
            ["object"] = "checkout.session",
            ["adaptive_pricing"] = null,
            ["after_expiration"] = null,
            ["allow_promotion_codes"] = null,
            ["amount_subtotal"] = trial ? 0 : subtotal,
            ["amount_total"] = trial ? 0 : subtotal,
            ["automatic_tax"] = new JsonObject { ["enabled"] = false, ["liability"] = null, ["provider"] = null, ["status"] = null },
            ["billing_address_collection"] = null,
            ["cancel_url"] = cancelUrl,
            ["client_reference_id"] = clientReferenceId,
            ["client_secret"] = null,
            ["collected_information"] = null,
            ["consent"] = null,
            ["consent_collection"] = null,
            ["created"] = now,
            ["currency"] = currency,
            ["custom_fields"] = new JsonArray(),
            ["custom_text"] = new JsonObject { ["after_submit"] = null, ["shipping_address"] = null, ["submit"] = null, ["terms_of_service_acceptance"] = null },
            ["customer"] = customerId,
            ["customer_creation"] = customerId is null && mode == "payment" ? "if_required" : null,
            ["customer_details"] = customerEmail is null ? null : CustomerDetails(customerEmail),
            ["customer_email"] = customerEmail,
            ["discounts"] = new JsonArray(),
            ["expires_at"] = expiresAt ?? now + 24 * 3600,
            ["invoice"] = null,
            ["invoice_creation"] = null,
            ["livemode"] = false,
            ["locale"] = locale,
            ["metadata"] = Metadata(metadata),
            ["mode"] = mode,
            ["payment_intent"] = null,
            ["payment_link"] = null,
            ["payment_method_collection"] = "always",
            ["payment_method_types"] = new JsonArray("card"),
            ["payment_status"] = "unpaid",
            ["phone_number_collection"] = new JsonObject { ["enabled"] = false },
            ["recovered_from"] = null,
            ["setup_intent"] = null,
            ["shipping_address_collection"] = null,
            ["shipping_cost"] = null,
            ["shipping_options"] = new JsonArray(),
            ["status"] = "open",
            ["submit_type"] = null,
            ["subscription"] = null,
            ["success_url"] = successUrl,
            ["total_details"] = new JsonObject { ["amount_discount"] = 0, ["amount_shipping"] = 0, ["amount_tax"] = 0 },
            ["ui_mode"] = "hosted",
            ["url"] = $"{BaseUrl}/c/pay/{id}",
        });
    }

    private static JsonObject CustomerDetails(string? email) => new()
    {
        ["address"] = null,
        ["email"] = email,
        ["name"] = null,
        ["phone"] = null,
        ["tax_exempt"] = "none",
        ["tax_ids"] = new JsonArray(),
    };

    private static long TrialDays(JsonObject subscriptionData) =>
        long.TryParse((string?)subscriptionData["trial_period_days"], out var days) ? days : 0;

    /// <summary>
    /// The customer pays (or starts a delayed payment) on the hosted page. Creates the customer if the
    /// session had none, then the subscription, invoice, payment intent and charge, and the events.
    /// </summary>
    public void CompleteCheckout(Mutation m, JsonObject session, string? email, bool paymentPending)
    {
        using var clock = EnterClock((string?)session["customer"]);
        var sessionId = (string)session["id"]!;
        var before = (JsonObject)session.DeepClone();
        var now = Now();
        var customerId = (string?)session["customer"];
        if (customerId is null)
        {
            customerId = (string)CreateCustomer(m, email ?? (string?)session["customer_email"], null, null, null, null, null)["id"]!;
        }

        var customer = Objects[customerId];
        session["customer"] = customerId;
        session["customer_details"] = CustomerDetails(email ?? (string?)customer["email"] ?? (string?)session["customer_email"]);
        session["status"] = "complete";
        session["url"] = null;

        var amount = StripeState.LongOrNull(session["amount_total"]) ?? 0;
        var currency = (string?)session["currency"] ?? "usd";
        var mode = (string)session["mode"]!;
        var events = new List<(string Type, JsonObject Obj)>();
        JsonObject? subscription = null;
        JsonObject? invoice = null;
        if (mode == "subscription")
        {
            var data = SessionSubscriptionData[sessionId];
            var trialDays = TrialDays(data);
            subscription = CreateSubscription(customerId, currency, SessionLineItems[sessionId], data["metadata"] as JsonObject, trialDays,
                paymentPending ? "incomplete" : trialDays > 0 ? "trialing" : "active");
            invoice = CreateInvoice(subscription, "subscription_create", trialDays > 0 ? 0 : amount, paid: !paymentPending, customer);
            subscription["latest_invoice"] = invoice["id"]?.DeepClone();
            session["subscription"] = subscription["id"]?.DeepClone();
            session["invoice"] = invoice["id"]?.DeepClone();
        }
        else if (mode == "payment" && !paymentPending)
        {
            var (intent, _) = CreatePayment(customerId, amount, currency, succeeded: true, description: "Checkout");
            session["payment_intent"] = intent["id"]?.DeepClone();
        }

        session["payment_status"] = paymentPending ? "unpaid" : amount == 0 || (string?)subscription?["status"] == "trialing" ? "no_payment_required" : "paid";

        Emit(m, "checkout.session.completed", session, Diff(before, session));
        if (subscription is not null)
        {
            Emit(m, "customer.subscription.created", subscription);
        }

        if (invoice is not null && !paymentPending)
        {
            Emit(m, "invoice.paid", invoice);
            Emit(m, "invoice.payment_succeeded", invoice);
        }
    }

    /// <summary>A delayed payment method (e.g. SEPA debit) settles, days after the session completed.</summary>
    public void SettleAsyncPayment(Mutation m, JsonObject session, bool succeeded)
    {
        if ((string?)session["status"] != "complete" || (string?)session["payment_status"] != "unpaid")
        {
            throw StripeApiError.Invalid("session", $"Checkout Session {(string?)session["id"]} has no pending delayed payment.");
        }

        var before = (JsonObject)session.DeepClone();
        var invoice = (string?)session["invoice"] is { } invoiceId ? Objects[invoiceId] : null;
        var subscription = (string?)session["subscription"] is { } subId ? Objects[subId] : null;
        if (!succeeded)
        {
            Emit(m, "checkout.session.async_payment_failed", session);
            if (invoice is not null)
            {
                var invoiceBefore = (JsonObject)invoice.DeepClone();
                invoice["attempted"] = true;
                invoice["attempt_count"] = 1;
                Emit(m, "invoice.payment_failed", invoice, Diff(invoiceBefore, invoice));
            }

            return;
        }

        session["payment_status"] = "paid";
        Emit(m, "checkout.session.async_payment_succeeded", session, Diff(before, session));
        if (invoice is not null)
        {
            PayInvoice(m, invoice);
        }

        if (subscription is not null)
        {
            var subBefore = (JsonObject)subscription.DeepClone();
            subscription["status"] = "active";
            Emit(m, "customer.subscription.updated", subscription, Diff(subBefore, subscription));
        }
    }

    public void ExpireSession(Mutation m, JsonObject session)
    {
        if ((string?)session["status"] != "open")
        {
            throw StripeApiError.Invalid("session",
                $"Only Checkout Sessions with a status in [\"open\"] can be expired. This Checkout Session has a status of \"{(string?)session["status"]}\".");
        }

        var before = (JsonObject)session.DeepClone();
        session["status"] = "expired";
        session["url"] = null;
        Emit(m, "checkout.session.expired", session, Diff(before, session));
    }

    private JsonObject CreateSubscription(string customerId, string currency, JsonArray lineItems, JsonObject? metadata, long trialDays, string status)
    {
        var now = Now();
        var id = NewId("sub_");
        var items = new JsonArray();
        long? trialEnd = trialDays > 0 ? now + trialDays * 86400 : null;
        foreach (var line in lineItems.OfType<JsonObject>())
        {
            var price = (JsonObject)line["price"]!;
            var recurring = price["recurring"] as JsonObject;
            items.Add(new JsonObject
            {
                ["id"] = NewId("si_", 14),
                ["object"] = "subscription_item",
                ["created"] = now,
                ["current_period_end"] = trialEnd ?? PeriodEnd(now, (string?)recurring?["interval"] ?? "month", StripeState.LongOrNull(recurring?["interval_count"]) ?? 1),
                ["current_period_start"] = now,
                ["discounts"] = new JsonArray(),
                ["metadata"] = new JsonObject(),
                ["price"] = price.DeepClone(),
                ["quantity"] = line["quantity"]?.DeepClone(),
                ["subscription"] = id,
                ["tax_rates"] = new JsonArray(),
            });
        }

        return Add(new JsonObject
        {
            ["id"] = id,
            ["object"] = "subscription",
            ["application"] = null,
            ["application_fee_percent"] = null,
            ["automatic_tax"] = new JsonObject { ["disabled_reason"] = null, ["enabled"] = false, ["liability"] = null },
            ["billing_cycle_anchor"] = trialEnd ?? now,
            ["billing_cycle_anchor_config"] = null,
            ["billing_mode"] = new JsonObject { ["type"] = "classic" },
            ["billing_thresholds"] = null,
            ["cancel_at"] = null,
            ["cancel_at_period_end"] = false,
            ["canceled_at"] = null,
            ["cancellation_details"] = new JsonObject { ["comment"] = null, ["feedback"] = null, ["reason"] = null },
            ["collection_method"] = "charge_automatically",
            ["created"] = now,
            ["currency"] = currency,
            ["customer"] = customerId,
            ["days_until_due"] = null,
            ["default_payment_method"] = NewId("pm_"),
            ["default_source"] = null,
            ["default_tax_rates"] = new JsonArray(),
            ["description"] = null,
            ["discounts"] = new JsonArray(),
            ["ended_at"] = null,
            ["invoice_settings"] = new JsonObject { ["account_tax_ids"] = null, ["issuer"] = new JsonObject { ["type"] = "self" } },
            ["items"] = new JsonObject
            {
                ["object"] = "list",
                ["data"] = items,
                ["has_more"] = false,
                ["total_count"] = items.Count,
                ["url"] = $"/v1/subscription_items?subscription={id}",
            },
            ["latest_invoice"] = null,
            ["livemode"] = false,
            ["metadata"] = metadata?.DeepClone() ?? new JsonObject(),
            ["next_pending_invoice_item_invoice"] = null,
            ["on_behalf_of"] = null,
            ["pause_collection"] = null,
            ["payment_settings"] = new JsonObject { ["payment_method_options"] = null, ["payment_method_types"] = null, ["save_default_payment_method"] = "off" },
            ["pending_invoice_item_interval"] = null,
            ["pending_setup_intent"] = null,
            ["pending_update"] = null,
            ["schedule"] = null,
            ["start_date"] = now,
            ["status"] = status,
            ["test_clock"] = Objects[customerId]["test_clock"]?.DeepClone(),
            ["transfer_data"] = null,
            ["trial_end"] = trialEnd,
            ["trial_settings"] = new JsonObject { ["end_behavior"] = new JsonObject { ["missing_payment_method"] = "create_invoice" } },
            ["trial_start"] = trialDays > 0 ? now : null,
        });
    }

    private static JsonArray SubscriptionItems(JsonObject subscription) => (JsonArray)subscription["items"]!["data"]!;

    public static long SubscriptionAmount(JsonObject subscription) =>
        SubscriptionItems(subscription).OfType<JsonObject>().Sum(i => (StripeState.LongOrNull(i["price"]!["unit_amount"]) ?? 0) * (StripeState.LongOrNull(i["quantity"]) ?? 1));

    /// <param name="extraLines">Proration and pending invoice item lines, added after the period's lines.</param>
    /// <param name="applyBalance">Whether the customer's balance (credit from a downgrade) is applied and updated.</param>
    /// <param name="preview">create_preview: no id, number or payment, nothing stored.</param>
    private JsonObject CreateInvoice(JsonObject subscription, string billingReason, long amount, bool paid, JsonObject customer,
        IReadOnlyList<JsonObject>? extraLines = null, bool applyBalance = false, bool preview = false)
    {
        var now = Now();
        var id = preview ? null : NewId("in_");
        var currency = (string)subscription["currency"]!;
        var items = SubscriptionItems(subscription).OfType<JsonObject>().ToList();
        var periodStart = items.Min(i => StripeState.Long(i["current_period_start"]));
        var periodEnd = items.Min(i => StripeState.Long(i["current_period_end"]));
        var lines = new JsonArray([.. items.Select(i => (JsonNode)InvoiceLine(
            amount == 0 ? 0 : StripeState.Long(i["price"]!["unit_amount"]) * (StripeState.LongOrNull(i["quantity"]) ?? 1),
            currency,
            $"{StripeState.LongOrNull(i["quantity"]) ?? 1} × {(string?)Objects.GetValueOrDefault((string)i["price"]!["product"]!)?["name"]}",
            discountable: true, id, invoiceItem: null, proration: false, subscription["id"]?.DeepClone(), i["id"]?.DeepClone(),
            new JsonObject { ["end"] = i["current_period_end"]?.DeepClone(), ["start"] = i["current_period_start"]?.DeepClone() },
            new JsonObject
            {
                ["price_details"] = new JsonObject { ["price"] = i["price"]!["id"]?.DeepClone(), ["product"] = i["price"]!["product"]?.DeepClone() },
                ["type"] = "price_details",
                ["unit_amount_decimal"] = i["price"]!["unit_amount_decimal"]?.DeepClone(),
            },
            i["quantity"]?.DeepClone()))]);

        foreach (var extra in extraLines ?? [])
        {
            var line = (JsonObject)extra.DeepClone();
            line["invoice"] = id;
            lines.Add(line);
            amount += Long(line["amount"]);
        }

        // A negative total (a downgrade's credit) is not refunded: it becomes customer credit that later invoices use.
        var total = amount;
        var startingBalance = applyBalance ? Long(customer["balance"]) : 0;
        amount = Math.Max(0, total + startingBalance);
        var endingBalance = total + startingBalance - amount;
        if (applyBalance && !preview)
        {
            customer["balance"] = endingBalance;
        }

        var body = new JsonObject
        {
            ["id"] = id,
            ["object"] = "invoice",
            ["account_country"] = "ES",
            ["account_name"] = "Sajet (simulador)",
            ["amount_due"] = amount,
            ["amount_overpaid"] = 0,
            ["amount_paid"] = 0,
            ["amount_remaining"] = amount,
            ["amount_shipping"] = 0,
            ["attempt_count"] = 0,
            ["attempted"] = false,
            ["auto_advance"] = !paid,
            ["automatic_tax"] = new JsonObject { ["disabled_reason"] = null, ["enabled"] = false, ["liability"] = null, ["provider"] = null, ["status"] = null },
            ["billing_reason"] = billingReason,
            ["collection_method"] = "charge_automatically",
            ["created"] = now,
            ["currency"] = currency,
            ["customer"] = customer["id"]?.DeepClone(),
            ["customer_email"] = customer["email"]?.DeepClone(),
            ["customer_name"] = customer["name"]?.DeepClone(),
            ["default_payment_method"] = null,
            ["description"] = null,
            ["discounts"] = new JsonArray(),
            ["due_date"] = null,
            ["effective_at"] = now,
            ["ending_balance"] = 0,
            ["hosted_invoice_url"] = $"{BaseUrl}/i/{id}",
            ["invoice_pdf"] = $"{BaseUrl}/i/{id}/pdf",
            ["issuer"] = new JsonObject { ["type"] = "self" },
            ["last_finalization_error"] = null,
            ["lines"] = new JsonObject { ["object"] = "list", ["data"] = lines, ["has_more"] = false, ["total_count"] = lines.Count, ["url"] = $"/v1/invoices/{id}/lines" },
            ["livemode"] = false,
            ["metadata"] = new JsonObject(),
            ["next_payment_attempt"] = null,
            ["number"] = preview ? null : NextInvoiceNumber(),
            ["parent"] = new JsonObject
            {
                ["quote_details"] = null,
                ["subscription_details"] = new JsonObject
                {
                    ["metadata"] = subscription["metadata"]?.DeepClone(),
                    ["subscription"] = subscription["id"]?.DeepClone(),
                },
                ["type"] = "subscription_details",
            },
            ["period_end"] = periodEnd,
            ["period_start"] = periodStart,
            ["post_payment_credit_notes_amount"] = 0,
            ["pre_payment_credit_notes_amount"] = 0,
            ["receipt_number"] = null,
            ["status"] = "open",
            ["status_transitions"] = new JsonObject { ["finalized_at"] = now, ["marked_uncollectible_at"] = null, ["paid_at"] = null, ["voided_at"] = null },
            ["subtotal"] = total,
            ["total"] = total,
            ["webhooks_delivered_at"] = now,
        };
        if (applyBalance)
        {
            body["starting_balance"] = startingBalance;
            body["ending_balance"] = endingBalance;
        }

        if (preview)
        {
            body["number"] = null;
            body["hosted_invoice_url"] = null;
            body["invoice_pdf"] = null;
            body["status"] = "draft";
            body["status_transitions"]!["finalized_at"] = null;
            body["webhooks_delivered_at"] = null;
            return body;
        }

        var invoice = Add(body);
        var storedId = (string)invoice["id"]!;

        // Every invoice that needs money gets a payment intent, pending until the invoice is paid.
        if (amount > 0)
        {
            var (intent, _) = CreatePayment((string)customer["id"]!, amount, currency, succeeded: false, description: "Subscription creation");
            InvoicePayments[storedId] = [new JsonObject
            {
                ["id"] = NewId("inpay_"),
                ["object"] = "invoice_payment",
                ["amount_paid"] = null,
                ["amount_requested"] = amount,
                ["created"] = now,
                ["currency"] = currency,
                ["invoice"] = storedId,
                ["is_default"] = true,
                ["livemode"] = false,
                ["payment"] = new JsonObject { ["type"] = "payment_intent", ["payment_intent"] = intent["id"]?.DeepClone() },
                ["status"] = "open",
                ["status_transitions"] = new JsonObject { ["canceled_at"] = null, ["paid_at"] = null },
            }];
        }

        if (paid)
        {
            MarkInvoicePaid(invoice);
        }

        return invoice;
    }

    private void MarkInvoicePaid(JsonObject invoice)
    {
        var now = Now();
        var amount = StripeState.Long(invoice["amount_due"]);
        invoice["status"] = "paid";
        invoice["amount_paid"] = amount;
        invoice["amount_remaining"] = 0;
        invoice["attempted"] = true;
        invoice["attempt_count"] = StripeState.Long(invoice["attempt_count"]) + (amount > 0 ? 1 : 0);
        invoice["auto_advance"] = false;
        invoice["next_payment_attempt"] = null;
        invoice["status_transitions"]!["paid_at"] = now;
        foreach (var payment in InvoicePayments.GetValueOrDefault((string)invoice["id"]!) ?? [])
        {
            payment!["status"] = "paid";
            payment["amount_paid"] = amount;
            payment["status_transitions"]!["paid_at"] = now;
            var intent = Objects[(string)payment["payment"]!["payment_intent"]!];
            SucceedPayment(intent);
        }
    }

    private void PayInvoice(Mutation m, JsonObject invoice)
    {
        var before = (JsonObject)invoice.DeepClone();
        MarkInvoicePaid(invoice);
        var previous = Diff(before, invoice);
        Emit(m, "invoice.paid", invoice, previous);
        Emit(m, "invoice.payment_succeeded", invoice, previous);
    }

    private (JsonObject Intent, JsonObject? Charge) CreatePayment(string customerId, long amount, string currency, bool succeeded, string description)
    {
        var intent = Add(new JsonObject
        {
            ["id"] = NewId("pi_"),
            ["object"] = "payment_intent",
            ["amount"] = amount,
            ["amount_received"] = 0,
            ["created"] = Now(),
            ["currency"] = currency,
            ["customer"] = customerId,
            ["description"] = description,
            ["latest_charge"] = null,
            ["livemode"] = false,
            ["metadata"] = new JsonObject(),
            ["payment_method"] = NewId("pm_"),
            ["payment_method_types"] = new JsonArray("card"),
            ["status"] = "requires_payment_method",
        });
        var charge = succeeded ? SucceedPayment(intent) : null;
        return (intent, charge);
    }

    private JsonObject SucceedPayment(JsonObject intent)
    {
        var amount = StripeState.Long(intent["amount"]);
        var charge = Add(new JsonObject
        {
            ["id"] = NewId("ch_"),
            ["object"] = "charge",
            ["amount"] = amount,
            ["amount_captured"] = amount,
            ["amount_refunded"] = 0,
            ["balance_transaction"] = NewId("txn_"),
            ["captured"] = true,
            ["created"] = Now(),
            ["currency"] = intent["currency"]?.DeepClone(),
            ["customer"] = intent["customer"]?.DeepClone(),
            ["description"] = intent["description"]?.DeepClone(),
            ["failure_code"] = null,
            ["failure_message"] = null,
            ["livemode"] = false,
            ["metadata"] = new JsonObject(),
            ["paid"] = true,
            ["payment_intent"] = intent["id"]?.DeepClone(),
            ["payment_method"] = intent["payment_method"]?.DeepClone(),
            ["receipt_url"] = $"{BaseUrl}/receipts/{(string?)intent["id"]}",
            ["refunded"] = false,
            ["status"] = "succeeded",
        });
        intent["status"] = "succeeded";
        intent["amount_received"] = amount;
        intent["latest_charge"] = charge["id"]?.DeepClone();
        return charge;
    }

    /// <summary>The next billing period starts and its payment fails: dunning begins, the subscription goes past_due.</summary>
    public JsonObject FailRenewal(Mutation m, JsonObject subscription)
    {
        RequireLive(subscription);
        var before = (JsonObject)subscription.DeepClone();
        AdvanceItems(subscription);
        var customer = Objects[(string)subscription["customer"]!];
        var invoice = CreateInvoice(subscription, "subscription_cycle", SubscriptionAmount(subscription), paid: false, customer);
        var invoiceBefore = (JsonObject)invoice.DeepClone();
        invoice["attempted"] = true;
        invoice["attempt_count"] = 1;
        invoice["next_payment_attempt"] = Now() + 3 * 86400;
        subscription["latest_invoice"] = invoice["id"]?.DeepClone();
        subscription["status"] = "past_due";
        // The renewal failed because the card on file declines: paying the invoice again fails too until the card is fixed.
        var customerId = (string)customer["id"]!;
        if (StripeSimulatorControl.CardOutcome(CardOf(customerId)).DeclineCode is null)
        {
            CustomerCards[customerId] = DeclinedCard;
        }

        Emit(m, "invoice.payment_failed", invoice, Diff(invoiceBefore, invoice));
        Emit(m, "customer.subscription.updated", subscription, Diff(before, subscription));
        return invoice;
    }

    /// <summary>The customer fixes the card and the open invoice is paid: past_due becomes active.</summary>
    public JsonObject RetryPayment(Mutation m, JsonObject subscription)
    {
        RequireLive(subscription);
        var invoice = (string?)subscription["latest_invoice"] is { } id ? Objects[id] : null;
        if (invoice is null || (string?)invoice["status"] != "open")
        {
            throw StripeApiError.Invalid("subscription", $"Subscription {(string?)subscription["id"]} has no open invoice to pay.");
        }

        CustomerCards.Remove((string)subscription["customer"]!);
        PayOpenInvoice(m, invoice, subscription);
        return invoice;
    }

    /// <summary>
    /// POST /v1/invoices/{id}/pay: charges the customer's card on file now. A declining card is a 402 card_error, and like
    /// Stripe the attempt still counts (attempt_count, invoice.payment_failed); success is the same path as a fixed card.
    /// </summary>
    /// <param name="card">The card of the payment_method parameter; the customer's card on file when null.</param>
    public (int Status, JsonObject Body) PayNow(Mutation m, JsonObject invoice, string? card = null)
    {
        var id = (string)invoice["id"]!;
        switch ((string?)invoice["status"])
        {
            case "paid":
                throw StripeApiError.Invalid("invoice", "Invoice is already paid");
            case "void":
                throw StripeApiError.Invalid("invoice", $"Invoice {id} has been voided and cannot be paid.");
            case "draft":
                throw StripeApiError.Invalid("invoice", $"Invoice {id} is a draft; finalize it before paying it.");
            case "uncollectible" or "open":
                break;
        }

        var subscription = (string?)invoice["parent"]?["subscription_details"]?["subscription"] is { } subId ? Objects.GetValueOrDefault(subId) : null;
        var customerId = (string)invoice["customer"]!;
        using var clock = EnterClock(customerId);
        if (StripeSimulatorControl.CardOutcome(card ?? CardFor(customerId, subscription)).DeclineCode is { } declineCode)
        {
            var before = (JsonObject)invoice.DeepClone();
            invoice["attempted"] = true;
            invoice["attempt_count"] = Long(invoice["attempt_count"]) + 1;
            Emit(m, "invoice.payment_failed", invoice, Diff(before, invoice));
            var error = CardError(declineCode).ToJson(m.RequestId);
            var intent = InvoicePayments.GetValueOrDefault(id)?.OfType<JsonObject>().Select(p => (string?)p["payment"]?["payment_intent"]).FirstOrDefault();
            if (intent is not null)
            {
                error["error"]!["payment_intent"] = Objects[intent].DeepClone();
            }

            return (402, error);
        }

        PayOpenInvoice(m, invoice, subscription);
        return (200, invoice);
    }

    /// <summary>
    /// Pays an open invoice (invoice.paid, invoice.payment_succeeded) and brings back the subscription it is the latest
    /// invoice of: past_due or unpaid becomes active (customer.subscription.updated), which is what reactivates a tenant.
    /// </summary>
    private void PayOpenInvoice(Mutation m, JsonObject invoice, JsonObject? subscription)
    {
        PayInvoice(m, invoice);
        if (subscription is null || (string?)subscription["latest_invoice"] != (string?)invoice["id"]
            || (string?)subscription["status"] is "canceled" or "incomplete_expired" or "active" or "trialing")
        {
            return;
        }

        var before = (JsonObject)subscription.DeepClone();
        subscription["status"] = "active";
        Emit(m, "customer.subscription.updated", subscription, Diff(before, subscription));
    }

    /// <summary>The first test card that declines with generic_decline (StripeSimulatorControl.CardOutcome).</summary>
    public const string DeclinedCard = "4000000000000002";

    /// <summary>The card on file that off-session charges use; 4242… unless a failure or a test switched it.</summary>
    /// <remarks>
    /// A card set by the control API or left by a failed renewal wins; otherwise the customer's
    /// invoice_settings.default_payment_method, then the payment method attached last (API calls that set
    /// either clear the override, as a new card on file replaces the old one).
    /// </remarks>
    public string CardOf(string customerId)
    {
        if (CustomerCards.TryGetValue(customerId, out var card))
        {
            return card;
        }

        var customer = Objects.GetValueOrDefault(customerId);
        if ((string?)customer?["invoice_settings"]?["default_payment_method"] is { } pm && PaymentMethodCards.TryGetValue(pm, out var defaultCard))
        {
            return defaultCard;
        }

        var attached = All("payment_method").FirstOrDefault(p => (string?)p["customer"] == customerId);
        return attached is not null && PaymentMethodCards.TryGetValue((string)attached["id"]!, out var attachedCard) ? attachedCard : "4242424242424242";
    }

    /// <summary>Stripe's English wording of a declined charge, by decline code.</summary>
    public static StripeApiError CardError(string declineCode) => declineCode switch
    {
        "insufficient_funds" => new(402, "card_error", "Your card has insufficient funds.", "card_declined", declineCode: declineCode),
        "expired_card" => new(402, "card_error", "Your card has expired.", "expired_card", "exp_month", declineCode),
        "incorrect_cvc" => new(402, "card_error", "Your card's security code is incorrect.", "incorrect_cvc", "cvc", declineCode),
        "incorrect_number" => new(402, "card_error", "Your card number is incorrect.", "incorrect_number", "number", declineCode),
        _ => new(402, "card_error", "Your card was declined.", "card_declined", declineCode: declineCode),
    };

    /// <summary>The current period ends: a subscription set to cancel at period end is deleted, any other renews with a paid invoice.</summary>
    public void AdvancePeriod(Mutation m, JsonObject subscription)
    {
        RequireLive(subscription);
        if ((bool?)subscription["cancel_at_period_end"] == true)
        {
            var end = SubscriptionItems(subscription).OfType<JsonObject>().Min(i => StripeState.Long(i["current_period_end"]));
            Cancel(m, subscription, "cancellation_requested", null, end);
            return;
        }

        var before = (JsonObject)subscription.DeepClone();
        AdvanceItems(subscription);
        var customer = Objects[(string)subscription["customer"]!];
        var invoice = CreateInvoice(subscription, "subscription_cycle", SubscriptionAmount(subscription), paid: false, customer);
        subscription["latest_invoice"] = invoice["id"]?.DeepClone();
        subscription["status"] = "active";
        subscription["trial_end"] = before["trial_end"]?.DeepClone();
        PayInvoice(m, invoice);
        Emit(m, "customer.subscription.updated", subscription, Diff(before, subscription));
    }

    public void Cancel(Mutation m, JsonObject subscription, string reason, string? comment, long? at = null)
    {
        var now = at ?? Now();
        subscription["status"] = "canceled";
        subscription["canceled_at"] = now;
        subscription["ended_at"] = now;
        subscription["cancellation_details"] = new JsonObject { ["comment"] = comment, ["feedback"] = null, ["reason"] = reason };
        Emit(m, "customer.subscription.deleted", subscription);
    }

    private static void AdvanceItems(JsonObject subscription)
    {
        // A new array (not in-place edits) so that Diff sees "items" as changed.
        var items = (JsonObject)subscription["items"]!.DeepClone();
        foreach (var item in ((JsonArray)items["data"]!).OfType<JsonObject>())
        {
            var start = StripeState.Long(item["current_period_end"]);
            var recurring = item["price"]!["recurring"];
            item["current_period_start"] = start;
            item["current_period_end"] = PeriodEnd(start, (string?)recurring?["interval"] ?? "month", StripeState.LongOrNull(recurring?["interval_count"]) ?? 1);
        }

        subscription["items"] = items;
    }

    private static void RequireLive(JsonObject subscription)
    {
        if ((string?)subscription["status"] is "canceled" or "incomplete_expired")
        {
            throw StripeApiError.Invalid("subscription", $"Subscription {(string?)subscription["id"]} is {(string?)subscription["status"]}.");
        }
    }

    public JsonObject Refund(Mutation m, JsonObject charge, long? amount, string? reason, IDictionary<string, string>? metadata)
    {
        var total = StripeState.Long(charge["amount"]);
        var refunded = StripeState.Long(charge["amount_refunded"]);
        if (refunded >= total)
        {
            throw new StripeApiError(400, "invalid_request_error", $"Charge {(string?)charge["id"]} has already been refunded.", "charge_already_refunded");
        }

        var value = amount ?? total - refunded;
        var currency = (string)charge["currency"]!;
        if (value <= 0)
        {
            throw StripeApiError.Invalid("amount", "This value must be greater than or equal to 1.");
        }

        if (value > total - refunded)
        {
            throw new StripeApiError(400, "invalid_request_error",
                $"Refund amount ({Money(value, currency)}) is greater than unrefunded amount on charge ({Money(total - refunded, currency)})",
                "amount_too_large", "amount");
        }

        var before = (JsonObject)charge.DeepClone();
        var refund = Add(new JsonObject
        {
            ["id"] = NewId("re_"),
            ["object"] = "refund",
            ["amount"] = value,
            ["balance_transaction"] = NewId("txn_"),
            ["charge"] = charge["id"]?.DeepClone(),
            ["created"] = Now(),
            ["currency"] = currency,
            ["destination_details"] = new JsonObject { ["card"] = new JsonObject { ["type"] = "refund" }, ["type"] = "card" },
            ["metadata"] = Metadata(metadata),
            ["payment_intent"] = charge["payment_intent"]?.DeepClone(),
            ["reason"] = reason,
            ["receipt_number"] = null,
            ["source_transfer_reversal"] = null,
            ["status"] = "succeeded",
            ["transfer_reversal"] = null,
        });
        charge["amount_refunded"] = refunded + value;
        charge["refunded"] = refunded + value == total;
        Emit(m, "charge.refunded", charge, Diff(before, charge));
        Emit(m, "refund.created", refund);
        return refund;
    }

    public JsonObject CreatePortalSession(string customerId, string? returnUrl, string? locale, string? configuration)
    {
        var id = NewId("bps_");
        return Add(new JsonObject
        {
            ["id"] = id,
            ["object"] = "billing_portal.session",
            ["configuration"] = configuration ?? "bpc_sajet_simulator_default",
            ["created"] = Now(),
            ["customer"] = customerId,
            ["flow"] = null,
            ["livemode"] = false,
            ["locale"] = locale,
            ["on_behalf_of"] = null,
            ["return_url"] = returnUrl,
            ["url"] = $"{BaseUrl}/p/session/{id}",
        });
    }

    /// <summary>An invoice line of a subscription item (Stripe's line_item shape), for renewals and prorations alike.</summary>
    private JsonObject InvoiceLine(JsonNode? amount, JsonNode? currency, JsonNode? description, bool discountable, string? invoiceId,
        JsonNode? invoiceItem, bool proration, JsonNode? subscription, JsonNode? subscriptionItem, JsonNode? period, JsonNode? pricing, JsonNode? quantity) => new()
    {
        ["id"] = NewId("il_"),
        ["object"] = "line_item",
        ["amount"] = amount,
        ["currency"] = currency,
        ["description"] = description,
        ["discount_amounts"] = new JsonArray(),
        ["discountable"] = discountable,
        ["discounts"] = new JsonArray(),
        ["invoice"] = invoiceId,
        ["livemode"] = false,
        ["metadata"] = new JsonObject(),
        ["parent"] = new JsonObject
        {
            ["invoice_item_details"] = null,
            ["subscription_item_details"] = new JsonObject
            {
                ["invoice_item"] = invoiceItem,
                ["proration"] = proration,
                ["proration_details"] = new JsonObject { ["credited_items"] = null },
                ["subscription"] = subscription,
                ["subscription_item"] = subscriptionItem,
            },
            ["type"] = "subscription_item_details",
        },
        ["period"] = period,
        ["pricing"] = pricing,
        ["quantity"] = quantity,
        ["taxes"] = new JsonArray(),
    };
}
