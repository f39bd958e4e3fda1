using System.Security.Claims;
using System.Text.Json;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Sajet.Grains.Interfaces;
using Sajet.Grains.Interfaces.Outbox;
using Sajet.Persistence;
using Sajet.Persistence.Secrets;
using Sajet.WebFront.Audit;
using Sajet.WebFront.Auth;
using Sajet.WebFront.Security;

namespace Sajet.WebFront.Tenants;

public sealed record HistoryEntry(long Id, DateTime At, string? From, string? To, string Reason, string Actor, string? CorrelationId, JsonElement? Data);

public sealed record TenantView(
    string Id, string Subdomain, string CompanyName, string Email, string Country, string Plan, string Status, string? Url,
    string? NodeId, int? Vmid, string? FailReason, string? StripeCustomerId, string? SubscriptionId, DateTime CreatedAt,
    DateTime? WaitingSince, IReadOnlyList<HistoryEntry> History);

public sealed record TenantListItem(string Id, string Subdomain, string CompanyName, string Email, string PlanId, string Status, string? NodeId, DateTime CreatedAt, DateTime? WaitingSince);

public sealed record ResolveRequest(string? Action, string? NodeId);

public sealed record OnboardingStatus(string Status, string Subdomain, string? Url, string? Login, string? Password, IReadOnlyList<OnboardingStep> Steps);

public sealed record OnboardingStep(DateTime At, string? To, string Reason);

/// <summary>Tenants for admins (view, list, resolve, suspend), for the customer's own portal, and /success progress.</summary>
public static class TenantsApi
{
    private const string TenantSql = """
        SELECT t.id, t.subdomain, t.company_name AS CompanyName, t.email, t.country, t.plan_id AS Plan, t.status, t.url, t.node_id AS NodeId,
               t.vmid, t.fail_reason AS FailReason, t.stripe_customer_id AS StripeCustomerId, t.subscription_id AS SubscriptionId,
               t.created_at AS CreatedAt, t.waiting_since AS WaitingSince
        FROM tenants t
        WHERE t.id = @id
        """;

    private const string HistorySql = """
        SELECT id, at, from_state AS "From", to_state AS "To", reason, actor, correlation_id AS CorrelationId, data::text AS Data
        FROM grain_events WHERE grain_type = 'tenant' AND grain_key = @id ORDER BY id
        """;

    private sealed record HistoryRow(long Id, DateTime At, string? From, string? To, string Reason, string Actor, string? CorrelationId, string? Data);

    private sealed record TenantRow(string Id, string Subdomain, string CompanyName, string Email, string Country, string Plan, string Status, string? Url,
        string? NodeId, int? Vmid, string? FailReason, string? StripeCustomerId, string? SubscriptionId, DateTime CreatedAt, DateTime? WaitingSince);

    public static IEndpointRouteBuilder MapTenantsApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/tenants/{id}", GetAsync).RequireAuthorization(Roles.AdminPolicy).WithTags("Clientes")
            .WithSummary("A tenant with its status and full history.");

        var admin = app.MapGroup("/api/admin/tenants").RequireAuthorization(Roles.AdminPolicy).WithTags("Clientes");
        admin.MapGet("/", ListEndpointAsync).WithSummary("Tenants a page at a time, waiting ones first or sorted by a column; filter by status, plan, node or text.");
        admin.MapPost("/{id}/resolve", ResolveAsync).WithSummary("Resolve a waiting or failed tenant: retry, place_on_node, keep_waiting, cancel.");
        admin.MapPost("/{id}/suspend", SuspendAsync).WithSummary("Suspend an active tenant.");
        admin.MapPost("/{id}/resume", ResumeAsync).WithSummary("Resume a suspended tenant.");

