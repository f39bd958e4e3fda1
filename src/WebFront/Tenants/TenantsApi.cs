using System.Security.Claims;
using System.Text.Json;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Npgsql;
using Sajet.Grains.Interfaces;
using Sajet.Grains.Interfaces.Outbox;
using Sajet.Persistence;
using Sajet.Persistence.Secrets;
using Sajet.WebFront.Audit;
using Sajet.WebFront.Auth;
using Sajet.WebFront.Onboarding;
using Sajet.WebFront.Security;

namespace Sajet.WebFront.Tenants;

public sealed record HistoryEntry(long Id, DateTime At, string? From, string? To, string Reason, string Actor, string? CorrelationId, JsonElement? Data);

public sealed record TenantView(
    string Id, string Subdomain, string CompanyName, string Email, string Country, string Plan, string Status, string? Url,
    string? NodeId, int? Vmid, string? FailReason, string? StripeCustomerId, string? SubscriptionId, DateTime CreatedAt,
    DateTime? WaitingSince, IReadOnlyList<HistoryEntry> History, IReadOnlyList<string> Actions);

public sealed record TenantListItem(string Id, string Subdomain, string CompanyName, string Email, string PlanId, string Status, string? NodeId, DateTime CreatedAt, DateTime? WaitingSince);

public sealed record ResolveRequest(string? Action, string? NodeId);

/// <summary>
/// What /success shows: <see cref="CustomerProgress"/> for the tenant's status (no internal names: the history's reasons
/// are for operators), the Odoo's address once ready, and the sign-in. <see cref="Login"/> only ever goes to the browser
/// that signed up (<see cref="SignupBrowser"/>). No password is ever shown: the welcome mail carries a single-use link to
/// choose it, which <see cref="SignInNote"/> points to.
/// </summary>
public sealed record OnboardingStatus(
    string Status, string Subdomain, string Tone, string Badge, string Heading, string Message, int Percent, bool Ready,
    IReadOnlyList<CustomerStep> Steps, string? Url, string? Login, string? SignInNote);

/// <summary>Tenants for admins (view, list, resolve, suspend), for the customer's own portal, and /success progress.</summary>
public static class TenantsApi
{
    private const string TenantSql = """
        SELECT t.id, t.subdomain, t.company_name AS CompanyName, t.email, t.country, t.plan_id AS Plan, t.status, t.url, t.node_id AS NodeId,
               t.vmid, t.fail_reason AS FailReason, t.stripe_customer_id AS StripeCustomerId, t.subscription_id AS SubscriptionId,
               t.created_at AS CreatedAt, t.waiting_since AS WaitingSince, t.compensated
        FROM tenants t
        WHERE t.id = @id
        """;

    private const string HistorySql = """
        SELECT id, at, from_state AS "From", to_state AS "To", reason, actor, correlation_id AS CorrelationId, data::text AS Data
        FROM grain_events WHERE grain_type = 'tenant' AND grain_key = @id ORDER BY id
        """;

    private sealed record HistoryRow(long Id, DateTime At, string? From, string? To, string Reason, string Actor, string? CorrelationId, string? Data);

    private sealed record TenantRow(string Id, string Subdomain, string CompanyName, string Email, string Country, string Plan, string Status, string? Url,
        string? NodeId, int? Vmid, string? FailReason, string? StripeCustomerId, string? SubscriptionId, DateTime CreatedAt, DateTime? WaitingSince,
        bool Compensated);

    public static IEndpointRouteBuilder MapTenantsApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/tenants/{id}", GetAsync).RequireAuthorization(Roles.AdminPolicy).WithTags("Clientes")
            .WithSummary("Un cliente con su estado y su historial completo.");

        var admin = app.MapGroup("/api/admin/tenants").RequireAuthorization(Roles.AdminPolicy).WithTags("Clientes");
        admin.MapGet("/", ListEndpointAsync).WithSummary("Clientes por páginas, los que esperan primero u ordenados por una columna; filtros por estado, plan, nodo o texto.");
        admin.MapTenantActions();

