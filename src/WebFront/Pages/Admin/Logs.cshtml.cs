using Dapper;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Npgsql;

namespace Sajet.WebFront.Pages.Admin;

/// <summary>The security audit trail, newest first.</summary>
public sealed class LogsModel(NpgsqlDataSource db) : PageModel
{
    private const string Recent = """
        SELECT at AS At, kind AS Kind, actor AS Actor, ip AS Ip, severity AS Severity, detail::text AS Detail
        FROM audit_log ORDER BY at DESC, id DESC LIMIT 200
        """;

    public sealed record Row(DateTime At, string Kind, string Actor, string? Ip, string Severity, string Detail);

    public IReadOnlyList<Row> Rows { get; private set; } = [];

    public async Task OnGetAsync(CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        Rows = [.. await conn.QueryAsync<Row>(new CommandDefinition(Recent, cancellationToken: ct))];
    }
}
