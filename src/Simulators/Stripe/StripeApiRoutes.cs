using System.Text.Json;
using System.Text.Json.Nodes;
using static Sajet.Simulators.Stripe.StripeParams;

namespace Sajet.Simulators.Stripe;

// Operations, run under the state lock. Known-parameter lists come from the 2026-07-29.dahlia
// "latest" blocks of stripe-api-subset.json; refunds and the invoice list follow Stripe's public docs.
internal sealed partial class StripeApi
{
    private static readonly string[] CustomerParams =
        ["address", "balance", "business_name", "cash_balance", "description", "email", "expand", "individual_name", "invoice_prefix",
         "invoice_settings", "metadata", "name", "next_invoice_sequence", "payment_method", "phone", "preferred_locales", "shipping",
         "source", "tax", "tax_exempt", "tax_id_data", "test_clock", "validate"];

    private static readonly string[] CheckoutParams =
        ["adaptive_pricing", "after_expiration", "allow_promotion_codes", "automatic_tax", "billing_address_collection", "branding_settings",
         "cancel_url", "client_reference_id", "consent_collection", "currency", "custom_fields", "custom_text", "customer", "customer_account",
         "customer_creation", "customer_email", "customer_update", "discounts", "excluded_payment_method_types", "expand", "expires_at",
         "integration_identifier", "invoice_creation", "line_items", "locale", "managed_payments", "metadata", "mode", "name_collection",
         "optional_items", "origin_context", "payment_intent_data", "payment_method_collection", "payment_method_configuration",
         "payment_method_data", "payment_method_options", "payment_method_types", "permissions", "phone_number_collection",
         "redirect_on_completion", "return_url", "saved_payment_method_options", "setup_intent_data", "shipping_address_collection",
         "shipping_options", "submit_type", "subscription_data", "success_url", "tax_id_collection", "ui_mode", "wallet_options"];

    private static readonly string[] LineItemParams = ["adjustable_quantity", "dynamic_tax_rates", "metadata", "price", "price_data", "quantity", "tax_rates"];
    private static readonly string[] PriceDataParams = ["currency", "product", "product_data", "recurring", "tax_behavior", "unit_amount", "unit_amount_decimal"];

    private static readonly string[] SubscriptionUpdateParams =
        ["add_invoice_items", "application_fee_percent", "automatic_tax", "billing_cycle_anchor", "billing_schedules", "billing_thresholds",
         "cancel_at", "cancel_at_period_end", "cancellation_details", "collection_method", "days_until_due", "default_payment_method",
         "default_source", "default_tax_rates", "description", "discounts", "expand", "invoice_settings", "items", "metadata", "off_session",
         "on_behalf_of", "pause_collection", "payment_behavior", "payment_settings", "pending_invoice_item_interval", "proration_behavior",
         "proration_date", "transfer_data", "trial_end", "trial_from_plan", "trial_settings"];

    private static readonly string[] RefundParams =
        ["amount", "charge", "currency", "customer", "expand", "instructions_email", "metadata", "origin", "payment_intent", "reason",
         "refund_application_fee", "reverse_transfer"];

    private static readonly string[] PriceParams =
        ["active", "billing_scheme", "currency", "currency_options", "custom_unit_amount", "expand", "lookup_key", "metadata", "nickname",
         "product", "product_data", "recurring", "tax_behavior", "tiers", "tiers_mode", "transfer_lookup_key", "transform_quantity",
         "unit_amount", "unit_amount_decimal"];

    private static readonly string[] ProductParams =
        ["active", "default_price_data", "description", "expand", "id", "images", "marketing_features", "metadata", "name",
         "package_dimensions", "shippable", "statement_descriptor", "tax_code", "type", "unit_label", "url"];

