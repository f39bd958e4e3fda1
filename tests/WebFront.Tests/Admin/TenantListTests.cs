using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Sajet.WebFront.Tests.Admin;

/// <summary>
/// /admin/tenants and GET /api/admin/tenants over real rows. Each test seeds a batch of its own, marked by a tag in
/// every subdomain and company name, and searches by that tag, so the other tests' tenants never change its counts.
/// </summary>
public sealed partial class TenantListTests(WebFixture fx) : IClassFixture<WebFixture>
{
    private SajetWebFactory App => fx.Factory;

    [Fact]
    public async Task List_120Tenants_PagesOf50WithCountAndLinksThatKeepTheSearch()
    {
        var tag = await SeedAsync(120);
        var client = await App.AdminClientAsync();

        var first = await client.GetStringAsync($"/admin/tenants?q={tag}");
        Assert.Contains("data-testid=\"tenant-count\">120 clientes</h2>", first, StringComparison.Ordinal);
        Assert.Equal(50, RowIds(first).Count);
        Assert.Contains("Página 1 de 3", first, StringComparison.Ordinal);
        Assert.DoesNotContain("data-testid=\"page-previous\"", first, StringComparison.Ordinal);
        Assert.Equal($"/admin/tenants?q={tag}&page=2", Link(first, "page-next"));

        var second = await client.GetStringAsync(Link(first, "page-next"));
        Assert.Contains("Página 2 de 3", second, StringComparison.Ordinal);
        Assert.Equal($"/admin/tenants?q={tag}", Link(second, "page-previous"));
        Assert.Empty(RowIds(first).Intersect(RowIds(second)));

        var last = await client.GetStringAsync(Link(second, "page-next"));
        Assert.Contains("Página 3 de 3", last, StringComparison.Ordinal);
        Assert.Equal(20, RowIds(last).Count);
        Assert.DoesNotContain("data-testid=\"page-next\"", last, StringComparison.Ordinal);
        Assert.Equal(120, RowIds(first).Concat(RowIds(second)).Concat(RowIds(last)).Distinct().Count());
    }

    [Fact]
    public async Task Api_520Tenants_NoCap_PagesAddUpToTheTotal()
    {
        var tag = await SeedAsync(520);
        var client = await App.AdminClientAsync();
        var ids = new HashSet<string>();
        for (var page = 1; page <= 3; page++)
        {
            var body = await (await client.GetAsync($"/api/admin/tenants?q={tag}&pageSize=200&page={page}")).JsonAsync();
            Assert.Equal(520, body.GetProperty("total").GetInt32());
            Assert.Equal(page, body.GetProperty("page").GetInt32());
            Assert.Equal(200, body.GetProperty("pageSize").GetInt32());
            Assert.Equal(3, body.GetProperty("totalPages").GetInt32());
            Assert.Equal(page < 3 ? 200 : 120, body.GetProperty("items").GetArrayLength());
            ids.UnionWith(body.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("id").GetString()!));
        }

        Assert.Equal(520, ids.Count);

