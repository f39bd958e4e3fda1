using Sajet.Grains.Interfaces;

namespace Sajet.WebFront.Tenants;

/// <summary>The Spanish names of tenant states and admin resolutions, one place for every page that shows them.</summary>
public static class TenantLabels
{
    /// <summary>The states an operator filters by, in the order of a tenant's life.</summary>
    public static readonly IReadOnlyList<(string Status, string Label)> Statuses =
    [
        (TenantStatus.Pending, "Pendiente de pago"),
        (TenantStatus.Paid, "Pagado"),
        (TenantStatus.Placing, "Buscando servidor"),
        (TenantStatus.Provisioning, "Aprovisionando"),
        (TenantStatus.Active, "Activo"),
        (TenantStatus.WaitingForCapacity, "Esperando capacidad"),
        (TenantStatus.Failed, "Fallido"),
        (TenantStatus.PastDue, "Pago atrasado"),
        (TenantStatus.Suspended, "Suspendido"),
        (TenantStatus.Cancelled, "Cancelado"),
    ];

    private static readonly Dictionary<string, string> ByStatus = Statuses
        .Concat(new (string Status, string Label)[] { (TenantStatus.Deleted, "Eliminado"), (TenantStatus.Migrating, "Migrando") })
        .ToDictionary(s => s.Status, s => s.Label);

    public static string Status(string? status) =>
        status is null ? "—" : ByStatus.TryGetValue(status, out var label) ? label : status;

    /// <summary>The badge class that tells an operator at a glance whether a state needs them.</summary>
    public static string Badge(string? status) => status switch
    {
        TenantStatus.Active => "badge-ok",
        TenantStatus.Failed or TenantStatus.PastDue or TenantStatus.Suspended => "badge-bad",
        TenantStatus.WaitingForCapacity or TenantStatus.Pending => "badge-warning",
        _ => "badge-neutral",
    };

    public static string Action(string action) => action switch
    {
        ResolveActions.Retry => "Reintentar",
        ResolveActions.PlaceOnNode => "Colocar en nodo",
        ResolveActions.KeepWaiting => "Seguir esperando",
        ResolveActions.Cancel => "Cancelar",
        _ => action,
    };

    /// <summary>USD amounts the Spanish way ("1.234,00 US$"), the one money style of every page.</summary>
    public static string Usd(long cents) => Sajet.Grains.Interfaces.Es.Usd(cents);
}