    private (int, JsonObject) Route(Req r)
    {
        if (RouteClocks(r) is { } handled)
        {
            return handled;
        }

        var p = r.Path;
        return (r.Method, p.Length > 1 ? p[1] : "", p.Length) switch
        {
            ("POST", "customers", 2) => Ok(CreateCustomer(r)),
            ("GET", "customers", 2) => Ok(List(r, "customer", "/v1/customers", ["email"], o => Str(r.Params, "email") is not { } e || (string?)o["email"] == e)),
            ("GET", "customers", 3) => Ok(Get(r, p[2], "customer")),
            ("POST", "checkout", 3) when p[2] == "sessions" => Ok(CreateCheckoutSession(r)),
            ("GET", "checkout", 3) when p[2] == "sessions" => Ok(List(r, "checkout.session", "/v1/checkout/sessions", ["customer", "subscription", "status", "payment_intent"],
                o => Matches(o, r.Params, "customer", "subscription", "status", "payment_intent"))),
            ("GET", "checkout", 4) when p[2] == "sessions" => Ok(Get(r, p[3], "checkout.session")),
            ("POST", "checkout", 5) when p[2] == "sessions" && p[4] == "expire" => Ok(ExpireSession(r, p[3])),
            ("GET", "checkout", 5) when p[2] == "sessions" && p[4] == "line_items" => Ok(LineItems(r, p[3])),
            ("POST", "billing_portal", 3) when p[2] == "sessions" => Ok(CreatePortalSession(r)),
            ("GET", "subscriptions", 2) => Ok(List(r, "subscription", "/v1/subscriptions", ["customer", "status", "price"], o => SubscriptionMatches(o, r.Params))),
            ("GET", "subscriptions", 3) => Ok(Get(r, p[2], "subscription")),
            ("POST", "subscriptions", 3) => Ok(UpdateSubscription(r, p[2])),
            ("DELETE", "subscriptions", 3) => Ok(CancelSubscription(r, p[2])),
            ("GET", "invoices", 2) => Ok(List(r, "invoice", "/v1/invoices", ["customer", "subscription", "status", "collection_method", "created", "due_date"], o => InvoiceMatches(o, r.Params))),
            ("GET", "invoices", 3) => Ok(Get(r, p[2], "invoice")),
            ("POST", "invoices", 4) when p[3] == "pay" => PayInvoice(r, p[2]),
            ("POST", "refunds", 2) => Ok(CreateRefund(r)),
            ("GET", "refunds", 3) => Ok(Get(r, p[2], "refund")),
            ("GET", "payment_intents", 3) => Ok(Get(r, p[2], "payment_intent")),
            ("GET", "charges", 3) => Ok(Get(r, p[2], "charge")),
            ("GET", "events", 2) => Ok(ListEvents(r)),
            ("GET", "events", 3) => Ok(GetEvent(r, p[2])),
            ("POST", "products", 2) => Ok(CreateProduct(r)),
            ("GET", "products", 3) => Ok(Get(r, p[2], "product")),
            ("POST", "prices", 2) => Ok(CreatePrice(r)),
            ("GET", "prices", 2) => Ok(List(r, "price", "/v1/prices", ["active", "currency", "lookup_keys", "product", "type", "recurring", "created"], o => PriceMatches(o, r.Params))),
            ("GET", "prices", 3) => Ok(Get(r, p[2], "price")),
            _ => throw new StripeApiError(404, "invalid_request_error",
                $"Unrecognized request URL ({r.Method}: /{string.Join('/', p)}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/."),
        };
    }

    private static (int, JsonObject) Ok(JsonObject body) => (200, body);

    private JsonObject Get(Req r, string id, string objectType)
    {
        RejectUnknown(r.Params, ["expand"]);
        var obj = state.Find(id, objectType) ?? throw StripeApiError.NoSuchPath(objectType, id);
        return state.Render(obj, r.Expand);
    }

    private JsonObject List(Req r, string objectType, string url, string[] filters, Func<JsonObject, bool> predicate) =>
        Page(r, [.. state.All(objectType).Where(predicate)], url, filters);

    private JsonObject Page(Req r, List<JsonObject> items, string url, string[] filters)
    {
        RejectUnknown(r.Params, [.. Pagination, .. filters]);
        var limit = Int(r.Params, "limit") ?? 10;
        if (limit is < 1 or > 100)
        {
            throw StripeApiError.Invalid("limit", limit < 1 ? "This value must be greater than or equal to 1." : "This value must be less than or equal to 100.");
        }

        var start = 0;
        var end = items.Count;
        if (Str(r.Params, "starting_after") is { } after)
        {
            var index = items.FindIndex(o => (string?)o["id"] == after);
            start = index < 0 ? throw StripeApiError.Invalid("starting_after", $"No such object: '{after}'", "resource_missing") : index + 1;
        }
        else if (Str(r.Params, "ending_before") is { } before)
        {
            var index = items.FindIndex(o => (string?)o["id"] == before);
            end = index < 0 ? throw StripeApiError.Invalid("ending_before", $"No such object: '{before}'", "resource_missing") : index;
            start = Math.Max(0, end - (int)limit);
        }

        var page = items.Skip(start).Take(Math.Min((int)limit, end - start)).ToList();
        var hasMore = Str(r.Params, "ending_before") is not null ? start > 0 : start + page.Count < end;
        var list = StripeState.ListEnvelope(page, url, hasMore);
        return state.Render(list, r.Expand);
    }

