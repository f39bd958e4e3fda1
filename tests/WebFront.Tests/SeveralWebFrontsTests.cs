using System.Net;
using Sajet.TestSupport;
using Sajet.WebFront.Tests.Onboarding;

namespace Sajet.WebFront.Tests;

/// <summary>
/// Issue 14, several web fronts on one database: Data Protection's key ring lives in PostgreSQL, encrypted with Sajet's
/// secret, so an antiforgery token one instance rendered is accepted by another; failed sign-ins are counted there too,
/// so a limit reached through one instance holds on the other.
/// </summary>
public sealed class SeveralWebFrontsTests : IAsyncLifetime
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

    [Fact]
    public async Task SignInFailuresThroughOneInstance_AreRefusedByTheOther()
    {
        await using var first = new SajetWebFactory(_db.Db);
        await using var second = new SajetWebFactory(_db.Db);
        var ip = SajetWebFactory.RandomIp();
        using var a = first.Client(ip);
        using var b = second.Client(ip);

        // Five wrong passwords through the first instance, each for another name: the per-IP limit, not the account's.
        for (var i = 0; i < 5; i++)
        {
            var failed = await a.LoginAsync($"guess{i}@example.com", "wrong-password", "admin");
            Assert.Equal(HttpStatusCode.Unauthorized, failed.StatusCode);
        }

        // The sixth attempt, through the second instance and with the right password, is refused before it is checked.
        var sixth = await b.LoginAsync(SajetWebFactory.AdminLogin, SajetWebFactory.AdminPassword, "admin");
        Assert.Equal(HttpStatusCode.TooManyRequests, sixth.StatusCode);
        Assert.True(sixth.Headers.RetryAfter is not null, "a refused sign-in says when to try again");

        // Another client is not affected.
        using var other = second.Client(SajetWebFactory.RandomIp());
        var ok = await other.LoginAsync(SajetWebFactory.AdminLogin, SajetWebFactory.AdminPassword, "admin");
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
    }

    [Fact]
    public async Task LogoutOnOneInstance_EndsTheAccessTokenOnBoth()
    {
        await using var first = new SajetWebFactory(_db.Db);
        await using var second = new SajetWebFactory(_db.Db);
        using var browser = first.Client();
        var login = await browser.LoginAsync(SajetWebFactory.AdminLogin, SajetWebFactory.AdminPassword, "admin", tokenInBody: true);
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        var token = (await login.JsonAsync()).GetProperty("accessToken").GetString()!;
        using var onFirst = Bearer(first, token);
        using var onSecond = Bearer(second, token);
        Assert.Equal(HttpStatusCode.OK, (await onFirst.GetAsync("/api/auth/me")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await onSecond.GetAsync("/api/auth/me")).StatusCode);

        // A second session of the same user stays signed in: logout ends one session, not the account's.
        var otherLogin = await second.Client().LoginAsync(SajetWebFactory.AdminLogin, SajetWebFactory.AdminPassword, "admin", tokenInBody: true);
        using var otherSession = Bearer(second, (await otherLogin.JsonAsync()).GetProperty("accessToken").GetString()!);

        var loggedOut = System.Diagnostics.Stopwatch.StartNew();
        Assert.Equal(HttpStatusCode.NoContent, (await browser.PostAsync("/api/auth/logout", null)).StatusCode);
        // The token is still signed and unexpired; each instance must learn that its session ended.
        await OnboardingWait(async () =>
            (await onFirst.GetAsync("/api/auth/me")).StatusCode == HttpStatusCode.Unauthorized
            && (await onSecond.GetAsync("/api/auth/me")).StatusCode == HttpStatusCode.Unauthorized);
        Console.WriteLine($"access token refused by both instances {loggedOut.ElapsedMilliseconds} ms after logout");
        Assert.Equal(HttpStatusCode.OK, (await otherSession.GetAsync("/api/auth/me")).StatusCode);
    }

    private static HttpClient Bearer(SajetWebFactory app, string token)
    {
        var client = app.CreateClient(new() { AllowAutoRedirect = false, HandleCookies = false });
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    private static Task OnboardingWait(Func<Task<bool>> condition) =>
        Sajet.WebFront.Tests.Onboarding.OnboardingHarness.WaitAsync(condition, "the ended session refused everywhere", 10);

    [Fact]
    public async Task TenantChangeApplied_ReachesALiveStreamOnTheOtherInstance()
    {
        await using var h = await OnboardingHarness.StartAsync(nodes: 1);
        await h.StartSiloAsync("live-across");
        await h.RegisterNodesAsync("pve1");
        // A second web front on the same database, with its own port; the operator's browser streams from it.
        await using var second = new OnboardingWebFactory(h.Db, OnboardingHarness.FreePort(), h.Stripe);
        second.UseKestrel(new Uri(second.BaseUrl).Port);
        second.StartServer();
        using var operatorBrowser = second.Client();
        Assert.Equal(HttpStatusCode.OK, (await operatorBrowser.LoginAsync(SajetWebFactory.AdminLogin, SajetWebFactory.AdminPassword, "admin")).StatusCode);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        using var stream = await operatorBrowser.GetAsync("/api/events", HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        Assert.Equal(HttpStatusCode.OK, stream.StatusCode);
        using var reader = new StreamReader(await stream.Content.ReadAsStreamAsync(timeout.Token));

        // The customer signs up and pays through the first instance; the silo's grain moves the tenant.
        var signed = await h.SignUpAndPayAsync("en-vivo");
        string? line;
        while ((line = await reader.ReadLineAsync(timeout.Token)) is not null)
        {
            if (line.StartsWith("data:", StringComparison.Ordinal) && line.Contains(signed.TenantId, StringComparison.Ordinal) && line.Contains("\"active\"", StringComparison.Ordinal))
            {
                return;
            }
        }

        Assert.Fail("the stream on the second instance ended without the tenant's change");
    }
}
