using System.Collections.Frozen;
using System.Globalization;
using Dapper;
using Npgsql;
using Sajet.Grains.Interfaces;

namespace Sajet.WebFront.Tenants;

/// <summary>The list as the URL or the API asks for it: every value still a string, checked by <see cref="TenantList.Parse"/>.</summary>
public sealed record TenantListRequest(string? Status, string? Plan, string? Node, string? Q, string? Sort, string? Dir, string? Page, string? PageSize);

/// <summary>A checked request: known filters only, a sortable column (null: waiting tenants first), a page from 1.</summary>
public sealed record TenantListQuery(
    string? Status = null, string? Plan = null, string? Node = null, string? Q = null,
    string? Sort = null, bool Descending = false, int Page = 1, int PageSize = TenantList.DefaultPageSize);

/// <summary>One page of tenants; <see cref="Page"/> is the page served, the last one when the asked one lies beyond the end.</summary>
public sealed record TenantListPage(IReadOnlyList<TenantListItem> Items, int Total, int Page, int PageSize)
{
    public int TotalPages => Math.Max(1, (Total + PageSize - 1) / PageSize);
}

/// <summary>The values the list can be filtered by: every plan (retired ones too, tenants may still be on them) and every node.</summary>
public sealed record TenantListFilters(IReadOnlyList<(string Id, string Name)> Plans, IReadOnlyList<string> Nodes);

/// <summary>
/// The tenants list for operators: filtered, sorted by one whitelisted column and paged in SQL, with the total count,
/// so no tenant is ever left out of the list for being the 501st. Sort keys from the URL only select one of the
/// statements built below from constants; user input reaches PostgreSQL only as parameters.
/// </summary>
public static class TenantList
{
    public const int DefaultPageSize = 50;
    public const int MaxPageSize = 200;

    private const string Where = """
        WHERE (@status::text IS NULL OR status = @status)
          AND (@plan::text IS NULL OR plan_id = @plan)
          AND (@node::text IS NULL OR node_id = @node)
          AND (@q::text IS NULL OR subdomain ILIKE @q ESCAPE '\' OR company_name ILIKE @q ESCAPE '\' OR email ILIKE @q ESCAPE '\')
        """;

    private const string CountSql = $"SELECT count(*)::int FROM tenants {Where}";

    private const string SelectSql = $"""
        SELECT id, subdomain, company_name AS CompanyName, email, plan_id AS PlanId, status, node_id AS NodeId, created_at AS CreatedAt, waiting_since AS WaitingSince
        FROM tenants
        {Where}
        """;

    // Waiting tenants need an operator, so they come first, the longest waiting at the top.
    private const string DefaultOrder = "CASE WHEN status = 'waiting_for_capacity' THEN 0 ELSE 1 END, waiting_since NULLS LAST, created_at DESC";

    private const string FiltersSql = """
        SELECT id, name FROM plans ORDER BY sort, id;
        SELECT id FROM nodes ORDER BY id;
        """;

    /// <summary>The sortable columns (URL key → SQL expression); states sort in the order of a tenant's life, as the filter lists them.</summary>
    private static readonly FrozenDictionary<string, string> SortColumns = new Dictionary<string, string>
    {
        ["subdomain"] = "lower(subdomain)",
        ["company"] = "lower(company_name)",
        ["plan"] = "plan_id",
        ["status"] = "array_position(@statusOrder, status)",
        ["node"] = "node_id",
        ["created"] = "created_at",
    }.ToFrozenDictionary();

    /// <summary>One complete statement per (column, direction), each ending in the id so pages never overlap or skip.</summary>
    private static readonly FrozenDictionary<(string? Sort, bool Descending), string> PageSql = SortColumns
        .SelectMany(c => new[] { false, true }.Select(desc => (Key: ((string?)c.Key, desc), Order: $"{c.Value} {(desc ? "DESC" : "ASC")} NULLS LAST")))
        .Append((Key: ((string?)null, false), Order: DefaultOrder))
        .ToFrozenDictionary(s => s.Key, s => $"{SelectSql}\nORDER BY {s.Order}, id\nLIMIT @limit OFFSET @offset");

    private static readonly string[] StatusOrder = [.. TenantLabels.Statuses.Select(s => s.Status), TenantStatus.Migrating, TenantStatus.Deleted];

    public static IReadOnlyCollection<string> Sortable => SortColumns.Keys;

    public static async Task<TenantListFilters> FiltersAsync(NpgsqlDataSource db, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var results = await conn.QueryMultipleAsync(new CommandDefinition(FiltersSql, cancellationToken: ct));
        var plans = (await results.ReadAsync<(string Id, string Name)>()).ToList();
        var nodes = (await results.ReadAsync<string>()).ToList();
        return new TenantListFilters(plans, nodes);
    }

