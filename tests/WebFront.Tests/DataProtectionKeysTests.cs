using System.Net;
using Sajet.TestSupport;

namespace Sajet.WebFront.Tests;

/// <summary>
/// Issue 14, several web fronts: Data Protection's key ring lives in PostgreSQL, encrypted with Sajet's secret, so an
/// antiforgery token one instance rendered is accepted by another.
/// </summary>
public sealed class DataProtectionKeysTests : IAsyncLifetime
{
    private readonly DatabaseFixture _db = new();

    public Task InitializeAsync() => _db.InitializeAsync();

    public Task DisposeAsync() => _db.DisposeAsync();

    [Fact]
    public async Task FormFromOneInstance_IsAcceptedByAnother_KeysStoredEncrypted()
    {
        await using var first = new SajetWebFactory(_db.Db);
        await using var second = new SajetWebFactory(_db.Db);
        _ = first.Server;
        _ = second.Server;

        // The sign-in form and its antiforgery cookie from the first instance...
        using var browser = first.Client();
        var page = await browser.GetAsync("/login/admin");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var token = TestHttp.AntiforgeryToken(await page.Content.ReadAsStringAsync());
        var cookie = string.Join("; ", page.Headers.GetValues("Set-Cookie").Select(c => c.Split(';')[0]));

        // ...posted to the second, as a load balancer would send the next request.
        using var other = second.CreateClient(new() { AllowAutoRedirect = false, HandleCookies = false });
        using var post = new HttpRequestMessage(HttpMethod.Post, "/login/admin")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["Email"] = SajetWebFactory.AdminLogin, ["Password"] = SajetWebFactory.AdminPassword, ["__RequestVerificationToken"] = token,
            }),
        };
        post.Headers.Add("Cookie", cookie);
        post.Headers.Add("X-Forwarded-For", SajetWebFactory.RandomIp());
        var response = await other.SendAsync(post);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/admin", response.Headers.Location?.OriginalString);

        // One ring for both, and no key readable without Sajet's secret.
        Assert.True(await _db.Db.ScalarAsync<long>("SELECT count(*) FROM data_protection_keys") >= 1);
        Assert.Equal(0L, await _db.Db.ScalarAsync<long>("SELECT count(*) FROM data_protection_keys WHERE xml LIKE '%masterKey%' OR xml NOT LIKE '%sajetEncrypted%'"));

        // A token tampered with is still refused: the shared ring does not weaken the check.
        using var forged = new HttpRequestMessage(HttpMethod.Post, "/login/admin")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["Email"] = SajetWebFactory.AdminLogin, ["Password"] = SajetWebFactory.AdminPassword, ["__RequestVerificationToken"] = token[..^4] + "AAAA",
            }),
        };
        forged.Headers.Add("Cookie", cookie);
        Assert.Equal(HttpStatusCode.BadRequest, (await other.SendAsync(forged)).StatusCode);
    }
}
