using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Sajet.Grains.Interfaces.Nodes;
using Sajet.Persistence.Secrets;

namespace Sajet.WebFront.Tests.Admin;

/// <summary>
/// The node page edits a node (address, token, limits) and removes it through the API's own PATCH and DELETE, with
/// the real probe against a simulated Proxmox node; it lists what the node hosts from the read models.
/// </summary>
public sealed class NodeEditPageTests(ProxmoxSimulatorWebFixture fx) : IClassFixture<ProxmoxSimulatorWebFixture>
{
    private SajetWebFactory App => fx.Factory;

    private static string Page(string id) => $"/admin/nodes/{id}";

    private static string Edit(string id) => $"/admin/nodes/{id}?handler=Edit";

    private static string Delete(string id) => $"/admin/nodes/{id}?handler=Delete";

    /// <summary>The edit form as the page fills it for the seeded node, with <paramref name="changes"/> applied.</summary>
    private static Dictionary<string, string> SeededForm(params (string Field, string Value)[] changes)
    {
        var form = new Dictionary<string, string>
        {
            ["Edit.ApiUrl"] = "https://pve.example.com:8006",
            ["Edit.TokenId"] = "sajet@pve!sajet",
            ["Edit.TokenSecret"] = "",
            ["Edit.Fingerprint"] = "",
            ["Edit.MaxContainers"] = "50",
            ["Edit.CpuOvercommit"] = "2",
            ["Edit.Storage"] = "local-lvm",
            ["Edit.Template"] = "local:vztmpl/debian-12.tar.zst",
        };
        foreach (var (field, value) in changes)
        {
            form["Edit." + field] = value;
        }

        return form;
    }

    private async Task<string> RegisterSimulatedAsync(HttpClient admin)
    {
        var id = "sim" + Guid.NewGuid().ToString("N")[..6];
        var response = await admin.PostAsJsonAsync("/api/nodes", new
        {
            id,
            apiUrl = fx.Proxmox.HttpsUrl.ToString().TrimEnd('/'),
            tokenId = fx.Proxmox.TokenId,
            tokenSecret = fx.Proxmox.TokenSecret,
            fingerprint = fx.Proxmox.CertificateFingerprint,
        });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return id;
    }

    private Task<long> OutboxAsync(string node, string kind) =>
        App.ScalarAsync<long>("SELECT count(*) FROM outbox WHERE grain_type = 'node' AND grain_key = @n AND kind = @k", ("n", node), ("k", kind));

    private Task<string> RowAsync(string node) =>
        App.ScalarAsync<string>("SELECT concat_ws('|', api_url, token_id, encode(token_secret_enc, 'hex'), fingerprint, insecure_tls, max_containers, cpu_overcommit, storage, template, updated_at) FROM nodes WHERE id = @id", ("id", node));