    private static bool Matches(JsonObject o, JsonObject p, params string[] fields) =>
        fields.All(f => Str(p, f) is not { } wanted || (string?)o[f] == wanted);

    private static bool SubscriptionMatches(JsonObject o, JsonObject p)
    {
        var status = Str(p, "status");
        var statusOk = status switch
        {
            null => (string?)o["status"] != "canceled",
            "all" => true,
            _ => (string?)o["status"] == status,
        };
        var price = Str(p, "price");
        return statusOk && Matches(o, p, "customer")
            && (price is null || ((JsonArray)o["items"]!["data"]!).Any(i => (string?)i!["price"]!["id"] == price));
    }

    private static bool InvoiceMatches(JsonObject o, JsonObject p) =>
        Matches(o, p, "customer", "status", "collection_method")
        && (Str(p, "subscription") is not { } sub || (string?)o["parent"]?["subscription_details"]?["subscription"] == sub)
        && CreatedMatches(o, p);

    private static bool PriceMatches(JsonObject o, JsonObject p)
    {
        var keys = StrList(p, "lookup_keys");
        return Matches(o, p, "currency", "product", "type")
            && (Bool(p, "active") is not { } active || (bool)o["active"]! == active)
            && (keys.Count == 0 || keys.Contains((string?)o["lookup_key"] ?? "\0"))
            && (Obj(p, "recurring") is not { } rec || Str(rec, "interval") is not { } interval || (string?)o["recurring"]?["interval"] == interval);
    }

    private static bool CreatedMatches(JsonObject o, JsonObject p)
    {
        var created = StripeState.Long(o["created"]);
        if (p["created"] is JsonValue)
        {
            return created == Int(p, "created");
        }

        if (Obj(p, "created") is not { } range)
        {
            return true;
        }

        RejectUnknown(range, ["gt", "gte", "lt", "lte"], "created");
        return (Int(range, "gt", "created[gt]") is not { } gt || created > gt)
            && (Int(range, "gte", "created[gte]") is not { } gte || created >= gte)
            && (Int(range, "lt", "created[lt]") is not { } lt || created < lt)
            && (Int(range, "lte", "created[lte]") is not { } lte || created <= lte);
    }

    // ---- customers, products, prices ----------------------------------------------------------

    private JsonObject CreateCustomer(Req r)
    {
        RejectUnknown(r.Params, CustomerParams);
        JsonObject? clock = null;
        if (Str(r.Params, "test_clock") is { } clockId)
        {
            clock = state.Find(clockId, "test_helpers.test_clock") ?? throw StripeApiError.NoSuchParam("test_helpers.test_clock", clockId, "test_clock");
        }

        var customer = state.CreateCustomer(r.M, Str(r.Params, "email"), Str(r.Params, "name"), Str(r.Params, "phone"),
            Str(r.Params, "description"), Metadata(r.Params), StrList(r.Params, "preferred_locales"), clock);
        using (state.EnterClock((string)customer["id"]!))
        {
            ApplyPaymentSettings(r, customer);
        }

        // customer.created shows the customer as the request left it, default payment method included.
        foreach (var record in r.M.Events.Where(e => e.Type == "customer.created"))
        {
            record.Body["data"]!["object"] = customer.DeepClone();
        }

        return state.Render(customer, r.Expand);
    }

    private JsonObject CreateProduct(Req r)
    {
        RejectUnknown(r.Params, ProductParams);
        var id = Str(r.Params, "id");
        if (id is not null && state.Objects.ContainsKey(id))
        {
            throw new StripeApiError(400, "invalid_request_error", $"Product already exists.", "resource_already_exists", "id");
        }

        var product = state.CreateProduct(id, Required(r.Params, "name"), Str(r.Params, "description"), Bool(r.Params, "active") ?? true, Metadata(r.Params));
        return state.Render(product, r.Expand);
    }

