using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Npgsql;
using Orleans.Runtime;
using Sajet.Cluster;
using Sajet.Grains.Interfaces.Outbox;
using Sajet.Grains.Interfaces.Nodes;
using Sajet.Grains.Placement;
using Sajet.Integrations.Proxmox;
using Sajet.Persistence;
using Sajet.Persistence.Secrets;

namespace Sajet.WebFront.Nodes;

/// <summary>
/// The node registry (admin): register a node after checking it answers, list, inspect, change limits, maintenance
/// and token, unregister; its metrics; and the capacity check for a plan. The token secret is encrypted at rest and
/// never answered or logged. The admin pages call the same public handlers, so a form and the API validate, probe
/// and answer alike.
/// </summary>
public static partial class NodesApi
{
    public const string AdminPolicy = "admin";

    private const string TokenPurpose = NodeConstants.TokenSecretPurpose;

    public static IServiceCollection AddNodes(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSajetDatabase(configuration);
        services.AddSajetOutbox();
        services.TryAddSingleton(_ => SecretProtector.FromConfiguration(configuration));
        services.AddOptions<ProxmoxOptions>().Bind(configuration.GetSection(ProxmoxOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton<NodeProbe>();
        return services;
    }

    public static IEndpointRouteBuilder MapNodesApi(this IEndpointRouteBuilder app)
    {
        var nodes = app.MapGroup("/api/nodes").RequireAuthorization(AdminPolicy).WithTags("Nodos");
        nodes.MapPost("/", RegisterAsync).WithSummary("Da de alta un nodo Proxmox: comprueba la conexión y el token antes de guardarlo.");
        nodes.MapGet("/", ListAsync).WithSummary("Los nodos con su estado, sus límites y sus últimas métricas.");
        nodes.MapGet("/{id}", GetAsync).WithSummary("Un nodo con su estado, sus límites y sus últimas métricas.");
        nodes.MapPatch("/{id}", PatchAsync).WithSummary("Cambia la URL, la huella, los límites o el token de un nodo; solo los campos enviados.");
        nodes.MapDelete("/{id}", DeleteAsync).WithSummary("Retira un nodo; se rechaza (409) mientras aloje clientes o contenedores.");
        nodes.MapGet("/{id}/metrics", MetricsAsync).WithSummary("Las métricas de CPU, memoria y disco de un nodo en el tiempo.");

        var provision = app.MapGroup("/api/provision").RequireAuthorization(AdminPolicy).WithTags("Capacidad");
        provision.MapGet("/check-capacity", CheckCapacityAsync).WithSummary("Dice si un plan cabe ahora y dónde se colocaría, o por qué no cabe en cada nodo.");
        return app;
    }

    public static async Task<Results<Created<RegisteredNode>, ValidationProblem, ProblemHttpResult>> RegisterAsync(
        NodeRegistrationRequest body, NpgsqlDataSource db, GrainOutbox grains, SecretProtector secrets, NodeProbe probe, ILoggerFactory loggers, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        Require(errors, "id", body.Id, NodeIdFormat(), "Use de 1 a 63 minúsculas, cifras o guiones, empezando por letra o cifra (p. ej. pve1).");
        ValidateConnection(errors, body.ApiUrl, body.TokenId, body.TokenSecret, body.Fingerprint, secretRequired: true);
        if (body.PveNode is not null && !PveNodeFormat().IsMatch(body.PveNode))
        {
            errors["pveNode"] = ["Nombre de nodo de Proxmox no válido (letras, cifras y guiones)."];
        }

        ValidateLimits(errors, body.MaxContainers, body.CpuOvercommit, body.Storage, body.Template);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, title: "Los datos del nodo no son válidos.");
        }

        var id = body.Id!;
        var storage = body.Storage ?? "local-lvm";
        var template = body.Template ?? "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst";
        await using (var exists = db.CreateCommand(NodesSql.Exists))
        {
            exists.Parameters.AddWithValue("id", id);
            if (await exists.ExecuteScalarAsync(ct) is true)
            {
                return AlreadyExists(id);
            }
        }

        var connection = Connection(body.ApiUrl!, body.TokenId!, body.TokenSecret!, body.Fingerprint, body.Insecure ?? false);
        var (probed, failure) = await probe.ProbeAsync(connection, body.PveNode, storage, template, ct);
        if (failure is not null)
        {
            return Refused(failure);
        }

        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await using (var insert = new NpgsqlCommand(NodesSql.Insert, conn, tx))
        {
            insert.Parameters.AddWithValue("id", id);
            insert.Parameters.AddWithValue("pve_node", probed!.PveNode);
            insert.Parameters.AddWithValue("api_url", connection.BaseUrl.ToString().TrimEnd('/'));
            insert.Parameters.AddWithValue("token_id", connection.TokenId);
            insert.Parameters.AddWithValue("secret", secrets.ProtectToBytes(connection.TokenSecret, TokenPurpose));
            insert.Parameters.AddWithValue("fingerprint", (object?)connection.Fingerprint ?? DBNull.Value);
            insert.Parameters.AddWithValue("insecure", connection.Insecure);
            insert.Parameters.AddWithValue("pve_version", probed.PveVersion);
            insert.Parameters.AddWithValue("max_containers", body.MaxContainers ?? 50);
            insert.Parameters.AddWithValue("cpu_overcommit", (decimal)(body.CpuOvercommit ?? 2.0));
            insert.Parameters.AddWithValue("storage", storage);
            insert.Parameters.AddWithValue("template", template);
            insert.Parameters.AddWithValue("storage_present", probed.StoragePresent);
            insert.Parameters.AddWithValue("template_present", probed.TemplatePresent);
            try
            {
                await insert.ExecuteNonQueryAsync(ct);
            }
            catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation)
            {
                return AlreadyExists(id);
            }
        }

