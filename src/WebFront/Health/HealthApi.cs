using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Sajet.WebFront.Health;

/// <summary>Section <c>Health</c>.</summary>
public sealed class HealthOptions
{
    public const string Section = "Health";

    /// <summary>A silo whose last heartbeat is older than this is reported dead (a few missed 5-second beats).</summary>
    public TimeSpan SiloAliveWithin { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Silos silent for longer are left out of the report: they are history, not state.</summary>
    public TimeSpan SiloForgetAfter { get; set; } = TimeSpan.FromDays(1);
}

public static class HealthApi
{
    // Ages come from the database clock, the same clock the silos' heartbeats use.
    internal const string SilosSql = """
        SELECT silo_id AS Id, host AS Host,
               extract(epoch FROM now() - heartbeat_at)::float8 AS HeartbeatAgeSeconds,
               stopped_at IS NULL AND heartbeat_at > now() - make_interval(secs => @aliveSeconds) AS Alive
        FROM silos
        WHERE heartbeat_at > now() - make_interval(secs => @forgetSeconds)
        ORDER BY Alive DESC, heartbeat_at DESC
        LIMIT 100
        """;

    public sealed record SiloHealth(string Id, string Host, double HeartbeatAgeSeconds, bool Alive);

    public sealed record HealthReport(string Status, string Database, SiloHealth[] Silos);

    public static IServiceCollection AddSajetHealth(this IServiceCollection services)
    {
        services.AddOptions<HealthOptions>().BindConfiguration(HealthOptions.Section).ValidateOnStart();
        return services;
    }

    public static IEndpointRouteBuilder MapHealthApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/health", CheckAsync).WithTags("Salud").AllowAnonymous()
            .WithSummary("Database reachability and silo heartbeats; 200 while the database answers, 503 otherwise.");
        return app;
    }

    public static async Task<SiloHealth[]> SilosAsync(NpgsqlDataSource db, HealthOptions options, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        var rows = await conn.QueryAsync<SiloHealth>(new CommandDefinition(SilosSql,
            new { aliveSeconds = options.SiloAliveWithin.TotalSeconds, forgetSeconds = options.SiloForgetAfter.TotalSeconds }, cancellationToken: ct));
        return [.. rows];
    }

    private static async Task<Results<Ok<HealthReport>, JsonHttpResult<HealthReport>>> CheckAsync(
        NpgsqlDataSource db, IOptions<HealthOptions> options, ILoggerFactory logs, CancellationToken ct)
    {
        try
        {
            var silos = await SilosAsync(db, options.Value, ct);
            // No live silo means nothing progresses (onboarding, reminders), though the web front itself works.
            return TypedResults.Ok(new HealthReport(silos.Any(s => s.Alive) ? "ok" : "degraded", "ok", silos));
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException)
        {
            logs.CreateLogger("Sajet.Health").LogWarning(ex, "Health check: the database does not answer");
            return TypedResults.Json(new HealthReport("error", "error", []), statusCode: StatusCodes.Status503ServiceUnavailable);
        }
    }
}
