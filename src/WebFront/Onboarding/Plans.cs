using Dapper;
using Npgsql;

namespace Sajet.WebFront.Onboarding;

public sealed record Plan(string Id, string Name, int PriceCents, string Currency, int Cores, int MemoryMb, int DiskGb, string Backup, string Sla, bool Shared, bool Ha)
{
    public string PriceLabel => $"{Sajet.Grains.Interfaces.Es.Usd(PriceCents)}/mes";
}

/// <summary>The plans table (seeded by sql/0004, editable by admins).</summary>
public static class Plans
{
    private const string ActiveSql = """
        SELECT id, name, price_cents AS PriceCents, currency, cores, memory_mb AS MemoryMb, disk_gb AS DiskGb, backup, sla, shared, ha
        FROM plans WHERE active ORDER BY sort, price_cents
        """;

    public static async Task<IReadOnlyList<Plan>> ActiveAsync(NpgsqlDataSource db, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return [.. await conn.QueryAsync<Plan>(new CommandDefinition(ActiveSql, cancellationToken: ct))];
    }

    public static IEndpointRouteBuilder MapPlansApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/plans", async (NpgsqlDataSource db, CancellationToken ct) => TypedResults.Ok(await ActiveAsync(db, ct)))
            .WithTags("Planes").WithSummary("Planes a la venta, con el precio en céntimos de dólar.").AllowAnonymous();
        return app;
    }
}