        // The node grain starts polling when this commits (first poll at once).
        await grains.SendAsync(OutboxCommand.NodeRegistered(id), tx, ct);
        var view = await NodesSql.ReadOneAsync(conn, tx, id, ct);
        await tx.CommitAsync(ct);
        grains.Wake();
        loggers.CreateLogger(typeof(NodesApi)).LogInformation("Node {Node} registered: {PveNode} at {ApiUrl}, Proxmox VE {Version}, token {TokenId}",
            id, probed.PveNode, connection.BaseUrl, probed.PveVersion, connection.TokenId);
        return TypedResults.Created($"/api/nodes/{id}", new RegisteredNode(view!, probed.Warnings));
    }

    public static async Task<Ok<List<NodeView>>> ListAsync(NpgsqlDataSource db, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand(NodesSql.List);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        var list = new List<NodeView>();
        while (await r.ReadAsync(ct))
        {
            list.Add(NodesSql.ReadView(r));
        }

        return TypedResults.Ok(list);
    }

    private static async Task<Results<Ok<NodeView>, ProblemHttpResult>> GetAsync(string id, NpgsqlDataSource db, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return await NodesSql.ReadOneAsync(conn, null, id, ct) is { } view ? TypedResults.Ok(view) : NotFound(id);
    }

    public static async Task<Results<Ok<NodeView>, ValidationProblem, ProblemHttpResult>> PatchAsync(
        string id, NodePatchRequest body, NpgsqlDataSource db, GrainOutbox grains, SecretProtector secrets, NodeProbe probe, ILoggerFactory loggers, CancellationToken ct)
    {
        var current = await ReadConnectionAsync(db, id, ct);
        if (current is null)
        {
            return NotFound(id);
        }

        var errors = new Dictionary<string, string[]>();
        var fingerprint = body.Fingerprint is null ? current.Fingerprint : body.Fingerprint.Length == 0 ? null : body.Fingerprint;
        ValidateConnection(errors, body.ApiUrl ?? current.ApiUrl, body.TokenId ?? current.TokenId, body.TokenSecret, fingerprint, secretRequired: false);
        ValidateLimits(errors, body.MaxContainers, body.CpuOvercommit, body.Storage, body.Template);
        if (body.TokenId is not null && body.TokenSecret is null)
        {
            errors["tokenSecret"] = ["Para cambiar el token indique también su secreto."];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, title: "Los cambios del nodo no son válidos.");
        }

        var secret = body.TokenSecret ?? secrets.Unprotect(current.SecretEnc, TokenPurpose) ?? "";
        var connection = Connection(body.ApiUrl ?? current.ApiUrl, body.TokenId ?? current.TokenId, secret, fingerprint, body.Insecure ?? current.Insecure);
        var connectionChanged = body.ApiUrl is not null || body.TokenId is not null || body.TokenSecret is not null || body.Fingerprint is not null || body.Insecure is not null;
        var storage = body.Storage ?? current.Storage;
        var template = body.Template ?? current.Template;
        if (connectionChanged)
        {
            // A rotated token or a new address is checked before it replaces one that works.
            var (_, failure) = await probe.ProbeAsync(connection, current.PveNode, storage, template, ct);
            if (failure is not null)
            {
                return Refused(failure);
            }
        }

        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var view = await NodesSql.ReadOneAsync(conn, tx, id, ct);
        if (view is null)
        {
            return NotFound(id);
        }

        await using (var update = new NpgsqlCommand(NodesSql.Update, conn, tx))
        {
            update.Parameters.AddWithValue("id", id);
            update.Parameters.AddWithValue("max_containers", body.MaxContainers ?? view.MaxContainers);
            update.Parameters.AddWithValue("cpu_overcommit", (decimal)(body.CpuOvercommit ?? view.CpuOvercommit));
            update.Parameters.AddWithValue("maintenance", body.Maintenance ?? view.Maintenance);
            update.Parameters.AddWithValue("storage", storage);
            update.Parameters.AddWithValue("template", template);
            update.Parameters.AddWithValue("api_url", connection.BaseUrl.ToString().TrimEnd('/'));
            update.Parameters.AddWithValue("token_id", connection.TokenId);
            update.Parameters.AddWithValue("secret", body.TokenSecret is null ? current.SecretEnc : secrets.ProtectToBytes(secret, TokenPurpose));
            update.Parameters.AddWithValue("fingerprint", (object?)connection.Fingerprint ?? DBNull.Value);
            update.Parameters.AddWithValue("insecure", connection.Insecure);
            await update.ExecuteNonQueryAsync(ct);
        }

        await grains.SendAsync(OutboxCommand.NodeChanged(id), tx, ct);
        view = await NodesSql.ReadOneAsync(conn, tx, id, ct);
        await tx.CommitAsync(ct);
        grains.Wake();
        loggers.CreateLogger(typeof(NodesApi)).LogInformation("Node {Node} changed (maintenance {Maintenance}, token {TokenId}, token rotated {Rotated})",
            id, view!.Maintenance, view.TokenId, body.TokenSecret is not null);
        return TypedResults.Ok(view);
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(string id, NpgsqlDataSource db, GrainOutbox grains, ILoggerFactory loggers, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await using (var lockCmd = new NpgsqlCommand("SELECT 1 FROM nodes WHERE id = @id FOR UPDATE", conn, tx))
        {
            lockCmd.Parameters.AddWithValue("id", id);
            if (await lockCmd.ExecuteScalarAsync(ct) is null)
            {
                return NotFound(id);
            }
        }

        var occupants = new List<NodeOccupant>();
        await using (var cmd = new NpgsqlCommand(NodesSql.Occupants, conn, tx))
        {
            cmd.Parameters.AddWithValue("id", id);
            await using var r = await cmd.ExecuteReaderAsync(ct);
            while (await r.ReadAsync(ct))
            {
                occupants.Add(new NodeOccupant(
                    r.IsDBNull(0) ? null : r.GetInt32(0), r.IsDBNull(1) ? null : r.GetString(1), r.IsDBNull(2) ? null : r.GetString(2),
                    r.IsDBNull(3) ? null : r.GetString(3), r.IsDBNull(4) ? null : r.GetString(4)));
            }
        }

        if (occupants.Count > 0)
        {
            var names = occupants.Select(Describe);
            return TypedResults.Problem(
                statusCode: StatusCodes.Status409Conflict,
                title: "El nodo no está vacío.",
                detail: $"No se puede dar de baja el nodo {id}: aloja {string.Join(", ", names)}. Migre o elimine esos inquilinos antes.",
                extensions: new Dictionary<string, object?> { ["occupants"] = occupants });
        }

        await using (var delete = new NpgsqlCommand(NodesSql.Delete, conn, tx))
        {
            delete.Parameters.AddWithValue("id", id);
            await delete.ExecuteNonQueryAsync(ct);
        }

        await grains.SendAsync(OutboxCommand.NodeRemoved(id), tx, ct);
        await tx.CommitAsync(ct);
        grains.Wake();
        loggers.CreateLogger(typeof(NodesApi)).LogInformation("Node {Node} unregistered", id);
        return TypedResults.NoContent();
    }

    private static string Describe(NodeOccupant o) => o switch
    {
        { Kind: not null } => $"contenedor {o.Vmid} ({o.Hostname}{(o.TenantId is null ? "" : $", inquilino {o.TenantId}")})",
        { TenantId: { } tenant } => $"inquilino {tenant}{(o.Hostname is { } shared ? $" (contenedor compartido {shared})" : "")}",
        _ => $"reserva {o.ReservationKey}",
    };

    public static async Task<Results<Ok<NodeMetrics>, ValidationProblem, ProblemHttpResult>> MetricsAsync(
        string id, string? from, string? to, NpgsqlDataSource db, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        var until = ParseTime(errors, "to", to) ?? DateTimeOffset.UtcNow;
        var since = ParseTime(errors, "from", from) ?? until.AddHours(-24);
        if (errors.Count == 0 && since > until)
        {
            errors["from"] = ["'from' debe ser anterior a 'to'."];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, title: "El intervalo no es válido.");
        }

        await using var conn = await db.OpenConnectionAsync(ct);
        if (await NodesSql.ReadOneAsync(conn, null, id, ct) is not { } latest)
        {
            return NotFound(id);
        }

        var samples = await ReadAsync(conn, NodesSql.Samples, id, since, until, r => new NodeSample(
            r.GetFieldValue<DateTimeOffset>(0), r.GetString(1), r.GetDouble(2), r.GetInt64(3), r.GetInt64(4), r.GetInt64(5), r.GetInt64(6), r.GetInt32(7)), ct);
        var alerts = await ReadAsync(conn, NodesSql.Alerts, id, since, until, r => new NodeAlert(
            r.GetInt64(0), r.GetString(1), r.GetString(2), r.IsDBNull(3) ? null : r.GetDouble(3), r.GetFieldValue<DateTimeOffset>(4),
            r.IsDBNull(5) ? null : r.GetFieldValue<DateTimeOffset>(5)), ct);
        var drift = await ReadAsync(conn, NodesSql.Drift, id, since, until, r => new NodeDrift(
            r.GetInt64(0), r.GetInt32(1), r.GetString(2), r.GetString(3), r.GetFieldValue<DateTimeOffset>(4),
            r.IsDBNull(5) ? null : r.GetFieldValue<DateTimeOffset>(5)), ct);
        return TypedResults.Ok(new NodeMetrics(latest, samples, alerts, drift));
    }

    /// <summary>
    /// Whether a plan (or a size) fits now, with every node's verdict: the placement grain answers, from the node grains'
    /// live figures, so this is the answer a placement would give. A shared plan's size is a new shared container's.
    /// </summary>
    public static async Task<Results<Ok<CapacityCheck>, ValidationProblem, ProblemHttpResult>> CheckCapacityAsync(
        string? plan, string? cores, string? memoryMb, string? diskGb, NpgsqlDataSource db, IGrainFactory grains, ClusterConnection orleans,
        CancellationToken ct)
    {
        try
        {
            return await CheckCapacityOnClusterAsync(plan, cores, memoryMb, diskGb, db, grains, orleans, ct);
        }
        catch (Exception ex) when (ex is TimeoutException or OrleansException)
        {
            return ClusterUnavailable();
        }
    }

    // The node grains know the live figures: without the cluster there is no honest answer, only a clear refusal.
    private static ProblemHttpResult ClusterUnavailable() => TypedResults.Problem(
        title: "El clúster no responde.",
        detail: "No se pudo consultar la capacidad: ningún silo de Sajet responde ahora. Inténtelo de nuevo en unos segundos.",
        statusCode: StatusCodes.Status503ServiceUnavailable);

    private static async Task<Results<Ok<CapacityCheck>, ValidationProblem, ProblemHttpResult>> CheckCapacityOnClusterAsync(
        string? plan, string? cores, string? memoryMb, string? diskGb, NpgsqlDataSource db, IGrainFactory grains, ClusterConnection orleans,
        CancellationToken ct)
    {
        if (!orleans.IsConnected)
        {
            return ClusterUnavailable();
        }

        var errors = new Dictionary<string, string[]>();
        CapacityRequestSize? size = null;
        PlacementOutcome? decision = null;
        var placement = grains.GetGrain<IPlacementGrain>(0);
        if (plan is not null)
        {
            if (plan.Length <= 64 && await placement.CheckPlanAsync(plan) is { } planned)
            {
                size = new CapacityRequestSize(planned.Cores, planned.MemoryMb, planned.DiskGb, planned.Shared);
                decision = planned.Outcome;
            }
            else
            {
                errors["plan"] = [$"Plan desconocido '{(plan.Length <= 64 ? plan : plan[..64] + "…")}': use basic, pro o enterprise."];
            }
        }
        else
        {
            var c = PositiveInt(errors, "cores", cores, 1, 8192);
            var m = PositiveInt(errors, "memoryMb", memoryMb, 16, 4_194_304);
            var d = PositiveInt(errors, "diskGb", diskGb, 1, 1_048_576);
            if (errors.Count == 0)
            {
                size = new CapacityRequestSize(c, m, d, Shared: false);
            }
        }

        if (size is null || errors.Count > 0)
        {
            if (errors.Count == 0)
            {
                errors["plan"] = ["Indique un plan (basic, pro, enterprise) o un tamaño (cores, memoryMb y diskGb)."];
            }

            return TypedResults.ValidationProblem(errors, title: "La consulta de capacidad no es válida.");
        }

        decision ??= await placement.CheckAsync(new PlacementRequest("check-capacity", size.Cores, size.MemoryMb, size.DiskGb));
        var verdicts = decision.Nodes.Select(v => new CapacityVerdict(v.NodeId, v.Eligible, v.Reason, v.Score)).ToList();
        if (!size.Shared)
        {
            return TypedResults.Ok(new CapacityCheck(decision.Placed, decision.NodeId, decision.Summary, size, verdicts));
        }

        // The same join decision the tenant grain takes: a joinable container serves the tenant; otherwise a new
        // shared container must fit, which is what the node verdicts judge.
        SharedJoinDecision join;
        await using (var conn = await db.OpenConnectionAsync(ct))
        {
            join = await SharedSlots.DecideAsync(conn, null, ct);
        }

        if (join.Container is { } joinable)
        {
            return TypedResults.Ok(new CapacityCheck(true, joinable.NodeId, join.Reason, size, verdicts,
                new CapacitySharedSlot(joinable.Hostname, joinable.NodeId, joinable.Status, joinable.SlotsUsed, joinable.SlotsTotal)));
        }

        return TypedResults.Ok(new CapacityCheck(decision.Placed, decision.NodeId, $"{join.Reason} {decision.Summary}", size, verdicts));
    }

    private sealed record CurrentConnection(string PveNode, string ApiUrl, string TokenId, byte[] SecretEnc, string? Fingerprint, bool Insecure, string Storage, string Template);

    private static async Task<CurrentConnection?> ReadConnectionAsync(NpgsqlDataSource db, string id, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand(NodesSql.LockForChange.Replace(" FOR UPDATE", "", StringComparison.Ordinal));
        cmd.Parameters.AddWithValue("id", id);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        return await r.ReadAsync(ct)
            ? new CurrentConnection(r.GetString(0), r.GetString(1), r.GetString(2), r.GetFieldValue<byte[]>(3), r.IsDBNull(4) ? null : r.GetString(4), r.GetBoolean(5), r.GetString(6), r.GetString(7))
            : null;
    }

    private static async Task<List<T>> ReadAsync<T>(NpgsqlConnection conn, string sql, string id, DateTimeOffset from, DateTimeOffset to, Func<NpgsqlDataReader, T> read, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(sql, conn);
        cmd.Parameters.AddWithValue("id", id);
        cmd.Parameters.AddWithValue("from", from);
        cmd.Parameters.AddWithValue("to", to);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        var list = new List<T>();
        while (await r.ReadAsync(ct))
        {
            list.Add(read(r));
        }

        return list;
    }

    private static ProxmoxConnection Connection(string apiUrl, string tokenId, string secret, string? fingerprint, bool insecure) =>
        new(new Uri(apiUrl), tokenId, secret) { Fingerprint = fingerprint, Insecure = insecure };

    private static ProblemHttpResult NotFound(string id) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Nodo no encontrado.", detail: $"No hay ningún nodo registrado con el id '{id}'.");

    private static ProblemHttpResult AlreadyExists(string id) =>
        TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "El nodo ya existe.", detail: $"Ya hay un nodo registrado con el id '{id}'.");

    private static ProblemHttpResult Refused(ProbeFailure failure) =>
        TypedResults.Problem(statusCode: StatusCodes.Status422UnprocessableEntity, title: "No se pudo verificar el nodo.", detail: failure.Message,
            extensions: new Dictionary<string, object?> { ["code"] = failure.Code });

    private static void ValidateConnection(Dictionary<string, string[]> errors, string? apiUrl, string? tokenId, string? tokenSecret, string? fingerprint, bool secretRequired)
    {
        if (string.IsNullOrWhiteSpace(apiUrl) || !Uri.TryCreate(apiUrl, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
        {
            errors["apiUrl"] = ["Indique la URL de la API del nodo, p. ej. https://pve1.ejemplo.com:8006."];
        }

        Require(errors, "tokenId", tokenId, TokenIdFormat(), "El id del token debe tener la forma USUARIO@REINO!TOKEN, p. ej. sajet@pve!sajet.");
        if (tokenSecret is not null || secretRequired)
        {
            if (string.IsNullOrWhiteSpace(tokenSecret) || tokenSecret.Length > 200 || tokenSecret.Any(c => c == '=' || char.IsWhiteSpace(c)))
            {
                errors["tokenSecret"] = ["Indique el secreto del token: el UUID que Proxmox mostró al crearlo."];
            }
        }

        if (fingerprint is not null && !FingerprintFormat().IsMatch(fingerprint))
        {
            errors["fingerprint"] = ["La huella debe ser el SHA-256 del certificado: 32 pares hexadecimales, con o sin ':'."];
        }
    }

    private static void ValidateLimits(Dictionary<string, string[]> errors, int? maxContainers, double? cpuOvercommit, string? storage, string? template)
    {
        if (maxContainers is < 1 or > 10_000)
        {
            errors["maxContainers"] = ["El máximo de contenedores debe estar entre 1 y 10000."];
        }

        if (cpuOvercommit is { } oc && (double.IsNaN(oc) || oc < 1 || oc > 100))
        {
            errors["cpuOvercommit"] = ["La sobreasignación de CPU debe estar entre 1 y 100."];
        }

        if (storage is not null && !StorageFormat().IsMatch(storage))
        {
            errors["storage"] = ["Nombre de almacenamiento no válido (p. ej. local-lvm)."];
        }

        if (template is not null && !TemplateFormat().IsMatch(template))
        {
            errors["template"] = ["La plantilla debe ser un volumen vztmpl, p. ej. local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst."];
        }
    }

    private static void Require(Dictionary<string, string[]> errors, string field, string? value, Regex format, string message)
    {
        if (value is null || !format.IsMatch(value))
        {
            errors[field] = [message];
        }
    }

    private static int PositiveInt(Dictionary<string, string[]> errors, string field, string? value, int min, int max)
    {
        if (int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= min && n <= max)
        {
            return n;
        }

        errors[field] = [string.Create(CultureInfo.InvariantCulture, $"Indique un entero entre {min} y {max}.")];
        return 0;
    }

    private static DateTimeOffset? ParseTime(Dictionary<string, string[]> errors, string field, string? value)
    {
        if (value is null)
        {
            return null;
        }

        if (DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t))
        {
            return t;
        }

        errors[field] = ["Fecha no válida: use ISO 8601, p. ej. 2026-01-31T12:00:00Z."];
        return null;
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,62}$")]
    private static partial Regex NodeIdFormat();

    [GeneratedRegex(@"^[^\s:/@]+@[A-Za-z][A-Za-z0-9.\-_]+![A-Za-z][A-Za-z0-9.\-_]*$")]
    private static partial Regex TokenIdFormat();

    [GeneratedRegex("^(?:[0-9A-Fa-f]{2}:){31}[0-9A-Fa-f]{2}$|^[0-9A-Fa-f]{64}$")]
    private static partial Regex FingerprintFormat();

    [GeneratedRegex("^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?$")]
    private static partial Regex PveNodeFormat();

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9._-]*$")]
    private static partial Regex StorageFormat();

    [GeneratedRegex(@"^[A-Za-z][A-Za-z0-9._-]*:vztmpl/[^/\s]+$")]
    private static partial Regex TemplateFormat();
}
