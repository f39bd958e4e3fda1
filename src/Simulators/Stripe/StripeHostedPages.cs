using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Sajet.Simulators.Stripe;

/// <summary>
/// The pages a customer's browser sees: hosted Checkout (/c/pay/{id}), the customer portal
/// (/p/session/{id}) and the hosted invoice (/i/{id}). Spanish, plain HTML forms and one external
/// stylesheet, so they work under a strict Content-Security-Policy without any script.
/// </summary>
internal static class StripeHostedPages
{
    public const string Css = """
        body{font-family:system-ui,sans-serif;background:#f6f8fa;color:#1a1f36;margin:0}
        main{display:flex;flex-wrap:wrap;gap:2rem;max-width:60rem;margin:2rem auto;padding:1rem}
        section{flex:1 1 22rem;background:#fff;border-radius:8px;padding:1.5rem;box-shadow:0 1px 3px #0002}
        .amount{font-size:2rem;font-weight:600;margin:.5rem 0}.muted{color:#697386}
        label{display:block;margin:.75rem 0 .25rem;font-size:.9rem}
        input{width:100%;box-sizing:border-box;padding:.6rem;border:1px solid #cfd7df;border-radius:6px;font-size:1rem}
        button{margin-top:1rem;width:100%;padding:.8rem;border:0;border-radius:6px;background:#635bff;color:#fff;font-size:1rem;font-weight:600}
        .error{background:#fdecea;color:#a4161a;padding:.75rem;border-radius:6px}
        .test{background:#fff4e5;color:#8a4b00;padding:.25rem .5rem;border-radius:4px;font-size:.8rem}
        table{width:100%;border-collapse:collapse}td{padding:.4rem 0}
        """;

    private const string Csp =
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self' http: https:; base-uri 'none'; frame-ancestors 'none'";

    public static async Task WriteAsync(HttpContext context, int status, string title, string body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/html; charset=utf-8";
        context.Response.Headers.ContentSecurityPolicy = Csp;
        context.Response.Headers.CacheControl = "no-store";
        var html = $"""
            <!doctype html>
            <html lang="es">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>{E(title)}</title>
            <link rel="stylesheet" href="/c/assets/checkout.css">
            </head>
            <body>
            <main>
            {body}
            </main>
            </body>
            </html>
            """;
        await context.Response.WriteAsync(html, Encoding.UTF8);
    }

    public static string CheckoutForm(JsonObject session, JsonArray lineItems, JsonObject? customer, long trialDays, string? error, string? email, string card)
    {
        var id = (string)session["id"]!;
        var currency = (string?)session["currency"] ?? "usd";
        var lines = new StringBuilder();
        string? recurringText = null;
        foreach (var item in lineItems.OfType<JsonObject>())
        {
            var recurring = item["price"]?["recurring"] as JsonObject;
            recurringText ??= recurring is null ? null : Per((string)recurring["interval"]!, StripeState.LongOrNull(recurring["interval_count"]) ?? 1);
            lines.Append(CultureInfo.InvariantCulture, $"<tr><td>{E((string?)item["description"])} × {StripeState.LongOrNull(item["quantity"])}</td><td>{E(Money(StripeState.Long(item["amount_total"]), currency))}</td></tr>");
        }

        var total = lineItems.OfType<JsonObject>().Sum(i => StripeState.Long(i["amount_total"]));
        var mode = (string?)session["mode"];
        var heading = mode == "subscription" ? $"Suscribirse a {FirstDescription(lineItems)}" : $"Pagar {FirstDescription(lineItems)}";
        var trial = trialDays > 0 ? $"<p class=\"muted\">{trialDays} días gratis; después {E(Money(total, currency))} {E(recurringText)}.</p>" : "";
        var cancel = (string?)session["cancel_url"] is { } cancelUrl ? $"<p><a href=\"{E(cancelUrl)}\">← Volver</a></p>" : "";
        var errorHtml = error is null ? "" : $"<p class=\"error\" role=\"alert\">{E(error)}</p>";
        var prefilledEmail = email ?? (string?)customer?["email"] ?? (string?)session["customer_email"] ?? "";
        return $"""
            <section aria-label="Resumen del pedido">
            <p class="muted">Sajet <span class="test">MODO DE PRUEBA</span></p>
            <h1>{E(heading)}</h1>
            <p class="amount">{E(Money(total, currency))} <span class="muted">{E(recurringText)}</span></p>
            {trial}
            <table>{lines}</table>
            {cancel}
            </section>
            <section aria-label="Pago">
            <h2>Pagar con tarjeta</h2>
            {errorHtml}
            <form method="post" action="/c/pay/{E(id)}">
            <label for="email">Correo electrónico</label>
            <input id="email" name="email" type="email" autocomplete="email" value="{E(prefilledEmail)}">
            <label for="card_number">Número de tarjeta</label>
            <input id="card_number" name="card_number" inputmode="numeric" autocomplete="cc-number" value="{E(card)}">
            <label for="card_expiry">Caducidad (MM / AA)</label>
            <input id="card_expiry" name="card_expiry" autocomplete="cc-exp" value="12 / 34">
            <label for="card_cvc">CVC</label>
            <input id="card_cvc" name="card_cvc" inputmode="numeric" autocomplete="cc-csc" value="123">
            <label for="cardholder">Nombre del titular</label>
            <input id="cardholder" name="cardholder" autocomplete="cc-name" value="Cliente de prueba">
            <button type="submit">Pagar</button>
            </form>
            <p class="muted">Tarjetas de prueba: 4242 4242 4242 4242 (aprobada), 4000 0000 0000 0002 (rechazada), 4000 0000 0000 9995 (fondos insuficientes).</p>
            </section>
            """;
    }

