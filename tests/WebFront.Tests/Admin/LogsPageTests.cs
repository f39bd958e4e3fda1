using System.Net;
using System.Text;
using System.Text.RegularExpressions;

namespace Sajet.WebFront.Tests.Admin;

/// <summary>
/// /admin/logs over real audit_log and grain_events rows. Each test writes its rows on a day of its own long ago and
/// filters by that day, so the sign-ins and tenants of the other tests (all written today) never change its counts.
/// </summary>
public sealed partial class LogsPageTests(WebFixture fx) : IClassFixture<WebFixture>
{
    private SajetWebFactory App => fx.Factory;

    [Fact]
    public async Task Logs_BothSources_NewestFirst_InSpanish_DetailsAsDefinitionLists()
    {
        var tenant = "t-" + Guid.NewGuid().ToString("N")[..10];
        await AuditAsync("2001-03-01 10:00", "auth.login_failed", "ana@example.com", "warning", """{"role": "admin", "reason": "wrong_password"}""", "10.1.2.3");
        await HistoryAsync("2001-03-01 11:00", tenant, "provisioning", "failed", "Aprovisionamiento fallido tras 5 intentos", "reminder:step", """{"step": "create_container"}""", "UPID:pve1:0001:create");
        await HistoryAsync("2001-03-01 12:00", tenant, "failed", null, "Limpieza completada", "system", null);
        await AuditAsync("2001-03-01 13:00", "tenant.resolve", "root-admin", "info", $$"""{"tenant": "{{tenant}}", "action": "retry", "node": null}""");

        var html = await (await App.AdminClientAsync()).GetStringAsync("/admin/logs?desde=2001-03-01&hasta=2001-03-01");
        Assert.Contains("data-testid=\"log-count\">4 eventos</h2>", html, StringComparison.Ordinal);
        var rows = Rows(html);
        Assert.Equal(["audit", "history", "history", "audit"], rows.Select(r => Regex.Match(r, "data-source=\"([a-z]+)\"").Groups[1].Value));
        var (resolve, note, failure, refusal) = (rows[0], rows[1], rows[2], rows[3]);

        Assert.Matches("<div class=\"log-kind\">\\s*Inicio de sesión fallido\\s*<br><span class=\"muted\">Auditoría de seguridad</span>", refusal);
        Assert.Contains("<dt>Rol</dt>", refusal, StringComparison.Ordinal);
        Assert.Matches("<dd>\\s*administrador\\s*</dd>", refusal);
        Assert.Matches("<dd>\\s*contraseña incorrecta\\s*</dd>", refusal);
        Assert.Contains("IP <code>10.1.2.3</code>", refusal, StringComparison.Ordinal);
        Assert.Contains("<span class=\"badge badge-warning\">Aviso</span>", refusal, StringComparison.Ordinal);

        Assert.Matches("<div class=\"log-kind\">\\s*Cambio de estado\\s*<br><span class=\"muted\">Historial de clientes</span>", failure);
        Assert.Matches("<div class=\"log-actor\">\\s*Recordatorio \\(paso de aprovisionamiento\\)\\s*</div>", failure);
        Assert.Contains("Aprovisionando → Fallido", failure, StringComparison.Ordinal);
        Assert.Contains("data-severity=\"error\"", failure, StringComparison.Ordinal);
        Assert.Contains("<span class=\"badge badge-bad\">Error</span>", failure, StringComparison.Ordinal);
        Assert.Contains("Aprovisionamiento fallido tras 5 intentos", failure, StringComparison.Ordinal);
        Assert.Contains("<dt>Paso</dt>", failure, StringComparison.Ordinal);
        Assert.Contains("data-kind=\"proxmox\"", failure, StringComparison.Ordinal);
        Assert.Contains($"<a href=\"/admin/tenants/{tenant}\"><code>{tenant}</code></a>", failure, StringComparison.Ordinal);

        Assert.Matches("<div class=\"log-kind\">\\s*Anotación del historial\\s*<br>", note);
        Assert.Matches("<div class=\"log-actor\">\\s*Sistema\\s*</div>", note);
        Assert.Contains("data-severity=\"info\"", note, StringComparison.Ordinal);
        Assert.DoesNotContain("→", note, StringComparison.Ordinal);

        Assert.Matches("<div class=\"log-kind\">\\s*Resolución de un cliente\\s*<br>", resolve);
        Assert.Matches("<dt>Acción</dt>\\s*<dd>\\s*Reintentar\\s*</dd>", resolve);
        Assert.Matches($"<dt>Cliente</dt>\\s*<dd>\\s*<a href=\"/admin/tenants/{tenant}\"><code>{tenant}</code></a>", resolve);
        Assert.Matches("<dt>Nodo</dt>\\s*<dd>\\s*—\\s*</dd>", resolve);

        // Details are read, not decoded: no JSON left on the page.
        Assert.DoesNotContain("&quot;role&quot;", html, StringComparison.Ordinal);
        Assert.DoesNotContain("{&quot;", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Filters_KindSeveritySourceActorTenant_KeptInTheLinks()
    {
        var tenant = await App.TenantAsync("active");
        var subdomain = await App.ScalarAsync<string>("SELECT subdomain FROM tenants WHERE id = @id", ("id", tenant));
        await AuditAsync("2002-05-10 08:00", "auth.login_succeeded", "ana@example.com", "info", """{"role": "admin", "method": "password"}""");
        await AuditAsync("2002-05-10 08:01", "auth.login_failed", "beto@example.com", "warning", """{"reason": "wrong_password"}""");
        await AuditAsync("2002-05-10 08:02", "auth.account_locked", "beto@example.com", "critical", "{}");
        await AuditAsync("2002-05-10 08:03", "tenant.suspend", "ana@example.com", "info", $$"""{"tenant": "{{tenant}}"}""");
        await HistoryAsync("2002-05-10 08:04", tenant, "active", "suspended", "Suspendido por ana@example.com", "ana@example.com", null);
        await HistoryAsync("2002-05-10 08:05", tenant, "suspended", null, "Revisión", "system", null);
        await HistoryAsync("2002-05-11 09:00", tenant, "paid", "placing", "Buscando nodo", "reminder:step", null);
        var client = await App.AdminClientAsync();
        const string day = "desde=2002-05-10&hasta=2002-05-11";

        // Both days unless the filter names its own.
        async Task<List<string>> Kinds(string filter) =>
            [.. Regex.Matches(await client.GetStringAsync($"/admin/logs?{(filter.Contains("desde", StringComparison.Ordinal) ? "" : day + "&")}{filter}"),
                "data-kind=\"([a-z0-9_.]+)\" data-severity").Select(m => m.Groups[1].Value)];

        Assert.Equal(["auth.login_failed"], await Kinds("kind=auth.login_failed"));
        Assert.Equal(["history.note", "history.state"], (await Kinds("source=history&desde=2002-05-10&hasta=2002-05-10")).Order(StringComparer.Ordinal));
        Assert.Equal(["history.state", "auth.account_locked", "auth.login_failed"], await Kinds("severity=warning&desde=2002-05-10&hasta=2002-05-10"));
        Assert.Equal(["auth.account_locked"], await Kinds("severity=critical"));
        Assert.Equal(["history.state", "tenant.suspend", "auth.login_succeeded"], await Kinds("actor=ANA@"));
        Assert.Equal(["history.note"], await Kinds("actor=Sistema"));
        Assert.Equal(["history.state"], await Kinds("actor=Recordatorio"));
        Assert.Equal(["history.state", "history.note", "history.state", "tenant.suspend"], await Kinds($"tenant={tenant}"));
        Assert.Equal(["history.state", "history.note", "history.state", "tenant.suspend"], await Kinds($"tenant={subdomain}"));
        Assert.Equal(["history.state"], await Kinds("desde=2002-05-11&hasta=2002-05-11"));

        var filtered = await client.GetStringAsync($"/admin/logs?{day}&severity=warning&actor=beto");
        Assert.Contains("<option value=\"warning\" selected=\"selected\">Avisos o más graves</option>", filtered, StringComparison.Ordinal);
        Assert.Contains("value=\"beto\"", filtered, StringComparison.Ordinal);
        Assert.Contains("value=\"2002-05-11\"", filtered, StringComparison.Ordinal);
        Assert.Equal("/admin/logs?handler=Csv&severity=warning&actor=beto&desde=2002-05-10&hasta=2002-05-11", Link(filtered, "log-export"));
    }

    [Fact]
    public async Task Pagination_120Events_PagesOf50_LinksKeepTheFilters_BeyondTheEndShowsTheLast()
    {
        await App.Db.ExecAsync("""
            INSERT INTO audit_log (at, kind, actor, ip, detail, severity)
            SELECT timestamptz '2003-07-01 00:00Z' + i * interval '1 minute', 'security.rate_limited', 'anonymous', '10.0.0.' || i, jsonb_build_object('limit', 'auth', 'n', i), 'warning'
            FROM generate_series(1, 120) AS i
            """);
        var client = await App.AdminClientAsync();

        var first = await client.GetStringAsync("/admin/logs?desde=2003-07-01&hasta=2003-07-01");
        Assert.Contains("data-testid=\"log-count\">120 eventos</h2>", first, StringComparison.Ordinal);
        Assert.Equal(50, RowCount(first));
        Assert.Contains("Página 1 de 3", first, StringComparison.Ordinal);
        Assert.Contains("Límite de peticiones superado", first, StringComparison.Ordinal);
        Assert.Contains("Anónimo", first, StringComparison.Ordinal);
        Assert.Equal("/admin/logs?desde=2003-07-01&hasta=2003-07-01&page=2", Link(first, "page-next"));
        Assert.Contains("<code>120</code>", first, StringComparison.Ordinal); // newest first: n = 120 on top

        var last = await client.GetStringAsync("/admin/logs?desde=2003-07-01&hasta=2003-07-01&page=3");
        Assert.Equal(20, RowCount(last));
        Assert.Contains("Página 3 de 3", last, StringComparison.Ordinal);
        Assert.Contains("<code>1</code>", last, StringComparison.Ordinal);

        var beyond = await client.GetStringAsync("/admin/logs?desde=2003-07-01&hasta=2003-07-01&page=40");
        Assert.Contains("La página 40 no existe; se muestra la última, la 3.", beyond, StringComparison.Ordinal);
        Assert.Equal(20, RowCount(beyond));
    }

    [Fact]
    public async Task CsvExport_EveryFilteredEntry_NotJustThePage_EscapedAndSafeInSpreadsheets()
    {
        await App.Db.ExecAsync("""
            INSERT INTO audit_log (at, kind, actor, ip, detail, severity)
            SELECT timestamptz '2004-02-02 00:00Z' + i * interval '1 second', 'auth.login_succeeded', 'ana@example.com', NULL, '{"role": "admin"}', 'info'
            FROM generate_series(1, 60) AS i
            """);
        await AuditAsync("2004-02-02 12:00", "auth.login_failed", "=HYPERLINK(\"http://evil.example\",\"x\")", "warning", """{"reason": "unknown_login"}""", "-1+2");
        await HistoryAsync("2004-02-02 13:00", "t-csv", "provisioning", "failed", "Fallo: \"timeout\", reintento\nmañana", "reminder:step", null);
        await AuditAsync("2004-02-03 00:00", "auth.logout", "ana@example.com", "info", "{}");
        var client = await App.AdminClientAsync();

        var page = await client.GetStringAsync("/admin/logs?desde=2004-02-02&hasta=2004-02-02");
        var response = await client.GetAsync(Link(page, "log-export"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/csv", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal("attachment", response.Content.Headers.ContentDisposition!.DispositionType);
        Assert.Matches("^sajet-registros-[0-9]{8}-[0-9]{6}\\.csv$", response.Content.Headers.ContentDisposition.FileName!.Trim('"'));

        var bytes = await response.Content.ReadAsByteArrayAsync();
        Assert.Equal(Encoding.UTF8.Preamble.ToArray(), bytes[..3]);
        var text = Encoding.UTF8.GetString(bytes[3..]);
        var rows = ParseCsv(text);
        Assert.Equal("Fecha (UTC),Origen,Tipo,Código del tipo,Gravedad,Quién,Código de quién,Cliente,IP,Estado anterior,Estado nuevo,Motivo,Correlación,Detalle",
            string.Join(",", rows[0]));
        Assert.Equal(1 + 62, rows.Count); // the header, 60 sign-ins, the refusal and the failure: more than a page, not the next day's logout
        Assert.All(rows, r => Assert.Equal(14, r.Count));

        Assert.Equal(["2004-02-02 13:00:00", "Historial de clientes", "Cambio de estado", "history.state", "Error", "Recordatorio (paso de aprovisionamiento)",
            "reminder:step", "t-csv", "", "Aprovisionando", "Fallido", "Fallo: \"timeout\", reintento\nmañana", "", ""], rows[1]);
        Assert.Contains("\"Fallo: \"\"timeout\"\", reintento\nmañana\"", text, StringComparison.Ordinal);

        var refusal = rows[2];
        Assert.Equal("Inicio de sesión fallido", refusal[2]);
        Assert.Equal("Aviso", refusal[4]);
        Assert.Equal("'=HYPERLINK(\"http://evil.example\",\"x\")", refusal[5]);
        Assert.Equal("'-1+2", refusal[8]);
        Assert.Equal("{\"reason\": \"unknown_login\"}", refusal[13]);
        Assert.Equal("Inicio de sesión correcto", rows[3][2]);
        Assert.DoesNotContain(rows, r => r[3] == "auth.logout");
    }

    [Theory]
    [InlineData("desde=ayer", "La fecha «ayer» de «desde» no es válida")]
    [InlineData("desde=2005-01-10&hasta=2005-01-01", "La fecha «hasta» es anterior a «desde»")]
    [InlineData("severity=mucha", "La gravedad «mucha» no existe")]
    [InlineData("source=correo", "El origen «correo» no existe")]
    [InlineData("kind=DROP%20TABLE", "El tipo «DROP TABLE» no es válido")]
    [InlineData("page=cero", "La página «cero» no es válida")]
    public async Task BadInput_ExplainedInSpanish_PageStillServed(string query, string message)
    {
        var response = await (await App.AdminClientAsync()).GetAsync($"/admin/logs?{query}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains(message, WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync()), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Logs_AnonymousIsSentToLogin_CsvToo()
    {
        foreach (var path in new[] { "/admin/logs", "/admin/logs?handler=Csv" })
        {
            var response = await App.Client().GetAsync(path);
            Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
            Assert.StartsWith("/login/admin?returnUrl=", response.Headers.Location!.OriginalString, StringComparison.Ordinal);
        }
    }

    private async Task AuditAsync(string at, string kind, string actor, string severity, string detail, string? ip = null)
    {
        await using var cmd = App.Db.DataSource.CreateCommand("""
            INSERT INTO audit_log (at, kind, actor, ip, detail, severity) VALUES (@at::timestamptz, @kind, @actor, @ip, @detail::jsonb, @severity)
            """);
        cmd.Parameters.AddWithValue("at", at + "Z");
        cmd.Parameters.AddWithValue("kind", kind);
        cmd.Parameters.AddWithValue("actor", actor);
        cmd.Parameters.AddWithValue("ip", (object?)ip ?? DBNull.Value);
        cmd.Parameters.AddWithValue("detail", detail);
        cmd.Parameters.AddWithValue("severity", severity);
        await cmd.ExecuteNonQueryAsync();
    }

    private async Task HistoryAsync(string at, string tenant, string? from, string? to, string reason, string actor, string? data, string? correlation = null)
    {
        await using var cmd = App.Db.DataSource.CreateCommand("""
            INSERT INTO grain_events (grain_type, grain_key, at, from_state, to_state, reason, actor, correlation_id, data)
            VALUES ('tenant', @tenant, @at::timestamptz, @from, @to, @reason, @actor, @correlation, @data::jsonb)
            """);
        cmd.Parameters.AddWithValue("tenant", tenant);
        cmd.Parameters.AddWithValue("at", at + "Z");
        cmd.Parameters.AddWithValue("from", (object?)from ?? DBNull.Value);
        cmd.Parameters.AddWithValue("to", (object?)to ?? DBNull.Value);
        cmd.Parameters.AddWithValue("reason", reason);
        cmd.Parameters.AddWithValue("actor", actor);
        cmd.Parameters.AddWithValue("correlation", (object?)correlation ?? DBNull.Value);
        cmd.Parameters.AddWithValue("data", (object?)data ?? DBNull.Value);
        await cmd.ExecuteNonQueryAsync();
    }

    private static List<string> Rows(string html) =>
        [.. Regex.Matches(html, "<tr data-testid=\"log-row\".*?</tr>", RegexOptions.Singleline).Select(m => m.Value)];

    private static int RowCount(string html) => Regex.Count(html, "data-testid=\"log-row\"");

    private static string Link(string html, string testId) =>
        WebUtility.HtmlDecode(Regex.Match(html, $"href=\"([^\"]+)\"[^>]*data-testid=\"{testId}\"").Groups[1].Value) is { Length: > 0 } href
            ? href : throw new InvalidOperationException($"no link {testId}");

    /// <summary>RFC 4180 read back: quoted fields may hold commas, doubled quotes and line breaks; lines end in CRLF.</summary>
    private static List<List<string>> ParseCsv(string text)
    {
        var rows = new List<List<string>>();
        var row = new List<string>();
        var field = new StringBuilder();
        var quoted = false;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < text.Length && text[i + 1] == '"')
                {
                    field.Append('"');
                    i++;
                }
                else if (c == '"')
                {
                    quoted = false;
                }
                else
                {
                    field.Append(c);
                }
            }
            else if (c == '"' && field.Length == 0)
            {
                quoted = true;
            }
            else if (c == ',')
            {
                row.Add(field.ToString());
                field.Clear();
            }
            else if (c == '\r' && i + 1 < text.Length && text[i + 1] == '\n')
            {
                row.Add(field.ToString());
                field.Clear();
                rows.Add(row);
                row = [];
                i++;
            }
            else
            {
                Assert.False(c is '\r' or '\n' or '"', $"unquoted {(int)c} at {i}");
                field.Append(c);
            }
        }

        Assert.True(field.Length == 0 && row.Count == 0, "the file ends with a complete line");
        return rows;
    }
}