    /// <summary>
    /// Checks a request against the known states, plans, nodes and columns. Each refused value is left out of the
    /// query (as if not given) and explained in Spanish under its parameter's name; the API answers those as a
    /// validation problem, the page shows them above the list.
    /// </summary>
    public static (TenantListQuery Query, Dictionary<string, string[]> Errors) Parse(TenantListRequest request, TenantListFilters known)
    {
        var errors = new Dictionary<string, string[]>();
        string? Keep(string name, string? value, bool valid, string message)
        {
            if (string.IsNullOrWhiteSpace(value))
            {
                return null;
            }

            if (valid)
            {
                return value.Trim();
            }

            errors[name] = [message];
            return null;
        }

        var status = Keep("status", request.Status, TenantLabels.Statuses.Any(s => s.Status == request.Status?.Trim()),
            $"El estado «{request.Status}» no existe; se muestran todos los estados.");
        var plan = Keep("plan", request.Plan, known.Plans.Any(p => p.Id == request.Plan?.Trim()),
            $"El plan «{request.Plan}» no existe; se muestran todos los planes.");
        var node = Keep("node", request.Node, known.Nodes.Contains(request.Node?.Trim()),
            $"El nodo «{request.Node}» no está registrado; se muestran todos los nodos.");
        var sort = Keep("sort", request.Sort, SortColumns.ContainsKey(request.Sort?.Trim() ?? ""),
            $"No se puede ordenar por «{request.Sort}»; se usa el orden habitual (primero los que esperan capacidad).");

        var descending = false;
        switch (request.Dir?.Trim())
        {
            case null or "" or "asc":
                break;
            case "desc":
                descending = sort is not null;
                break;
            default:
                errors["dir"] = [$"El sentido «{request.Dir}» no existe; usa «asc» o «desc»."];
                break;
        }

        var page = 1;
        if (!string.IsNullOrWhiteSpace(request.Page) && !(int.TryParse(request.Page, NumberStyles.None, CultureInfo.InvariantCulture, out page) && page >= 1))
        {
            errors["page"] = [$"La página «{request.Page}» no es válida; las páginas se cuentan desde 1. Se muestra la primera."];
            page = 1;
        }

        var pageSize = DefaultPageSize;
        if (!string.IsNullOrWhiteSpace(request.PageSize)
            && !(int.TryParse(request.PageSize, NumberStyles.None, CultureInfo.InvariantCulture, out pageSize) && pageSize is >= 1 and <= MaxPageSize))
        {
            errors["pageSize"] = [$"El tamaño de página debe estar entre 1 y {MaxPageSize}; se usan {DefaultPageSize}."];
            pageSize = DefaultPageSize;
        }

        var q = string.IsNullOrWhiteSpace(request.Q) ? null : request.Q.Trim();
        return (new TenantListQuery(status, plan, node, q, sort, descending, page, pageSize), errors);
    }

    /// <summary>The asked page, or the last one when it lies beyond the end (the answer says which was served).</summary>
    public static async Task<TenantListPage> PageAsync(NpgsqlDataSource db, TenantListQuery query, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        var filter = FilterParameters(query);
        var total = await conn.ExecuteScalarAsync<int>(new CommandDefinition(CountSql, filter, cancellationToken: ct));
        var lastPage = Math.Max(1, (total + query.PageSize - 1) / query.PageSize);
        var page = Math.Clamp(query.Page, 1, lastPage);

        var parameters = new DynamicParameters(filter);
        parameters.Add("limit", query.PageSize);
        parameters.Add("offset", (long)(page - 1) * query.PageSize);
        var items = await conn.QueryAsync<TenantListItem>(new CommandDefinition(PageSql[(query.Sort, query.Descending)], parameters, cancellationToken: ct));
        return new TenantListPage([.. items], total, page, query.PageSize);
    }

    /// <summary>Every tenant that matches, in the default order: for short queues (waiting, past due) that show them all.</summary>
    public static async Task<IReadOnlyList<TenantListItem>> AllAsync(NpgsqlDataSource db, string? status, string? q, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        var parameters = new DynamicParameters(FilterParameters(new TenantListQuery(Status: status, Q: q)));
        parameters.Add("limit", null, System.Data.DbType.Int64);
        parameters.Add("offset", 0L);
        return [.. await conn.QueryAsync<TenantListItem>(new CommandDefinition(PageSql[(null, false)], parameters, cancellationToken: ct))];
    }

    private static object FilterParameters(TenantListQuery query) => new
    {
        status = string.IsNullOrWhiteSpace(query.Status) ? null : query.Status,
        plan = query.Plan,
        node = query.Node,
        q = string.IsNullOrWhiteSpace(query.Q) ? null : "%" + EscapeLike(query.Q.Trim()) + "%",
        statusOrder = StatusOrder,
    };

    /// <summary>A search for "50%" or "a_b" means those characters, not LIKE wildcards.</summary>
    public static string EscapeLike(string text) =>
        text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal);
}
