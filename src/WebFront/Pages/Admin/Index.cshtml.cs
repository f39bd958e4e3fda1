using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Options;
using Npgsql;
using Sajet.WebFront.Health;

namespace Sajet.WebFront.Pages.Admin;

/// <summary>The operators' dashboard. For now: which silos are alive (the same data /health reports).</summary>
public sealed class IndexModel(NpgsqlDataSource db, IOptions<HealthOptions> health) : PageModel
{
    public IReadOnlyList<HealthApi.SiloHealth> Silos { get; private set; } = [];

    public async Task OnGetAsync(CancellationToken ct) => Silos = await HealthApi.SilosAsync(db, health.Value, ct);
}