    private JsonObject CreatePrice(Req r)
    {
        RejectUnknown(r.Params, PriceParams);
        var currency = Required(r.Params, "currency").ToLowerInvariant();
        var productId = Str(r.Params, "product");
        if (productId is not null && state.Find(productId, "product") is null)
        {
            throw StripeApiError.NoSuchParam("product", productId, "product");
        }

        if (productId is null)
        {
            var productData = Obj(r.Params, "product_data") ?? throw StripeApiError.Missing("product");
            productId = (string)state.CreateProduct(null, Required(productData, "name", "product_data[name]"), null, true, Metadata(productData, "metadata", "product_data[metadata]"))["id"]!;
        }

        var unitAmount = Int(r.Params, "unit_amount") ?? throw StripeApiError.Missing("unit_amount");
        var recurring = Obj(r.Params, "recurring");
        var interval = recurring is null ? null : IntervalOf(recurring, "recurring");
        var lookupKey = Str(r.Params, "lookup_key");
        if (lookupKey is not null && Bool(r.Params, "transfer_lookup_key") != true && state.All("price").Any(x => (string?)x["lookup_key"] == lookupKey))
        {
            throw StripeApiError.Invalid("lookup_key", $"A price (`{(string?)state.All("price").First(x => (string?)x["lookup_key"] == lookupKey)["id"]}`) already uses that lookup key.");
        }

        var price = state.CreatePrice(currency, unitAmount, productId, interval,
            recurring is null ? 1 : Int(recurring, "interval_count", "recurring[interval_count]") ?? 1, lookupKey, Str(r.Params, "nickname"),
            Bool(r.Params, "active") ?? true, Metadata(r.Params));
        return state.Render(price, r.Expand);
    }

    private static string IntervalOf(JsonObject recurring, string prefix)
    {
        var interval = Str(recurring, "interval", $"{prefix}[interval]") ?? throw StripeApiError.Missing($"{prefix}[interval]");
        return interval is "day" or "week" or "month" or "year"
            ? interval
            : throw StripeApiError.Invalid($"{prefix}[interval]", $"Invalid {prefix}[interval]: must be one of day, week, month, or year");
    }

    // ---- checkout -----------------------------------------------------------------------------

    private JsonObject CreateCheckoutSession(Req r)
    {
        var p = r.Params;
        RejectUnknown(p, CheckoutParams);
        var mode = Enum(p, "mode", "payment", "setup", "subscription") ?? "payment";
        var customer = Str(p, "customer");
        var customerEmail = Str(p, "customer_email");
        if (customer is not null && customerEmail is not null)
        {
            throw StripeApiError.Invalid("customer_email", "You may only specify one of these parameters: customer, customer_email.");
        }

        if (customer is not null && state.Find(customer, "customer") is null)
        {
            throw StripeApiError.NoSuchParam("customer", customer, "customer");
        }

        foreach (var urlParam in new[] { "success_url", "cancel_url" })
        {
            if (Str(p, urlParam) is { } url && !IsUrl(url))
            {
                throw StripeApiError.Invalid(urlParam, "Not a valid URL", "url_invalid");
            }
        }

        var items = ObjList(p, "line_items");
        if (items.Count == 0 && mode != "setup")
        {
            throw StripeApiError.Missing("line_items");
        }

        var lineItems = new List<(JsonObject, long)>();
        for (var i = 0; i < items.Count; i++)
        {
            lineItems.Add(LineItem(items[i], $"line_items[{i}]", mode));
        }

        if (mode == "subscription" && !lineItems.Any(li => li.Item1["recurring"] is JsonObject))
        {
            throw StripeApiError.Invalid("line_items", "You must specify at least one recurring price in `subscription` mode when using prices.");
        }

        var subscriptionData = Obj(p, "subscription_data") ?? new JsonObject();
        if (mode != "subscription" && p["subscription_data"] is not null)
        {
            throw StripeApiError.Invalid("subscription_data", "You can only specify `subscription_data` in `subscription` mode.");
        }

        var trialDays = Int(subscriptionData, "trial_period_days", "subscription_data[trial_period_days]");
        if (trialDays is < 1 or > 730)
        {
            throw StripeApiError.Invalid("subscription_data[trial_period_days]", "The trial period must be between 1 and 730 days.");
        }

        var subMetadata = Metadata(subscriptionData, "metadata", "subscription_data[metadata]");
        var data = new JsonObject { ["metadata"] = StripeState.Metadata(subMetadata), ["trial_period_days"] = trialDays?.ToString(System.Globalization.CultureInfo.InvariantCulture) };

        var now = state.Now();
        var expiresAt = Int(p, "expires_at");
        if (expiresAt is { } at && (at < now + 30 * 60 || at > now + 24 * 3600))
        {
            throw StripeApiError.Invalid("expires_at", "The `expires_at` timestamp must be between 30 minutes and 24 hours from Checkout Session creation.");
        }

        var session = state.CreateCheckoutSession(mode, customer, customerEmail, Str(p, "client_reference_id"), Str(p, "success_url"),
            Str(p, "cancel_url"), Metadata(p), lineItems, data, expiresAt, Str(p, "locale"));
        return state.Render(session, r.Expand);
    }