        // The unpaged list the waiting queue and billing pages use has no cap either (it had LIMIT 500).
        Assert.Equal(520, (await Sajet.WebFront.Tenants.TenantsApi.ListAsync(App.Db.DataSource, null, tag, CancellationToken.None)).Count);
    }

    [Fact]
    public async Task Sort_ByColumnBothWays_HeaderSaysSo_AndTheNextPageKeepsTheOrder()
    {
        var tag = await SeedAsync(60);
        var client = await App.AdminClientAsync();

        var ascending = await client.GetStringAsync($"/admin/tenants?q={tag}&sort=company");
        Assert.Equal(Id(tag, 1), RowIds(ascending)[0]);
        Assert.Matches("<th scope=\"col\" aria-sort=\"ascending\">\\s*<a class=\"sort-link\" href=\"[^\"]*\" data-testid=\"sort-company\"", ascending);
        Assert.Single(Regex.Matches(ascending, "aria-sort="));
        Assert.Equal($"/admin/tenants?q={tag}&sort=company&dir=desc", Link(ascending, "sort-company"));
        Assert.Equal($"/admin/tenants?q={tag}&sort=company&dir=asc&page=2", Link(ascending, "page-next"));

        var descending = await client.GetStringAsync($"/admin/tenants?q={tag}&sort=company&dir=desc");
        Assert.Equal(Id(tag, 60), RowIds(descending)[0]);
        Assert.Contains("aria-sort=\"descending\"", descending, StringComparison.Ordinal);
        var page2 = await client.GetStringAsync(Link(descending, "page-next"));
        Assert.Equal([Id(tag, 10), Id(tag, 9), Id(tag, 8)], RowIds(page2)[..3]);

        // States sort in the order of a tenant's life (active before failed), not alphabetically by their codes.
        var byStatus = RowIds(await client.GetStringAsync($"/admin/tenants?q={tag}&sort=status&dir=asc"));
        Assert.DoesNotContain(Id(tag, 10), byStatus);
        var failedFirst = RowIds(await client.GetStringAsync($"/admin/tenants?q={tag}&sort=status&dir=desc"));
        Assert.Equal([Id(tag, 10), Id(tag, 20), Id(tag, 30), Id(tag, 40), Id(tag, 50), Id(tag, 60)], failedFirst[..6].Order(StringComparer.Ordinal));

        // Newest first is the first click on the date column.
        Assert.Equal($"/admin/tenants?q={tag}&sort=created&dir=desc", Link(ascending, "sort-created"));
        Assert.Equal(Id(tag, 1), RowIds(await client.GetStringAsync($"/admin/tenants?q={tag}&sort=created&dir=desc"))[0]);
        Assert.Equal(Id(tag, 60), RowIds(await client.GetStringAsync($"/admin/tenants?q={tag}&sort=created&dir=asc"))[0]);
    }

    [Fact]
    public async Task Default_WaitingTenantsFirst_LongestWaitingOnTop()
    {
        var tag = await SeedAsync(30);
        await App.Db.ExecAsync($"""
            UPDATE tenants SET status = 'waiting_for_capacity', waiting_since = now() - interval '1 hour' WHERE id = '{Id(tag, 25)}';
            UPDATE tenants SET status = 'waiting_for_capacity', waiting_since = now() - interval '5 hours' WHERE id = '{Id(tag, 17)}';
            """);
        var rows = RowIds(await (await App.AdminClientAsync()).GetStringAsync($"/admin/tenants?q={tag}"));
        Assert.Equal([Id(tag, 17), Id(tag, 25), Id(tag, 1)], rows[..3]);
    }

    [Fact]
    public async Task Filters_StatusPlanNode_CombineAndStayInTheLinks()
    {
        var tag = await SeedAsync(60);
        var node = await App.NodeAsync();
        await App.Db.ExecAsync($"UPDATE tenants SET node_id = '{node}' WHERE id LIKE 't-{tag}%' AND right(id, 1) IN ('1', '2')");
        var client = await App.AdminClientAsync();

        var failed = await client.GetStringAsync($"/admin/tenants?q={tag}&status=failed");
        Assert.Contains(">6 clientes</h2>", failed, StringComparison.Ordinal);
        Assert.All(Regex.Matches(failed, "data-status=\"([a-z_]+)\"").Select(m => m.Groups[1].Value), s => Assert.Equal("failed", s));
        Assert.Contains("<option value=\"failed\" selected=\"selected\">Fallido</option>", failed, StringComparison.Ordinal);

        var basic = await client.GetStringAsync($"/admin/tenants?q={tag}&plan=basic");
        Assert.Contains(">20 clientes</h2>", basic, StringComparison.Ordinal);
        Assert.Contains("<option value=\"basic\" selected=\"selected\">Basic</option>", basic, StringComparison.Ordinal);

        var onNode = await client.GetStringAsync($"/admin/tenants?q={tag}&node={node}&plan=pro");
        // Ids ending in 1 or 2 (12 of 60), without the multiples of 3 (basic): 1, 2, 11, 22, 31, 32, 41, 52 → 8.
        Assert.Contains(">8 clientes</h2>", onNode, StringComparison.Ordinal);
        Assert.Contains($"<option value=\"{node}\" selected=\"selected\">{node}</option>", onNode, StringComparison.Ordinal);

        var sorted = await client.GetStringAsync($"/admin/tenants?q={tag}&status=active&sort=subdomain&dir=desc");
        Assert.Equal($"/admin/tenants?q={tag}&status=active&sort=subdomain&dir=asc", Link(sorted, "sort-subdomain"));
        Assert.Equal($"/admin/tenants?q={tag}&status=active&sort=subdomain&dir=desc&page=2", Link(sorted, "page-next"));
        Assert.Contains("<input type=\"hidden\" name=\"sort\" value=\"subdomain\">", sorted, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Search_WildcardCharactersAreLiteral()
    {
        var tag = await SeedAsync(3);
        await App.Db.ExecAsync($"UPDATE tenants SET company_name = 'Oferta {tag}_100%' WHERE id = '{Id(tag, 2)}'");
        var client = await App.AdminClientAsync();
        // As LIKE wildcards, "_" would match the space of every "Lote tag 00n" and "%" anything up to a "1".
        Assert.Equal([Id(tag, 2)], RowIds(await client.GetStringAsync($"/admin/tenants?q={Uri.EscapeDataString(tag + "_")}")));
        Assert.Equal([Id(tag, 2)], RowIds(await client.GetStringAsync($"/admin/tenants?q={Uri.EscapeDataString(tag + "_100%")}")));
        Assert.Empty(RowIds(await client.GetStringAsync($"/admin/tenants?q={Uri.EscapeDataString(tag + "%1")}")));
    }

    [Theory]
    [InlineData("sort=nombre%3B%20DROP%20TABLE%20tenants", "No se puede ordenar por «nombre; DROP TABLE tenants»")]
    [InlineData("status=borrado", "El estado «borrado» no existe")]
    [InlineData("plan=gratis", "El plan «gratis» no existe")]
    [InlineData("node=pve-fantasma", "El nodo «pve-fantasma» no está registrado")]
    [InlineData("page=0", "La página «0» no es válida")]
    [InlineData("page=dos", "La página «dos» no es válida")]
    [InlineData("sort=company&dir=arriba", "El sentido «arriba» no existe")]
    public async Task BadInput_ExplainedInSpanish_ValueIgnored_ListStillShown(string query, string message)
    {
        var tag = await SeedAsync(3);
        var response = await (await App.AdminClientAsync()).GetAsync($"/admin/tenants?q={tag}&{query}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains(message, WebUtility.HtmlDecode(html), StringComparison.Ordinal);
        Assert.Contains(">3 clientes</h2>", html, StringComparison.Ordinal);
        Assert.Equal(3L, await App.ScalarAsync<long>($"SELECT count(*) FROM tenants WHERE id LIKE 't-{tag}%'"));
    }

    [Fact]
    public async Task PageBeyondTheEnd_ShowsTheLastPageAndSaysSo()
    {
        var tag = await SeedAsync(55);
        var client = await App.AdminClientAsync();
        var html = await client.GetStringAsync($"/admin/tenants?q={tag}&page=9");
        Assert.Contains("La página 9 no existe; se muestra la última, la 2.", html, StringComparison.Ordinal);
        Assert.Contains("Página 2 de 2", html, StringComparison.Ordinal);
        Assert.Equal(5, RowIds(html).Count);

        var api = await (await client.GetAsync($"/api/admin/tenants?q={tag}&page=9")).JsonAsync();
        Assert.Equal(2, api.GetProperty("page").GetInt32());
        Assert.Equal(5, api.GetProperty("items").GetArrayLength());
    }

    [Theory]
    [InlineData("sort=precio", "sort")]
    [InlineData("status=borrado", "status")]
    [InlineData("page=-1", "page")]
    [InlineData("pageSize=5000", "pageSize")]
    public async Task Api_BadInput_IsAValidationProblemInSpanish(string query, string field)
    {
        var response = await (await App.AdminClientAsync()).GetAsync($"/api/admin/tenants?{query}");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var body = await response.JsonAsync();
        Assert.Equal("Consulta de clientes no válida", body.GetProperty("title").GetString());
        Assert.Equal(JsonValueKind.Array, body.GetProperty("errors").GetProperty(field).ValueKind);
    }

    /// <summary>
    /// <paramref name="count"/> tenants tagged alike: company "Lote tag 001"… (so the tag finds them all), every third on
    /// the basic plan, every tenth failed, the first created most recently.
    /// </summary>
    private async Task<string> SeedAsync(int count)
    {
        var tag = "l" + Guid.NewGuid().ToString("N")[..8];
        await App.Db.ExecAsync($"""
            INSERT INTO tenants (id, subdomain, company_name, email, country, plan_id, status, created_at)
            SELECT 't-{tag}' || lpad(i::text, 3, '0'), 's{tag}' || lpad(i::text, 3, '0'), 'Lote {tag} ' || lpad(i::text, 3, '0'),
                   'c' || i || '@{tag}.example.com', 'ES', CASE WHEN i % 3 = 0 THEN 'basic' ELSE 'pro' END,
                   CASE WHEN i % 10 = 0 THEN 'failed' ELSE 'active' END, now() - i * interval '1 minute'
            FROM generate_series(1, {count}) AS i
            """);
        return tag;
    }

    private static string Id(string tag, int i) => $"t-{tag}{i:000}";

    private static List<string> RowIds(string html) => [.. RowId().Matches(html).Select(m => m.Groups[1].Value)];

    private static string Link(string html, string testId) =>
        WebUtility.HtmlDecode(Regex.Match(html, $"href=\"([^\"]+)\"[^>]*data-testid=\"{testId}\"").Groups[1].Value) is { Length: > 0 } href
            ? href : throw new InvalidOperationException($"no link {testId}");

    [GeneratedRegex("data-testid=\"tenant-row-([^\"]+)\"")]
    private static partial Regex RowId();
}
