using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Sajet.Cluster;
using Sajet.Grains.Interfaces;
using Sajet.Grains.Interfaces.Outbox;
using Sajet.WebFront.Audit;

namespace Sajet.WebFront.Tenants;

/// <summary>An operator's action on a tenant, as the admin pages and the API send it.</summary>
public sealed record TenantActionRequest(string TenantId, string? Action, string? NodeId);

/// <summary>
/// Operator actions on a tenant (retry, place, keep waiting, suspend, resume, cancel), answered with their outcome; the
/// API and the admin pages both send through <see cref="TenantActionSender"/>, so they cannot drift apart.
/// The tenant grain is called directly, so the operator reads at once whether the action was applied or refused and
/// why. When the cluster does not answer in time, the same command (same id) goes to the outbox instead: it is applied
/// once the cluster is back, and a direct call that did land after all makes the outbox delivery a no-op.
/// </summary>
public static class TenantActionsApi
{
    public static IServiceCollection AddSajetTenantActions(this IServiceCollection services) => services.AddSingleton<TenantActionSender>();

    public static IEndpointRouteBuilder MapTenantActions(this RouteGroupBuilder admin)
    {
        admin.MapPost("/{id}/resolve", (string id, ResolveRequest request, HttpContext http, TenantActionSender sender, CancellationToken ct) =>
                sender.SendAsync(new TenantActionRequest(id, request.Action, request.NodeId), http, ct))
            .WithSummary("Resuelve un cliente que espera o falló: reintentar, colocarlo en un nodo, seguir esperando o darlo de baja. Responde con el resultado (200 hecho, 409 rechazado con el motivo, 202 en cola).")
            .WithDescription("Valores de «action»: retry, place_on_node (con «nodeId»), keep_waiting, cancel.");
        admin.MapPost("/{id}/suspend", (string id, HttpContext http, TenantActionSender sender, CancellationToken ct) =>
                sender.SendAsync(new TenantActionRequest(id, TenantActions.Suspend, null), http, ct))
            .WithSummary("Suspende un cliente activo o con el pago pendiente. Responde con el resultado.");
        admin.MapPost("/{id}/resume", (string id, HttpContext http, TenantActionSender sender, CancellationToken ct) =>
                sender.SendAsync(new TenantActionRequest(id, TenantActions.Resume, null), http, ct))
            .WithSummary("Reanuda un cliente suspendido. Responde con el resultado.");
        return admin;
    }

    internal static ProblemHttpResult Refused(TenantActionResult result) => TypedResults.Problem(
        statusCode: StatusCodes.Status409Conflict, title: "Acción rechazada", detail: result.Message,
        extensions: new Dictionary<string, object?> { ["outcome"] = result.Outcome, ["tenantStatus"] = result.Status });
}

