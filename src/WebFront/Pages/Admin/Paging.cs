namespace Sajet.WebFront.Pages.Admin;

/// <summary>What _Pager shows: where the operator is, and links to the neighbouring pages that keep every filter.</summary>
public sealed record Pager(int Page, int TotalPages, string? PreviousUrl, string? NextUrl);

/// <summary>Links for the admin lists, whose filters, sort and page live in the URL (so admin-live.js refreshes the same view).</summary>
public static class Paging
{
    /// <summary><paramref name="path"/> with the given query values; empty ones are left out so links stay short.</summary>
    public static string Url(string path, IEnumerable<(string Key, string? Value)> query) =>
        path + QueryString.Create(query.Where(p => !string.IsNullOrEmpty(p.Value)).Select(p => KeyValuePair.Create(p.Key, p.Value))).ToUriComponent();

    public static Pager Pager(int page, int totalPages, Func<int, string> url) =>
        new(page, totalPages, page > 1 ? url(page - 1) : null, page < totalPages ? url(page + 1) : null);
}
