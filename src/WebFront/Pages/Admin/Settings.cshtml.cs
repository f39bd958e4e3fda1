using System.Globalization;
using Dapper;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Npgsql;
using Sajet.Grains.Interfaces.Outbox;
using Sajet.Integrations.Stripe;
using Sajet.WebFront.Audit;
using Sajet.WebFront.Auth;
using Sajet.WebFront.Pages.Shared;
using Sajet.WebFront.Settings;
using Sajet.WebFront.Tenants;

namespace Sajet.WebFront.Pages.Admin;

/// <summary>
/// The operator's own 2FA, and the settings grains read: plans (price, active), placement and alert thresholds, poll
/// interval, placement strategy; the Stripe mode is shown, the key never. Every change is validated in Spanish and audited.
/// </summary>
public sealed class SettingsModel(NpgsqlDataSource db, TwoFactor twoFactor, AuditLog audit, IOptions<StripeOptions> stripe, GrainOutbox grains)
    : TwoFactorPageModel(db, twoFactor, audit)
{
    private const string AllPlansSql = """
        SELECT id, name, price_cents AS PriceCents, active FROM plans ORDER BY sort, id
        """;

    public sealed record PlanRow(string Id, string Name, int PriceCents, bool Active);

    public sealed class SettingsInput
    {
        public string? Headroom { get; set; }
        public string? Strategy { get; set; }
        public string? PollInterval { get; set; }
        public string? AlertThreshold { get; set; }
        public string? AlertClearBelow { get; set; }
    }

    [BindProperty]
    public SettingsInput Input { get; set; } = new();

    public OperatorSettings Current { get; private set; } = new(0.8, "spread", 60, 0.8, 0.7);

    public IReadOnlyList<PlanRow> AllPlans { get; private set; } = [];

    public Dictionary<string, string> Errors { get; } = [];

    /// <summary>"prueba" or "real" from the key's prefix; the key itself never reaches the page.</summary>
    public string StripeMode => stripe.Value.SecretKey switch
    {
        var k when k.StartsWith("sk_live_", StringComparison.Ordinal) || k.StartsWith("rk_live_", StringComparison.Ordinal) => "real (live)",
        var k when k.StartsWith("sk_test_", StringComparison.Ordinal) || k.StartsWith("rk_test_", StringComparison.Ordinal) => "prueba (test)",
        _ => "sin configurar",
    };

    public string Shown(string? posted, double current) => posted ?? current.ToString("0.###", CultureInfo.InvariantCulture);

    public async Task<IActionResult> OnPostSettingsAsync(CancellationToken ct)
    {
        await LoadAsync(ct);
        var parsed = OperatorSettings.Parse(Input.Headroom, Input.Strategy, Input.PollInterval, Input.AlertThreshold, Input.AlertClearBelow, Errors);
        if (parsed is null)
        {
            return Page();
        }

        await using var conn = await Db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await parsed.WriteAsync(conn, tx, ct);
        // Node grains keep what they read of the settings between polls: tell each one, so the change applies now.
        foreach (var node in await conn.QueryAsync<string>(new CommandDefinition("SELECT id FROM nodes", transaction: tx, cancellationToken: ct)))
        {
            await grains.SendAsync(OutboxCommand.NodeChanged(node), tx, ct);
        }

        await tx.CommitAsync(ct);
        grains.Wake();
        await Audit.WriteAsync(HttpContext, "settings.change", new { before = Current, after = parsed }, AuditSeverity.Warning);
        TempData[TenantActionForms.FlashKey] = "Ajustes guardados. Los nodos los aplican ya, con un sondeo nuevo.";
        return RedirectToPage();
    }

    public async Task<IActionResult> OnPostPlanAsync(string? id, string? price, bool active, CancellationToken ct)
    {
        var cents = decimal.TryParse(price?.Trim().Replace(',', '.'), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var dollars)
            && dollars is >= 0 and <= 100_000 && decimal.Round(dollars, 2) == dollars
            ? (int)(dollars * 100) : (int?)null;
        if (cents is null)
        {
            TempData[TenantActionForms.FlashErrorKey] = "El precio debe ser un importe en dólares entre 0 y 100000, con dos decimales como mucho (p. ej. 49.00).";
            return RedirectToPage();
        }

        await using var conn = await Db.OpenConnectionAsync(ct);
        var before = await conn.QuerySingleOrDefaultAsync<PlanRow>(new CommandDefinition(
            "SELECT id, name, price_cents AS PriceCents, active FROM plans WHERE id = @id", new { id }, cancellationToken: ct));
        if (before is null)
        {
            TempData[TenantActionForms.FlashErrorKey] = "Ese plan no existe.";
            return RedirectToPage();
        }

        await conn.ExecuteAsync(new CommandDefinition("UPDATE plans SET price_cents = @cents, active = @active WHERE id = @id", new { id, cents, active }, cancellationToken: ct));
        await Audit.WriteAsync(HttpContext, "plan.change", new { plan = id, before = new { before.PriceCents, before.Active }, after = new { PriceCents = cents, Active = active } }, AuditSeverity.Warning);
        // The Stripe price of existing subscriptions is not touched: the new amount applies to new sign-ups.
        TempData[TenantActionForms.FlashKey] = $"Plan {before.Name} guardado: {TenantLabels.Usd(cents.Value)} al mes, {(active ? "activo" : "inactivo")}.";
        return RedirectToPage();
    }

    protected override async Task LoadAsync(CancellationToken ct)
    {
        await base.LoadAsync(ct);
        await using var conn = await Db.OpenConnectionAsync(ct);
        Current = await OperatorSettings.ReadAsync(conn, ct);
        AllPlans = [.. await conn.QueryAsync<PlanRow>(new CommandDefinition(AllPlansSql, cancellationToken: ct))];
    }
}