/// <summary>Sends an operator's action to the tenant grain and answers its outcome (see <see cref="TenantActionsApi"/>).</summary>
public sealed class TenantActionSender(NpgsqlDataSource db, GrainOutbox outbox, IGrainFactory grains, ClusterConnection cluster, AuditLog audit,
    ILogger<TenantActionSender> logger)
{
    /// <summary>How long a request waits for the grain; past it the action is queued and answered as in progress.</summary>
    public static readonly TimeSpan GrainWait = TimeSpan.FromSeconds(8);

    public async Task<Results<Ok<TenantActionResult>, Accepted<TenantActionResult>, ValidationProblem, ProblemHttpResult>> SendAsync(
        TenantActionRequest request, HttpContext http, CancellationToken ct)
    {
        var (id, action, nodeId) = (request.TenantId, request.Action, string.IsNullOrWhiteSpace(request.NodeId) ? null : request.NodeId.Trim());
        var errors = new Dictionary<string, string[]>();
        if (action is null || !TenantActions.All.Contains(action))
        {
            errors["action"] = [$"Acción no válida. Usa una de: {string.Join(", ", TenantActions.All)}."];
        }
        else if (action == ResolveActions.PlaceOnNode && !await NodeExistsAsync(nodeId, ct))
        {
            errors["nodeId"] = ["Indica un nodo registrado."];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, title: "Acción no válida");
        }

        await using (var conn = await db.OpenConnectionAsync(ct))
        await using (var cmd = new NpgsqlCommand("SELECT status, compensated FROM tenants WHERE id = @id", conn))
        {
            cmd.Parameters.AddWithValue("id", id);
            await using var row = await cmd.ExecuteReaderAsync(ct);
            if (!await row.ReadAsync(ct))
            {
                return TypedResults.Problem(statusCode: 404, title: "Cliente no encontrado", detail: $"No existe el cliente '{id}'.");
            }

            // Judged on the read model first, so an action the console should not have offered costs no grain call.
            if (TenantActions.RefusalOf(action!, row.GetString(0), row.GetBoolean(1)) is { } refusal)
            {
                return TenantActionsApi.Refused(TenantActionResult.Refused(refusal, row.GetString(0)));
            }
        }

        var actor = AuditLog.ActorOf(http.User);
        var command = action switch
        {
            TenantActions.Suspend => OutboxCommand.Suspend(id, new SuspendTenant(actor)),
            TenantActions.Resume => OutboxCommand.Resume(id, new ResumeTenant(actor)),
            _ => OutboxCommand.Resolve(id, new ResolveTenant(action!, nodeId, actor)),
        };

        var result = await CallGrainAsync(command);
        if (result is null)
        {
            await outbox.SendAsync(command, ct: ct);
        }

        var kind = action switch { TenantActions.Suspend => "tenant.suspend", TenantActions.Resume => "tenant.resume", _ => "tenant.resolve" };
        await audit.WriteAsync(http, kind, new { tenant = id, action, node = nodeId, outcome = result?.Outcome ?? ActionOutcomes.InProgress },
            result?.Outcome == ActionOutcomes.Refused ? AuditSeverity.Warning : AuditSeverity.Info);

        return result switch
        {
            null => TypedResults.Accepted($"/api/tenants/{id}", new TenantActionResult(ActionOutcomes.InProgress,
                "El clúster no respondió a tiempo: la acción queda en cola y se aplicará en cuanto responda. Esta página se actualiza sola.", null)),
            { Outcome: ActionOutcomes.Refused } => TenantActionsApi.Refused(result),
            _ => TypedResults.Ok(result),
        };
    }

    /// <summary>The grain's answer, or null when the cluster is not connected or did not answer within <see cref="GrainWait"/>.</summary>
    private async Task<TenantActionResult?> CallGrainAsync(OutboxCommand command)
    {
        if (!cluster.IsConnected)
        {
            return null;
        }

        var tenant = grains.GetGrain<ITenantGrain>(command.GrainKey);
        var call = command.Kind switch
        {
            OutboxKinds.TenantSuspend => tenant.SuspendAsync(command.Id, command.Payload<SuspendTenant>()),
            OutboxKinds.TenantResume => tenant.ResumeAsync(command.Id, command.Payload<ResumeTenant>()),
            _ => tenant.ResolveAsync(command.Id, command.Payload<ResolveTenant>()),
        };
        try
        {
            // The wait ends, not the call: if the call lands later, the outbox delivery of the same id changes nothing.
            return await call.WaitAsync(GrainWait);
        }
        catch (Exception ex) when (ex is TimeoutException or OrleansException)
        {
            logger.LogWarning("Tenant {Tenant}: the grain did not answer action {Kind} ({Error}); it goes through the outbox", command.GrainKey, command.Kind, ex.Message);
            return null;
        }
    }

    private async Task<bool> NodeExistsAsync(string? nodeId, CancellationToken ct)
    {
        if (nodeId is null)
        {
            return false;
        }

        await using var cmd = db.CreateCommand("SELECT 1 FROM nodes WHERE id = @id");
        cmd.Parameters.AddWithValue("id", nodeId);
        return await cmd.ExecuteScalarAsync(ct) is not null;
    }
}
