using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Unicode;
using Sajet.Grains.Interfaces;

namespace Sajet.Grains.Mail;

/// <summary>A rendered mail: its stable template name (stored in mail_outbox.template), subject, text and HTML bodies.</summary>
public sealed record MailContent(string Template, string Subject, string Text, string Html);

/// <summary>
/// The mails Sajet sends, in Spanish, each as plain text and as HTML. Values come from customers (company names) and
/// from the system (reasons, URLs), so every value is HTML-encoded in the HTML body; the text body carries them as they
/// are. Rendered when the mail is enqueued, so a retry sends exactly what was first written.
/// </summary>
public static class MailTemplates
{
    public const string Welcome = "tenant.welcome";
    public const string PaymentFailed = "tenant.payment-failed";
    public const string Suspended = "tenant.suspended";
    public const string Resumed = "tenant.resumed";
    public const string PlanChanged = "tenant.plan-changed";
    public const string Cancelled = "tenant.cancelled";
    public const string AdminWaiting = "admin.waiting-for-capacity";
    public const string AdminNodeAlert = "admin.node-alert";
    public const string AdminProvisioningFailed = "admin.provisioning-failed";
    public const string PasswordReset = "account.password-reset";

    // Accented letters stay as they are (the body is UTF-8); markup characters are encoded.
    private static readonly HtmlEncoder Encoder = HtmlEncoder.Create(UnicodeRanges.All);

    private static readonly string[] Months =
        ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre"];

    public static MailContent WelcomeMail(string company, string url, string login, string setPasswordLink, TimeSpan linkLifetime) => Build(Welcome,
        $"Tu Odoo ya está listo: {url}",
        $"Hola, {company}:",
        [
            P("Tu Odoo ya está en marcha en ", Link(url), "."),
            P("Para entrar, elige tu contraseña con este enlace: ", Link(setPasswordLink)),
            P("Tu usuario es ", Value(login), ". La misma contraseña sirve para el administrador de tu Odoo y para tu portal de cliente."),
            P($"El enlace sirve una sola vez y caduca {Within(linkLifetime)}. Si caduca, pide otro desde «¿Olvidaste tu contraseña?» en el portal de cliente."),
            P("Gracias por confiar en nosotros."),
        ]);

    private static string Within(TimeSpan t) => t.TotalDays >= 1 && t.TotalDays == Math.Floor(t.TotalDays)
        ? t.TotalDays == 1 ? "en un día" : string.Create(CultureInfo.InvariantCulture, $"en {t.TotalDays:0} días")
        : t.TotalHours <= 1 ? "en una hora" : string.Create(CultureInfo.InvariantCulture, $"en {Math.Ceiling(t.TotalHours):0} horas");

    public static MailContent PaymentFailedMail(string company, string? url) => Build(PaymentFailed,
        "No hemos podido cobrar tu suscripción",
        $"Hola, {company}:",
        [
            P("El último cobro de tu suscripción no se ha podido realizar."),
            P("Revisa tu método de pago para que tu servicio", url is null ? Text("") : Text(" en "), url is null ? Text("") : Link(url), Text(" siga activo.")),
            P("Volveremos a intentarlo en los próximos días."),
        ]);

    public static MailContent SuspendedMail(string company, string reason) => Build(Suspended,
        "Tu servicio está suspendido",
        $"Hola, {company}:",
        [
            P("Tu servicio de Odoo está suspendido. Tus datos se conservan."),
            P("Motivo: ", Value(reason), "."),
            P("Escríbenos si necesitas ayuda para reactivarlo."),
        ]);

    public static MailContent ResumedMail(string company, string? url) => Build(Resumed,
        "Tu servicio vuelve a estar activo",
        $"Hola, {company}:",
        [
            url is null ? P("Tu servicio de Odoo vuelve a estar activo.") : P("Tu servicio de Odoo vuelve a estar activo en ", Link(url), "."),
            P("Gracias por seguir con nosotros."),
        ]);

    public static MailContent PlanChangedMail(string company, string fromPlan, string toPlan) => Build(PlanChanged,
        $"Tu plan ha cambiado a {Es.Title(toPlan)}",
        $"Hola, {company}:",
        [
            P("Tu plan ha pasado de ", Value(Es.Title(fromPlan)), " a ", Value(Es.Title(toPlan)), "."),
            P("El nuevo precio se aplica desde la próxima factura."),
        ]);

