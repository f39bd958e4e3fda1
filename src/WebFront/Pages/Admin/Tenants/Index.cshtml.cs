using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Npgsql;
using Sajet.WebFront.Tenants;

namespace Sajet.WebFront.Pages.Admin.Tenants;

/// <summary>
/// Every tenant, a page at a time: waiting ones first unless the operator sorts by a column; filters, sort and page
/// live in the URL. A value the list does not know is left out and explained above it, never a 500 or an empty list
/// that looks like data loss.
/// </summary>
public sealed class IndexModel(NpgsqlDataSource db) : PageModel
{
    private const string Path = "/admin/tenants";

    [BindProperty(SupportsGet = true)]
    public string? Q { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Status { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Plan { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Node { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Sort { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Dir { get; set; }

    public TenantListFilters Filters { get; private set; } = new([], []);

    public TenantListQuery Query { get; private set; } = new();

    public TenantListPage Result { get; private set; } = new([], 0, 1, TenantList.DefaultPageSize);

    public IReadOnlyList<string> Notices { get; private set; } = [];

    public Pager Pager => Paging.Pager(Result.Page, Result.TotalPages, PageUrl);

    public bool Filtered => Query.Status is not null || Query.Plan is not null || Query.Node is not null || Query.Q is not null;

    public async Task OnGetAsync(CancellationToken ct)
    {
        Filters = await TenantList.FiltersAsync(db, ct);
        var (query, errors) = TenantList.Parse(new TenantListRequest(Status, Plan, Node, Q, Sort, Dir, PageNumber(), null), Filters);
        Query = query;
        Result = await TenantList.PageAsync(db, query, ct);
        Notices = Paging.Notices(errors, query.Page, Result.Page);
    }

    /// <summary>Read from the query itself: Razor Pages keeps the route value "page" for the page's own path.</summary>
    private string? PageNumber() => Request.Query["page"] is { Count: > 0 } values ? values.ToString() : null;

    public string PageUrl(int page) => LinkTo(Query with { Page = page });

    /// <summary>A header's link: the first click sorts ascending (dates newest first), the next one reverses; back to page 1.</summary>
    public string SortUrl(string column)
    {
        var descending = Query.Sort == column ? !Query.Descending : column == "created";
        return LinkTo(Query with { Sort = column, Descending = descending, Page = 1 });
    }

    public string? AriaSort(string column) =>
        Query.Sort == column ? Query.Descending ? "descending" : "ascending" : null;

    public static string LinkTo(TenantListQuery q) => Paging.Url(Path,
    [
        ("q", q.Q), ("status", q.Status), ("plan", q.Plan), ("node", q.Node), ("sort", q.Sort),
        ("dir", q.Sort is null ? null : q.Descending ? "desc" : "asc"), ("page", q.Page > 1 ? q.Page.ToString(System.Globalization.CultureInfo.InvariantCulture) : null),
    ]);
}
