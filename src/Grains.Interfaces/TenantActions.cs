namespace Sajet.Grains.Interfaces;

/// <summary>
/// Which operator actions a tenant's state allows, and why the others are refused. The admin pages show only the
/// allowed ones, the API refuses the rest with 409 before it calls the grain, and the grain judges again in its own
/// turn (the state may have moved in between): one rule, read by all three.
/// </summary>
public static class TenantActions
{
    public const string Suspend = "suspend";
    public const string Resume = "resume";

    /// <summary>The actions the admin console offers, in the order it shows them.</summary>
    public static readonly IReadOnlyList<string> All =
        [ResolveActions.Retry, ResolveActions.PlaceOnNode, ResolveActions.KeepWaiting, Suspend, Resume, ResolveActions.Cancel];

    /// <summary>Actions that take service away from a paying customer: the forms ask for an explicit confirmation.</summary>
    public static bool Destructive(string action) => action is Suspend or ResolveActions.Cancel;

    /// <summary>The actions <paramref name="status"/> allows; <paramref name="compensated"/> says a failed attempt is cleaned up.</summary>
    public static IReadOnlyList<string> Allowed(string status, bool compensated) => [.. All.Where(a => RefusalOf(a, status, compensated) is null)];

    /// <summary>Null when <paramref name="action"/> is allowed in <paramref name="status"/>; otherwise the reason, in Spanish.</summary>
    public static string? RefusalOf(string action, string status, bool compensated)
    {
        var waitingOrFailed = status is TenantStatus.WaitingForCapacity or TenantStatus.Failed;
        return action switch
        {
            ResolveActions.Retry or ResolveActions.PlaceOnNode when !waitingOrFailed =>
                $"Solo se puede reintentar o colocar un cliente que espera capacidad o que falló; este está {StatusLabel(status)}.",
            ResolveActions.Retry or ResolveActions.PlaceOnNode when !compensated =>
                "Aún se está limpiando lo que dejó el intento fallido; vuelve a intentarlo en unos segundos.",
            ResolveActions.KeepWaiting when status != TenantStatus.WaitingForCapacity =>
                $"Solo un cliente que espera capacidad puede seguir esperando; este está {StatusLabel(status)}.",
            Suspend when status is not (TenantStatus.Active or TenantStatus.PastDue) =>
                $"Solo se puede suspender un cliente activo o con el pago pendiente; este está {StatusLabel(status)}.",
            Resume when status != TenantStatus.Suspended =>
                $"Solo se puede reanudar un cliente suspendido; este está {StatusLabel(status)}.",
            ResolveActions.Cancel when status is TenantStatus.Cancelled or TenantStatus.Deleted =>
                $"El cliente ya está {StatusLabel(status)}.",
            ResolveActions.Retry or ResolveActions.PlaceOnNode or ResolveActions.KeepWaiting or Suspend or Resume or ResolveActions.Cancel => null,
            _ => $"Acción desconocida: {action}.",
        };
    }

    /// <summary>A state as the refusals name it ("está activo", "está suspendido").</summary>
    public static string StatusLabel(string status) => status switch
    {
        TenantStatus.Pending => "pendiente de pago",
        TenantStatus.Paid => "pagado, a punto de colocarse",
        TenantStatus.Placing => "buscando nodo",
        TenantStatus.Provisioning => "aprovisionándose",
        TenantStatus.Active => "activo",
        TenantStatus.WaitingForCapacity => "esperando capacidad",
        TenantStatus.Failed => "fallido",
        TenantStatus.PastDue => "con el pago pendiente",
        TenantStatus.Suspended => "suspendido",
        TenantStatus.Cancelled => "cancelado",
        TenantStatus.Deleted => "eliminado",
        TenantStatus.Migrating => "migrándose",
        _ => status,
    };
}

/// <summary>How an operator's action ended, as the API answers it.</summary>
public static class ActionOutcomes
{
    /// <summary>Applied: the tenant is in <see cref="TenantActionResult.Status"/> now.</summary>
    public const string Done = "done";

    /// <summary>Not applied: the state does not allow it, or the node chosen has no room; the message says why.</summary>
    public const string Refused = "refused";

    /// <summary>Queued durably (the cluster did not answer in time); live updates show when it is applied.</summary>
    public const string InProgress = "in_progress";
}

/// <summary>What a tenant grain answers to an operator's action: the outcome, a Spanish message and the state after.</summary>
[GenerateSerializer, Immutable, Alias("sajet.TenantActionResult")]
public sealed record TenantActionResult(
    [property: Id(0)] string Outcome,
    [property: Id(1)] string Message,
    [property: Id(2)] string? Status)
{
    public static TenantActionResult Done(string message, string status) => new(ActionOutcomes.Done, message, status);

    public static TenantActionResult Refused(string message, string status) => new(ActionOutcomes.Refused, message, status);
}