    public static MailContent PasswordResetMail(string link, int validMinutes) => Build(PasswordReset,
        "Restablece tu contraseña de Sajet",
        "Hola:",
        [
            P("Alguien (esperamos que tú) ha pedido restablecer la contraseña de tu cuenta de Sajet."),
            P("Para elegir una contraseña nueva abre este enlace: ", Link(link)),
            P(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"El enlace sirve una sola vez y caduca en {validMinutes} minutos. Al usarlo se cerrarán todas tus sesiones abiertas.")),
            P("Si no lo has pedido tú, ignora este correo: tu contraseña no cambia."),
        ]);

    public static MailContent CancelledMail(string company, DateTimeOffset keptUntil) => Build(Cancelled,
        "Tu suscripción está cancelada",
        $"Hola, {company}:",
        [
            P("Tu suscripción está cancelada y tu servicio de Odoo ya no está disponible."),
            P("Conservaremos tus datos hasta el ", Value(Day(keptUntil)), "; después se borrarán definitivamente."),
            P("Si quieres recuperarlos antes de esa fecha, escríbenos."),
        ]);

    public static MailContent WaitingForCapacityMail(string subdomain, string company, string plan, string reason) => Build(AdminWaiting,
        $"[Sajet] Cliente esperando capacidad: {subdomain}",
        "Hola:",
        [
            P("El cliente ", Value(company), " (", Value(subdomain), ", plan ", Value(Es.Title(plan)), ") espera a que haya sitio en algún nodo."),
            P("Motivo: ", Value(reason)),
            P("Añade un nodo o libera capacidad; se colocará solo en cuanto quepa."),
        ]);

    public static MailContent NodeAlertMail(string node, string kind, string message) => Build(AdminNodeAlert,
        $"[Sajet] Alerta en el nodo {node}: {AlertLabel(kind)}",
        "Hola:",
        [
            P("Se ha abierto una alerta en el nodo ", Value(node), "."),
            P(Value(message)),
        ]);

    public static MailContent ProvisioningFailedMail(string subdomain, string company, string reason) => Build(AdminProvisioningFailed,
        $"[Sajet] Aprovisionamiento fallido: {subdomain}",
        "Hola:",
        [
            P("El aprovisionamiento de ", Value(company), " (", Value(subdomain), ") ha fallado."),
            P("Motivo: ", Value(reason)),
            P("Lo creado se deshace solo; después puedes reintentarlo desde la consola."),
        ]);

    /// <summary>"3 de diciembre de 2026", as es-ES writes a day (the silos run globalization-invariant).</summary>
    public static string Day(DateTimeOffset at)
    {
        var d = at.UtcDateTime;
        return string.Create(CultureInfo.InvariantCulture, $"{d.Day} de {Months[d.Month - 1]} de {d.Year}");
    }

    private static string AlertLabel(string kind) => kind switch
    {
        "cpu" => "CPU alta",
        "memory" => "memoria alta",
        "disk" => "disco casi lleno",
        "offline" => "sin respuesta",
        _ => kind,
    };

    // A paragraph is a run of pieces, each knowing how to write itself as text and as HTML.
    private readonly record struct Piece(string Text, string Html);

    private static Piece Text(string s) => new(s, Encoder.Encode(s));

    private static Piece Value(string s) => new(s, "<strong>" + Encoder.Encode(s) + "</strong>");

    private static Piece Link(string url) => new(url, $"<a href=\"{Encoder.Encode(url)}\">{Encoder.Encode(url)}</a>");

    private static Piece[] P(params object[] parts) => [.. parts.Select(p => p is Piece piece ? piece : Text((string)p))];

    private static Piece[] P(string text) => [Text(text)];

    private static MailContent Build(string template, string subject, string greeting, Piece[][] paragraphs)
    {
        var text = new StringBuilder().Append(greeting).Append("\n\n");
        var html = new StringBuilder()
            .Append("<!DOCTYPE html><html lang=\"es\"><head><meta charset=\"utf-8\"><title>").Append(Encoder.Encode(subject)).Append("</title></head>")
            .Append("<body style=\"font-family: sans-serif; line-height: 1.5; color: #1a1a1a\">")
            .Append("<p>").Append(Encoder.Encode(greeting)).Append("</p>");
        foreach (var paragraph in paragraphs)
        {
            text.AppendJoin("", paragraph.Select(p => p.Text)).Append("\n\n");
            html.Append("<p>").AppendJoin("", paragraph.Select(p => p.Html)).Append("</p>");
        }

        text.Append("— Sajet\n");
        html.Append("<p>— Sajet</p></body></html>");
        return new MailContent(template, subject, text.ToString(), html.ToString());
    }
}
