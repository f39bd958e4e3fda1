using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Npgsql;
using Sajet.Grains.Interfaces.Outbox;
using Sajet.Persistence;
using Sajet.Persistence.Secrets;
using Sajet.WebFront.Tenants;

namespace Sajet.WebFront.Pages;

/// <summary>/success: where Stripe Checkout returns; shows the onboarding's progress live until the URL is ready.</summary>
public sealed class SuccessModel(NpgsqlDataSource db, GrainOutbox grains, SecretProtector secrets) : PageModel
{
    [BindProperty(Name = "session_id", SupportsGet = true)]
    public string? SessionId { get; set; }

    public OnboardingStatus? Status { get; private set; }

    public async Task OnGetAsync(CancellationToken ct) => Status = await TenantsApi.OnboardingStatusAsync(db, grains, secrets, SessionId, ct);

    public static string Label(string status) => status switch
    {
        "pending" => "Confirmando el pago",
        "paid" => "Pago confirmado",
        "placing" => "Buscando servidor",
        "provisioning" => "Preparando tu Odoo",
        "active" => "Listo",
        "waiting_for_capacity" => "En cola: esperando capacidad",
        "failed" => "Incidencia: nuestro equipo la está revisando",
        "cancelled" => "Cancelado",
        _ => status,
    };

    public static int Progress(string status) => status switch
    {
        "pending" => 1,
        "paid" or "waiting_for_capacity" => 2,
        "placing" => 2,
        "provisioning" => 3,
        "active" => 5,
        _ => 0,
    };
}
