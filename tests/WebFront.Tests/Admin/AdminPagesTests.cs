using System.Net;
using Sajet.WebFront.Tests.Admin;

namespace Sajet.WebFront.Tests.Admin;

public sealed class AdminPagesTests(SiloWebFixture fx) : IClassFixture<SiloWebFixture>
{
    private SajetWebFactory App => fx.Factory;

    public static TheoryData<string, string> Pages => new()
    {
        { "/admin", "Panel de administración" },
        { "/admin/tenants", "Clientes" },
        { "/admin/nodes", "Nodos" },
        { "/admin/provision", "Aprovisionamiento" },
    };

    [Theory]
    [MemberData(nameof(Pages))]
    public async Task Page_Admin_RendersInSpanish(string path, string heading)
    {
        var response = await (await App.AdminClientAsync()).GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains("<html lang=\"es\">", html, StringComparison.Ordinal);
        Assert.Contains($"<h1>{heading}</h1>", html, StringComparison.Ordinal);
        Assert.DoesNotContain("style=\"", html, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Pages))]
    public async Task Page_AnonymousOrTenant_IsRefused(string path, string heading)
    {
        _ = heading;
        var anonymous = await App.Client().GetAsync(path);
        Assert.Equal(HttpStatusCode.Redirect, anonymous.StatusCode);
        Assert.StartsWith("/login/admin?returnUrl=", anonymous.Headers.Location!.OriginalString, StringComparison.Ordinal);

        var (email, _) = await App.CreateTenantUserAsync();
        var tenant = App.Client();
        Assert.Equal(HttpStatusCode.OK, (await tenant.LoginAsync(email, "tenant-password-1", "tenant")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await tenant.GetAsync(path)).StatusCode);
    }

    [Fact]
    public async Task Dashboard_CountsTenantsByState_AndShowsMrrInUsd()
    {
        await App.TenantAsync("active", plan: "enterprise");
        var html = await (await App.AdminClientAsync()).GetStringAsync("/admin");
        Assert.Contains("data-testid=\"count-active\"", html, StringComparison.Ordinal);
        Assert.Contains("Esperando capacidad", html, StringComparison.Ordinal);
        // Other classes' tenants may be active too, so only the format is fixed here; the amount is checked in billing.
        Assert.Matches("data-testid=\"mrr-value\">[0-9.]+,[0-9]{2} US\\$<", System.Net.WebUtility.HtmlDecode(html).Replace('\u00a0', ' '));
    }

    [Fact]
    public async Task TenantDetail_ShowsFactsAndEveryHistoryRow_StripeAndProxmoxIdsMarked()
    {
        var id = await App.TenantAsync("active", subscriptionId: "sub_detail", customerId: "cus_detail");
        await App.HistoryAsync(id, null, "pending", "Alta recibida", "signup", null);
        await App.HistoryAsync(id, "pending", "paid", "Pago confirmado por Stripe", "stripe", "evt_1PagoDetalle");
        await App.HistoryAsync(id, "provisioning", "active", "Contenedor creado", "reminder:provision", "UPID:pve1:0000ABCD:01:create");
        await App.HistoryAsync(id, "active", "active", "Nota del operador", "admin:root", null);

        var html = await (await App.AdminClientAsync()).GetStringAsync($"/admin/tenants/{id}");
        Assert.Equal(4, CountOf(html, "data-testid=\"history-row\""));
        Assert.Contains("Pendiente de pago → Pagado", html, StringComparison.Ordinal);
        Assert.Contains("data-kind=\"stripe\"><span class=\"correlation-label\">Evento de Stripe</span> <code>evt_1PagoDetalle</code>", html, StringComparison.Ordinal);
        Assert.Contains("data-kind=\"proxmox\"", html, StringComparison.Ordinal);
        Assert.Contains("UPID:pve1:0000ABCD:01:create", html, StringComparison.Ordinal);
        Assert.Contains("sub_detail", html, StringComparison.Ordinal);
        Assert.Contains("cus_detail", html, StringComparison.Ordinal);
        // Defect 6: an active tenant is offered what active allows, nothing else.
        Assert.Contains("data-testid=\"form-suspend\"", html, StringComparison.Ordinal);
        Assert.DoesNotContain("data-testid=\"place-node\"", html, StringComparison.Ordinal);
        Assert.DoesNotContain("data-testid=\"form-resume\"", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TenantDetail_UnknownTenant_Is404()
    {
        Assert.Equal(HttpStatusCode.NotFound, (await (await App.AdminClientAsync()).GetAsync("/admin/tenants/no-such-tenant")).StatusCode);
    }

    [Fact]
    public async Task ResolveForm_WithoutAntiforgery_IsRefusedAndSendsNothing()
    {
        var id = await App.TenantAsync("waiting_for_capacity", waitingSince: DateTime.UtcNow);
        var client = await App.AdminClientAsync();
        var response = await client.PostAsync($"/admin/tenants/{id}?handler=Resolve",
            new FormUrlEncodedContent(new Dictionary<string, string> { ["action"] = "retry" }));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(0L, await App.ScalarAsync<long>("SELECT count(*) FROM outbox WHERE grain_key = @id", ("id", id)));
    }

    [Fact]
    public async Task ResolveForm_WithAntiforgery_AnswersTheGrainsOutcome_Audits_AndFlashes()
    {
        // A tenants row the engine never made: the grain itself refuses, and the page says so (the old code said
        // "Enviado, esperando…" and waited forever).
        var id = await App.TenantAsync("waiting_for_capacity", waitingSince: DateTime.UtcNow);
        var client = await App.AdminClientAsync();
        var response = await client.SubmitFormAsync($"/admin/tenants/{id}", $"/admin/tenants/{id}?handler=Resolve",
            new Dictionary<string, string> { ["action"] = "retry" });
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal($"/admin/tenants/{id}", response.Headers.Location!.OriginalString);
        Assert.Equal(1L, await App.ScalarAsync<long>(
            "SELECT count(*) FROM audit_log WHERE kind = 'tenant.resolve' AND detail->>'tenant' = @id AND detail->>'outcome' = 'refused'", ("id", id)));
        Assert.Equal(0L, await App.ScalarAsync<long>("SELECT count(*) FROM outbox WHERE grain_key = @id", ("id", id)));

        var page = await client.GetStringAsync($"/admin/tenants/{id}");
        Assert.Contains("data-testid=\"flash-error\">Este cliente aún no está dado de alta en el motor", page, StringComparison.Ordinal);
        Assert.DoesNotContain("Enviado, esperando", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ResolveForm_FromTheScript_AnswersJson()
    {
        var id = await App.TenantAsync("waiting_for_capacity", waitingSince: DateTime.UtcNow);
        var client = await App.AdminClientAsync();
        var fields = new Dictionary<string, string> { ["action"] = "keep_waiting" };
        using var request = await client.FormRequestAsync($"/admin/tenants/{id}", $"/admin/tenants/{id}?handler=Resolve", fields);
        request.Headers.Accept.ParseAdd("application/json");
        var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var json = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("refused", json.GetProperty("outcome").GetString());
        Assert.StartsWith("Este cliente aún no está dado de alta en el motor", json.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ResolveForm_CancelWithoutConfirmation_SendsNothing()
    {
        var id = await App.TenantAsync("waiting_for_capacity", waitingSince: DateTime.UtcNow);
        var client = await App.AdminClientAsync();
        var response = await client.SubmitFormAsync($"/admin/tenants/{id}", $"/admin/tenants/{id}?handler=Resolve",
            new Dictionary<string, string> { ["action"] = "cancel" });
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal(0L, await App.ScalarAsync<long>("SELECT count(*) FROM outbox WHERE grain_key = @id", ("id", id)));
        Assert.Contains("marca la casilla de confirmación", await client.GetStringAsync($"/admin/tenants/{id}"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Provision_QueueListsWaitingTenantsOldestFirst_WithReasonAndPlaceControls()
    {
        var node = await App.NodeAsync();
        var older = await App.TenantAsync("waiting_for_capacity", waitingSince: DateTime.UtcNow.AddHours(-30));
        var newer = await App.TenantAsync("waiting_for_capacity", waitingSince: DateTime.UtcNow.AddMinutes(-5));
        await App.HistoryAsync(older, "placing", "waiting_for_capacity", "Ningún nodo tiene 4096 MB libres", "system", null);

        var html = await (await App.AdminClientAsync()).GetStringAsync("/admin/provision?plan=pro");
        Assert.Contains("data-testid=\"waiting-queue\"", html, StringComparison.Ordinal);
        Assert.True(html.IndexOf($"data-testid=\"waiting-{older}\"", StringComparison.Ordinal) < html.IndexOf($"data-testid=\"waiting-{newer}\"", StringComparison.Ordinal));
        Assert.Contains($"data-testid=\"place-node-{older}\"", html, StringComparison.Ordinal);
        Assert.Contains($"data-testid=\"place-{older}\"", html, StringComparison.Ordinal);
        Assert.Contains($"<option value=\"{node}\">", html, StringComparison.Ordinal);
        Assert.Contains("Ningún nodo tiene 4096 MB libres", html, StringComparison.Ordinal);
        Assert.Contains("1 d 6 h", html, StringComparison.Ordinal);
        Assert.Contains("data-testid=\"capacity-result\"", html, StringComparison.Ordinal);
        Assert.Contains($"data-testid=\"verdict-{node}\"", html, StringComparison.Ordinal);
        Assert.Contains("href=\"/admin/nodes#registrar\"", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Provision_BasicWithEverySharedContainerFull_SaysANewOneIsNeeded()
    {
        var node = await App.NodeAsync();
        var hostname = "s-" + node;
        await App.Db.ExecAsync($"""
            INSERT INTO shared_containers (hostname, node_id, status, slots_total, slots_used, creator_tenant) VALUES ('{hostname}', '{node}', 'running', 1, 1, '{hostname}-t');
            INSERT INTO shared_container_members (tenant_id, hostname) VALUES ('{hostname}-t', '{hostname}');
            """);

        var html = await (await App.AdminClientAsync()).GetStringAsync("/admin/provision?plan=basic");
        Assert.Contains("Todos los contenedores compartidos están llenos: hace falta uno nuevo.", html, StringComparison.Ordinal);
        Assert.Contains("data-testid=\"capacity-shared\" data-shared-container=\"\"", html, StringComparison.Ordinal);
        Assert.Contains("Los nodos se juzgan para un contenedor compartido nuevo", html, StringComparison.Ordinal);
        Assert.Contains($"data-testid=\"verdict-{node}\"", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Provision_PlaceOnNode_ShowsTheOutcomeOnTheWizard()
    {
        var node = await App.NodeAsync();
        var id = await App.TenantAsync("waiting_for_capacity", waitingSince: DateTime.UtcNow);
        var client = await App.AdminClientAsync();
        var response = await client.SubmitFormAsync("/admin/provision?plan=pro", "/admin/provision?plan=pro&handler=Resolve",
            new Dictionary<string, string> { ["tenantId"] = id, ["action"] = "place_on_node", ["nodeId"] = node });
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/admin/provision?plan=pro", response.Headers.Location!.OriginalString);
        var page = await client.GetStringAsync(response.Headers.Location!.OriginalString);
        Assert.Contains("data-testid=\"flash-error\">Este cliente aún no está dado de alta en el motor", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Provision_PlaceOnUnknownNode_ShowsTheApisSpanishError()
    {
        var id = await App.TenantAsync("waiting_for_capacity", waitingSince: DateTime.UtcNow);
        var client = await App.AdminClientAsync();
        var response = await client.SubmitFormAsync("/admin/provision", "/admin/provision?handler=Resolve",
            new Dictionary<string, string> { ["tenantId"] = id, ["action"] = "place_on_node", ["nodeId"] = "no-such-node" });
        Assert.Equal("/admin/provision", response.Headers.Location!.OriginalString);
        Assert.Contains("Indica un nodo registrado.", await client.GetStringAsync("/admin/provision"), StringComparison.Ordinal);
        Assert.Equal(0L, await App.ScalarAsync<long>("SELECT count(*) FROM outbox WHERE grain_key = @id", ("id", id)));
    }

    [Fact]
    public async Task Nodes_RegisterForm_InvalidFields_ShowsSpanishErrorsPerField_AndStoresNothing()
    {
        var client = await App.AdminClientAsync();
        var response = await client.SubmitFormAsync("/admin/nodes", "/admin/nodes?handler=Register", new Dictionary<string, string>
        {
            ["Register.Id"] = "Not Valid!",
            ["Register.ApiUrl"] = "ftp://nope",
            ["Register.TokenId"] = "sajet@pve!sajet",
            ["Register.TokenSecret"] = "un-secreto-que-no-debe-volver",
            ["Register.Fingerprint"] = "zz",
        });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains("data-testid=\"error-id\"", html, StringComparison.Ordinal);
        Assert.Contains("data-testid=\"error-apiUrl\"", html, StringComparison.Ordinal);
        Assert.Contains("data-testid=\"error-fingerprint\"", html, StringComparison.Ordinal);
        Assert.DoesNotContain("data-testid=\"error-tokenId\"", html, StringComparison.Ordinal);
        Assert.Contains("Indique la URL de la API del nodo", html, StringComparison.Ordinal);
        Assert.DoesNotContain("un-secreto-que-no-debe-volver", html, StringComparison.Ordinal);
        Assert.Equal(0L, await App.ScalarAsync<long>("SELECT count(*) FROM nodes WHERE id = 'Not Valid!'"));
    }

    [Fact]
    public async Task Nodes_MaintenanceToggle_ChangesTheNodeThroughTheApiHandler()
    {
        var node = await App.NodeAsync();
        var client = await App.AdminClientAsync();
        var response = await client.SubmitFormAsync("/admin/nodes", "/admin/nodes?handler=Maintenance",
            new Dictionary<string, string> { ["id"] = node, ["maintenance"] = "true" });
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.True(await App.ScalarAsync<bool>("SELECT maintenance FROM nodes WHERE id = @id", ("id", node)));
        Assert.Contains($"data-testid=\"node-maintenance-{node}\"", await client.GetStringAsync("/admin/nodes"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task NodeDetail_RendersChartsFromADataIsland_AlertsAndDrift()
    {
        var node = await App.NodeAsync();
        await App.Db.ExecAsync($"""
            INSERT INTO node_samples (node_id, at, resolution, cpu, memory_used, memory_total, disk_used, disk_total, containers)
            VALUES ('{node}', now() - interval '1 hour', 'raw', 0.5, 4294967296, 8589934592, 10737418240, 107374182400, 3);
            INSERT INTO node_alerts (node_id, kind, message, value) VALUES ('{node}', 'memory', 'Memoria al 91 %', 0.91);
            """);
        var html = await (await App.AdminClientAsync()).GetStringAsync($"/admin/nodes/{node}");
        Assert.Contains("<script type=\"application/json\" id=\"node-metrics\">", html, StringComparison.Ordinal);
        Assert.Contains("\"memory\":[50]", html, StringComparison.Ordinal);
        Assert.Contains("/lib/chart.js/chart.umd.js", html, StringComparison.Ordinal);
        Assert.Contains("Memoria al 91 %", html, StringComparison.Ordinal);
        Assert.Contains("data-testid=\"open-alert\"", html, StringComparison.Ordinal);
    }

    private static int CountOf(string text, string needle)
    {
        var count = 0;
        for (var i = text.IndexOf(needle, StringComparison.Ordinal); i >= 0; i = text.IndexOf(needle, i + needle.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }
}