    [Fact]
    public async Task DetailPage_ShowsTheEditForm_FilledWithTheNode_ButNeverTheSecret()
    {
        var node = await App.NodeAsync();
        var html = await (await App.AdminClientAsync()).GetStringAsync(Page(node));
        Assert.Contains("value=\"https://pve.example.com:8006\" required data-testid=\"edit-api-url\"", html, StringComparison.Ordinal);
        Assert.Contains("value=\"50\" data-testid=\"edit-max-containers\"", html, StringComparison.Ordinal);
        Assert.Contains("value=\"2\" data-testid=\"edit-cpu-overcommit\"", html, StringComparison.Ordinal);
        Assert.Contains("<input id=\"edit-token-secret\" name=\"Edit.TokenSecret\" type=\"password\" autocomplete=\"new-password\" data-testid=\"edit-token-secret\">", html, StringComparison.Ordinal);
        Assert.DoesNotContain("5f0c6f0e-3c1a-4c8e-9a55-2b7f4d1e8a90", html, StringComparison.Ordinal);
        Assert.Contains("data-testid=\"delete-confirm\"", html, StringComparison.Ordinal);
        Assert.Contains("data-testid=\"node-empty\"", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EditForm_Limits_AreStored_TellTheNodeGrain_AndAreAudited()
    {
        var node = await App.NodeAsync();
        var client = await App.AdminClientAsync();
        var response = await client.SubmitFormAsync(Page(node), Edit(node), SeededForm(("MaxContainers", "12"), ("CpuOvercommit", "1,5"), ("Storage", "fast-zfs")));
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal(12, await App.ScalarAsync<int>("SELECT max_containers FROM nodes WHERE id = @id", ("id", node)));
        Assert.Equal(1.5m, await App.ScalarAsync<decimal>("SELECT cpu_overcommit FROM nodes WHERE id = @id", ("id", node)));
        Assert.Equal("fast-zfs", await App.ScalarAsync<string>("SELECT storage FROM nodes WHERE id = @id", ("id", node)));
        Assert.Equal(1L, await OutboxAsync(node, "node.changed"));
        Assert.Equal(1L, await App.ScalarAsync<long>("SELECT count(*) FROM audit_log WHERE kind = 'node.change' AND detail->>'node' = @id", ("id", node)));
        var html = await client.GetStringAsync(Page(node));
        Assert.Contains($"Nodo {node} guardado.", html, StringComparison.Ordinal);
        Assert.Contains("value=\"12\" data-testid=\"edit-max-containers\"", html, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("MaxContainers", "0", "error-maxContainers", "El máximo de contenedores debe estar entre 1 y 10000.")]
    [InlineData("MaxContainers", "muchos", "error-maxContainers", "El máximo de contenedores debe ser un número entero")]
    [InlineData("CpuOvercommit", "250", "error-cpuOvercommit", "La sobreasignación de CPU debe estar entre 1 y 100.")]
    [InlineData("Template", "debian.tar.zst", "error-template", "La plantilla debe ser un volumen vztmpl")]
    [InlineData("ApiUrl", "ftp://pve", "error-apiUrl", "Indique la URL de la API del nodo")]
    [InlineData("TokenId", "otro@pve!nuevo", "error-tokenSecret", "Para cambiar el token indique también su secreto.")]
    public async Task EditForm_BadField_GetsItsSpanishError_AndChangesNothing(string field, string value, string testId, string message)
    {
        var node = await App.NodeAsync();
        var before = await RowAsync(node);
        var client = await App.AdminClientAsync();
        var response = await client.SubmitFormAsync(Page(node), Edit(node), SeededForm((field, value), ("MaxContainers", field == "MaxContainers" ? value : "7")));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains($"data-testid=\"{testId}\"", html, StringComparison.Ordinal);
        Assert.Contains(message, html, StringComparison.Ordinal);
        Assert.Contains("No se ha cambiado nada", html, StringComparison.Ordinal);
        Assert.Equal(before, await RowAsync(node));
        Assert.Equal(0L, await OutboxAsync(node, "node.changed"));
    }

    [Fact]
    public async Task EditForm_RotatedToken_IsProbed_StoredEncryptedAnew_AndNeverShownBack()
    {
        var client = await App.AdminClientAsync();
        var node = await RegisterSimulatedAsync(client);
        var encBefore = await App.ScalarAsync<byte[]>("SELECT token_secret_enc FROM nodes WHERE id = @id", ("id", node));
        var form = new Dictionary<string, string>
        {
            ["Edit.ApiUrl"] = fx.Proxmox.HttpsUrl.ToString().TrimEnd('/'),
            ["Edit.TokenId"] = fx.Proxmox.TokenId,
            ["Edit.TokenSecret"] = fx.Proxmox.TokenSecret,
            ["Edit.Fingerprint"] = fx.Proxmox.CertificateFingerprint,
            ["Edit.MaxContainers"] = "50",
            ["Edit.CpuOvercommit"] = "2",
        };
        var response = await client.SubmitFormAsync(Page(node), Edit(node), form);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var encAfter = await App.ScalarAsync<byte[]>("SELECT token_secret_enc FROM nodes WHERE id = @id", ("id", node));
        Assert.NotEqual(encBefore, encAfter);
        Assert.Equal(fx.Proxmox.TokenSecret, App.Services.GetRequiredService<SecretProtector>().Unprotect(encAfter, NodeConstants.TokenSecretPurpose));
        var html = await client.GetStringAsync(Page(node));
        Assert.Contains("El token nuevo se ha comprobado contra el nodo", html, StringComparison.Ordinal);
        Assert.DoesNotContain(fx.Proxmox.TokenSecret, html, StringComparison.Ordinal);
        Assert.Equal(1L, await App.ScalarAsync<long>("SELECT count(*) FROM audit_log WHERE kind = 'node.change' AND detail->>'node' = @id", ("id", node)));
        Assert.DoesNotContain(fx.Proxmox.TokenSecret, await App.ScalarAsync<string>("SELECT string_agg(detail::text, ' ') FROM audit_log"), StringComparison.Ordinal);

        // A secret the node refuses is not stored: the one that works stays, and the page says why in Spanish.
        form["Edit.TokenSecret"] = "00000000-0000-0000-0000-000000000000";
        var refused = await client.SubmitFormAsync(Page(node), Edit(node), form);
        Assert.Equal(HttpStatusCode.OK, refused.StatusCode);
        var refusedHtml = await refused.Content.ReadAsStringAsync();
        Assert.Contains("data-testid=\"edit-error\"", refusedHtml, StringComparison.Ordinal);
        Assert.DoesNotContain("00000000-0000-0000-0000-000000000000", refusedHtml, StringComparison.Ordinal);
        Assert.Equal(encAfter, await App.ScalarAsync<byte[]>("SELECT token_secret_enc FROM nodes WHERE id = @id", ("id", node)));
        Assert.Equal(1L, await OutboxAsync(node, "node.changed"));
    }

    [Fact]
    public async Task DeleteForm_WithoutConfirmation_ChangesNothing()
    {
        var node = await App.NodeAsync();
        var client = await App.AdminClientAsync();
        var response = await client.SubmitFormAsync(Page(node), Delete(node), []);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("Marca la casilla para confirmar", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(1L, await App.ScalarAsync<long>("SELECT count(*) FROM nodes WHERE id = @id", ("id", node)));
        Assert.Equal(0L, await OutboxAsync(node, "node.removed"));
    }

    [Fact]
    public async Task DeleteForm_NodeHostingATenant_IsRefusedInSpanish_AndChangesNothing()
    {
        var node = await App.NodeAsync();
        // Only the tenants read model places it there: no container row, no reservation.
        var tenant = await App.TenantAsync("active");
        await App.Db.ExecAsync($"UPDATE tenants SET node_id = '{node}', vmid = 4321 WHERE id = '{tenant}'");
        var client = await App.AdminClientAsync();
        var response = await client.SubmitFormAsync(Page(node), Delete(node), new Dictionary<string, string> { ["confirm"] = "true" });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains("data-testid=\"delete-error\"", html, StringComparison.Ordinal);
        Assert.Contains($"No se puede dar de baja el nodo {node}: aloja inquilino {tenant}", html, StringComparison.Ordinal);
        Assert.Equal(1L, await App.ScalarAsync<long>("SELECT count(*) FROM nodes WHERE id = @id", ("id", node)));
        Assert.Equal(0L, await OutboxAsync(node, "node.removed"));
    }

    [Fact]
    public async Task DeleteApi_NodeHostingATenantOrASharedSlot_Answers409ProblemJson()
    {
        var node = await App.NodeAsync();
        var dedicated = await App.TenantAsync("suspended");
        var member = await App.TenantAsync("active", plan: "basic");
        var host = "shared-" + node;
        await App.Db.ExecAsync($"""
            UPDATE tenants SET node_id = '{node}' WHERE id = '{dedicated}';
            INSERT INTO shared_containers (hostname, node_id, status, slots_total, slots_used, creator_tenant) VALUES ('{host}', '{node}', 'creating', 10, 1, '{member}');
            INSERT INTO shared_container_members (tenant_id, hostname) VALUES ('{member}', '{host}');
            """);
        var client = await App.AdminClientAsync();
        var refused = await client.DeleteAsync($"/api/nodes/{node}");
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        var problem = await refused.JsonAsync();
        Assert.Equal(2, problem.GetProperty("occupants").GetArrayLength());
        var detail = problem.GetProperty("detail").GetString()!;
        Assert.Contains($"inquilino {dedicated}", detail, StringComparison.Ordinal);
        Assert.Contains($"inquilino {member} (contenedor compartido {host})", detail, StringComparison.Ordinal);
        Assert.Equal(1L, await App.ScalarAsync<long>("SELECT count(*) FROM nodes WHERE id = @id", ("id", node)));

        // Once the tenants are gone (deleted, or failed and cleaned up), the node can go.
        await App.Db.ExecAsync($"""
            UPDATE tenants SET status = 'deleted' WHERE id = '{dedicated}';
            UPDATE tenants SET status = 'failed' WHERE id = '{member}';
            DELETE FROM shared_container_members WHERE tenant_id = '{member}';
            """);
        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/nodes/{node}")).StatusCode);
    }

    [Fact]
    public async Task DeleteForm_EmptyNode_IsRemoved_TellsTheNodeGrain_AndAudits()
    {
        var node = await App.NodeAsync();
        var client = await App.AdminClientAsync();
        var response = await client.SubmitFormAsync(Page(node), Delete(node), new Dictionary<string, string> { ["confirm"] = "true" });
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/admin/nodes", response.Headers.Location!.OriginalString);
        Assert.Equal(0L, await App.ScalarAsync<long>("SELECT count(*) FROM nodes WHERE id = @id", ("id", node)));
        Assert.Equal(1L, await OutboxAsync(node, "node.removed"));
        Assert.Equal(1L, await App.ScalarAsync<long>("SELECT count(*) FROM audit_log WHERE kind = 'node.delete' AND detail->>'node' = @id", ("id", node)));
        Assert.Contains($"Nodo {node} eliminado del registro.", await client.GetStringAsync("/admin/nodes"), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync(Page(node))).StatusCode);
    }

    [Fact]
    public async Task DetailPage_ListsItsContainersAndTenants_WithKindAndSpanishStatus()
    {
        var node = await App.NodeAsync();
        var pro = await App.TenantAsync("active");
        var basicA = await App.TenantAsync("past_due", plan: "basic");
        var basicB = await App.TenantAsync("suspended", plan: "basic");
        var loose = await App.TenantAsync("migrating");
        var dedicatedVmid = Random.Shared.Next(100_000, 500_000);
        var sharedVmid = dedicatedVmid + 1;
        var host = "shared-" + node;
        await App.Db.ExecAsync($"""
            INSERT INTO containers (vmid, node_id, hostname, kind, tenant_id, status) VALUES ({dedicatedVmid}, '{node}', 'odoo-{pro}', 'dedicated', '{pro}', 'running');
            INSERT INTO shared_containers (hostname, node_id, vmid, status, slots_total, slots_used, creator_tenant) VALUES ('{host}', '{node}', {sharedVmid}, 'running', 10, 2, '{basicA}');
            INSERT INTO containers (vmid, node_id, hostname, kind, tenant_id, status, slots_total, slots_used) VALUES ({sharedVmid}, '{node}', '{host}', 'shared', '{basicA}', 'running', 10, 2);
            INSERT INTO shared_container_members (tenant_id, hostname) VALUES ('{basicA}', '{host}'), ('{basicB}', '{host}');
            UPDATE tenants SET node_id = '{node}' WHERE id IN ('{pro}', '{loose}');
            """);
        var html = await (await App.AdminClientAsync()).GetStringAsync(Page(node));
        var dedicatedRow = Row(html, $"container-odoo-{pro}");
        Assert.Contains($"<td>{dedicatedVmid}</td>", dedicatedRow, StringComparison.Ordinal);
        Assert.Contains("Dedicado", dedicatedRow, StringComparison.Ordinal);
        Assert.Contains($"href=\"/admin/tenants/{pro}\"", dedicatedRow, StringComparison.Ordinal);
        Assert.Contains("Activo", dedicatedRow, StringComparison.Ordinal);
        var sharedRow = Row(html, $"container-{host}");
        Assert.Contains($"<td>{sharedVmid}</td>", sharedRow, StringComparison.Ordinal);
        Assert.Contains("Compartido", sharedRow, StringComparison.Ordinal);
        Assert.Contains("2 de 10 plazas", sharedRow, StringComparison.Ordinal);
        Assert.Contains($"href=\"/admin/tenants/{basicA}\"", sharedRow, StringComparison.Ordinal);
        Assert.Contains("Pago atrasado", sharedRow, StringComparison.Ordinal);
        Assert.Contains($"href=\"/admin/tenants/{basicB}\"", sharedRow, StringComparison.Ordinal);
        Assert.Contains("Suspendido", sharedRow, StringComparison.Ordinal);
        Assert.DoesNotContain(pro, sharedRow, StringComparison.Ordinal);
        Assert.Contains("Inquilinos sin contenedor registrado (1)", html, StringComparison.Ordinal);
        Assert.Contains($"data-testid=\"node-tenant-{loose}\"><a href=\"/admin/tenants/{loose}\"", html, StringComparison.Ordinal);
        Assert.Contains("Migrando", html, StringComparison.Ordinal);
        Assert.DoesNotContain("data-testid=\"node-empty\"", html, StringComparison.Ordinal);
    }

    private static string Row(string html, string testId)
    {
        var start = html.IndexOf($"data-testid=\"{testId}\"", StringComparison.Ordinal);
        Assert.True(start >= 0, $"no row {testId}");
        return html[start..html.IndexOf("</tr>", start, StringComparison.Ordinal)];
    }
}
