using System.Globalization;
using Dapper;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Npgsql;
using Sajet.Grains.Interfaces;
using Sajet.Grains.Interfaces.Mail;
using Sajet.Grains.Interfaces.Outbox;
using Sajet.Grains.Placement;
using Sajet.Integrations.Mail;
using Sajet.Integrations.Stripe;
using Sajet.Persistence.Secrets;
using Sajet.WebFront.Audit;
using Sajet.WebFront.Auth;
using Sajet.WebFront.Pages.Shared;
using Sajet.WebFront.Settings;
using Sajet.WebFront.Tenants;

namespace Sajet.WebFront.Pages.Admin;

/// <summary>
/// The operator's own 2FA, and the settings grains read: plans (price, active, resources), placement and alert
/// thresholds, poll interval, placement strategy, the shared container's size and slots; the Stripe mode is shown, the
/// key never; the SMTP server mail goes through, whose password is stored encrypted and never shown back. Every change is
/// validated in Spanish, stored in one transaction and audited.
/// </summary>
public sealed class SettingsModel(NpgsqlDataSource db, TwoFactor twoFactor, AuditLog audit, IOptions<StripeOptions> stripe, GrainOutbox grains,
    IOptions<MailOptions> mailDefaults, SecretProtector secrets)
    : TwoFactorPageModel(db, twoFactor, audit)
{
    private const string AllPlansSql = """
        SELECT id, name, price_cents AS PriceCents, active, cores, memory_mb AS MemoryMb, disk_gb AS DiskGb FROM plans ORDER BY sort, id
        """;

    // Locked so the audit's "before" is the row this save replaces, not one a concurrent save already changed.
    private const string PlanForUpdateSql = """
        SELECT id, name, price_cents AS PriceCents, active, cores, memory_mb AS MemoryMb, disk_gb AS DiskGb FROM plans WHERE id = @id FOR UPDATE
        """;

    private const string UpdatePlanSql = """
        UPDATE plans SET price_cents = @PriceCents, active = @Active, cores = @Cores, memory_mb = @MemoryMb, disk_gb = @DiskGb WHERE id = @id
        """;

    public sealed record PlanRow(string Id, string Name, int PriceCents, bool Active, int Cores, int MemoryMb, int DiskGb);

    /// <summary>A plan's form as posted, shown back with its errors when refused.</summary>
    public sealed record PlanPost(string? Price, string? Cores, string? MemoryMb, string? DiskGb, bool Active);

    public sealed class SettingsInput
    {
        public string? Headroom { get; set; }
        public string? Strategy { get; set; }
        public string? PollInterval { get; set; }
        public string? AlertThreshold { get; set; }
        public string? AlertClearBelow { get; set; }
    }

    public sealed class SharedInput
    {
        public string? Cores { get; set; }
        public string? MemoryMb { get; set; }
        public string? DiskGb { get; set; }
        public string? Slots { get; set; }
        public bool ApplyToExisting { get; set; }
    }

    public sealed class MailInput
    {
        public string? Host { get; set; }
        public string? Port { get; set; }
        public string? Tls { get; set; }
        public string? User { get; set; }

        /// <summary>Only ever posted, never rendered: the input is always empty on the page.</summary>
        public string? Password { get; set; }
        public bool ClearPassword { get; set; }
        public string? From { get; set; }
    }

    [BindProperty]
    public SettingsInput Input { get; set; } = new();

    [BindProperty]
    public MailInput Mail { get; set; } = new();

    public MailServerView CurrentMail { get; private set; } = MailServerView.Of(new MailSettings(null, null, null, null, null, null), new MailOptions());

    [BindProperty]
    public SharedInput Shared { get; set; } = new();

    public SharedContainerSize CurrentShared { get; private set; } = SharedContainerSize.Default;

    /// <summary>The live shared containers, for the operator to see what "slots used" means before applying.</summary>
    public IReadOnlyList<SharedContainer> SharedContainers { get; private set; } = [];

    /// <summary>Which form the errors belong to: "settings", "shared", or "plan:" and a plan's id.</summary>
    public string? Failed { get; private set; }

    /// <summary>The refused plan form's values, so the operator corrects them instead of typing them again.</summary>
    public PlanPost? FailedPlan { get; private set; }

    public OperatorSettings Current { get; private set; } = new(0.8, "spread", 60, 0.8, 0.7);

    public IReadOnlyList<PlanRow> AllPlans { get; private set; } = [];

    public Dictionary<string, string> Errors { get; } = [];

    /// <summary>"prueba" or "real" from the key's prefix; the key itself never reaches the page.</summary>
    public string StripeMode => stripe.Value switch
    {
        { LiveMode: true } => "real (live)",
        { TestMode: true } => "prueba (test)",
        _ => "sin configurar",
    };

    // Inputs show decimals with a comma, as every number on the page; both a comma and a point are accepted back.
    public string Shown(string? posted, double current) => posted ?? current.ToString("0.###", CultureInfo.InvariantCulture).Replace('.', ',');

    public static string PriceInput(int cents) => (cents / 100m).ToString("0.00", CultureInfo.InvariantCulture).Replace('.', ',');

    public async Task<IActionResult> OnPostSettingsAsync(CancellationToken ct)
    {
        await LoadAsync(ct);
        var parsed = OperatorSettings.Parse(Input.Headroom, Input.Strategy, Input.PollInterval, Input.AlertThreshold, Input.AlertClearBelow, Errors);
        if (parsed is null)
        {
            Failed = "settings";
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

    /// <summary>
    /// The shared container's size and slots for new containers; with <see cref="SharedInput.ApplyToExisting"/> the live
    /// containers' slots too, refused as a whole when one already holds more tenants than the new value.
    /// </summary>
    public async Task<IActionResult> OnPostSharedAsync(CancellationToken ct)
    {
        await LoadAsync(ct);
        var parsed = ContainerSizeInput.Shared(Shared.Cores, Shared.MemoryMb, Shared.DiskGb, Shared.Slots, Errors);
        if (parsed is null)
        {
            Failed = "shared";
            return Page();
        }

        await using var conn = await Db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        // Read under the transaction: the audit's "before" is what this save replaces.
        var before = await SharedContainerSize.ReadAsync(conn, tx, SharedContainerSize.Default, ct);
        List<SharedContainerSlots> resized = [];
        if (Shared.ApplyToExisting)
        {
            var (ok, live) = await SharedSlots.ResizeLiveAsync(conn, tx, parsed.Slots, ct);
            if (!ok)
            {
                await tx.RollbackAsync(ct);
                var over = live.Where(c => c.SlotsUsed > parsed.Slots)
                    .Select(c => $"{c.Hostname} (nodo {c.NodeId}) ya usa {Es.Number((decimal)c.SlotsUsed)}");
                Errors["sharedSlots"] = $"No se puede bajar a {SlotCount(parsed.Slots)} en los contenedores existentes: {string.Join("; ", over)}. "
                    + "Indica al menos las plazas usadas o desmarca la casilla.";
                Failed = "shared";
                return Page();
            }

            resized = live;
        }

        await parsed.WriteAsync(conn, tx, ct);
        await tx.CommitAsync(ct);
        await Audit.WriteAsync(HttpContext, "settings.change", new
        {
            before = new { shared = before },
            after = new { shared = parsed },
            containers = resized.Select(c => new { c.Hostname, c.NodeId, c.SlotsUsed, before = c.SlotsTotal, after = parsed.Slots }),
        }, AuditSeverity.Warning);
        var existing = !Shared.ApplyToExisting
            ? " Los contenedores compartidos existentes conservan sus plazas."
            : resized.Count == 0 ? " No había contenedores compartidos existentes que cambiar."
            : $" {Es.Number((decimal)resized.Count)} {(resized.Count == 1 ? "contenedor compartido existente tiene" : "contenedores compartidos existentes tienen")} ahora {SlotCount(parsed.Slots)}.";
        TempData[TenantActionForms.FlashKey] = $"Contenedor compartido guardado: {Es.Cores(parsed.Cores)}, {Es.MemoryMb(parsed.MemoryMb)} de memoria, "
            + $"{Es.DiskGb(parsed.DiskGb)} de disco y {SlotCount(parsed.Slots)} para los nuevos.{existing}";
        return RedirectToPage();
    }

    /// <summary>The SMTP server; a blank password keeps the stored one, which is encrypted like the Proxmox tokens.</summary>
    public async Task<IActionResult> OnPostMailAsync(CancellationToken ct)
    {
        await LoadAsync(ct);
        var parsed = MailSettingsInput.Parse(Mail.Host, Mail.Port, Mail.Tls, Mail.User, Mail.Password, Mail.ClearPassword, Mail.From, Errors);
        if (parsed is not { } valid)
        {
            Failed = "mail";
            return Page();
        }

        var (settings, newPassword) = valid;

        await using var conn = await Db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        // Read under the transaction: the audit's "before" is what this save replaces.
        var saved = await MailSettings.ReadAsync(conn, tx, ct);
        var before = MailServerView.Of(saved, mailDefaults.Value);
        var stored = settings with
        {
            PasswordProtected = newPassword switch
            {
                null => saved.PasswordProtected,
                "" => "",
                _ => secrets.Protect(newPassword, MailSettings.PasswordPurpose),
            },
        };
        await stored.WriteAsync(conn, tx, ct);
        await tx.CommitAsync(ct);
        var after = MailServerView.Of(stored, mailDefaults.Value);
        await Audit.WriteAsync(HttpContext, "settings.mail.change", new { before = before.Audited, after = after.Audited, passwordChanged = newPassword is not null },
            AuditSeverity.Warning);
        TempData[TenantActionForms.FlashKey] = after.Host.Length == 0
            ? "Correo guardado, sin servidor: los correos esperan en la cola hasta que indiques uno."
            : $"Correo guardado: se envía por {after.Host}:{after.Port.ToString(CultureInfo.InvariantCulture)} desde {after.From}.";
        return RedirectToPage();
    }

    private static string SlotCount(int slots) => $"{Es.Number((decimal)slots)} {(slots == 1 ? "plaza" : "plazas")}";

    public async Task<IActionResult> OnPostPlanAsync(string? id, string? price, string? cores, string? memoryMb, string? diskGb, bool active, CancellationToken ct)
    {
        var field = $"plan-{id}";
        var cents = decimal.TryParse(price?.Trim().Replace(',', '.'), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var dollars)
            && dollars is >= 0 and <= 100_000 && decimal.Round(dollars, 2) == dollars
            ? (int)(dollars * 100) : (int?)null;
        if (cents is null)
        {
            Errors[$"{field}-price"] = "El precio debe ser un importe en dólares entre 0 y 100.000, con dos decimales como mucho (p. ej. 49,00).";
        }

        var c = ContainerSizeInput.Cores(cores, $"{field}-cores", Errors);
        var m = ContainerSizeInput.MemoryMb(memoryMb, $"{field}-memory", Errors);
        var d = ContainerSizeInput.DiskGb(diskGb, $"{field}-disk", Errors);
        if (Errors.Count > 0)
        {
            await LoadAsync(ct);
            Failed = "plan:" + id;
            FailedPlan = new PlanPost(price, cores, memoryMb, diskGb, active);
            return Page();
        }

        await using var conn = await Db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var before = await conn.QuerySingleOrDefaultAsync<PlanRow>(new CommandDefinition(PlanForUpdateSql, new { id }, tx, cancellationToken: ct));
        if (before is null)
        {
            TempData[TenantActionForms.FlashErrorKey] = "Ese plan no existe.";
            return RedirectToPage();
        }

        var after = before with { PriceCents = cents!.Value, Active = active, Cores = c!.Value, MemoryMb = m!.Value, DiskGb = d!.Value };
        await conn.ExecuteAsync(new CommandDefinition(UpdatePlanSql, new { id, after.PriceCents, after.Active, after.Cores, after.MemoryMb, after.DiskGb }, tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
        await Audit.WriteAsync(HttpContext, "plan.change", new
        {
            plan = id,
            before = new { before.PriceCents, before.Active, before.Cores, before.MemoryMb, before.DiskGb },
            after = new { after.PriceCents, after.Active, after.Cores, after.MemoryMb, after.DiskGb },
        }, AuditSeverity.Warning);
        // Neither the Stripe price of existing subscriptions nor existing containers are touched: both apply to new tenants.
        TempData[TenantActionForms.FlashKey] = $"Plan {before.Name} guardado: {TenantLabels.Usd(after.PriceCents)} al mes, {(active ? "activo" : "inactivo")}, "
            + $"{Es.Cores(after.Cores)}, {Es.MemoryMb(after.MemoryMb)} de memoria y {Es.DiskGb(after.DiskGb)} de disco para los inquilinos nuevos.";
        return RedirectToPage();
    }

    protected override async Task LoadAsync(CancellationToken ct)
    {
        await base.LoadAsync(ct);
        await using var conn = await Db.OpenConnectionAsync(ct);
        Current = await OperatorSettings.ReadAsync(conn, ct);
        // The web front has no TenantOptions: the migration seeds every shared.* key, so the fallback is only for a key
        // deleted by hand, and then it is the options' own defaults.
        CurrentShared = await SharedContainerSize.ReadAsync(conn, null, SharedContainerSize.Default, ct);
        SharedContainers = await SharedSlots.ReadLiveAsync(conn, null, ct);
        AllPlans = [.. await conn.QueryAsync<PlanRow>(new CommandDefinition(AllPlansSql, cancellationToken: ct))];
        CurrentMail = MailServerView.Of(await MailSettings.ReadAsync(conn, null, ct), mailDefaults.Value);
    }
}
