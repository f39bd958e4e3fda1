using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using Dapper;
using Npgsql;
using Sajet.Grains.Interfaces;

namespace Sajet.WebFront.Audit;

/// <summary>The logs page's filters as the URL gives them; every value still a string, checked by <see cref="LogSearch.Parse"/>.</summary>
public sealed record LogRequest(string? Source, string? Kind, string? Severity, string? Actor, string? Tenant, string? From, string? To, string? Page);

/// <summary>
/// A checked search. <see cref="From"/> is inclusive and <see cref="Until"/> exclusive, both UTC; <see cref="MinSeverity"/>
/// is an index into <see cref="AuditLabels.Severities"/> (0: every entry).
/// </summary>
public sealed record LogQuery(
    string? Source = null, string? Kind = null, int MinSeverity = 0, string? Actor = null, string? Tenant = null,
    DateTime? From = null, DateTime? Until = null, int Page = 1, int PageSize = LogSearch.PageSize);

/// <summary>One entry of either log. History rows carry their transition and reason; audit rows their IP.</summary>
public sealed record LogEntry(
    string Source, long Id, DateTime At, string Kind, string Actor, string? Ip, string? Tenant, string Severity,
    string? Reason, string? FromState, string? ToState, string? CorrelationId, string? Detail);

public sealed record LogPage(IReadOnlyList<LogEntry> Items, int Total, int Page, int PageSize)
{
    public int TotalPages => Math.Max(1, (Total + PageSize - 1) / PageSize);
}

/// <summary>
/// What operators read in /admin/logs: the security audit trail (audit_log), the tenants' provisioning history
/// (grain_events of tenant grains) and the mail sent or waiting (mail_outbox) as one stream, newest first, filtered in SQL.
///
/// History rows have neither a kind nor a severity, so they get derived ones: a kind of "history.state" when the
/// tenant changed state and "history.note" when it did not; a severity of error when the tenant moved to failed,
/// warning when it moved to a state that needs someone (waiting for capacity, past due, suspended), info otherwise.
/// Audit rows keep the severity their writer gave them (failed sign-ins and refusals are warnings there, lockouts and
/// reused sessions critical).
/// </summary>
public static partial class LogSearch
{
    public const int PageSize = 50;
    public const string AuditSource = "audit";
    public const string HistorySource = "history";
    public const string HistoryStateKind = "history.state";
    public const string HistoryNoteKind = "history.note";
    public const string MailSource = "mail";

    private const string AuditRows = $"""
        SELECT '{AuditSource}'::text AS source, a.id, a.at, a.kind, a.actor, a.ip, a.detail->>'tenant' AS tenant, a.severity,
               NULL::text AS reason, NULL::text AS from_state, NULL::text AS to_state, NULL::text AS correlation_id, a.detail
        FROM audit_log a
        """;

    private const string HistoryRows = $"""
        SELECT '{HistorySource}'::text, e.id, e.at,
               CASE WHEN e.to_state IS NOT NULL AND e.to_state IS DISTINCT FROM e.from_state THEN '{HistoryStateKind}' ELSE '{HistoryNoteKind}' END,
               e.actor, NULL::text, e.grain_key,
               CASE WHEN e.to_state = '{TenantStatus.Failed}' THEN 'error'
                    WHEN e.to_state IN ('{TenantStatus.WaitingForCapacity}', '{TenantStatus.PastDue}', '{TenantStatus.Suspended}') THEN 'warning'
                    ELSE 'info' END,
               e.reason, e.from_state, e.to_state, e.correlation_id, e.data
        FROM grain_events e
        WHERE e.grain_type = 'tenant'
        """;

    // Mail from the outbox (sql/0016): the recipients stand where the actor does, the subject where a reason does, the
    // Message-Id where a correlation does; a mail given up is an error, one being retried a warning.
    private const string MailRows = $"""
        SELECT '{MailSource}'::text, m.seq, m.created_at, 'mail.' || m.status, array_to_string(m.to_addresses, ', '), NULL::text, m.tenant_id,
               CASE WHEN m.status = 'dead' THEN 'error' WHEN m.status = 'pending' AND m.last_error IS NOT NULL THEN 'warning' ELSE 'info' END,
               m.subject, NULL::text, NULL::text, m.message_id,
               jsonb_strip_nulls(jsonb_build_object('status', m.status, 'attempts', m.attempts, 'lastError', m.last_error, 'sentAt', m.sent_at, 'template', m.template))
        FROM mail_outbox m
        """;

    private const string Entries = $"WITH entries AS ({AuditRows}\nUNION ALL\n{HistoryRows}\nUNION ALL\n{MailRows})";

    // Each side keeps its own ORDER BY: PostgreSQL then merges the two time indexes for a page instead of sorting
    // every history row (a UNION ALL member with a WHERE of its own otherwise loses its index order). A count needs
    // no order, and reads faster without it.
    private const string OrderedEntries =
        $"WITH entries AS (({AuditRows} ORDER BY a.at DESC, a.id DESC)\nUNION ALL\n({HistoryRows} ORDER BY e.at DESC, e.id DESC)\nUNION ALL\n({MailRows} ORDER BY m.created_at DESC, m.seq DESC))";

