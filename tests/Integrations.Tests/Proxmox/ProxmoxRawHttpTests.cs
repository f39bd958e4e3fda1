using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Sajet.Simulators.Proxmox;
using static Sajet.Integrations.Tests.Proxmox.SimulatorHarness;

namespace Sajet.Integrations.Tests.Proxmox;

/// <summary>The wire as curl, proxmoxer or a Terraform provider sees it: no ProxmoxClient involved.</summary>
public class ProxmoxRawHttpTests
{
    private static HttpClient Raw(ProxmoxSimulator sim, bool authenticated = true)
    {
        var http = new HttpClient { BaseAddress = new Uri(sim.HttpUrl, "/api2/json/") };
        if (authenticated)
        {
            http.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", sim.AuthorizationHeaderValue);
        }

        return http;
    }

    private static void AssertPveHeaders(HttpResponseMessage response)
    {
        // The raw header, as PVE spells it (HttpClient would re-format the parsed value).
        Assert.Equal("application/json;charset=UTF-8", response.Content.Headers.NonValidated["Content-Type"].ToString());
        Assert.Equal("pve-api-daemon/3.0", response.Headers.Server.ToString());
        Assert.Equal("max-age=0", response.Headers.CacheControl!.ToString());
        Assert.Equal("no-cache", response.Headers.Pragma.ToString());
        Assert.NotNull(response.Content.Headers.Expires);
        Assert.NotNull(response.Headers.Date);
    }

