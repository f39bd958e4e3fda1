using System.Net;

namespace Sajet.WebFront.Tests.Admin;

/// <summary>What ./sajet scan found answering 500, now refused with 400 before it reaches PostgreSQL or a page.</summary>
public sealed class ScanFindingsTests(WebFixture fx) : IClassFixture<WebFixture>
{
    private SajetWebFactory App => fx.Factory;

    // PostgreSQL text cannot hold U+0000: the filters passed it on and the query failed.
    [Theory]
    [InlineData("/api/admin/tenants?q=a%00b")]
    [InlineData("/admin/tenants?q=a%00b")]
    [InlineData("/admin/logs?actor=a%00b")]
    [InlineData("/api/admin/audit?kind=auth%00")]
    public async Task NulCharacter_InAQuery_Is400(string path)
    {
        var response = await (await App.AdminClientAsync()).GetAsync(path);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        if (path.StartsWith("/api/", StringComparison.Ordinal))
        {
            Assert.Equal("Solicitud no válida", (await response.JsonAsync()).GetProperty("title").GetString());
        }
        else
        {
            Assert.Contains("lang=\"es\"", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task NulCharacter_InAForm_Is400_AndTheSameFormStillWorks()
    {
        var client = App.Client();
        var refused = await client.SubmitFormAsync("/login/admin", "/login/admin", new() { ["Email"] = "admin\0@x", ["Password"] = "x" });
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        var wrong = await client.SubmitFormAsync("/login/admin", "/login/admin", new() { ["Email"] = "nadie@example.com", ["Password"] = "x" });
        Assert.Equal(HttpStatusCode.OK, wrong.StatusCode);
    }

    // Razor Pages render a page whose POST names no handler it has without running any: the node page's model was null.
    [Fact]
    public async Task Post_ToAHandlerThePageLacks_Is400()
    {
        var admin = await App.AdminClientAsync();
        var node = await App.NodeAsync();
        var response = await admin.SubmitFormAsync($"/admin/nodes/{node}", $"/admin/nodes/{node}?handler=Nope", []);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var plain = await admin.SubmitFormAsync($"/admin/nodes/{node}", $"/admin/nodes/{node}", []);
        Assert.Equal(HttpStatusCode.BadRequest, plain.StatusCode);
    }
}
