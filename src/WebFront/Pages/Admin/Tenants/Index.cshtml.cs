using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Npgsql;
using Sajet.WebFront.Tenants;

namespace Sajet.WebFront.Pages.Admin.Tenants;

/// <summary>Every tenant, waiting ones first, searchable by text and filterable by state.</summary>
public sealed class IndexModel(NpgsqlDataSource db) : PageModel
{
    [BindProperty(SupportsGet = true)]
    public string? Q { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Status { get; set; }

    public IReadOnlyList<TenantListItem> Tenants { get; private set; } = [];

    public async Task OnGetAsync(CancellationToken ct)
    {
        // An unknown state in the URL shows everything rather than an empty list that looks like data loss.
        if (Status is not null && TenantLabels.Statuses.All(s => s.Status != Status))
        {
            Status = null;
        }

        Tenants = await TenantsApi.ListAsync(db, Status, Q, ct);
    }
}
