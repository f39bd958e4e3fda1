using System.Text.Json;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace Sajet.WebFront.Audit;

public static class AuditApi
{
    private const string Recent = """
        SELECT id, at, kind, actor, ip, detail::text AS detail, severity
        FROM audit_log
        WHERE (@kind::text IS NULL OR kind = @kind)
        ORDER BY at DESC, id DESC
        LIMIT @limit
        """;

    private sealed record Row(long Id, DateTime At, string Kind, string Actor, string? Ip, string Detail, string Severity);

    public sealed record AuditEntry(long Id, DateTimeOffset At, string Kind, string Actor, string? Ip, JsonElement Detail, string Severity);

    public static IServiceCollection AddSajetAudit(this IServiceCollection services)
    {
        services.AddOptions<AuditOptions>().BindConfiguration(AuditOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<AuditLog>();
        return services;
    }

    public static IEndpointRouteBuilder MapAuditApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/admin/audit").RequireAuthorization("admin").WithTags("Auditoría");
        group.MapGet("/", ListAsync).WithSummary("Eventos recientes del registro de auditoría, los más nuevos primero.");
        return app;
    }

    private static async Task<Results<Ok<AuditEntry[]>, ValidationProblem>> ListAsync(NpgsqlDataSource db, string? kind, int? limit, CancellationToken ct)
    {
        var take = limit ?? 100;
        if (take is < 1 or > 1000)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["limit"] = ["El límite debe estar entre 1 y 1000."] });
        }

        await using var conn = await db.OpenConnectionAsync(ct);
        var rows = await conn.QueryAsync<Row>(new CommandDefinition(Recent, new { kind, limit = take }, cancellationToken: ct));
        return TypedResults.Ok(rows.Select(r => new AuditEntry(r.Id, new DateTimeOffset(DateTime.SpecifyKind(r.At, DateTimeKind.Utc)), r.Kind, r.Actor, r.Ip,
            JsonDocument.Parse(r.Detail).RootElement.Clone(), r.Severity)).ToArray());
    }
}