        app.MapGet("/api/tenant/me", MineAsync).RequireAuthorization(Roles.TenantPolicy).WithTags("Portal")
            .WithSummary("El servicio del cliente que ha iniciado sesión en el portal.");
        app.MapGet("/api/onboarding/status", OnboardingAsync).AllowAnonymous().RequireRateLimiting(RateLimitPolicies.OnboardingStatus).WithTags("Alta")
            .WithSummary("Progreso de un alta en palabras del cliente, por el identificador de su sesión de Stripe Checkout (lo usa /success); la contraseña una sola vez, al navegador que hizo el alta.");
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
                h.Data is null ? null : JsonDocument.Parse(h.Data).RootElement.Clone()))],
            TenantActions.Allowed(row.Status, row.Compensated));
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

    private static async Task<Results<Ok<TenantView>, ProblemHttpResult>> MineAsync(ClaimsPrincipal user, NpgsqlDataSource db, CancellationToken ct) =>
        SajetClaims.TenantIdOf(user) is { } mine && await LoadAsync(db, mine, ct) is { } tenant
            ? TypedResults.Ok(tenant)
            : NotFound("");

    private static async Task<Results<Ok<OnboardingStatus>, ProblemHttpResult>> OnboardingAsync(
        string? session_id, HttpContext http, NpgsqlDataSource db, GrainOutbox grains, CancellationToken ct)
    {
        // It may carry the login: no cache, shared or private, may keep a copy.
        http.Response.Headers.CacheControl = "no-store";
        var status = await OnboardingStatusAsync(db, grains, session_id, SignupBrowser.HashOf(http.Request), ct);
        return status is null ? TypedResults.Problem(statusCode: 404, title: "No encontrado", detail: "No hay ningún alta con ese pago.") : TypedResults.Ok(status);
    }

    private sealed record OnboardingRow(string Id, string Subdomain, string Status, string? Step, string? Url, string? Email, bool SigningBrowser);

    private const string OnboardingSql = """
        SELECT s.tenant_id AS Id, s.subdomain AS Subdomain, coalesce(t.status, @pending) AS Status, t.step AS Step, t.url AS Url,
               t.email AS Email, coalesce(s.browser_token_hash = @browser, false) AS SigningBrowser
        FROM signups s LEFT JOIN tenants t ON t.id = s.tenant_id
        WHERE s.checkout_session_id = @sessionId
        """;

    /// <summary>
    /// The progress /success shows. While still pending it asks the tenant grain to check the session with Stripe,
    /// so a customer who returns before the webhook arrives (or when it never does) still moves on.
    /// <paramref name="browser"/> is the hash of the request's signup cookie (<see cref="SignupBrowser"/>), if any.
    /// </summary>
    public static async Task<OnboardingStatus?> OnboardingStatusAsync(NpgsqlDataSource db, GrainOutbox grains, string? sessionId, byte[]? browser, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(sessionId))
        {
            return null;
        }

        await using var conn = await db.OpenConnectionAsync(ct);
        // The session is the signup's (its table knows it at once); until the grain has applied the signup there is no
        // tenants row, and the onboarding is simply pending.
        var row = await conn.QuerySingleOrDefaultAsync<OnboardingRow>(new CommandDefinition(OnboardingSql,
            new { sessionId, browser, pending = TenantStatus.Pending }, cancellationToken: ct));
        if (row is null)
        {
            return null;
        }

        if (row.Status == TenantStatus.Pending)
        {
            await grains.SendAsync(OutboxCommand.CheckoutReturned(row.Id, new CheckoutReturned(sessionId)), ct: ct);
        }

        var progress = CustomerProgress.Of(row.Status, row.Step);
        var login = progress.Ready && row.SigningBrowser ? row.Email : null;
        return new OnboardingStatus(row.Status, row.Subdomain, progress.Tone, progress.Badge, progress.Heading, progress.Message, progress.Percent,
            progress.Ready, progress.Steps, progress.Ready ? row.Url : null, login, progress.Ready ? SignInNote(login) : null);
    }

    private static string SignInNote(string? login) =>
        (login is null ? "Te hemos enviado un correo, a la dirección con la que te diste de alta," : $"Te hemos enviado un correo a {login}")
        + " con un enlace para elegir tu contraseña: sirve una sola vez y vale para tu Odoo y para tu portal de cliente. "
        + "Si no lo encuentras, revisa la carpeta de spam o pide otro enlace desde «¿Olvidaste tu contraseña?» en el portal.";

    private static ProblemHttpResult NotFound(string id) => TypedResults.Problem(statusCode: 404, title: "Cliente no encontrado",
        detail: id.Length == 0 ? "No hay ningún cliente asociado a esta cuenta." : $"No existe el cliente '{id}'.");
}
