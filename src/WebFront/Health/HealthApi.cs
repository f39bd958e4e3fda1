using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Npgsql;
using Sajet.Cluster;

namespace Sajet.WebFront.Health;

/// <summary>Section <c>Health</c>.</summary>
public sealed class HealthOptions
{
    public const string Section = "Health";

    /// <summary>Silos silent for longer are left out of the report: they are history, not state.</summary>
    public TimeSpan SiloForgetAfter { get; set; } = TimeSpan.FromDays(1);
}

public static class HealthApi
{
    // Orleans' membership table (sql/0005_orleans.sql), read-only for us. Dead silos are shown until they are
    // forgotten like the others; Orleans' own cleanup removes their rows later.
    internal const string OrleansSilosSql = """
        SELECT silo_name AS Name, host_name AS Host, address || ':' || port AS Address, generation AS Generation,
               status AS StatusCode, start_time AS StartedAt, i_am_alive_time AS IAmAliveAt,
               extract(epoch FROM now() - i_am_alive_time)::float8 AS IAmAliveAgeSeconds
        FROM orleans_membership
        WHERE deployment_id = @clusterId AND i_am_alive_time > now() - make_interval(secs => @forgetSeconds)
        ORDER BY status = 3 DESC, start_time DESC
        LIMIT 100
        """;

    /// <summary>A silo of the Orleans cluster as its membership row says; <see cref="Status"/> is Orleans' SiloStatus in lower case.</summary>
    public sealed record OrleansSiloHealth(string Name, string Host, string Address, int Generation, string Status,
        DateTime StartedAt, DateTime IAmAliveAt, double IAmAliveAgeSeconds)
    {
        public bool Active => Status == "active";
    }

    private sealed record OrleansSiloRow(string Name, string Host, string Address, int Generation, int StatusCode,
        DateTime StartedAt, DateTime IAmAliveAt, double IAmAliveAgeSeconds);

    /// <param name="OrleansClient">"connected" once the web front's Orleans client reached a gateway, else "connecting".</param>
    public sealed record HealthReport(string Status, string Database, OrleansSiloHealth[] OrleansSilos, string OrleansClient);

    private static readonly string[] SiloStatuses = ["none", "created", "joining", "active", "shutting_down", "stopping", "dead"];

    public static IServiceCollection AddSajetHealth(this IServiceCollection services)
    {
        services.AddOptions<HealthOptions>().BindConfiguration(HealthOptions.Section).ValidateOnStart();
        return services;
    }

    public static IEndpointRouteBuilder MapHealthApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/health", CheckAsync).WithTags("Salud").AllowAnonymous()
            .WithSummary("Estado del servicio: si responde la base de datos y qué silos de Orleans están en el clúster; 200 mientras responde la base de datos, 503 si no.");
        return app;
    }

    public static async Task<OrleansSiloHealth[]> OrleansSilosAsync(NpgsqlDataSource db, HealthOptions options, string clusterId, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        var rows = await conn.QueryAsync<OrleansSiloRow>(new CommandDefinition(OrleansSilosSql,
            new { clusterId, forgetSeconds = options.SiloForgetAfter.TotalSeconds }, cancellationToken: ct));
        return [.. rows.Select(r => new OrleansSiloHealth(r.Name, r.Host, r.Address, r.Generation,
            r.StatusCode >= 0 && r.StatusCode < SiloStatuses.Length ? SiloStatuses[r.StatusCode] : "unknown",
            r.StartedAt, r.IAmAliveAt, r.IAmAliveAgeSeconds))];
    }

    private static async Task<Results<Ok<HealthReport>, JsonHttpResult<HealthReport>>> CheckAsync(
        NpgsqlDataSource db, IOptions<HealthOptions> options, IOptions<SajetClusterOptions> cluster, ClusterConnection orleans,
        ILoggerFactory logs, CancellationToken ct)
    {
        var client = orleans.IsConnected ? "connected" : "connecting";
        try
        {
            var silos = await OrleansSilosAsync(db, options.Value, cluster.Value.ClusterId, ct);
            // No active silo means nothing progresses (onboarding, polls, the outbox), though the web front itself works.
            return TypedResults.Ok(new HealthReport(silos.Any(s => s.Active) ? "ok" : "degraded", "ok", silos, client));
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException)
        {
            logs.CreateLogger("Sajet.Health").LogWarning(ex, "Health check: the database does not answer");
            return TypedResults.Json(new HealthReport("error", "error", [], client), statusCode: StatusCodes.Status503ServiceUnavailable);
        }
    }
}
