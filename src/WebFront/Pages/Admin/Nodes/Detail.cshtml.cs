using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Npgsql;
using Sajet.WebFront.Nodes;

namespace Sajet.WebFront.Pages.Admin.Nodes;

/// <summary>One node: the last 24 hours of CPU, RAM and disk as charts, its alerts and the drift found on it.</summary>
public sealed class DetailModel(NpgsqlDataSource db) : PageModel
{
    public NodeMetrics Metrics { get; private set; } = null!;

    /// <summary>The chart series, as JSON for a non-executed data island (the CSP forbids inline script).</summary>
    public string ChartJson { get; private set; } = "{}";

    public async Task<IActionResult> OnGetAsync(string id, CancellationToken ct)
    {
        if ((await NodesApi.MetricsAsync(id, null, null, db, ct)).Result is not Ok<NodeMetrics> { Value: { } metrics })
        {
            return NotFound();
        }

        Metrics = metrics;
        // Percentages, so one axis reads the same for every node whatever its size.
        ChartJson = JsonSerializer.Serialize(new
        {
            at = metrics.Samples.Select(s => s.At),
            cpu = metrics.Samples.Select(s => Math.Round(s.Cpu * 100, 1)),
            memory = metrics.Samples.Select(s => s.MemoryTotal > 0 ? Math.Round(100.0 * s.MemoryUsed / s.MemoryTotal, 1) : 0),
            disk = metrics.Samples.Select(s => s.DiskTotal > 0 ? Math.Round(100.0 * s.DiskUsed / s.DiskTotal, 1) : 0),
        });
        return Page();
    }
}