    private (JsonObject Price, long Quantity) LineItem(JsonObject item, string name, string mode)
    {
        RejectUnknown(item, LineItemParams, name);
        var quantity = Int(item, "quantity", $"{name}[quantity]") ?? 1;
        if (quantity < 1)
        {
            throw StripeApiError.Invalid($"{name}[quantity]", "This value must be greater than or equal to 1.");
        }

        JsonObject price;
        var priceId = Str(item, "price", $"{name}[price]");
        var priceData = Obj(item, "price_data");
        if ((priceId is null) == (priceData is null))
        {
            throw StripeApiError.Invalid(name, $"You must specify exactly one of `{name}[price]` or `{name}[price_data]`.");
        }

        if (priceId is not null)
        {
            price = state.Find(priceId, "price") ?? throw StripeApiError.NoSuchParam("price", priceId, $"{name}[price]");
        }
        else
        {
            RejectUnknown(priceData!, PriceDataParams, $"{name}[price_data]");
            var currency = Str(priceData!, "currency", $"{name}[price_data][currency]") ?? throw StripeApiError.Missing($"{name}[price_data][currency]");
            var amount = Int(priceData!, "unit_amount", $"{name}[price_data][unit_amount]") ?? throw StripeApiError.Missing($"{name}[price_data][unit_amount]");
            var productId = Str(priceData!, "product", $"{name}[price_data][product]");
            if (productId is not null && state.Find(productId, "product") is null)
            {
                throw StripeApiError.NoSuchParam("product", productId, $"{name}[price_data][product]");
            }

            if (productId is null)
            {
                var productData = Obj(priceData!, "product_data") ?? throw StripeApiError.Missing($"{name}[price_data][product_data]");
                productId = (string)state.CreateProduct(null, Required(productData, "name", $"{name}[price_data][product_data][name]"),
                    Str(productData, "description"), true, Metadata(productData, "metadata", $"{name}[price_data][product_data][metadata]"))["id"]!;
            }

            var recurring = Obj(priceData!, "recurring");
            var interval = recurring is null ? null : IntervalOf(recurring, $"{name}[price_data][recurring]");
            price = state.CreatePrice(currency.ToLowerInvariant(), amount, productId, interval,
                recurring is null ? 1 : Int(recurring, "interval_count", $"{name}[price_data][recurring][interval_count]") ?? 1, null, null, true, null);
        }

        if (mode == "payment" && price["recurring"] is JsonObject)
        {
            throw StripeApiError.Invalid(name,
                "You specified `payment` mode but passed a recurring price. Either switch to `subscription` mode or use only one-time prices.");
        }

        return (price, quantity);
    }

    private JsonObject ExpireSession(Req r, string id)
    {
        RejectUnknown(r.Params, ["expand"]);
        var session = state.Find(id, "checkout.session") ?? throw StripeApiError.NoSuchPath("checkout.session", id);
        state.ExpireSession(r.M, session);
        return state.Render(session, r.Expand);
    }

    private JsonObject LineItems(Req r, string id)
    {
        _ = state.Find(id, "checkout.session") ?? throw StripeApiError.NoSuchPath("checkout.session", id);
        var items = state.SessionLineItems.GetValueOrDefault(id) ?? [];
        return Page(r, [.. items.OfType<JsonObject>()], $"/v1/checkout/sessions/{id}/line_items", []);
    }

    private JsonObject CreatePortalSession(Req r)
    {
        RejectUnknown(r.Params, ["configuration", "customer", "customer_account", "expand", "flow_data", "locale", "on_behalf_of", "return_url"]);
        var customer = Required(r.Params, "customer");
        if (state.Find(customer, "customer") is null)
        {
            throw StripeApiError.NoSuchParam("customer", customer, "customer");
        }

        if (Str(r.Params, "return_url") is { } url && !IsUrl(url))
        {
            throw StripeApiError.Invalid("return_url", "Not a valid URL", "url_invalid");
        }

        var session = state.CreatePortalSession(customer, Str(r.Params, "return_url"), Str(r.Params, "locale"), Str(r.Params, "configuration"));
        return state.Render(session, r.Expand);
    }

    // ---- subscriptions ------------------------------------------------------------------------

