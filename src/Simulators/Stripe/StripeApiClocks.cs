using System.Text.Json.Nodes;
using static Sajet.Simulators.Stripe.StripeParams;

namespace Sajet.Simulators.Stripe;

// Test clocks, payment methods, customer updates, subscriptions created over the API and invoice previews.
// Known-parameter lists are those of the 2026-07-29.dahlia "latest" blocks where stripe-api-subset.json has them,
// otherwise the subset the simulator models (an unknown parameter is a 400, so a client's typo shows).
internal sealed partial class StripeApi
{
    private static readonly string[] SubscriptionCreateParams =
        ["collection_method", "customer", "default_payment_method", "description", "expand", "items", "metadata", "off_session",
         "payment_behavior", "proration_behavior", "trial_period_days"];

    private static readonly string[] PreviewParams =
        ["automatic_tax", "currency", "customer", "customer_account", "customer_details", "discounts", "expand", "invoice_items", "issuer",
         "on_behalf_of", "preview_mode", "schedule", "schedule_details", "subscription", "subscription_details"];

    private (int, JsonObject)? RouteClocks(Req r)
    {
        var p = r.Path;
        return (r.Method, p.Length > 1 ? p[1] : "", p.Length) switch
        {
            ("POST", "customers", 3) => Ok(UpdateCustomer(r, p[2])),
            ("POST", "payment_methods", 4) when p[3] == "attach" => Ok(AttachPaymentMethod(r, p[2])),
            ("GET", "payment_methods", 3) => Ok(Get(r, p[2], "payment_method")),
            ("POST", "subscriptions", 2) => Ok(CreateSubscription(r)),
            ("POST", "subscription_items", 3) => Ok(UpdateSubscriptionItem(r, p[2])),
            ("POST", "invoices", 3) when p[2] == "create_preview" => Ok(CreatePreview(r)),
            ("GET", "invoiceitems", 3) => Ok(Get(r, p[2], "invoiceitem")),
            ("POST", "test_helpers", 3) when p[2] == "test_clocks" => Ok(CreateTestClock(r)),
            ("GET", "test_helpers", 3) when p[2] == "test_clocks" => Ok(List(r, "test_helpers.test_clock", "/v1/test_helpers/test_clocks", [], _ => true)),
            ("GET", "test_helpers", 4) when p[2] == "test_clocks" => Ok(Get(r, p[3], "test_helpers.test_clock")),
            ("DELETE", "test_helpers", 4) when p[2] == "test_clocks" => Ok(DeleteTestClock(r, p[3])),
            ("POST", "test_helpers", 5) when p[2] == "test_clocks" && p[4] == "advance" => Ok(AdvanceTestClock(r, p[3])),
            _ => null,
        };
    }

    // ---- test clocks --------------------------------------------------------------------------

    private JsonObject CreateTestClock(Req r)
    {
        RejectUnknown(r.Params, ["customer", "expand", "frozen_time", "name"]);
        var frozen = Int(r.Params, "frozen_time") ?? throw StripeApiError.Missing("frozen_time");
        var clock = state.CreateTestClock(frozen, Str(r.Params, "name"));
        if (Str(r.Params, "customer") is { } customerId)
        {
            var customer = state.Find(customerId, "customer") ?? throw StripeApiError.NoSuchParam("customer", customerId, "customer");
            if (customer["test_clock"] is not null)
            {
                throw StripeApiError.Invalid("customer", $"Customer {customerId} is already attached to a test clock.");
            }

            customer["test_clock"] = clock["id"]?.DeepClone();
        }

        return state.Render(clock, r.Expand);
    }

    private JsonObject AdvanceTestClock(Req r, string id)
    {
        RejectUnknown(r.Params, ["expand", "frozen_time"]);
        var clock = state.Find(id, "test_helpers.test_clock") ?? throw StripeApiError.NoSuchPath("test_helpers.test_clock", id);
        var target = Int(r.Params, "frozen_time") ?? throw StripeApiError.Missing("frozen_time");
        return state.Render(state.AdvanceTestClock(r.M, clock, target), r.Expand);
    }

    private JsonObject DeleteTestClock(Req r, string id)
    {
        RejectUnknown(r.Params, []);
        var clock = state.Find(id, "test_helpers.test_clock") ?? throw StripeApiError.NoSuchPath("test_helpers.test_clock", id);
        return state.DeleteTestClock(clock);
    }

    // ---- customers and payment methods --------------------------------------------------------

