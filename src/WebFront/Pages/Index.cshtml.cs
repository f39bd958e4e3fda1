using Dapper;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Npgsql;

namespace Sajet.WebFront.Pages;

/// <summary>The public landing page: what Sajet is, and the plans.</summary>
public sealed class IndexModel(NpgsqlDataSource db) : PageModel
{
    // The plans table belongs to onboarding (sql/0004); until it exists the landing shows DESIGN.md §4's plans.
    private const string PlansTableExists = "SELECT to_regclass('public.plans') IS NOT NULL";

    private const string PlansSql = """
        SELECT id AS Id, name AS Name, price_cents::int AS PriceCents, cores::int AS Cores, memory_mb::int AS MemoryMb, disk_gb::int AS DiskGb,
               backup::text AS Backup, sla::text AS Sla, shared AS Shared
        FROM plans WHERE active ORDER BY sort, price_cents
        """;

    public static readonly PlanCard[] FallbackPlans =
    [
        new("basic", "Basic", 2900, 1, 2048, 10, "semanal", "99", true),
        new("pro", "Pro", 4900, 2, 4096, 50, "diaria", "99.5", false),
        new("enterprise", "Enterprise", 9900, 4, 8192, 100, "cada 6 h", "99.9", false),
    ];

    public sealed record PlanCard(string Id, string Name, int PriceCents, int Cores, int MemoryMb, int DiskGb, string Backup, string Sla, bool Shared)
    {
        public string Price => Sajet.Grains.Interfaces.Es.Usd(PriceCents);

        public string Memory => $"{Sajet.Grains.Interfaces.Es.MemoryMb(MemoryMb)} de memoria";

        public string CoresText => $"{Sajet.Grains.Interfaces.Es.Cores(Cores)} de CPU";

        public string Disk => $"{Sajet.Grains.Interfaces.Es.DiskGb(DiskGb)} de disco";

        /// <summary>
        /// The plans table stores the SLA as written in the design ("99.5%"), the fallback as a bare number: either way
        /// the card shows it the Spanish way, decimal comma and a space before the sign ("99,5 %"), and only one sign.
        /// </summary>
        public string SlaText
        {
            get
            {
                var bare = Sla.Trim().TrimEnd('%').Trim();
                return decimal.TryParse(bare, System.Globalization.NumberStyles.Number, System.Globalization.CultureInfo.InvariantCulture, out var value)
                    // The app runs in invariant-globalization mode (no ICU on the hosts), so the comma is put in by hand.
                    ? Sajet.Grains.Interfaces.Es.Number(value, 2) + "\u00a0%"
                    : Sla;
            }
        }

        public string BackupText => Backup.ToLowerInvariant() switch
        {
            "weekly" => "semanal",
            "daily" => "diaria",
            "6h" or "every_6h" or "6-hourly" => "cada 6 h",
            var other => other,
        };

        public string Hosting => Shared ? "Contenedor compartido" : Id == "enterprise" ? "LXC dedicado con alta disponibilidad" : "LXC dedicado";
    }

    public IReadOnlyList<PlanCard> Plans { get; private set; } = FallbackPlans;

    public async Task OnGetAsync(CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        if (!await conn.ExecuteScalarAsync<bool>(new CommandDefinition(PlansTableExists, cancellationToken: ct)))
        {
            return;
        }

        var rows = (await conn.QueryAsync<PlanCard>(new CommandDefinition(PlansSql, cancellationToken: ct))).ToList();
        if (rows.Count > 0)
        {
            Plans = rows;
        }
    }
}