    private JsonObject UpdateSubscription(Req r, string id)
    {
        var p = r.Params;
        RejectUnknown(p, SubscriptionUpdateParams);
        var subscription = state.Find(id, "subscription") ?? throw StripeApiError.NoSuchPath("subscription", id);
        var canceled = (string?)subscription["status"] == "canceled";
        if (canceled && p.Select(kv => kv.Key).Any(k => k is not ("metadata" or "cancellation_details" or "expand")))
        {
            throw StripeApiError.Invalid(p.First(kv => kv.Key is not ("metadata" or "cancellation_details" or "expand")).Key,
                "A canceled subscription can only update its cancellation_details and metadata.");
        }

        var proration = Enum(p, "proration_behavior", "always_invoice", "create_prorations", "none") ?? "create_prorations";
        var paymentBehavior = Enum(p, "payment_behavior", "allow_incomplete", "default_incomplete", "error_if_incomplete", "pending_if_incomplete");
        using var clock = state.EnterClock((string?)subscription["customer"]);
        var prorationDate = Int(p, "proration_date") ?? state.Now();
        var customerId = (string)subscription["customer"]!;
        var newPaymentMethod = Str(p, "default_payment_method");
        if (proration == "always_invoice" && paymentBehavior == "error_if_incomplete")
        {
            // Checked before anything changes: a declined charge fails the request and leaves the subscription as it was.
            var trial = (JsonObject)subscription.DeepClone();
            var changes = ObjList(p, "items");
            if (changes.Count > 0)
            {
                trial["items"] = UpdatedItems(trial, changes);
            }

            var due = state.ProrationAmountDue(trial, (JsonArray)subscription["items"]!["data"]!, prorationDate);
            var card = newPaymentMethod is null ? state.CardFor(customerId, subscription) : state.PeekCard(newPaymentMethod) ?? state.CardFor(customerId, subscription);
            if (due > 0 && StripeSimulatorControl.CardOutcome(card).DeclineCode is { } declineCode)
            {
                throw StripeState.CardError(declineCode);
            }
        }

        var before = (JsonObject)subscription.DeepClone();
        if (p["default_payment_method"] is not null)
        {
            subscription["default_payment_method"] = newPaymentMethod is null ? null
                : (string)state.AttachPaymentMethod(newPaymentMethod, customerId, "default_payment_method")["id"]!;
        }

        if (Bool(p, "cancel_at_period_end") is { } atPeriodEnd)
        {
            subscription["cancel_at_period_end"] = atPeriodEnd;
            subscription["cancel_at"] = atPeriodEnd ? PeriodEndOf(subscription) : null;
            subscription["canceled_at"] = atPeriodEnd ? state.Now() : null;
        }

        if (p["cancel_at"] is not null)
        {
            var raw = p["cancel_at"] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;
            subscription["cancel_at"] = raw switch
            {
                "" => null,
                "max_period_end" or "min_period_end" => PeriodEndOf(subscription),
                _ => Int(p, "cancel_at"),
            };
        }

        if (p["metadata"] is not null)
        {
            var metadata = (JsonObject)subscription["metadata"]!;
            if (Obj(p, "metadata") is null)
            {
                metadata.Clear();
            }

            foreach (var (k, v) in Metadata(p) ?? [])
            {
                if (v.Length == 0)
                {
                    metadata.Remove(k);
                }
                else
                {
                    metadata[k] = v;
                }
            }

            // Replace the node so that previous_attributes sees the change.
            subscription["metadata"] = metadata.DeepClone();
        }

        if (Str(p, "description") is { } description)
        {
            subscription["description"] = description;
        }

        if (Obj(p, "cancellation_details") is { } details)
        {
            var current = (JsonObject)subscription["cancellation_details"]!.DeepClone();
            if (details["comment"] is not null)
            {
                current["comment"] = Str(details, "comment", "cancellation_details[comment]");
            }

            if (details["feedback"] is not null)
            {
                current["feedback"] = Str(details, "feedback", "cancellation_details[feedback]");
            }

            subscription["cancellation_details"] = current;
        }

        var items = ObjList(p, "items");
        if (items.Count > 0)
        {
            var oldItems = (JsonArray)subscription["items"]!["data"]!.DeepClone();
            subscription["items"] = UpdatedItems(subscription, items);
            // Nothing was charged for a trial, so nothing is credited or charged for changing it.
            if (proration != "none" && (string?)subscription["status"] != "trialing")
            {
                state.Prorate(r.M, subscription, oldItems, (JsonArray)subscription["items"]!["data"]!, prorationDate, store: true);
            }

            // Like Stripe with the default payment_behavior (allow_incomplete): a declined proration charge keeps the change and makes the subscription past_due.
            if (proration == "always_invoice")
            {
                state.InvoiceProrationsNow(r.M, subscription);
            }
        }

        var previous = StripeState.Diff(before, subscription);
        if (previous.Count > 0)
        {
            state.Emit(r.M, "customer.subscription.updated", subscription, previous);
        }

        return state.Render(subscription, r.Expand);
    }