    /// <summary>payment_method attaches (a test token becomes a new pm_), invoice_settings[default_payment_method] makes it the default.</summary>
    private void ApplyPaymentSettings(Req r, JsonObject customer)
    {
        var customerId = (string)customer["id"]!;
        string? attached = null;
        var token = Str(r.Params, "payment_method");
        if (token is not null)
        {
            attached = (string)state.AttachPaymentMethod(token, customerId, "payment_method")["id"]!;
        }

        if (Obj(r.Params, "invoice_settings") is not { } settings)
        {
            return;
        }

        RejectUnknown(settings, ["custom_fields", "default_payment_method", "footer", "rendering_options"], "invoice_settings");
        if (settings["default_payment_method"] is null)
        {
            return;
        }

        var wanted = Str(settings, "default_payment_method", "invoice_settings[default_payment_method]");
        var id = wanted is null ? null
            : wanted == token ? attached
            : (string)state.AttachPaymentMethod(wanted, customerId, "invoice_settings[default_payment_method]")["id"]!;
        var current = (JsonObject)customer["invoice_settings"]!.DeepClone();
        current["default_payment_method"] = id;
        customer["invoice_settings"] = current;
        state.CustomerCards.Remove(customerId);
    }

    private JsonObject UpdateCustomer(Req r, string id)
    {
        RejectUnknown(r.Params, [.. CustomerParams.Where(k => k != "test_clock"), "default_source"]);
        var customer = state.Find(id, "customer") ?? throw StripeApiError.NoSuchPath("customer", id);
        using var clock = state.EnterClock(id);
        var before = (JsonObject)customer.DeepClone();
        foreach (var field in new[] { "email", "name", "phone", "description" })
        {
            if (r.Params[field] is not null)
            {
                customer[field] = Str(r.Params, field);
            }
        }

        if (r.Params["metadata"] is not null)
        {
            var metadata = Obj(r.Params, "metadata") is null ? new JsonObject() : (JsonObject)customer["metadata"]!.DeepClone();
            foreach (var (k, v) in Metadata(r.Params) ?? [])
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

            customer["metadata"] = metadata;
        }

        ApplyPaymentSettings(r, customer);
        var previous = StripeState.Diff(before, customer);
        if (previous.Count > 0)
        {
            state.Emit(r.M, "customer.updated", customer, previous);
        }

        return state.Render(customer, r.Expand);
    }

    private JsonObject AttachPaymentMethod(Req r, string id)
    {
        RejectUnknown(r.Params, ["customer", "customer_account", "expand"]);
        var customerId = Required(r.Params, "customer");
        _ = state.Find(customerId, "customer") ?? throw StripeApiError.NoSuchParam("customer", customerId, "customer");
        using var clock = state.EnterClock(customerId);
        var pm = state.AttachPaymentMethod(id, customerId, "payment_method");
        state.Emit(r.M, "payment_method.attached", pm);
        return state.Render(pm, r.Expand);
    }

    // ---- subscriptions and previews -----------------------------------------------------------

    private JsonObject CreateSubscription(Req r)
    {
        var p = r.Params;
        RejectUnknown(p, SubscriptionCreateParams);
        var customerId = Required(p, "customer");
        var customer = state.Find(customerId, "customer") ?? throw StripeApiError.NoSuchParam("customer", customerId, "customer");
        if (Enum(p, "collection_method", "charge_automatically", "send_invoice") == "send_invoice")
        {
            throw StripeApiError.Invalid("collection_method", "The simulator only models collection_method=charge_automatically.");
        }

        var behavior = Enum(p, "payment_behavior", "allow_incomplete", "default_incomplete", "error_if_incomplete", "pending_if_incomplete");
        Enum(p, "proration_behavior", "always_invoice", "create_prorations", "none");
        Bool(p, "off_session");
        var updates = ObjList(p, "items");
        if (updates.Count == 0)
        {
            throw StripeApiError.Missing("items");
        }

        var items = new List<(JsonObject Price, long Quantity)>();
        for (var i = 0; i < updates.Count; i++)
        {
            var name = $"items[{i}]";
            RejectUnknown(updates[i], ["metadata", "price", "quantity"], name);
            var priceId = Required(updates[i], "price", $"{name}[price]");
            var price = state.Find(priceId, "price") ?? throw StripeApiError.NoSuchParam("price", priceId, $"{name}[price]");
            if (price["recurring"] is not JsonObject)
            {
                throw StripeApiError.Invalid($"{name}[price]", $"The price specified is set to `type=one_time` but this field only accepts prices with `type=recurring`.");
            }

            items.Add((price, Int(updates[i], "quantity", $"{name}[quantity]") ?? 1));
        }

        if (items.Select(i => (string?)i.Price["currency"]).Distinct().Count() > 1)
        {
            throw StripeApiError.Invalid("items", "All prices on a subscription must have the same currency.");
        }

        string? defaultPm = null;
        if (Str(p, "default_payment_method") is { } pm)
        {
            using var clock = state.EnterClock(customerId);
            defaultPm = (string)state.AttachPaymentMethod(pm, customerId, "default_payment_method")["id"]!;
        }

        var metadata = StripeState.Metadata(Metadata(p));
        var subscription = state.CreateSubscriptionNow(r.M, customer, items, metadata, Int(p, "trial_period_days") ?? 0, defaultPm,
            attemptPayment: behavior != "default_incomplete");
        if (Str(p, "description") is { } description)
        {
            subscription["description"] = description;
        }

        return state.Render(subscription, r.Expand);
    }

