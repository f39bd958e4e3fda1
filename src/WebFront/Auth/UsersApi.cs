using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Sajet.WebFront.Audit;

namespace Sajet.WebFront.Auth;

/// <summary>Admin actions on accounts under /api/users.</summary>
public static class UsersApi
{
    public sealed record SessionsEndedResponse(long UserId, int SessionsEnded);

    public static IEndpointRouteBuilder MapUsersApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/users").WithTags("Usuarios").RequireAuthorization(Roles.AdminPolicy);
        group.MapPost("/{id:long}/sessions/end", EndSessionsAsync)
            .WithSummary("Cierra todas las sesiones del usuario en todas las instancias: sus tokens de acceso dejan de valer al momento.");
        return app;
    }

    private static async Task<Results<Ok<SessionsEndedResponse>, NotFound>> EndSessionsAsync(long id, HttpContext http, NpgsqlDataSource db, Sessions sessions, AuditLog audit, CancellationToken ct) =>
        await EndAllAsync(id, http, db, sessions, audit, ct) is { } ended ? TypedResults.Ok(new SessionsEndedResponse(id, ended)) : TypedResults.NotFound();

    /// <summary>Ends every session of the user, audited; null when there is no such user. The admin pages use it too.</summary>
    public static async Task<int?> EndAllAsync(long userId, HttpContext http, NpgsqlDataSource db, Sessions sessions, AuditLog audit, CancellationToken ct)
    {
        await using (var conn = await db.OpenConnectionAsync(ct))
        {
            if (await Users.FindByIdAsync(conn, userId, ct) is null)
            {
                return null;
            }
        }

        var ended = await sessions.EndAllOfUserAsync(userId, ct);
        await audit.WriteAsync(http, "user.sessions_ended", new { userId, sessions = ended }, AuditSeverity.Warning);
        return ended;
    }
}