    [Fact]
    public async Task Create_FormBody_ReturnsUpidEnvelope()
    {
        await using var sim = await StartAsync();
        using var http = Raw(sim);
        using var form = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["vmid"] = "101",
            ["ostemplate"] = Debian,
            ["rootfs"] = "local-lvm:8",
            ["net0"] = "name=eth0,bridge=vmbr0,ip=dhcp",
            ["tags"] = "tenant,prod",
            ["start"] = "yes",
        });
        using var response = await http.PostAsync("nodes/pve1/lxc", form);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("OK", response.ReasonPhrase);
        AssertPveHeaders(response);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Matches(@"^UPID:pve1:[0-9A-F]{8}:[0-9A-F]{8}:[0-9A-F]{8}:vzcreate:101:sajet@pve!sim:$", body.RootElement.GetProperty("data").GetString());
        Assert.Equal("tenant;prod", sim.Cluster.GetContainer(101)!.Config["tags"]);
        Assert.Equal("running", sim.Cluster.GetContainer(101)!.Status);
    }

    [Fact]
    public async Task Create_JsonBodyWithQueryOverride_AndBooleansAsNumbers()
    {
        await using var sim = await StartAsync();
        using var http = Raw(sim);
        var json = """{"vmid": 101, "ostemplate": "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst", "rootfs": "local-lvm:4", "memory": 1024, "unprivileged": true, "onboot": "on"}""";
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        using var response = await http.PostAsync("nodes/pve1/lxc?memory=2048", content);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        using var config = await http.GetAsync("nodes/pve1/lxc/101/config");
        using var body = JsonDocument.Parse(await config.Content.ReadAsStringAsync());
        var data = body.RootElement.GetProperty("data");
        Assert.Equal(2048, data.GetProperty("memory").GetInt32());
        Assert.Equal(1, data.GetProperty("unprivileged").GetInt32());
        Assert.Equal(1, data.GetProperty("onboot").GetInt32());
        Assert.Equal("local-lvm:vm-101-disk-0,size=4G", data.GetProperty("rootfs").GetString());
    }

    [Fact]
    public async Task Create_InvalidFormBody_Is400WithErrorsAndReasonPhrase()
    {
        await using var sim = await StartAsync();
        using var http = Raw(sim);
        using var form = new FormUrlEncodedContent(new Dictionary<string, string> { ["vmid"] = "abc", ["memory"] = "8", ["colour"] = "blue" });
        using var response = await http.PostAsync("nodes/pve1/lxc", form);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("Parameter verification failed.", response.ReasonPhrase);
        AssertPveHeaders(response);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var root = body.RootElement;
        Assert.Equal(JsonValueKind.Null, root.GetProperty("data").ValueKind);
        Assert.Equal("Parameter verification failed.\n", root.GetProperty("message").GetString());
        var errors = root.GetProperty("errors");
        Assert.Equal("type check ('integer') failed - got 'abc'", errors.GetProperty("vmid").GetString());
        Assert.Equal("value must have a minimum value of 16", errors.GetProperty("memory").GetString());
        Assert.Equal("property is missing and it is not optional", errors.GetProperty("ostemplate").GetString());
        Assert.Equal("property is not defined in schema and the schema does not allow additional properties", errors.GetProperty("colour").GetString());
    }

    [Fact]
    public async Task Create_TakenVmid_Is500WithExactText()
    {
        await using var sim = await StartAsync();
        sim.Cluster.CreateExternalContainer(new ExternalContainerSpec("pve3", "taken") { Vmid = 101 });
        using var http = Raw(sim);
        using var form = new FormUrlEncodedContent(new Dictionary<string, string> { ["vmid"] = "101", ["ostemplate"] = Debian });
        using var response = await http.PostAsync("nodes/pve1/lxc", form);
        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal("CT 101 already exists on node 'pve3'", response.ReasonPhrase);
        Assert.Equal("""{"data":null,"message":"CT 101 already exists on node 'pve3'\n"}""", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Auth_NoTicketBadTokenAndSpaceForm()
    {
        await using var sim = await StartAsync();
        using var anonymous = Raw(sim, authenticated: false);
        using var none = await anonymous.GetAsync("version");
        Assert.Equal((HttpStatusCode.Unauthorized, "No ticket"), (none.StatusCode, none.ReasonPhrase));
        Assert.Equal("""{"data":null,"message":"No ticket\n"}""", await none.Content.ReadAsStringAsync());

        using var bad = new HttpRequestMessage(HttpMethod.Get, "version");
        bad.Headers.TryAddWithoutValidation("Authorization", $"PVEAPIToken={sim.TokenId}=wrong");
        using var refused = await anonymous.SendAsync(bad);
        Assert.Equal((HttpStatusCode.Unauthorized, "Authentication failed!"), (refused.StatusCode, refused.ReasonPhrase));

        using var spaced = new HttpRequestMessage(HttpMethod.Get, "version");
        spaced.Headers.Authorization = new AuthenticationHeaderValue("PVEAPIToken", $"{sim.TokenId}={sim.TokenSecret}");
        using var ok = await anonymous.SendAsync(spaced);
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
    }

    [Fact]
    public async Task UnknownPath_Is501()
    {
        await using var sim = await StartAsync();
        using var http = Raw(sim);
        using var response = await http.PostAsync("nodes/pve1/lxc/101/exec", null);
        Assert.Equal(501, (int)response.StatusCode);
        Assert.Equal("Method 'POST /nodes/pve1/lxc/101/exec' not implemented", response.ReasonPhrase);
    }

    [Fact]
    public async Task NodeDown_Is595NoRouteToHost()
    {
        await using var sim = await StartAsync();
        sim.Cluster.SetNodeOnline("pve3", false);
        using var http = Raw(sim);
        using var response = await http.GetAsync("nodes/pve3/lxc");
        Assert.Equal(595, (int)response.StatusCode);
        Assert.Equal("No route to host", response.ReasonPhrase);
    }

    [Fact]
    public async Task NextId_ArrivesAsNumericString()
    {
        await using var sim = await StartAsync();
        using var http = Raw(sim);
        Assert.Equal("""{"data":"100"}""", await http.GetStringAsync("cluster/nextid"));
    }

    [Fact]
    public async Task ControlApi_SwitchesFaultsOverHttp()
    {
        await using var sim = await StartAsync();
        using var control = new HttpClient { BaseAddress = new Uri(sim.HttpUrl, "/_sim/") };
        using var http = Raw(sim);

        using (var created = await control.PostAsync("containers", Json("""{"node":"pve2","hostname":"legacy","tags":"manual","running":false}""")))
        {
            Assert.Equal("""{"vmid":100}""", await created.Content.ReadAsStringAsync());
        }

        (await control.PostAsync("faults/errors", Json("""{"pathPattern":"/cluster/resources","rate":1,"status":500,"message":"cfs-lock timeout"}"""))).Dispose();
        using (var failing = await http.GetAsync("cluster/resources"))
        {
            Assert.Equal((HttpStatusCode.InternalServerError, "cfs-lock timeout"), (failing.StatusCode, failing.ReasonPhrase));
        }

        (await control.PostAsync("nodes/pve2/down", null)).Dispose();
        using (var down = await http.GetAsync("nodes/pve2/lxc/100/status/current"))
        {
            Assert.Equal(595, (int)down.StatusCode);
        }

        (await control.PostAsync("reset", null)).Dispose();
        (await control.PostAsync("containers/100/move", Json("""{"target":"pve1"}"""))).Dispose();
        (await control.PostAsync("faults/tasks", Json("""{"outcome":"fail","taskType":"vzstart","message":"startup for container '100' failed"}"""))).Dispose();
        using var started = await http.PostAsync("nodes/pve1/lxc/100/status/start", null);
        using var upid = JsonDocument.Parse(await started.Content.ReadAsStringAsync());
        var task = sim.Cluster.GetTask(upid.RootElement.GetProperty("data").GetString()!)!;
        Assert.Equal("startup for container '100' failed", task.ExitStatus);

        var state = await control.GetStringAsync("state");
        Assert.Contains("\"node\":\"pve1\"", state, StringComparison.Ordinal);
        using var badBody = await control.PostAsync("faults/latency", Json("{"));
        Assert.Equal(HttpStatusCode.BadRequest, badBody.StatusCode);
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");
}