    // A tenant is found by its id or by its subdomain, which is what operators know it by.
    private const string Where = """
        WHERE (@source::text IS NULL OR source = @source)
          AND (@kind::text IS NULL OR kind = @kind)
          AND array_position(ARRAY['info', 'warning', 'error', 'critical'], severity) > @minSeverity
          AND (@actor::text IS NULL OR actor ILIKE @actor ESCAPE '\')
          AND (@tenant::text IS NULL OR tenant = ANY (ARRAY(SELECT @tenant UNION SELECT t.id FROM tenants t WHERE lower(t.subdomain) = lower(@tenant))))
          AND (@from::timestamptz IS NULL OR at >= @from)
          AND (@until::timestamptz IS NULL OR at < @until)
        """;

    private const string CountSql = $"{Entries}\nSELECT count(*)::int FROM entries\n{Where}";

    private const string SelectSql = $"""
        {OrderedEntries}
        SELECT source, id, at, kind, actor, ip, tenant, severity, reason, from_state AS FromState, to_state AS ToState,
               correlation_id AS CorrelationId, detail::text AS Detail
        FROM entries
        {Where}
        ORDER BY at DESC, id DESC, source
        """;

    private const string PageSql = $"{SelectSql}\nLIMIT @limit OFFSET @offset";

    [GeneratedRegex("^[a-z][a-z0-9_.]{0,62}$")]
    private static partial Regex KindShape();

    /// <summary>
    /// Checks a request. Each refused value is left out (as if not given) and explained in Spanish under its
    /// parameter's name. Dates are days (yyyy-mm-dd) in UTC, the zone the page shows; "hasta" includes its whole day.
    /// </summary>
    public static (LogQuery Query, Dictionary<string, string[]> Errors) Parse(LogRequest request)
    {
        var errors = new Dictionary<string, string[]>();
        static string? Given(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

        var source = Given(request.Source);
        if (source is not null && AuditLabels.Sources.All(s => s.Source != source))
        {
            errors["source"] = [$"El origen «{source}» no existe; se muestran todos los registros."];
            source = null;
        }

        // Audit kinds are open-ended (a new writer may add one), so any well-formed kind is accepted.
        var kind = Given(request.Kind);
        if (kind is not null && !KindShape().IsMatch(kind))
        {
            errors["kind"] = [$"El tipo «{kind}» no es válido; se muestran todos los tipos."];
            kind = null;
        }

        var minSeverity = 0;
        if (Given(request.Severity) is { } severity)
        {
            minSeverity = AuditLabels.Severities.Select(s => s.Severity).ToList().IndexOf(severity);
            if (minSeverity < 0)
            {
                errors["severity"] = [$"La gravedad «{severity}» no existe; se muestran todas."];
                minSeverity = 0;
            }
        }

        var from = Day(request.From, "desde", errors);
        var until = Day(request.To, "hasta", errors)?.AddDays(1);
        if (from is not null && until is not null && until <= from)
        {
            errors["hasta"] = ["La fecha «hasta» es anterior a «desde»; se ignora."];
            until = null;
        }

        var page = 1;
        if (Given(request.Page) is { } raw && !(int.TryParse(raw, NumberStyles.None, CultureInfo.InvariantCulture, out page) && page >= 1))
        {
            errors["page"] = [$"La página «{raw}» no es válida; las páginas se cuentan desde 1. Se muestra la primera."];
            page = 1;
        }

        return (new LogQuery(source, kind, minSeverity, Given(request.Actor), Given(request.Tenant), from, until, page), errors);
    }

    private static DateTime? Day(string? value, string name, Dictionary<string, string[]> errors)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        if (DateTime.TryParseExact(value.Trim(), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var day))
        {
            return DateTime.SpecifyKind(day, DateTimeKind.Utc);
        }

        errors[name] = [$"La fecha «{value}» de «{name}» no es válida; usa el formato aaaa-mm-dd."];
        return null;
    }

    /// <summary>The asked page, or the last one when it lies beyond the end (the answer says which was served).</summary>
    public static async Task<LogPage> PageAsync(NpgsqlDataSource db, LogQuery query, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        var filter = Parameters(query);
        var total = await conn.ExecuteScalarAsync<int>(new CommandDefinition(CountSql, filter, cancellationToken: ct));
        var page = Math.Clamp(query.Page, 1, Math.Max(1, (total + query.PageSize - 1) / query.PageSize));
        filter.Add("limit", query.PageSize);
        filter.Add("offset", (long)(page - 1) * query.PageSize);
        var items = await conn.QueryAsync<LogEntry>(new CommandDefinition(PageSql, filter, cancellationToken: ct));
        return new LogPage([.. items], total, page, query.PageSize);
    }

    /// <summary>Every matching entry, newest first, read as it streams (for the CSV export, which has no page).</summary>
    public static async IAsyncEnumerable<LogEntry> AllAsync(NpgsqlDataSource db, LogQuery query, [EnumeratorCancellation] CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await foreach (var entry in conn.QueryUnbufferedAsync<LogEntry>(SelectSql, Parameters(query)).WithCancellation(ct))
        {
            yield return entry;
        }
    }

    private static DynamicParameters Parameters(LogQuery query)
    {
        var parameters = new DynamicParameters();
        parameters.Add("source", query.Source);
        parameters.Add("kind", query.Kind);
        parameters.Add("minSeverity", query.MinSeverity);
        parameters.Add("actor", query.Actor is null ? null : AuditLabels.ActorPattern(query.Actor));
        parameters.Add("tenant", query.Tenant);
        parameters.Add("from", query.From);
        parameters.Add("until", query.Until);
        return parameters;
    }
}