        app.MapGet("/api/tenant/me", MineAsync).RequireAuthorization(Roles.TenantPolicy).WithTags("Portal")
            .WithSummary("The signed-in customer's own tenant.");
        app.MapGet("/api/onboarding/status", OnboardingAsync).AllowAnonymous().RequireRateLimiting(RateLimitPolicies.OnboardingStatus).WithTags("Alta")
            .WithSummary("Progress of an onboarding, by its Stripe Checkout Session id (used by /success).");
        return app;
    }

    public static async Task<TenantView?> LoadAsync(NpgsqlDataSource db, string id, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        var row = await conn.QuerySingleOrDefaultAsync<TenantRow>(new CommandDefinition(TenantSql, new { id }, cancellationToken: ct));
        if (row is null)
        {
            return null;
        }

        var history = await conn.QueryAsync<HistoryRow>(new CommandDefinition(HistorySql, new { id }, cancellationToken: ct));
        return new TenantView(row.Id, row.Subdomain, row.CompanyName, row.Email, row.Country, row.Plan, row.Status, row.Url, row.NodeId, row.Vmid,
            row.FailReason, row.StripeCustomerId, row.SubscriptionId, row.CreatedAt, row.WaitingSince,
            [.. history.Select(h => new HistoryEntry(h.Id, h.At, h.From, h.To, h.Reason, h.Actor, h.CorrelationId,
                h.Data is null ? null : JsonDocument.Parse(h.Data).RootElement.Clone()))]);
    }

    /// <summary>Every tenant that matches, uncapped: for the short queues (waiting, past due) that show them all.</summary>
    public static Task<IReadOnlyList<TenantListItem>> ListAsync(NpgsqlDataSource db, string? status, string? q, CancellationToken ct) =>
        TenantList.AllAsync(db, status, q, ct);

    private static async Task<Results<Ok<TenantView>, ProblemHttpResult>> GetAsync(string id, NpgsqlDataSource db, CancellationToken ct) =>
        await LoadAsync(db, id, ct) is { } tenant ? TypedResults.Ok(tenant) : NotFound(id);

    private static async Task<Results<Ok<TenantListPage>, ValidationProblem>> ListEndpointAsync(
        [AsParameters] TenantListRequest request, NpgsqlDataSource db, CancellationToken ct)
    {
        var (query, errors) = TenantList.Parse(request, await TenantList.FiltersAsync(db, ct));
        return errors.Count > 0
            ? TypedResults.ValidationProblem(errors, title: "Consulta de clientes no válida")
            : TypedResults.Ok(await TenantList.PageAsync(db, query, ct));
    }

    /// <summary>Validates and sends an admin's resolution; the API and the admin pages both call this, so they cannot drift apart.</summary>
    public static async Task<Results<Accepted, ValidationProblem, ProblemHttpResult>> ResolveAsync(
        string id, ResolveRequest request, HttpContext http, NpgsqlDataSource db, GrainOutbox grains, AuditLog audit, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        if (request.Action is null || !ResolveActions.All.Contains(request.Action))
        {
            errors["action"] = [$"Acción no válida. Usa una de: {string.Join(", ", ResolveActions.All)}."];
        }
        else if (request.Action == ResolveActions.PlaceOnNode)
        {
            await using var node = db.CreateCommand("SELECT 1 FROM nodes WHERE id = @id");
            node.Parameters.AddWithValue("id", request.NodeId ?? "");
            if (await node.ExecuteScalarAsync(ct) is null)
            {
                errors["nodeId"] = ["Indica un nodo registrado."];
            }
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, title: "Resolución no válida");
        }

        if (!await ExistsAsync(db, id, ct))
        {
            return NotFound(id);
        }

        var actor = AuditLog.ActorOf(http.User);
        await grains.SendAsync(OutboxCommand.Resolve(id, new ResolveTenant(request.Action!, request.NodeId, actor)), ct: ct);
        await audit.WriteAsync(http, "tenant.resolve", new { tenant = id, action = request.Action, node = request.NodeId });
        return TypedResults.Accepted($"/api/tenants/{id}");
    }

    public static Task<Results<Accepted, ProblemHttpResult>> SuspendAsync(string id, HttpContext http, NpgsqlDataSource db, GrainOutbox grains, AuditLog audit, CancellationToken ct) =>
        LifecycleAsync(id, OutboxCommand.Suspend(id, new SuspendTenant(AuditLog.ActorOf(http.User))), "tenant.suspend", http, db, grains, audit, ct);

    public static Task<Results<Accepted, ProblemHttpResult>> ResumeAsync(string id, HttpContext http, NpgsqlDataSource db, GrainOutbox grains, AuditLog audit, CancellationToken ct) =>
        LifecycleAsync(id, OutboxCommand.Resume(id, new ResumeTenant(AuditLog.ActorOf(http.User))), "tenant.resume", http, db, grains, audit, ct);

    private static async Task<Results<Accepted, ProblemHttpResult>> LifecycleAsync(
        string id, OutboxCommand command, string kind, HttpContext http, NpgsqlDataSource db, GrainOutbox grains, AuditLog audit, CancellationToken ct)
    {
        if (!await ExistsAsync(db, id, ct))
        {
            return NotFound(id);
        }

        await grains.SendAsync(command, ct: ct);
        await audit.WriteAsync(http, kind, new { tenant = id });
        return TypedResults.Accepted($"/api/tenants/{id}");
    }

    private static async Task<Results<Ok<TenantView>, ProblemHttpResult>> MineAsync(ClaimsPrincipal user, NpgsqlDataSource db, CancellationToken ct) =>
        SajetClaims.TenantIdOf(user) is { } mine && await LoadAsync(db, mine, ct) is { } tenant
            ? TypedResults.Ok(tenant)
            : NotFound("");

    private static async Task<Results<Ok<OnboardingStatus>, ProblemHttpResult>> OnboardingAsync(
        string? session_id, NpgsqlDataSource db, GrainOutbox grains, SecretProtector secrets, CancellationToken ct)
    {
        var status = await OnboardingStatusAsync(db, grains, secrets, session_id, ct);
        return status is null ? TypedResults.Problem(statusCode: 404, title: "No encontrado", detail: "No hay ningún alta con ese pago.") : TypedResults.Ok(status);
    }

    /// <summary>
    /// The progress /success shows. While still pending it asks the tenant grain to check the session with Stripe,
    /// so a customer who returns before the webhook arrives (or when it never does) still moves on.
    /// </summary>
    public static async Task<OnboardingStatus?> OnboardingStatusAsync(NpgsqlDataSource db, GrainOutbox grains, SecretProtector secrets, string? sessionId, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(sessionId))
        {
            return null;
        }

        await using var conn = await db.OpenConnectionAsync(ct);
        // The session is the signup's (its table knows it at once); until the grain has applied the signup there is no
        // tenants row, and the onboarding is simply pending.
        var row = await conn.QuerySingleOrDefaultAsync<(string Id, string Subdomain, string Status, string? Url, string? Email, string? Protected)>(new CommandDefinition("""
            SELECT s.tenant_id, s.subdomain, coalesce(t.status, @pending), t.url, t.email, t.odoo_password_protected
            FROM signups s LEFT JOIN tenants t ON t.id = s.tenant_id
            WHERE s.checkout_session_id = @sessionId
            """, new { sessionId, pending = TenantStatus.Pending }, cancellationToken: ct));
        if (row.Id is null)
        {
            return null;
        }

        if (row.Status == TenantStatus.Pending)
        {
            await grains.SendAsync(OutboxCommand.CheckoutReturned(row.Id, new CheckoutReturned(sessionId)), ct: ct);
        }

        var steps = await conn.QueryAsync<OnboardingStep>(new CommandDefinition(
            "SELECT at, to_state AS \"To\", reason FROM grain_events WHERE grain_type = 'tenant' AND grain_key = @id ORDER BY id", new { id = row.Id }, cancellationToken: ct));
        var active = row.Status == TenantStatus.Active;
        return new OnboardingStatus(row.Status, row.Subdomain, row.Url, active ? row.Email : null,
            active && row.Protected is not null ? secrets.Unprotect(row.Protected, "odoo-admin") : null, [.. steps]);
    }

    private static ProblemHttpResult NotFound(string id) => TypedResults.Problem(statusCode: 404, title: "Cliente no encontrado",
        detail: id.Length == 0 ? "No hay ningún cliente asociado a esta cuenta." : $"No existe el cliente '{id}'.");

    private static async Task<bool> ExistsAsync(NpgsqlDataSource db, string id, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("SELECT 1 FROM tenants WHERE id = @id");
        cmd.Parameters.AddWithValue("id", id);
        return await cmd.ExecuteScalarAsync(ct) is not null;
    }
}
