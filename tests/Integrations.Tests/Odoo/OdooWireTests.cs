using System.Net;
using System.Text;
using System.Text.Json;
using Sajet.Simulators.Odoo;

namespace Sajet.Integrations.Tests.Odoo;

/// <summary>The simulator's exact wire behaviour as Odoo's own JSON-RPC callers see it, with raw HTTP.</summary>
public sealed class OdooWireTests : IAsyncLifetime
{
    private OdooSimulator _sim = null!;
    private readonly HttpClient _http = new();

    public async Task InitializeAsync() =>
        _sim = await OdooSimulator.StartAsync(new OdooSimulatorOptions { Port = 0, MasterPassword = "pw" });

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _sim.DisposeAsync();
    }

    [Fact]
    public async Task Success_EchoesIdAndWrapsResult()
    {
        var (status, body) = await RpcAsync("""{"jsonrpc":"2.0","method":"call","id":"abc-7","params":{"service":"db","method":"create_database","args":["pw","acme",false,"de_DE","Initial-Admin-Pw","owner@acme.test","DE","+49 30 1234567"]}}""");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("""{"jsonrpc":"2.0","id":"abc-7","result":true}""", body);

        (_, body) = await RpcAsync("""{"jsonrpc":"2.0","method":"call","id":2,"params":{"service":"db","method":"list","args":[]}}""");
        Assert.Equal("""{"jsonrpc":"2.0","id":2,"result":["acme"]}""", body);

        (_, body) = await RpcAsync("""{"jsonrpc":"2.0","method":"call","id":3,"params":{"service":"common","method":"authenticate","args":["acme","owner@acme.test","Initial-Admin-Pw",{}]}}""");
        Assert.Equal("""{"jsonrpc":"2.0","id":3,"result":2}""", body);

        (_, body) = await RpcAsync("""{"jsonrpc":"2.0","method":"call","id":4,"params":{"service":"common","method":"authenticate","args":["acme","owner@acme.test","nope",{}]}}""");
        Assert.Equal("""{"jsonrpc":"2.0","id":4,"result":false}""", body);
    }

    [Fact]
    public async Task ApplicationError_IsHttp200WithOdoosEnvelope()
    {
        var (status, body) = await RpcAsync("""{"jsonrpc":"2.0","method":"call","id":1,"params":{"service":"db","method":"drop","args":["wrong","acme"]}}""");

        Assert.Equal(HttpStatusCode.OK, status);
        using var doc = JsonDocument.Parse(body);
        var root = doc.RootElement;
        Assert.Equal("2.0", root.GetProperty("jsonrpc").GetString());
        Assert.Equal(1, root.GetProperty("id").GetInt32());
        Assert.False(root.TryGetProperty("result", out _));
        var error = root.GetProperty("error");
        Assert.Equal(200, error.GetProperty("code").GetInt32());
        Assert.Equal("Odoo Server Error", error.GetProperty("message").GetString());
        var data = error.GetProperty("data");
        Assert.Equal("odoo.exceptions.AccessDenied", data.GetProperty("name").GetString());
        Assert.Equal("Access Denied", data.GetProperty("message").GetString());
        Assert.Equal(["Access Denied"], data.GetProperty("arguments").EnumerateArray().Select(a => a.GetString()));
        Assert.Equal(JsonValueKind.Object, data.GetProperty("context").ValueKind);
        Assert.StartsWith("Traceback (most recent call last):", data.GetProperty("debug").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownMethod_IsKeyErrorWithoutPasswordCheck()
    {
        var (_, body) = await RpcAsync("""{"jsonrpc":"2.0","method":"call","id":9,"params":{"service":"db","method":"frobnicate","args":[]}}""");
        var data = JsonDocument.Parse(body).RootElement.GetProperty("error").GetProperty("data");
        Assert.Equal("builtins.KeyError", data.GetProperty("name").GetString());
        Assert.Equal("Method not found: frobnicate", data.GetProperty("message").GetString());
    }

    [Fact]
    public async Task MissingArguments_IsPythonTypeError()
    {
        var (_, body) = await RpcAsync("""{"jsonrpc":"2.0","method":"call","id":1,"params":{"service":"db","method":"create_database","args":["pw","acme"]}}""");
        var data = JsonDocument.Parse(body).RootElement.GetProperty("error").GetProperty("data");
        Assert.Equal("builtins.TypeError", data.GetProperty("name").GetString());
        Assert.Equal("exp_create_database() missing 2 required positional arguments: 'demo' and 'lang'", data.GetProperty("message").GetString());
    }

    [Fact]
    public async Task RenameAndChangeAdminPassword_Work()
    {
        _sim.Control.AddDatabase("old", "admin", "admin");
        var (_, body) = await RpcAsync("""{"jsonrpc":"2.0","method":"call","id":1,"params":{"service":"db","method":"rename","args":["pw","old","new"]}}""");
        Assert.Contains("\"result\":true", body, StringComparison.Ordinal);
        Assert.Equal("new", Assert.Single(_sim.Control.Databases).Name);

        (_, body) = await RpcAsync("""{"jsonrpc":"2.0","method":"call","id":2,"params":{"service":"db","method":"change_admin_password","args":["pw","pw2"]}}""");
        Assert.Contains("\"result\":true", body, StringComparison.Ordinal);
        (_, body) = await RpcAsync("""{"jsonrpc":"2.0","method":"call","id":3,"params":{"service":"db","method":"drop","args":["pw","new"]}}""");
        Assert.Contains("AccessDenied", body, StringComparison.Ordinal);
        (_, body) = await RpcAsync("""{"jsonrpc":"2.0","method":"call","id":4,"params":{"service":"db","method":"drop","args":["pw2","new"]}}""");
        Assert.Contains("\"result\":true", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ListLang_IsPublic()
    {
        var (_, body) = await RpcAsync("""{"jsonrpc":"2.0","method":"call","id":1,"params":{"service":"db","method":"list_lang","args":[]}}""");
        Assert.Contains("""["es_ES","Spanish / Español"]""", JsonDocument.Parse(body).RootElement.GetProperty("result").GetRawText().Replace("\\u00F1", "ñ", StringComparison.Ordinal), StringComparison.Ordinal);
    }

    [Fact]
    public async Task NonJsonContentType_Is400PlainText()
    {
        using var content = new StringContent("""{"params":{}}""", Encoding.UTF8, "text/plain");
        using var response = await _http.PostAsync($"{_sim.BaseUrl}/jsonrpc", content);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("is type='json'", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task MalformedJson_Is400InvalidJsonData()
    {
        var (status, body) = await RpcAsync("{not json");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("Invalid JSON data", body);
    }

    [Fact]
    public async Task GetOnJsonRpc_IsNotServed()
    {
        using var response = await _http.GetAsync($"{_sim.BaseUrl}/jsonrpc");
        Assert.False(response.IsSuccessStatusCode);
    }

    [Fact]
    public async Task ControlApi_SwitchesInitFailureErrorRateAndReset()
    {
        await PostControlAsync("/_sim/init_failed", "{}");
        await RpcAsync("""{"jsonrpc":"2.0","method":"call","id":1,"params":{"service":"db","method":"create_database","args":["pw","acme",false,"en_US","x","y"]}}""");
        var (_, body) = await RpcAsync("""{"jsonrpc":"2.0","method":"call","id":2,"params":{"service":"common","method":"authenticate","args":["acme","y","x",{}]}}""");
        Assert.Contains("\"result\":false", body, StringComparison.Ordinal);

        await PostControlAsync("/_sim/error_rate", """{"method":"db_exist","rate":1}""");
        (_, body) = await RpcAsync("""{"jsonrpc":"2.0","method":"call","id":3,"params":{"service":"db","method":"db_exist","args":["acme"]}}""");
        Assert.Contains("psycopg2.OperationalError", body, StringComparison.Ordinal);

        await PostControlAsync("/_sim/down", """{"mode":"502"}""");
        (var status, _) = await RpcAsync("""{"jsonrpc":"2.0","method":"call","id":4,"params":{"service":"db","method":"list","args":[]}}""");
        Assert.Equal(HttpStatusCode.BadGateway, status);

        await PostControlAsync("/_sim/reset", "");
        (_, body) = await RpcAsync("""{"jsonrpc":"2.0","method":"call","id":5,"params":{"service":"db","method":"list","args":[]}}""");
        Assert.Equal("""{"jsonrpc":"2.0","id":5,"result":[]}""", body);
        using var state = await _http.GetAsync($"{_sim.BaseUrl}/_sim/state");
        Assert.Contains("\"down\":\"Up\"", await state.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    private async Task<(HttpStatusCode, string)> RpcAsync(string json)
    {
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        using var response = await _http.PostAsync($"{_sim.BaseUrl}/jsonrpc", content);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private async Task PostControlAsync(string path, string json)
    {
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        using var response = await _http.PostAsync(_sim.BaseUrl + path, content);
        response.EnsureSuccessStatusCode();
    }
}
