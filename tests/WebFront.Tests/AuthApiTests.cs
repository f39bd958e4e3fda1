using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Sajet.WebFront.Auth;

namespace Sajet.WebFront.Tests;

public sealed class AuthApiTests(WebFixture fx) : IClassFixture<WebFixture>
{
    private SajetWebFactory App => fx.Factory;

    [Fact]
    public async Task Login_FirstAdminFromEnvironment_SetsStrictHttpOnlyCookies()
    {
        var client = App.Client();
        var response = await client.LoginAsync("ROOT-ADMIN", SajetWebFactory.AdminPassword, "admin");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.JsonAsync();
        Assert.Equal("admin", body.GetProperty("role").GetString());
        Assert.Equal(JsonValueKindNull, body.GetProperty("accessToken").ValueKind);
        var access = response.SetCookie(AuthCookies.Access)!;
        Assert.Contains("httponly", access, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", access, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("path=/;", access + ";", StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("secure", access, StringComparison.OrdinalIgnoreCase);
        var refresh = response.SetCookie(AuthCookies.Refresh)!;
        Assert.Contains("path=/api/auth", refresh, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("httponly", refresh, StringComparison.OrdinalIgnoreCase);

        var me = await client.GetFromJsonAsync<AuthApi.MeResponse>("/api/auth/me");
        Assert.Equal("root-admin", me!.Email);
    }

    [Fact]
    public async Task Login_OverHttps_CookiesAreSecure()
    {
        var response = await App.Client(https: true).LoginAsync(SajetWebFactory.AdminLogin, SajetWebFactory.AdminPassword, "admin");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("secure", response.SetCookie(AuthCookies.Access)!, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("secure", response.SetCookie(AuthCookies.Refresh)!, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Login_WrongPasswordAndUnknownUser_IdenticalStatusAndBody()
    {
        var (email, _) = await App.CreateTenantUserAsync();
        var wrongPassword = await App.Client().LoginAsync(email, "not-the-password", "tenant");
        var unknownUser = await App.Client().LoginAsync("nobody-" + email, "not-the-password", "tenant");
        var wrongRole = await App.Client().LoginAsync(email, "tenant-password-1", "admin");

        Assert.Equal(HttpStatusCode.Unauthorized, wrongPassword.StatusCode);
        Assert.Equal(wrongPassword.StatusCode, unknownUser.StatusCode);
        Assert.Equal(wrongPassword.StatusCode, wrongRole.StatusCode);
        var body = await wrongPassword.Content.ReadAsStringAsync();
        Assert.Equal(body, await unknownUser.Content.ReadAsStringAsync());
        Assert.Equal(body, await wrongRole.Content.ReadAsStringAsync());
        Assert.Equal(wrongPassword.Content.Headers.ContentType, unknownUser.Content.Headers.ContentType);
        Assert.Contains(AuthProblems.InvalidCredentials, body, StringComparison.Ordinal);
        Assert.Null(wrongPassword.SetCookie(AuthCookies.Access));
    }

    [Fact]
    public async Task Login_MissingFields_ValidationProblemInSpanish()
    {
        var response = await App.Client().PostAsJsonAsync("/api/auth/login", new { email = "", role = "root" });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        var errors = (await response.JsonAsync()).GetProperty("errors");
        Assert.Equal("El correo es obligatorio.", errors.GetProperty("email")[0].GetString());
        Assert.Equal("La contraseña es obligatoria.", errors.GetProperty("password")[0].GetString());
        Assert.Contains("admin", errors.GetProperty("role")[0].GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Login_SixthFailureInAMinuteFromOneIp_Is429ProblemInSpanish()
    {
        var client = App.Client(SajetWebFactory.RandomIp());
        for (var i = 0; i < 5; i++)
        {
            // Different login names: it is the IP that is limited here, not an account.
            Assert.Equal(HttpStatusCode.Unauthorized, (await client.LoginAsync($"guess{i}@example.com", "wrong-password", "tenant")).StatusCode);
        }

        var sixth = await client.LoginAsync("guess6@example.com", "wrong-password", "tenant");
        Assert.Equal(HttpStatusCode.TooManyRequests, sixth.StatusCode);
        Assert.Equal("application/problem+json", sixth.Content.Headers.ContentType!.MediaType);
        Assert.Equal("Demasiadas solicitudes", (await sixth.JsonAsync()).GetProperty("title").GetString());
        Assert.True(sixth.Headers.RetryAfter is not null);
        Assert.True(await App.ScalarAsync<long>("SELECT count(*) FROM audit_log WHERE kind = 'security.rate_limited'") >= 1);

        // Another IP is not affected.
        Assert.Equal(HttpStatusCode.Unauthorized, (await App.Client().LoginAsync("guess7@example.com", "wrong-password", "tenant")).StatusCode);
    }

    [Fact]
    public async Task Refresh_Rotates_AndReusingTheOldTokenRevokesTheSession()
    {
        var client = App.Client();
        var login = await client.LoginAsync(SajetWebFactory.AdminLogin, SajetWebFactory.AdminPassword, "admin");
        var first = CookieValue(login.SetCookie(AuthCookies.Refresh)!);

        var rotated = await client.PostAsync("/api/auth/refresh", null);
        Assert.Equal(HttpStatusCode.OK, rotated.StatusCode);
        var second = CookieValue(rotated.SetCookie(AuthCookies.Refresh)!);
        Assert.NotEqual(first, second);

        // A thief replays the first token: refused, and the whole family dies with it.
        var thief = App.Client();
        thief.DefaultRequestHeaders.Add("Cookie", $"{AuthCookies.Refresh}={first}");
        Assert.Equal(HttpStatusCode.Unauthorized, (await thief.PostAsync("/api/auth/refresh", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.PostAsync("/api/auth/refresh", null)).StatusCode);
        Assert.True(await App.ScalarAsync<long>("SELECT count(*) FROM audit_log WHERE kind = 'auth.refresh_reuse'") >= 1);
    }

    [Fact]
    public async Task Refresh_AfterLogout_Refused()
    {
        var client = App.Client();
        var login = await client.LoginAsync(SajetWebFactory.AdminLogin, SajetWebFactory.AdminPassword, "admin");
        var refresh = CookieValue(login.SetCookie(AuthCookies.Refresh)!);

        var logout = await client.PostAsync("/api/auth/logout", null);
        Assert.Equal(HttpStatusCode.NoContent, logout.StatusCode);
        Assert.Contains("expires=", logout.SetCookie(AuthCookies.Access)!, StringComparison.OrdinalIgnoreCase);

        var replay = App.Client();
        replay.DefaultRequestHeaders.Add("Cookie", $"{AuthCookies.Refresh}={refresh}");
        Assert.Equal(HttpStatusCode.Unauthorized, (await replay.PostAsync("/api/auth/refresh", null)).StatusCode);
    }

    [Fact]
    public async Task Bearer_TokenInBody_AuthenticatesApiCalls()
    {
        var login = await App.Client().LoginAsync(SajetWebFactory.AdminLogin, SajetWebFactory.AdminPassword, "admin", tokenInBody: true);
        var token = (await login.JsonAsync()).GetProperty("accessToken").GetString()!;

        var api = App.CreateClient();
        api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        Assert.Equal(HttpStatusCode.OK, (await api.GetAsync("/api/admin/audit")).StatusCode);
    }

    [Fact]
    public async Task Jwt_TamperedOrExpired_Refused()
    {
        var login = await App.Client().LoginAsync(SajetWebFactory.AdminLogin, SajetWebFactory.AdminPassword, "admin", tokenInBody: true);
        var token = (await login.JsonAsync()).GetProperty("accessToken").GetString()!;
        var parts = token.Split('.');

        // One flipped byte of the signature.
        var signature = Base64UrlDecode(parts[2]);
        signature[0] ^= 0x01;
        var flipped = $"{parts[0]}.{parts[1]}.{Base64UrlEncode(signature)}";

        // A tenant's token whose role claim is edited to admin, signature kept.
        var (email, _) = await App.CreateTenantUserAsync();
        var tenantLogin = await App.Client().LoginAsync(email, "tenant-password-1", "tenant", tokenInBody: true);
        var tenantParts = (await tenantLogin.JsonAsync()).GetProperty("accessToken").GetString()!.Split('.');
        var payload = Encoding.UTF8.GetString(Base64UrlDecode(tenantParts[1])).Replace("\"role\":\"tenant\"", "\"role\":\"admin\"", StringComparison.Ordinal);
        Assert.Contains("\"role\":\"admin\"", payload, StringComparison.Ordinal);
        var promoted = $"{tenantParts[0]}.{Base64UrlEncode(Encoding.UTF8.GetBytes(payload))}.{tenantParts[2]}";

        // A correctly signed token that expired an hour ago.
        var tokens = App.Services.GetRequiredService<TokenService>();
        var admin = new UserAccount { Id = 1, Email = SajetWebFactory.AdminLogin, Role = "admin" };
        var (expired, _) = tokens.CreateAccessToken(admin, Guid.NewGuid(), DateTimeOffset.UtcNow.AddHours(-2));
        var (valid, _) = tokens.CreateAccessToken(admin, Guid.NewGuid());

        foreach (var bad in new[] { flipped, promoted, expired, "not.a.jwt" })
        {
            var api = App.CreateClient();
            api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", bad);
            Assert.Equal(HttpStatusCode.Unauthorized, (await api.GetAsync("/api/admin/audit")).StatusCode);

            var browser = App.CreateClient(new() { AllowAutoRedirect = false, HandleCookies = false });
            browser.DefaultRequestHeaders.Add("Cookie", $"{AuthCookies.Access}={bad}");
            var page = await browser.GetAsync("/admin");
            Assert.Equal(HttpStatusCode.Redirect, page.StatusCode);
        }

        var control = App.CreateClient();
        control.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", valid);
        Assert.Equal(HttpStatusCode.OK, (await control.GetAsync("/api/admin/audit")).StatusCode);
    }

    [Fact]
    public async Task JwtBearer_BadSignatureExpiredOrEndedSession_RefusedFromHeaderAndCookie()
    {
        var tokens = App.Services.GetRequiredService<TokenService>();
        var admin = new UserAccount { Id = 1, Email = SajetWebFactory.AdminLogin, Role = "admin" };
        var (valid, _) = tokens.CreateAccessToken(admin, Guid.NewGuid());
        var parts = valid.Split('.');
        var signature = Base64UrlDecode(parts[2]);
        signature[^1] ^= 0x80;
        var badSignature = $"{parts[0]}.{parts[1]}.{Base64UrlEncode(signature)}";
        var (expired, _) = tokens.CreateAccessToken(admin, Guid.NewGuid(), DateTimeOffset.UtcNow.AddMinutes(-20));

        // A real session, ended by logout while its access token is still signed and unexpired.
        var browser = App.Client();
        var login = await browser.LoginAsync(SajetWebFactory.AdminLogin, SajetWebFactory.AdminPassword, "admin", tokenInBody: true);
        var ended = (await login.JsonAsync()).GetProperty("accessToken").GetString()!;
        Assert.Equal(HttpStatusCode.OK, (await Me(ended, cookie: false)).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await browser.PostAsync("/api/auth/logout", null)).StatusCode);
        await Onboarding.OnboardingHarness.WaitAsync(async () => (await Me(ended, cookie: false)).StatusCode == HttpStatusCode.Unauthorized, "the ended session refused", 10);

        foreach (var (name, bad) in new[] { ("bad signature", badSignature), ("expired", expired), ("ended session", ended) })
        {
            foreach (var cookie in new[] { false, true })
            {
                var answer = await Me(bad, cookie);
                Assert.True(answer.StatusCode == HttpStatusCode.Unauthorized, $"{name} through the {(cookie ? "cookie" : "header")}: {answer.StatusCode}");
                Assert.Equal("application/problem+json", answer.Content.Headers.ContentType?.MediaType);
            }

            var page = App.CreateClient(new() { AllowAutoRedirect = false, HandleCookies = false });
            page.DefaultRequestHeaders.Add("Cookie", $"{AuthCookies.Access}={bad}");
            var redirect = await page.GetAsync("/admin/tenants");
            Assert.Equal(HttpStatusCode.Redirect, redirect.StatusCode);
            Assert.StartsWith("/login/admin?returnUrl=", redirect.Headers.Location?.OriginalString, StringComparison.Ordinal);
        }

        Assert.Equal(HttpStatusCode.OK, (await Me(valid, cookie: true)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Me(valid, cookie: false)).StatusCode);
    }

    private Task<HttpResponseMessage> Me(string token, bool cookie)
    {
        var client = App.CreateClient(new() { AllowAutoRedirect = false, HandleCookies = false });
        if (cookie)
        {
            client.DefaultRequestHeaders.Add("Cookie", $"{AuthCookies.Access}={token}");
        }
        else
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return client.GetAsync("/api/auth/me");
    }

    [Fact]
    public async Task TwoFactor_SetupEnableLogin_WithTotpThenRecoveryCodesOnce()
    {
        var (email, _) = await App.CreateTenantUserAsync("two-factor-pass");
        var client = App.Client();
        Assert.Equal(HttpStatusCode.OK, (await client.LoginAsync(email, "two-factor-pass", "tenant")).StatusCode);
        // Another device signed in with the password alone before 2FA was turned on.
        var earlier = (await (await App.Client().LoginAsync(email, "two-factor-pass", "tenant", tokenInBody: true)).JsonAsync()).GetProperty("accessToken").GetString()!;

        var setup = await client.PostAsync("/api/auth/2fa/setup", null);
        Assert.Equal(HttpStatusCode.OK, setup.StatusCode);
        var setupBody = await setup.JsonAsync();
        Assert.StartsWith("data:image/png;base64,", setupBody.GetProperty("qrCodeDataUri").GetString(), StringComparison.Ordinal);
        var seed = TestHttp.SeedFromOtpauth(setupBody.GetProperty("otpauthUri").GetString()!);
        // The seed is stored encrypted, never in clear.
        var stored = await App.ScalarAsync<string>("SELECT totp_pending_secret FROM users WHERE email = @e", ("e", email));
        Assert.DoesNotContain(Base32.Encode(seed), stored, StringComparison.Ordinal);

        Assert.Equal(HttpStatusCode.BadRequest, (await client.PostAsJsonAsync("/api/auth/2fa/enable", new { code = "000000x" })).StatusCode);
        var enable = await client.PostAsJsonAsync("/api/auth/2fa/enable", new { code = TestHttp.NextCode(seed, 0) });
        Assert.Equal(HttpStatusCode.OK, enable.StatusCode);
        var recovery = (await enable.JsonAsync()).GetProperty("recoveryCodes").EnumerateArray().Select(c => c.GetString()!).ToArray();
        Assert.Equal(10, recovery.Length);
        Assert.Equal(10, recovery.Distinct().Count());
        // Enabling ends the password-only session; the one that enabled it goes on.
        await Onboarding.OnboardingHarness.WaitAsync(async () => (await Me(earlier, cookie: false)).StatusCode == HttpStatusCode.Unauthorized, "the other session ended", 10);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/auth/me")).StatusCode);

        // Password alone is no longer enough: the answer tells the UI to ask for a code.
        var noCode = await App.Client().LoginAsync(email, "two-factor-pass", "tenant");
        Assert.Equal(HttpStatusCode.Unauthorized, noCode.StatusCode);
        Assert.Equal(AuthProblems.SecondFactorRequired, (await noCode.JsonAsync()).GetProperty("type").GetString());
        Assert.Null(noCode.SetCookie(AuthCookies.Access));

        var code = TestHttp.NextCode(seed);
        Assert.Equal(HttpStatusCode.OK, (await App.Client().LoginAsync(email, "two-factor-pass", "tenant", totpCode: code)).StatusCode);
        var replay = await App.Client().LoginAsync(email, "two-factor-pass", "tenant", totpCode: code);
        Assert.Equal(HttpStatusCode.Unauthorized, replay.StatusCode);
        Assert.Equal(AuthProblems.SecondFactorInvalid, (await replay.JsonAsync()).GetProperty("type").GetString());

        Assert.Equal(HttpStatusCode.OK, (await App.Client().LoginAsync(email, "two-factor-pass", "tenant", recoveryCode: recovery[0].ToUpperInvariant())).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await App.Client().LoginAsync(email, "two-factor-pass", "tenant", recoveryCode: recovery[0])).StatusCode);
        var withRecovery = await App.Client().LoginAsync(email, "two-factor-pass", "tenant", recoveryCode: recovery[1], tokenInBody: true);
        Assert.Equal(HttpStatusCode.OK, withRecovery.StatusCode);
        var secondDevice = (await withRecovery.JsonAsync()).GetProperty("accessToken").GetString()!;

        // Disabling takes a recovery code too and ends the other sessions; afterwards the password suffices again.
        Assert.Equal(HttpStatusCode.NoContent, (await client.PostAsJsonAsync("/api/auth/2fa/disable", new { code = recovery[2] })).StatusCode);
        await Onboarding.OnboardingHarness.WaitAsync(async () => (await Me(secondDevice, cookie: false)).StatusCode == HttpStatusCode.Unauthorized, "the other session ended", 10);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/auth/me")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await App.Client().LoginAsync(email, "two-factor-pass", "tenant")).StatusCode);
    }

    [Fact]
    public async Task AuditFile_GetsJsonLines_WithoutSecrets()
    {
        await App.Client().LoginAsync(SajetWebFactory.AdminLogin, "a-wrong-password-xyz", "admin");
        var path = Path.Combine(App.AuditDirectory, "security_audit.log");
        var lines = await File.ReadAllLinesAsync(path);
        Assert.Contains(lines, l => l.Contains("\"kind\":\"auth.login_failed\"", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains("a-wrong-password-xyz", StringComparison.Ordinal) || l.Contains(SajetWebFactory.AdminPassword, StringComparison.Ordinal));
    }

    private const System.Text.Json.JsonValueKind JsonValueKindNull = System.Text.Json.JsonValueKind.Null;

    private static string CookieValue(string setCookie) => setCookie.Split(';')[0].Split('=', 2)[1];

    private static byte[] Base64UrlDecode(string s) => Convert.FromBase64String(s.Replace('-', '+').Replace('_', '/').PadRight(s.Length + (4 - s.Length % 4) % 4, '='));

    private static string Base64UrlEncode(byte[] b) => Convert.ToBase64String(b).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}

/// <summary>Lockout needs the per-account throttle out of the way, so this class raises it (configuration only).</summary>
public sealed class LockoutFixture : WebFixture
{
    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["RateLimits:LoginFailuresPerAccount"] = "100",
        ["RateLimits:LoginFailuresPerIp"] = "100",
    };
}

public sealed class LockoutTests(LockoutFixture fx) : IClassFixture<LockoutFixture>
{
    [Fact]
    public async Task FiveFailures_LockTheAccount_EvenTheRightPasswordIsRefused_AndItIsAudited()
    {
        var app = fx.Factory;
        var (email, _) = await app.CreateTenantUserAsync("lockout-password");
        var client = app.Client();
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await client.LoginAsync(email, "wrong-" + i, "tenant")).StatusCode);
        }

        var locked = await client.LoginAsync(email, "lockout-password", "tenant");
        Assert.Equal(HttpStatusCode.Unauthorized, locked.StatusCode);
        var unknown = await client.LoginAsync("x" + email, "lockout-password", "tenant");
        Assert.Equal(await unknown.Content.ReadAsStringAsync(), await locked.Content.ReadAsStringAsync());
        Assert.Equal(1L, await app.ScalarAsync<long>("SELECT count(*) FROM audit_log WHERE kind = 'auth.account_locked' AND actor = @e", ("e", email)));
        Assert.True(await app.ScalarAsync<bool>("SELECT locked_until > now() + interval '14 minutes' FROM users WHERE email = @e", ("e", email)));
    }
}
