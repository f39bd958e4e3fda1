using System.Net;
using System.Net.Http.Json;
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

    [Fact]
    public async Task WrongCurrentPasswords_CountLikeFailedSignIns_OnEveryInstance()
    {
        await using var first = new SajetWebFactory(_db.Db);
        await using var second = new SajetWebFactory(_db.Db);
        var (email, _) = await first.CreateTenantUserAsync();
        var owner = first.Client();
        Assert.Equal(HttpStatusCode.OK, (await owner.LoginAsync(email, "tenant-password-1", "tenant")).StatusCode);

        // A session (perhaps stolen) guessing the password through the change form is held back like a sign-in.
        for (var i = 0; i < 5; i++)
        {
            var wrong = await owner.PostAsJsonAsync("/api/auth/password", new { currentPassword = $"guess-number-{i}", newPassword = "a-new-password-2" });
            Assert.Equal(Sajet.WebFront.Auth.PasswordChange.WrongCurrentText, (await wrong.JsonAsync()).GetProperty("errors").GetProperty("currentPassword")[0].GetString());
        }

        var right = await owner.PostAsJsonAsync("/api/auth/password", new { currentPassword = "tenant-password-1", newPassword = "a-new-password-2" });
        Assert.Equal(HttpStatusCode.BadRequest, right.StatusCode);
        Assert.Equal(Sajet.WebFront.Auth.PasswordChange.ThrottledText, (await right.JsonAsync()).GetProperty("errors").GetProperty("currentPassword")[0].GetString());

        // The counts are the sign-in's, in PostgreSQL: signing in to that account is held back too, on the other instance.
        Assert.Equal(HttpStatusCode.TooManyRequests, (await second.Client().LoginAsync(email, "tenant-password-1", "tenant")).StatusCode);
        Assert.Equal(0, await _db.Db.ScalarAsync<long>("SELECT count(*) FROM audit_log WHERE kind = 'auth.password_changed'"));
    }

    [Fact]
    public async Task PasswordChangeOnOneInstance_EndsTheOtherSessionsOnBoth_KeepsTheCurrentOne()
    {
        await using var first = new SajetWebFactory(_db.Db);
        await using var second = new SajetWebFactory(_db.Db);
        var (email, _) = await first.CreateTenantUserAsync();

        // The owner on the first instance; someone else holding the old password signed in through the second.
        var owner = first.Client();
        var ownerToken = await TokenOf(await owner.LoginAsync(email, "tenant-password-1", "tenant", tokenInBody: true));
        var otherToken = await TokenOf(await second.Client().LoginAsync(email, "tenant-password-1", "tenant", tokenInBody: true));
        using var otherOnFirst = Bearer(first, otherToken);
        using var otherOnSecond = Bearer(second, otherToken);
        Assert.Equal(HttpStatusCode.OK, (await otherOnSecond.GetAsync("/api/auth/me")).StatusCode);

        // Wrong current password and a weak new one: Spanish problem+json, nothing changes.
        var wrong = await owner.PostAsJsonAsync("/api/auth/password", new { currentPassword = "not-it-at-all", newPassword = "a-new-password-2" });
        Assert.Equal(HttpStatusCode.BadRequest, wrong.StatusCode);
        Assert.Equal("application/problem+json", wrong.Content.Headers.ContentType?.MediaType);
        Assert.Equal(Sajet.WebFront.Auth.PasswordChange.WrongCurrentText, (await wrong.JsonAsync()).GetProperty("errors").GetProperty("currentPassword")[0].GetString());
        var weak = await owner.PostAsJsonAsync("/api/auth/password", new { currentPassword = "tenant-password-1", newPassword = "short" });
        Assert.Equal(HttpStatusCode.BadRequest, weak.StatusCode);
        Assert.Contains("al menos", (await weak.JsonAsync()).GetProperty("errors").GetProperty("newPassword")[0].GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await otherOnFirst.GetAsync("/api/auth/me")).StatusCode);

        var changed = await owner.PostAsJsonAsync("/api/auth/password", new { currentPassword = "tenant-password-1", newPassword = "a-new-password-2" });
        Assert.Equal(HttpStatusCode.NoContent, changed.StatusCode);
        var elapsed = await RefusedOnBothAsync(otherOnFirst, otherOnSecond);
        Console.WriteLine($"other session refused by both instances {elapsed.TotalMilliseconds:F0} ms after the password change");
        Assert.True(elapsed < TimeSpan.FromSeconds(1), $"took {elapsed}");

        // The session that changed it keeps working everywhere, and so does its refresh token.
        using var ownerOnSecond = Bearer(second, ownerToken);
        Assert.Equal(HttpStatusCode.OK, (await ownerOnSecond.GetAsync("/api/auth/me")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await owner.PostAsync("/api/auth/refresh", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await second.Client().LoginAsync(email, "tenant-password-1", "tenant")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await second.Client().LoginAsync(email, "a-new-password-2", "tenant")).StatusCode);
    }

    [Fact]
    public async Task AdminEndsAUsersSessions_RefusedOnBoth_NonAdminForbidden()
    {
        await using var first = new SajetWebFactory(_db.Db);
        await using var second = new SajetWebFactory(_db.Db);
        var (email, _) = await first.CreateTenantUserAsync();
        var userId = await _db.Db.ScalarAsync<long>($"SELECT id FROM users WHERE email = '{email}'");
        var tenantToken = await TokenOf(await first.Client().LoginAsync(email, "tenant-password-1", "tenant", tokenInBody: true));
        var laptopToken = await TokenOf(await second.Client().LoginAsync(email, "tenant-password-1", "tenant", tokenInBody: true));
        using var tenantOnFirst = Bearer(first, tenantToken);
        using var laptopOnSecond = Bearer(second, laptopToken);

        // The user cannot end sessions (not even their own) through the admin action.
        var forbidden = await tenantOnFirst.PostAsync($"/api/users/{userId}/sessions/end", null);
        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
        Assert.Equal("application/problem+json", forbidden.Content.Headers.ContentType?.MediaType);

        var admin = second.Client();
        Assert.Equal(HttpStatusCode.OK, (await admin.LoginAsync(SajetWebFactory.AdminLogin, SajetWebFactory.AdminPassword, "admin")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.PostAsync("/api/users/999999/sessions/end", null)).StatusCode);
        var ended = await admin.PostAsync($"/api/users/{userId}/sessions/end", null);
        Assert.Equal(HttpStatusCode.OK, ended.StatusCode);
        Assert.Equal(2, (await ended.JsonAsync()).GetProperty("sessionsEnded").GetInt32());

        using var tenantOnSecond = Bearer(second, tenantToken);
        using var laptopOnFirst = Bearer(first, laptopToken);
        var elapsed = await RefusedOnBothAsync(tenantOnFirst, tenantOnSecond, laptopOnFirst, laptopOnSecond);
        Console.WriteLine($"user's sessions refused by both instances {elapsed.TotalMilliseconds:F0} ms after the admin ended them");
        Assert.True(elapsed < TimeSpan.FromSeconds(1), $"took {elapsed}");
        Assert.Equal(1L, await _db.Db.ScalarAsync<long>($"SELECT count(*) FROM audit_log WHERE kind = 'user.sessions_ended' AND detail->>'userId' = '{userId}'"));
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/api/auth/me")).StatusCode);
    }

    private static async Task<string> TokenOf(HttpResponseMessage login)
    {
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        return (await login.JsonAsync()).GetProperty("accessToken").GetString()!;
    }

    private static async Task<TimeSpan> RefusedOnBothAsync(params HttpClient[] clients)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await OnboardingWait(async () =>
        {
            foreach (var client in clients)
            {
                if ((await client.GetAsync("/api/auth/me")).StatusCode != HttpStatusCode.Unauthorized)
                {
                    return false;
                }
            }

            return true;
        });
        return clock.Elapsed;
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
