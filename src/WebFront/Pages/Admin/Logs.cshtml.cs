using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Net.Http.Headers;
using Npgsql;
using Sajet.WebFront.Audit;
using Sajet.WebFront.Tenants;

namespace Sajet.WebFront.Pages.Admin;

/// <summary>
/// The security audit trail and the tenants' provisioning history, newest first, filtered and paged by the URL; the
/// same filters export every matching entry as CSV.
/// </summary>
public sealed class LogsModel(NpgsqlDataSource db, TimeProvider time) : PageModel
{
    private const string Path = "/admin/logs";

    private static readonly string[] CsvHeader =
        ["Fecha (UTC)", "Origen", "Tipo", "Código del tipo", "Gravedad", "Quién", "Código de quién", "Cliente", "IP", "Estado anterior", "Estado nuevo", "Motivo", "Correlación", "Detalle"];

    public LogQuery Query { get; private set; } = new();

    public LogPage Result { get; private set; } = new([], 0, 1, LogSearch.PageSize);

    public IReadOnlyList<string> Notices { get; private set; } = [];

    public Pager Pager => Paging.Pager(Result.Page, Result.TotalPages, page => LinkTo(Query with { Page = page }));

    public string CsvUrl => LinkTo(Query with { Page = 1 }, handler: "Csv");

    public bool Filtered => Query with { Page = 1 } != new LogQuery();

    /// <summary>The "desde" and "hasta" days as the date inputs want them.</summary>
    public string? FromDay => Query.From?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    public string? ToDay => Query.Until?.AddDays(-1).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    public async Task OnGetAsync(CancellationToken ct)
    {
        var (query, errors) = LogSearch.Parse(FromUrl());
        Query = query;
        Result = await LogSearch.PageAsync(db, query, ct);
        Notices = Paging.Notices(errors, query.Page, Result.Page);
    }

    /// <summary>Every entry the filters select (no page), streamed as it is read; a filter it cannot use is ignored, as on the page.</summary>
    public async Task<IActionResult> OnGetCsvAsync(CancellationToken ct)
    {
        var (query, _) = LogSearch.Parse(FromUrl() with { Page = null });
        var stamp = time.GetUtcNow().UtcDateTime.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);
        Response.ContentType = "text/csv; charset=utf-8";
        Response.Headers.ContentDisposition = new ContentDispositionHeaderValue("attachment") { FileName = $"sajet-registros-{stamp}.csv" }.ToString();

        // The byte-order mark tells spreadsheets the file is UTF-8, so "Sesión" does not turn into "SesiÃ³n".
        await using var writer = new StreamWriter(Response.Body, new UTF8Encoding(encoderShouldEmitUTF8Identifier: true));
        await writer.WriteAsync(Csv.Line(CsvHeader));
        await foreach (var e in LogSearch.AllAsync(db, query, ct))
        {
            await writer.WriteAsync(Csv.Line(
                e.At.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture), AuditLabels.Source(e.Source), AuditLabels.Kind(e.Kind), e.Kind,
                AuditLabels.Severity(e.Severity), AuditLabels.Actor(e.Actor), e.Actor, e.Tenant, e.Ip,
                e.FromState is null ? null : TenantLabels.Status(e.FromState), e.ToState is null ? null : TenantLabels.Status(e.ToState),
                e.Reason, e.CorrelationId, e.Detail));
        }

        return new EmptyResult();
    }

    /// <summary>Read from the query itself: Razor Pages keeps the route value "page" for the page's own path.</summary>
    private LogRequest FromUrl()
    {
        string? Get(string key) => Request.Query[key] is { Count: > 0 } values ? values.ToString() : null;
        return new LogRequest(Get("source"), Get("kind"), Get("severity"), Get("actor"), Get("tenant"), Get("desde"), Get("hasta"), Get("page"));
    }

    public string LinkTo(LogQuery q, string? handler = null) => Paging.Url(Path,
    [
        ("handler", handler), ("source", q.Source), ("kind", q.Kind),
        ("severity", q.MinSeverity > 0 ? AuditLabels.Severities[q.MinSeverity].Severity : null),
        ("actor", q.Actor), ("tenant", q.Tenant),
        ("desde", q.From?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)),
        ("hasta", q.Until?.AddDays(-1).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)),
        ("page", q.Page > 1 ? q.Page.ToString(CultureInfo.InvariantCulture) : null),
    ]);
}
