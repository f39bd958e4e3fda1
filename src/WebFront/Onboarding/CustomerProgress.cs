using Sajet.Grains.Interfaces;

namespace Sajet.WebFront.Onboarding;

/// <summary>One of the four steps a customer sees on /success; <see cref="State"/> is done, current or todo.</summary>
public sealed record CustomerStep(string Label, string State);

/// <summary>
/// What /success tells the customer about their onboarding, in their words: four plain steps, a heading, a sentence
/// about what is going on and what happens next. Built from the tenant's status and provisioning step only, never
/// from its history, whose reasons are written for operators (Stripe event names, nodes, strategies, sizes).
/// </summary>
/// <param name="Tone">progress, waiting, ready, problem or closed: the page picks the badge's colour by it.</param>
/// <param name="Ready">The Odoo works: the page shows its address and how to sign in.</param>
public sealed record CustomerProgress(string Tone, string Badge, string Heading, string Message, int Percent, bool Ready, IReadOnlyList<CustomerStep> Steps)
{
    public const string Done = "done";
    public const string Current = "current";
    public const string Todo = "todo";

    private static readonly string[] Labels = ["Pago recibido", "Preparando tu servidor", "Creando tu base de datos", "¡Listo!"];

    private const string Refreshes = "Esta página se actualiza sola; no hace falta recargarla.";

    public static CustomerProgress Of(string status, string? step)
    {
        // How far it got: the index of the current step, or Labels.Length once everything is done.
        var databaseStep = step is "create_database" or "verify";
        return status switch
        {
            TenantStatus.Pending => new("progress", "Confirmando el pago", "Gracias por tu pago",
                $"Estamos confirmando tu pago. En cuanto llegue la confirmación empezaremos a preparar tu Odoo. {Refreshes}", 10, false, StepsUpTo(0)),
            TenantStatus.Paid or TenantStatus.Placing => new("progress", "En preparación", "Estamos preparando tu Odoo",
                $"Tu pago está confirmado. Estamos preparando tu servidor; suele tardar unos minutos. {Refreshes}", 30, false, StepsUpTo(1)),
            TenantStatus.Provisioning when databaseStep => new("progress", "En preparación", "Estamos preparando tu Odoo",
                $"Tu servidor ya está en marcha y estamos creando tu base de datos. Queda muy poco. {Refreshes}", 75, false, StepsUpTo(2)),
            TenantStatus.Provisioning => new("progress", "En preparación", "Estamos preparando tu Odoo",
                $"Tu pago está confirmado. Estamos preparando tu servidor; suele tardar unos minutos. {Refreshes}", 45, false, StepsUpTo(1)),
            TenantStatus.WaitingForCapacity => new("waiting", "En cola", "Tu Odoo está en cola",
                "Tu pago está confirmado y tu alta está en la cola: ahora mismo no tenemos un servidor con sitio libre para tu plan. "
                + "Nuestro equipo ya está avisado y está preparando más capacidad. En cuanto haya sitio, prepararemos tu Odoo "
                + "automáticamente y esta página lo mostrará sola. No tienes que hacer nada ni volver a pagar.", 30, false, StepsUpTo(1)),
            TenantStatus.Failed => new("problem", "En revisión", "Estamos revisando tu alta",
                "Ha surgido un problema al preparar tu Odoo. Tu pago está a salvo y nuestro equipo ya está trabajando en ello; "
                + "no tienes que hacer nada. Esta página se actualizará sola en cuanto tu Odoo esté listo.",
                databaseStep ? 75 : 45, false, StepsUpTo(databaseStep ? 2 : 1)),
            TenantStatus.Active => new("ready", "Listo", "¡Tu Odoo está listo!",
                "Todo está preparado: ya puedes entrar en tu Odoo.", 100, true, StepsUpTo(Labels.Length)),
            TenantStatus.PastDue => new("waiting", "Pago pendiente", "Tu Odoo está listo",
                "Tu Odoo funciona, pero tenemos un pago pendiente. Revísalo en tu portal de cliente para que el servicio no se interrumpa.",
                100, true, StepsUpTo(Labels.Length)),
            TenantStatus.Migrating => new("progress", "En mantenimiento", "Tu Odoo está listo",
                "Estamos trasladando tu Odoo a otro servidor; durante unos minutos puede no responder.", 100, true, StepsUpTo(Labels.Length)),
            TenantStatus.Suspended => new("waiting", "Suspendido", "Tu servicio está suspendido",
                "Tu Odoo está suspendido. Entra en tu portal de cliente para ver el estado de tu suscripción o contacta con nuestro equipo de soporte.",
                100, false, StepsUpTo(Labels.Length)),
            TenantStatus.Cancelled or TenantStatus.Deleted => new("closed", "Cancelado", "Alta cancelada",
                "Esta alta se ha cancelado. Si crees que es un error, contacta con nuestro equipo de soporte.", 0, false, StepsUpTo(-1)),
            // A state added later than this page: say something true and calm rather than its internal name.
            _ => new("progress", "En preparación", "Estamos preparando tu Odoo", Refreshes, 30, false, StepsUpTo(1)),
        };
    }

    // reached < 0: nothing is current (a cancelled signup).
    private static CustomerStep[] StepsUpTo(int reached) =>
        [.. Labels.Select((label, i) => new CustomerStep(label, i < reached ? Done : i == reached ? Current : Todo))];
}