    /// <summary>
    /// POST /v1/subscription_items/{id}: the same change as items[0] of POST /v1/subscriptions/{id} (prorations and
    /// events included); the answer is the item.
    /// </summary>
    private JsonObject UpdateSubscriptionItem(Req r, string id)
    {
        RejectUnknown(r.Params, ["billing_thresholds", "discounts", "expand", "metadata", "off_session", "payment_behavior", "price", "price_data",
            "proration_behavior", "proration_date", "quantity", "tax_rates"]);
        var subscription = state.All("subscription")
            .FirstOrDefault(s => ((JsonArray)s["items"]!["data"]!).Any(i => (string?)i!["id"] == id))
            ?? throw StripeApiError.NoSuchPath("subscription_item", id);
        var item = new JsonObject { ["id"] = id };
        var update = new JsonObject { ["items"] = new JsonArray(item) };
        foreach (var (key, value) in r.Params)
        {
            if (key is "price" or "price_data" or "quantity" or "metadata" or "billing_thresholds" or "discounts" or "tax_rates")
            {
                item[key] = value?.DeepClone();
            }
            else if (key is not "expand")
            {
                update[key] = value?.DeepClone();
            }
        }

        var updated = UpdateSubscription(r with { Params = update, Expand = [] }, (string)subscription["id"]!);
        var result = ((JsonArray)updated["items"]!["data"]!).OfType<JsonObject>().First(i => (string?)i["id"] == id);
        return state.Render(result, r.Expand);
    }

    /// <summary>
    /// The invoice a subscription change would produce, computed by the same code as the change itself: with
    /// always_invoice the proration invoice issued at once, otherwise the next renewal's invoice (the new items'
    /// next period plus the pending prorations). Nothing is stored.
    /// </summary>
    private JsonObject CreatePreview(Req r)
    {
        var p = r.Params;
        RejectUnknown(p, PreviewParams);
        // Without `subscription`, the customer's only live subscription is previewed (the simulator has no other invoices to preview).
        var subscriptionId = Str(p, "subscription")
            ?? (Str(p, "customer") is { } owner
                ? state.All("subscription").Where(x => (string?)x["customer"] == owner && (string?)x["status"] is not ("canceled" or "incomplete_expired"))
                    .Select(x => (string?)x["id"]).FirstOrDefault()
                    ?? throw StripeApiError.Invalid("customer", $"No upcoming invoices for customer: {owner}", "invoice_upcoming_none")
                : throw StripeApiError.Invalid("subscription", "The simulator previews subscription invoices only: pass `subscription` or `customer`.", "parameter_missing"));
        var subscription = state.Find(subscriptionId, "subscription") ?? throw StripeApiError.NoSuchParam("subscription", subscriptionId, "subscription");
        var customerId = (string)subscription["customer"]!;
        if (Str(p, "customer") is { } given && given != customerId)
        {
            throw StripeApiError.Invalid("customer", $"The subscription {subscriptionId} does not belong to customer {given}.");
        }

        if ((string?)subscription["status"] is "canceled" or "incomplete_expired")
        {
            throw StripeApiError.Invalid("subscription", $"No upcoming invoices for a {(string?)subscription["status"]} subscription.", "invoice_upcoming_none");
        }

        var details = Obj(p, "subscription_details") ?? [];
        RejectUnknown(details, ["items", "proration_behavior", "proration_date"], "subscription_details");
        var behavior = Enum(details, "proration_behavior", "always_invoice", "create_prorations", "none") ?? "create_prorations";
        using var clock = state.EnterClock(customerId);
        var at = Int(details, "proration_date", "subscription_details[proration_date]") ?? state.Now();
        var changed = (JsonObject)subscription.DeepClone();
        var oldItems = (JsonArray)subscription["items"]!["data"]!.DeepClone();
        var updates = ObjList(details, "items");
        if (updates.Count > 0)
        {
            changed["items"] = UpdatedItems(changed, updates);
        }

        var prorations = behavior == "none" || (string?)subscription["status"] == "trialing"
            ? []
            : state.Prorate(null, changed, oldItems, (JsonArray)changed["items"]!["data"]!, at, store: false);
        var customer = state.Objects[customerId];
        return state.Render(state.PreviewProrationInvoice(changed, customer, prorations, now: behavior == "always_invoice"), r.Expand);
    }
}