    private static long? PeriodEndOf(JsonObject subscription) =>
        ((JsonArray)subscription["items"]!["data"]!).OfType<JsonObject>().Select(i => StripeState.LongOrNull(i["current_period_end"])).Min();

    private JsonObject UpdatedItems(JsonObject subscription, List<JsonObject> updates)
    {
        var list = (JsonObject)subscription["items"]!.DeepClone();
        var data = (JsonArray)list["data"]!;
        var subscriptionId = (string)subscription["id"]!;
        for (var i = 0; i < updates.Count; i++)
        {
            var u = updates[i];
            var name = $"items[{i}]";
            RejectUnknown(u, ["billing_thresholds", "clear_usage", "deleted", "discounts", "id", "metadata", "plan", "price", "price_data", "quantity", "tax_rates"], name);
            var itemId = Str(u, "id", $"{name}[id]");
            var existing = itemId is null ? null : data.OfType<JsonObject>().FirstOrDefault(x => (string?)x["id"] == itemId)
                ?? throw StripeApiError.NoSuchParam("subscription_item", itemId, $"{name}[id]");
            if (Bool(u, "deleted", $"{name}[deleted]") == true)
            {
                if (existing is null)
                {
                    throw StripeApiError.Missing($"{name}[id]");
                }

                data.Remove(existing);
                continue;
            }

            var priceId = Str(u, "price", $"{name}[price]");
            JsonObject? price = null;
            if (priceId is not null)
            {
                price = state.Find(priceId, "price") ?? throw StripeApiError.NoSuchParam("price", priceId, $"{name}[price]");
            }
            else if (Obj(u, "price_data") is { } priceData)
            {
                var productId = Required(priceData, "product", $"{name}[price_data][product]");
                if (state.Find(productId, "product") is null)
                {
                    throw StripeApiError.NoSuchParam("product", productId, $"{name}[price_data][product]");
                }

                var recurring = Obj(priceData, "recurring") ?? throw StripeApiError.Missing($"{name}[price_data][recurring]");
                price = state.CreatePrice(Required(priceData, "currency", $"{name}[price_data][currency]"),
                    Int(priceData, "unit_amount", $"{name}[price_data][unit_amount]") ?? throw StripeApiError.Missing($"{name}[price_data][unit_amount]"),
                    productId, IntervalOf(recurring, $"{name}[price_data][recurring]"), Int(recurring, "interval_count") ?? 1, null, null, true, null);
            }

            var quantity = Int(u, "quantity", $"{name}[quantity]");
            if (existing is not null)
            {
                if (price is not null)
                {
                    existing["price"] = price.DeepClone();
                }

                if (quantity is not null)
                {
                    existing["quantity"] = quantity;
                }
            }
            else
            {
                if (price is null)
                {
                    throw StripeApiError.Missing($"{name}[price]");
                }

                var first = data.OfType<JsonObject>().FirstOrDefault();
                data.Add(new JsonObject
                {
                    ["id"] = state.NewId("si_", 14),
                    ["object"] = "subscription_item",
                    ["created"] = state.Now(),
                    ["current_period_end"] = first?["current_period_end"]?.DeepClone() ?? StripeState.PeriodEnd(state.Now(), "month", 1),
                    ["current_period_start"] = first?["current_period_start"]?.DeepClone() ?? state.Now(),
                    ["discounts"] = new JsonArray(),
                    ["metadata"] = new JsonObject(),
                    ["price"] = price.DeepClone(),
                    ["quantity"] = quantity ?? 1,
                    ["subscription"] = subscriptionId,
                    ["tax_rates"] = new JsonArray(),
                });
            }
        }

        if (data.Count == 0)
        {
            throw StripeApiError.Invalid("items", "A subscription must have at least one active plan. To cancel a subscription, send a DELETE request instead.");
        }

        list["total_count"] = data.Count;
        return list;
    }

