using Sajet.Integrations.Stripe;

namespace Sajet.WebFront.Billing;

/// <summary>The billing page's words for Stripe's invoices: where to open one, and what a retried charge came to.</summary>
public static class ChargeRetry
{
    public const string AuditKind = "billing.retry_charge";

    /// <summary>
    /// The customer's own invoice page when the event carried one (it works without a Stripe login), else the invoice in
    /// Stripe's back office, under /test/ for a test-mode key so that the link does not land on an empty live account.
    /// </summary>
    public static string InvoiceUrl(string invoiceId, string? hostedInvoiceUrl, bool testMode) =>
        Uri.TryCreate(hostedInvoiceUrl, UriKind.Absolute, out var hosted) && (hosted.Scheme == Uri.UriSchemeHttps || hosted.Scheme == Uri.UriSchemeHttp)
            ? hosted.AbsoluteUri
            : $"https://dashboard.stripe.com/{(testMode ? "test/" : "")}invoices/{Uri.EscapeDataString(invoiceId)}";

    /// <summary>The flash message for an outcome, and whether it is good news.</summary>
    public static (bool Ok, string Message) Message(InvoiceChargeResult result, string invoiceId) => result.Outcome switch
    {
        InvoiceChargeOutcome.Paid => (true, $"Cobro realizado: la factura {invoiceId} está pagada; el cliente vuelve a estar activo en unos segundos."),
        InvoiceChargeOutcome.Declined => (false, $"{Declined(result.DeclineCode)} El cliente sigue con el pago atrasado: pídele que actualice su tarjeta."),
        InvoiceChargeOutcome.AlreadyPaid => (false, $"La factura {invoiceId} ya está pagada; no se ha cobrado nada más."),
        InvoiceChargeOutcome.NotFound => (false, $"Stripe no conoce la factura {invoiceId}."),
        InvoiceChargeOutcome.Unreachable => (false, "Stripe no responde; inténtalo de nuevo en unos minutos. Si el cobro llegó a hacerse, el cliente se reactivará solo."),
        _ => (false, $"Stripe no permite cobrar la factura {invoiceId} ahora{(result.InvoiceStatus is { } s ? $" (estado: {InvoiceStatus(s)})" : "")}."),
    };

    /// <summary>Stripe's decline codes (https://docs.stripe.com/declines/codes) in the operator's words.</summary>
    public static string Declined(string? declineCode) => declineCode switch
    {
        "insufficient_funds" => "La tarjeta fue rechazada por falta de fondos.",
        "expired_card" => "La tarjeta ha caducado.",
        "incorrect_cvc" or "invalid_cvc" => "El código de seguridad de la tarjeta no es correcto.",
        "incorrect_number" or "invalid_number" => "El número de la tarjeta no es válido.",
        "lost_card" or "stolen_card" => "La tarjeta fue rechazada: consta como perdida o robada.",
        "authentication_required" => "El banco pide que el cliente confirme el pago él mismo.",
        _ => "La tarjeta fue rechazada.",
    };

    private static string InvoiceStatus(string status) => status switch
    {
        "draft" => "borrador",
        "open" => "abierta",
        "paid" => "pagada",
        "uncollectible" => "incobrable",
        "void" => "anulada",
        _ => status,
    };
}
