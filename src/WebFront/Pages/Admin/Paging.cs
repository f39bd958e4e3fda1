namespace Sajet.WebFront.Pages.Admin;

/// <summary>What _Pager shows: where the operator is, and links to the neighbouring pages that keep every filter.</summary>
public sealed record Pager(int Page, int TotalPages, string? PreviousUrl, string? NextUrl);

/// <summary>Links for the admin lists, whose filters, sort and page live in the URL (so admin-live.js refreshes the same view).</summary>
public static class Paging
{
    /// <summary><paramref name="path"/> with the given query values; empty ones are left out so links stay short.</summary>
    public static string Url(string path, IEnumerable<(string Key, string? Value)> query) =>
        path + QueryString.Create(query.Where(p => !string.IsNullOrEmpty(p.Value)).Select(p => KeyValuePair.Create(p.Key, p.Value))).ToUriComponent();

    /// <summary>
    /// The notices a list shows above itself: what its filters could not use, and a page asked for past the end (the
    /// list shows its last page instead of an empty one, and says so).
    /// </summary>
    public static IReadOnlyList<string> Notices(IDictionary<string, string[]> errors, int requestedPage, int shownPage)
    {
        var notices = errors.SelectMany(e => e.Value).ToList();
        if (shownPage < requestedPage)
        {
            notices.Add($"La página {requestedPage} no existe; se muestra la última, la {shownPage}.");
        }

        return notices;
    }

    public static Pager Pager(int page, int totalPages, Func<int, string> url) =>
        new(page, totalPages, page > 1 ? url(page - 1) : null, page < totalPages ? url(page + 1) : null);
}