    public static string Message(string heading, string text, string? linkUrl = null, string? linkText = null) =>
        $"""
        <section>
        <h1>{E(heading)}</h1>
        <p>{E(text)}</p>
        {(linkUrl is null ? "" : $"<p><a href=\"{E(linkUrl)}\">{E(linkText)}</a></p>")}
        </section>
        """;

    public static string Portal(JsonObject portal, JsonObject customer, IEnumerable<JsonObject> subscriptions, Func<string, string?> productName)
    {
        var rows = new StringBuilder();
        foreach (var sub in subscriptions)
        {
            var item = sub["items"]?["data"]?[0] as JsonObject;
            var price = item?["price"] as JsonObject;
            var name = price is null ? "" : productName((string)price["product"]!) ?? "";
            var status = (string?)sub["status"] switch
            {
                "active" => (bool?)sub["cancel_at_period_end"] == true ? "Se cancelará al final del periodo" : "Activa",
                "trialing" => "En periodo de prueba",
                "past_due" => "Pago pendiente",
                "canceled" => "Cancelada",
                "incomplete" => "Incompleta",
                var other => other ?? "",
            };
            var end = item is null ? "" : DateTimeOffset.FromUnixTimeSeconds(StripeState.Long(item["current_period_end"])).ToString("dd/MM/yyyy", CultureInfo.InvariantCulture);
            var action = (string?)sub["status"] is "active" or "trialing" or "past_due" && (bool?)sub["cancel_at_period_end"] != true
                ? $"<form method=\"post\" action=\"/p/session/{E((string)portal["id"]!)}/subscriptions/{E((string)sub["id"]!)}/cancel\"><button type=\"submit\">Cancelar suscripción</button></form>"
                : "";
            rows.Append(CultureInfo.InvariantCulture,
                $"<tr><td>{E(name)}</td><td>{E(price is null ? "" : Money(StripeState.LongOrNull(price["unit_amount"]) ?? 0, (string)price["currency"]!))}</td><td>{E(status)}</td><td>Renovación: {E(end)}</td><td>{action}</td></tr>");
        }

        var back = (string?)portal["return_url"] is { } url ? $"<p><a href=\"{E(url)}\">← Volver</a></p>" : "";
        return $"""
            <section>
            <p class="muted">Sajet <span class="test">MODO DE PRUEBA</span></p>
            <h1>Portal de facturación</h1>
            <p>{E((string?)customer["email"] ?? (string?)customer["id"])}</p>
            <table>{(rows.Length == 0 ? "<tr><td>No tienes suscripciones.</td></tr>" : rows.ToString())}</table>
            {back}
            </section>
            """;
    }

    public static string Invoice(JsonObject invoice)
    {
        var status = (string?)invoice["status"] switch
        {
            "paid" => "Pagada",
            "open" => "Pendiente de pago",
            "void" => "Anulada",
            "uncollectible" => "Incobrable",
            _ => "Borrador",
        };
        var currency = (string)invoice["currency"]!;
        return $"""
            <section>
            <p class="muted">Sajet <span class="test">MODO DE PRUEBA</span></p>
            <h1>Factura {E((string?)invoice["number"])}</h1>
            <p class="amount">{E(Money(StripeState.Long(invoice["amount_due"]), currency))}</p>
            <p>Estado: {E(status)}</p>
            <p class="muted">Pagado: {E(Money(StripeState.Long(invoice["amount_paid"]), currency))}</p>
            </section>
            """;
    }

    /// <summary>Spanish money format: 1.234,56 USD.</summary>
    public static string Money(long amount, string currency)
    {
        var units = (Math.Abs(amount) / 100).ToString("#,0", CultureInfo.InvariantCulture).Replace(',', '.');
        return $"{(amount < 0 ? "-" : "")}{units},{Math.Abs(amount) % 100:00} {currency.ToUpperInvariant()}";
    }

    private static string Per(string interval, long count) => (interval, count) switch
    {
        ("day", 1) => "al día",
        ("week", 1) => "a la semana",
        ("month", 1) => "al mes",
        ("year", 1) => "al año",
        ("day", _) => $"cada {count} días",
        ("week", _) => $"cada {count} semanas",
        ("month", _) => $"cada {count} meses",
        _ => $"cada {count} años",
    };

    private static string FirstDescription(JsonArray lineItems) =>
        (string?)lineItems.OfType<JsonObject>().FirstOrDefault()?["description"] ?? "tu plan";

    // Only markup characters are escaped; WebUtility.HtmlEncode would also turn every accented letter into an entity.
    private static string E(string? text) => (text ?? "")
        .Replace("&", "&amp;", StringComparison.Ordinal)
        .Replace("<", "&lt;", StringComparison.Ordinal)
        .Replace(">", "&gt;", StringComparison.Ordinal)
        .Replace("\"", "&quot;", StringComparison.Ordinal)
        .Replace("'", "&#39;", StringComparison.Ordinal);
}
