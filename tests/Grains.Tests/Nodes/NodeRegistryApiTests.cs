using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Sajet.Simulators.Proxmox;

namespace Sajet.Grains.Tests.Nodes;

public class NodeRegistryApiTests(NodesFixture f) : IClassFixture<NodesFixture>
{
    private static Dictionary<string, object?> Body(ProxmoxSimulator sim, string id, string pveNode = "pve1") => new()
    {
        ["id"] = id,
        ["apiUrl"] = sim.HttpsUrl.ToString(),
        ["tokenId"] = sim.TokenId,
        ["tokenSecret"] = sim.TokenSecret,
        ["fingerprint"] = sim.CertificateFingerprint,
        ["pveNode"] = pveNode,
    };

    private static async Task<JsonElement> JsonAsync(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

    [Fact]
    public async Task Register_AnsweringNode_StoresEncryptedSecretAndPollsIt()
    {
        await using var sim = await NodesFixture.StartSimulatorAsync();
        var response = await f.Api.Admin.PostAsJsonAsync("/api/nodes", Body(sim, "reg-ok", "pve2"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal("/api/nodes/reg-ok", response.Headers.Location?.ToString());
        Assert.DoesNotContain(sim.TokenSecret, text, StringComparison.Ordinal);
        var node = (await JsonAsync(response)).GetProperty("node");
        Assert.Equal("pve2", node.GetProperty("pveNode").GetString());
        Assert.StartsWith("9.1", node.GetProperty("pveVersion").GetString(), StringComparison.Ordinal);

        var stored = await f.ScalarAsync<byte[]>("SELECT token_secret_enc FROM nodes WHERE id = 'reg-ok'");
        Assert.DoesNotContain(sim.TokenSecret, System.Text.Encoding.UTF8.GetString(stored), StringComparison.Ordinal);

        await NodesFixture.UntilAsync(async () => await f.ScalarAsync<string>("SELECT health FROM nodes WHERE id = 'reg-ok'") == "online", "first poll");
        var view = await JsonAsync(await f.Api.Admin.GetAsync("/api/nodes/reg-ok"));
        Assert.Equal(16, view.GetProperty("capacity").GetProperty("cores").GetInt32());
        Assert.Equal(64L << 30, view.GetProperty("capacity").GetProperty("memoryBytes").GetInt64());
        Assert.Equal(500L << 30, view.GetProperty("capacity").GetProperty("diskBytes").GetInt64());
        Assert.True(view.GetProperty("storagePresent").GetBoolean());
        Assert.True(view.GetProperty("templatePresent").GetBoolean());
        Assert.Equal(1, await f.ScalarAsync<long>("SELECT count(*) FROM grain_events WHERE grain_type = 'node' AND grain_key = 'reg-ok' AND to_state = 'online'"));

        var list = await JsonAsync(await f.Api.Admin.GetAsync("/api/nodes"));
        Assert.Contains(list.EnumerateArray(), n => n.GetProperty("id").GetString() == "reg-ok");
    }

    [Fact]
    public async Task Register_WrongToken_RefusedAsTokenRechazadoAndNothingStored()
    {
        await using var sim = await NodesFixture.StartSimulatorAsync();
        var body = Body(sim, "reg-badtoken");
        body["tokenSecret"] = "00000000-1111-2222-3333-444444444444";
        var response = await f.Api.Admin.PostAsJsonAsync("/api/nodes", body);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await JsonAsync(response);
        Assert.Contains("token rechazado", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal("token_rejected", problem.GetProperty("code").GetString());
        Assert.Equal(0, await f.ScalarAsync<long>("SELECT count(*) FROM nodes WHERE id = 'reg-badtoken'"));
        Assert.Equal(0, await f.ScalarAsync<long>("SELECT count(*) FROM outbox WHERE grain_key = 'reg-badtoken'"));
    }

    [Fact]
    public async Task Register_UnreachableUrl_RefusedAsNoRespondeAndNothingStored()
    {
        await using var sim = await NodesFixture.StartSimulatorAsync();
        var body = Body(sim, "reg-unreachable");
        // A loopback port nobody listens on: the listener is bound and closed again.
        var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        body["apiUrl"] = $"https://127.0.0.1:{port}";
        var response = await f.Api.Admin.PostAsJsonAsync("/api/nodes", body);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Contains("no responde", (await JsonAsync(response)).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, await f.ScalarAsync<long>("SELECT count(*) FROM nodes WHERE id = 'reg-unreachable'"));
    }

    [Fact]
    public async Task Register_OtherCertificatePinned_RefusedAsHuellaNoCoincide()
    {
        await using var sim = await NodesFixture.StartSimulatorAsync();
        var body = Body(sim, "reg-pin");
        body["fingerprint"] = string.Join(":", Enumerable.Repeat("AB", 32));
        var response = await f.Api.Admin.PostAsJsonAsync("/api/nodes", body);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Contains("huella del certificado no coincide", (await JsonAsync(response)).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, await f.ScalarAsync<long>("SELECT count(*) FROM nodes WHERE id = 'reg-pin'"));
    }

    [Fact]
    public async Task Register_InvalidFields_ValidationProblemInSpanishPerField()
    {
        var response = await f.Api.Admin.PostAsJsonAsync("/api/nodes", new
        {
            id = "Nodo Uno",
            apiUrl = "ftp://x",
            tokenId = "sajet",
            tokenSecret = "",
            fingerprint = "zz",
            maxContainers = 0,
            template = "debian.tar",
        });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var errors = (await JsonAsync(response)).GetProperty("errors");
        foreach (var field in new[] { "id", "apiUrl", "tokenId", "tokenSecret", "fingerprint", "maxContainers", "template" })
        {
            Assert.True(errors.TryGetProperty(field, out var messages), field);
            Assert.NotEmpty(messages[0].GetString()!);
        }

        Assert.Contains("minúsculas", errors.GetProperty("id")[0].GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Get_UnknownNode_ExplicitNotFoundProblem()
    {
        var response = await f.Api.Admin.GetAsync("/api/nodes/no-such-node");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("no-such-node", (await JsonAsync(response)).GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Api_WithoutAdmin_Refused()
    {
        Assert.Equal(HttpStatusCode.Unauthorized, (await f.Api.Anonymous.GetAsync("/api/nodes")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await f.Api.Anonymous.GetAsync("/api/provision/check-capacity?plan=pro")).StatusCode);
    }

    [Fact]
    public async Task Patch_MaintenanceLimitsAndTokenRotation_RotationCheckedFirst()
    {
        await using var sim = await NodesFixture.StartSimulatorAsync();
        await f.RegisterAsync(sim, "patch-1", "pve1");

        var response = await f.Api.Admin.PatchAsJsonAsync("/api/nodes/patch-1", new { maintenance = true, maxContainers = 7, cpuOvercommit = 3.5 });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var view = await JsonAsync(response);
        Assert.True(view.GetProperty("maintenance").GetBoolean());
        Assert.Equal(7, view.GetProperty("maxContainers").GetInt32());
        Assert.Equal(3.5, view.GetProperty("cpuOvercommit").GetDouble());

        var before = await f.ScalarAsync<byte[]>("SELECT token_secret_enc FROM nodes WHERE id = 'patch-1'");
        var bad = await f.Api.Admin.PatchAsJsonAsync("/api/nodes/patch-1", new { tokenSecret = "99999999-1111-2222-3333-444444444444" });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, bad.StatusCode);
        Assert.Contains("token rechazado", (await JsonAsync(bad)).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(before, await f.ScalarAsync<byte[]>("SELECT token_secret_enc FROM nodes WHERE id = 'patch-1'"));

        // The same secret again is a rotation that the node accepts: stored re-encrypted (new nonce).
        var good = await f.Api.Admin.PatchAsJsonAsync("/api/nodes/patch-1", new { tokenSecret = sim.TokenSecret });
        Assert.Equal(HttpStatusCode.OK, good.StatusCode);
        Assert.NotEqual(before, await f.ScalarAsync<byte[]>("SELECT token_secret_enc FROM nodes WHERE id = 'patch-1'"));
        await f.PollsAsync("patch-1");
        Assert.Equal("online", await f.ScalarAsync<string>("SELECT health FROM nodes WHERE id = 'patch-1'"));

        Assert.Equal(HttpStatusCode.NotFound, (await f.Api.Admin.PatchAsJsonAsync("/api/nodes/nope", new { maintenance = true })).StatusCode);
    }

    [Fact]
    public async Task Delete_NodeWithContainers_ConflictListsThem_EmptyNodeRemovedWithItsReminder()
    {
        await using var sim = await NodesFixture.StartSimulatorAsync();
        await f.RegisterAsync(sim, "del-1", "pve3");
        await f.ExecAsync("""
            INSERT INTO reservations (key, node_id, cores, memory_mb, disk_gb) VALUES ('tenant-acme', 'del-1', 2, 4096, 50);
            INSERT INTO containers (vmid, node_id, hostname, kind, tenant_id, status, reservation_key)
            VALUES (4101, 'del-1', 'acme-odoo', 'dedicated', 'acme', 'running', 'tenant-acme');
            INSERT INTO reservations (key, node_id, cores, memory_mb, disk_gb) VALUES ('tenant-beta', 'del-1', 1, 2048, 10);
            """);

        var refused = await f.Api.Admin.DeleteAsync("/api/nodes/del-1");
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        var problem = await JsonAsync(refused);
        var detail = problem.GetProperty("detail").GetString()!;
        Assert.Contains("4101", detail, StringComparison.Ordinal);
        Assert.Contains("acme", detail, StringComparison.Ordinal);
        Assert.Contains("tenant-beta", detail, StringComparison.Ordinal);
        Assert.Equal(2, problem.GetProperty("occupants").GetArrayLength());
        Assert.Equal(1, await f.ScalarAsync<long>("SELECT count(*) FROM nodes WHERE id = 'del-1'"));

        await f.ExecAsync("""
            UPDATE containers SET status = 'deleted' WHERE vmid = 4101;
            UPDATE reservations SET released_at = now() WHERE node_id = 'del-1';
            """);
        var deleted = await f.Api.Admin.DeleteAsync("/api/nodes/del-1");
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal(0, await f.ScalarAsync<long>("SELECT count(*) FROM nodes WHERE id = 'del-1'"));
        await NodesFixture.UntilAsync(async () => await f.ScalarAsync<long>("SELECT count(*) FROM orleans_reminders WHERE grain_id = 'node/del-1'") == 0, "poll reminder removed");
        Assert.Equal(HttpStatusCode.NotFound, (await f.Api.Admin.DeleteAsync("/api/nodes/del-1")).StatusCode);
    }

    [Fact]
    public async Task TokenSecret_NeverInLogsOrResponses()
    {
        await using var sim = await NodesFixture.StartSimulatorAsync();
        var bodies = new List<string>();
        var ok = await f.Api.Admin.PostAsJsonAsync("/api/nodes", Body(sim, "secret-1"));
        bodies.Add(await ok.Content.ReadAsStringAsync());
        var wrongSecret = "abcdef01-2345-6789-abcd-ef0123456789";
        var wrong = Body(sim, "secret-2");
        wrong["tokenSecret"] = wrongSecret;
        bodies.Add(await (await f.Api.Admin.PostAsJsonAsync("/api/nodes", wrong)).Content.ReadAsStringAsync());
        bodies.Add(await (await f.Api.Admin.PatchAsJsonAsync("/api/nodes/secret-1", new { tokenSecret = sim.TokenSecret })).Content.ReadAsStringAsync());
        bodies.Add(await (await f.Api.Admin.GetAsync("/api/nodes")).Content.ReadAsStringAsync());
        bodies.Add(await (await f.Api.Admin.GetAsync("/api/nodes/secret-1")).Content.ReadAsStringAsync());
        await NodesFixture.UntilAsync(async () => await f.ScalarAsync<string>("SELECT health FROM nodes WHERE id = 'secret-1'") == "online", "polled");
        // Failing polls log too: make the node refuse the token for a while.
        sim.Cluster.AddErrorFault(new ErrorFault("/nodes/pve1/**", 1.0, 401, "authentication failure"));
        await NodesFixture.UntilAsync(async () => await f.ScalarAsync<string>("SELECT last_error FROM nodes WHERE id = 'secret-1'") is not null, "a failed poll");
        bodies.Add(await (await f.Api.Admin.GetAsync("/api/nodes/secret-1/metrics")).Content.ReadAsStringAsync());

        Assert.NotEmpty(f.Logs.Lines);
        Assert.True(f.Logs.Contains("secret-1"), "the captured logs cover the node's registration and polls");
        foreach (var secret in new[] { sim.TokenSecret, wrongSecret })
        {
            Assert.False(f.Logs.Contains(secret), "a token secret was logged");
            Assert.All(bodies, b => Assert.DoesNotContain(secret, b, StringComparison.OrdinalIgnoreCase));
        }
    }

    [Fact]
    public async Task Metrics_LatestSamplesAlertsAndDrift()
    {
        await using var sim = await NodesFixture.StartSimulatorAsync();
        sim.Cluster.CreateExternalContainer(new ExternalContainerSpec("pve2", "stray") { Vmid = 7301, Tags = "sajet" });
        sim.Cluster.SetNodeLoad("pve2", 0.95, null);
        await f.RegisterAsync(sim, "metrics-1", "pve2");
        await f.PollsAsync("metrics-1");

        var response = await f.Api.Admin.GetAsync($"/api/nodes/metrics-1/metrics?from={Uri.EscapeDataString(DateTimeOffset.UtcNow.AddHours(-1).ToString("O"))}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var m = await JsonAsync(response);
        Assert.Equal("online", m.GetProperty("latest").GetProperty("health").GetString());
        Assert.True(m.GetProperty("samples").GetArrayLength() >= 2);
        Assert.Contains(m.GetProperty("alerts").EnumerateArray(), a => a.GetProperty("kind").GetString() == "cpu" && a.GetProperty("message").GetString()!.Contains("CPU al 95", StringComparison.Ordinal));
        Assert.Contains(m.GetProperty("drift").EnumerateArray(), d => d.GetProperty("vmid").GetInt32() == 7301 && d.GetProperty("kind").GetString() == "unknown_tagged");

        var badRange = await f.Api.Admin.GetAsync("/api/nodes/metrics-1/metrics?from=ayer");
        Assert.Equal(HttpStatusCode.BadRequest, badRange.StatusCode);
        Assert.True((await JsonAsync(badRange)).GetProperty("errors").TryGetProperty("from", out _));
    }
}