    private JsonObject CancelSubscription(Req r, string id)
    {
        RejectUnknown(r.Params, ["cancellation_details", "expand", "invoice_now", "prorate"]);
        var subscription = state.Find(id, "subscription") ?? throw StripeApiError.NoSuchPath("subscription", id);
        if ((string?)subscription["status"] == "canceled")
        {
            throw StripeApiError.Invalid("subscription", $"This subscription ({id}) has already been canceled.");
        }

        Bool(r.Params, "invoice_now");
        Bool(r.Params, "prorate");
        var details = Obj(r.Params, "cancellation_details");
        state.Cancel(r.M, subscription, "cancellation_requested", details is null ? null : Str(details, "comment", "cancellation_details[comment]"));
        return state.Render(subscription, r.Expand);
    }

    private (int, JsonObject) PayInvoice(Req r, string id)
    {
        // paid_out_of_band, payment_method, source and mandate choose other ways to pay, which the simulator does not model.
        RejectUnknown(r.Params, ["expand", "off_session", "payment_method"]);
        Bool(r.Params, "off_session");
        var invoice = state.Find(id, "invoice") ?? throw StripeApiError.NoSuchPath("invoice", id);
        string? card = null;
        if (Str(r.Params, "payment_method") is { } pm)
        {
            // Paying with a payment method attaches it to the customer without making it the default.
            using var clock = state.EnterClock((string?)invoice["customer"]);
            card = state.CardOfPaymentMethod(pm, (string)invoice["customer"]!, "payment_method");
        }

        var (status, body) = state.PayNow(r.M, invoice, card);
        return (status, status == 200 ? state.Render(body, r.Expand) : body);
    }

    // ---- refunds, events ----------------------------------------------------------------------

    private JsonObject CreateRefund(Req r)
    {
        var p = r.Params;
        RejectUnknown(p, RefundParams);
        var chargeId = Str(p, "charge");
        var intentId = Str(p, "payment_intent");
        if (chargeId is null && intentId is null)
        {
            throw new StripeApiError(400, "invalid_request_error", "One of the following params should be provided for this request: payment_intent or charge.", "parameter_missing");
        }

        JsonObject charge;
        if (intentId is not null)
        {
            var intent = state.Find(intentId, "payment_intent") ?? throw StripeApiError.NoSuchParam("payment_intent", intentId, "payment_intent");
            charge = (string?)intent["latest_charge"] is { } latest ? state.Objects[latest]
                : throw StripeApiError.Invalid("payment_intent", $"This PaymentIntent ({intentId}) does not have a successful charge to refund.", "charge_not_refundable");
            if (chargeId is not null && chargeId != (string?)charge["id"])
            {
                throw StripeApiError.Invalid("charge", "The charge does not belong to that PaymentIntent.");
            }
        }
        else
        {
            charge = state.Find(chargeId!, "charge") ?? throw StripeApiError.NoSuchParam("charge", chargeId!, "charge");
        }

        var refund = state.Refund(r.M, charge, Int(p, "amount"), Enum(p, "reason", "duplicate", "fraudulent", "requested_by_customer"), Metadata(p));
        return state.Render(refund, r.Expand);
    }

    private JsonObject GetEvent(Req r, string id)
    {
        RejectUnknown(r.Params, ["expand"]);
        var record = state.EventsById.GetValueOrDefault(id) ?? throw StripeApiError.NoSuchPath("event", id);
        return EventJson(record);
    }

    private JsonObject ListEvents(Req r)
    {
        var p = r.Params;
        var type = Str(p, "type");
        var types = StrList(p, "types");
        if (type is not null && types.Count > 0)
        {
            throw StripeApiError.Invalid("types", "You may pass either `type` or `types`, but not both.");
        }

        var success = Bool(p, "delivery_success");
        var items = state.Events.AsEnumerable().Reverse()
            .Where(e => (type is null || TypeMatches(e.Type, type)) && (types.Count == 0 || types.Any(t => TypeMatches(e.Type, t))))
            .Where(e => success is null || (e.Pending.Count == 0) == success)
            .Select(EventJson)
            .Where(e => CreatedMatches(e, p))
            .ToList();
        return Page(r, items, "/v1/events", ["created", "delivery_success", "type", "types"]);
    }

    internal static JsonObject EventJson(EventRecord record)
    {
        var json = (JsonObject)record.Body.DeepClone();
        json["pending_webhooks"] = record.Pending.Count;
        return json;
    }

    private static bool TypeMatches(string type, string pattern) =>
        pattern.EndsWith('*') ? type.StartsWith(pattern[..^1], StringComparison.Ordinal) : type == pattern;
}
