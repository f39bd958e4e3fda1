using System.Net;
using System.Text.RegularExpressions;
using Sajet.WebFront.Auth;

namespace Sajet.WebFront.Tests;

public sealed class PagesTests(WebFixture fx) : IClassFixture<WebFixture>
{
    private SajetWebFactory App => fx.Factory;

    // Words an English template would leave behind; none may show up as visible text ("Error" is Spanish too).
    private static readonly string[] EnglishLabels =
        ["Login", "Log in", "Sign in", "Logout", "Log out", "Password", "Username", "Submit", "Home", "Dashboard", "Settings", "Plans", "Pricing", "Welcome", "Not Found", "Forbidden", "Enable", "Disable", "Recovery codes", "Month"];

    [Fact]
    public async Task EveryPage_IsSpanish_WithoutEnglishLabels()
    {
        var anonymousPages = new[] { "/", "/login/admin", "/login/tenant", "/error/404", "/error/500", "/no-such-page" };
        var admin = App.Client();
        await admin.LoginAsync(SajetWebFactory.AdminLogin, SajetWebFactory.AdminPassword, "admin");
        var (tenantEmail, _) = await App.CreateTenantUserAsync();
        var tenant = App.Client();
        await tenant.LoginAsync(tenantEmail, "tenant-password-1", "tenant");

        var pages = anonymousPages.Select(p => (App.Client(), p))
            .Concat(new[] { "/", "/admin", "/admin/settings", "/admin/logs", "/admin/tenants", "/admin/nodes", "/admin/provision", "/admin/billing" }.Select(p => (admin, p)))
            .Concat(new[] { "/", "/tenant/portal" }.Select(p => (tenant, p)));
        foreach (var (client, path) in pages)
        {
            var html = await (await client.GetAsync(path)).Content.ReadAsStringAsync();
            Assert.Contains("<html lang=\"es\">", html, StringComparison.Ordinal);
            var text = VisibleText(html);
            foreach (var word in EnglishLabels)
            {
                Assert.False(Regex.IsMatch(text, $"\\b{Regex.Escape(word)}\\b"), $"{path} shows the English word '{word}'");
            }
        }
    }

    [Fact]
    public async Task Layout_AdminNavOnlyForAdmins_ThemeToggleAndScriptsFromFiles()
    {
        var anonymous = await App.Client().GetStringAsync("/");
        Assert.DoesNotContain("data-testid=\"admin-nav\"", anonymous, StringComparison.Ordinal);
        Assert.Contains("Acceder", anonymous, StringComparison.Ordinal);
        Assert.Contains("id=\"theme-toggle\"", anonymous, StringComparison.Ordinal);
        Assert.Matches("<head>[\\s\\S]*<script src=\"/js/theme-init.js\\?v=[^\"]+\"></script>[\\s\\S]*</head>", anonymous);

        var admin = App.Client();
        await admin.LoginAsync(SajetWebFactory.AdminLogin, SajetWebFactory.AdminPassword, "admin");
        var html = await admin.GetStringAsync("/admin");
        Assert.Contains("data-testid=\"admin-nav\"", html, StringComparison.Ordinal);
        foreach (var label in new[] { "Panel", "Clientes", "Nodos", "Aprovisionamiento", "Facturación", "Registros", "Ajustes" })
        {
            Assert.Contains($">{label}</a>", html, StringComparison.Ordinal);
        }

        Assert.Contains("data-testid=\"logout\"", html, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await App.Client().GetAsync("/js/site.js")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await App.Client().GetAsync("/lib/chart.js/chart.umd.js")).StatusCode);
    }

    // Issue 10, defect 8: the plans table says "99%" and the card added its own sign ("99% %").
    [Theory]
    [InlineData("99%", "99\u00a0%")]
    [InlineData("99.5%", "99,5\u00a0%")]
    [InlineData("99.9", "99,9\u00a0%")]
    public void PlanCard_Sla_OneSignSpanishDecimal(string stored, string shown)
    {
        var card = Pages.IndexModel.FallbackPlans[0] with { Sla = stored };
        Assert.Equal(shown, card.SlaText);
    }

    [Fact]
    public async Task Landing_WithoutPlansTable_ShowsTheThreePlansOfTheDesign()
    {
        var html = await App.Client().GetStringAsync("/");
        Assert.Contains("data-testid=\"plan-basic\"", html, StringComparison.Ordinal);
        Assert.Contains("data-testid=\"plan-pro\"", html, StringComparison.Ordinal);
        Assert.Contains("data-testid=\"plan-enterprise\"", html, StringComparison.Ordinal);
        // Money the Spanish way, one style on every page (issue 10).
        var text = System.Net.WebUtility.HtmlDecode(html).Replace('\u00a0', ' ');
        Assert.Contains("29,00 US$", text, StringComparison.Ordinal);
        Assert.Contains("49,00 US$", text, StringComparison.Ordinal);
        Assert.Contains("99,00 US$", text, StringComparison.Ordinal);
        Assert.DoesNotContain("$29", text, StringComparison.Ordinal);
        Assert.DoesNotContain("% %", System.Net.WebUtility.HtmlDecode(html).Replace('\u00a0', ' '), StringComparison.Ordinal);
        Assert.Contains("99,5", System.Net.WebUtility.HtmlDecode(html), StringComparison.Ordinal);
    }

    [Fact]
    public async Task LoginPage_AdminForm_SignsInAndRedirectsToReturnUrl_OpenRedirectRefused()
    {
        var client = App.Client();
        var response = await client.SubmitFormAsync("/login/admin?returnUrl=%2Fadmin%2Fsettings", "/login/admin?returnUrl=%2Fadmin%2Fsettings", new()
        {
            ["Email"] = SajetWebFactory.AdminLogin,
            ["Password"] = SajetWebFactory.AdminPassword,
        });
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/admin/settings", response.Headers.Location!.OriginalString);
        Assert.NotNull(response.SetCookie(AuthCookies.Access));
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/admin/settings")).StatusCode);

        var other = App.Client();
        var evil = await other.SubmitFormAsync("/login/admin", "/login/admin?returnUrl=https%3A%2F%2Fevil.example%2F", new()
        {
            ["Email"] = SajetWebFactory.AdminLogin,
            ["Password"] = SajetWebFactory.AdminPassword,
        });
        Assert.Equal("/admin", evil.Headers.Location!.OriginalString);
    }

    [Fact]
    public async Task LoginPage_WrongPassword_SpanishError_NoCookie()
    {
        var response = await App.Client().SubmitFormAsync("/login/tenant", "/login/tenant", new()
        {
            ["Email"] = "someone@example.com",
            ["Password"] = "wrong-password",
        });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains(AuthProblems.InvalidCredentialsText, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Null(response.SetCookie(AuthCookies.Access));
    }

    [Fact]
    public async Task LoginPage_SixthFailureFromOneIp_Is429InSpanish()
    {
        var client = App.Client(SajetWebFactory.RandomIp());
        for (var i = 0; i < 5; i++)
        {
            var failed = await client.SubmitFormAsync("/login/tenant", "/login/tenant", new() { ["Email"] = $"page-guess{i}@example.com", ["Password"] = "wrong-password" });
            Assert.Equal(HttpStatusCode.OK, failed.StatusCode);
        }

        var sixth = await client.SubmitFormAsync("/login/tenant", "/login/tenant", new() { ["Email"] = "page-guess6@example.com", ["Password"] = "wrong-password" });
        Assert.Equal(HttpStatusCode.TooManyRequests, sixth.StatusCode);
        var html = await sixth.Content.ReadAsStringAsync();
        Assert.Contains("<html lang=\"es\">", html, StringComparison.Ordinal);
        Assert.Contains("demasiados intentos", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TenantPortal_TwoFactorSetupThroughForms_ThenTwoStepLogin()
    {
        var (email, tenantId) = await App.CreateTenantUserAsync("portal-password");
        var client = App.Client();
        await client.LoginAsync(email, "portal-password", "tenant");

        var setup = await client.SubmitFormAsync("/tenant/portal", "/tenant/portal?handler=Setup", []);
        Assert.Equal(HttpStatusCode.OK, setup.StatusCode);
        var setupHtml = await setup.Content.ReadAsStringAsync();
        Assert.Contains("src=\"data:image/png;base64,", setupHtml, StringComparison.Ordinal);
        var secret = Regex.Match(setupHtml, "data-testid=\"twofactor-secret\">([A-Z2-7]+)<").Groups[1].Value;
        var seed = Base32.Decode(secret);

        var enable = await client.PostAsync("/tenant/portal?handler=Enable", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["TwoFactorCode"] = TestHttp.NextCode(seed, 0),
            ["__RequestVerificationToken"] = TestHttp.AntiforgeryToken(setupHtml),
        }));
        var enableHtml = await enable.Content.ReadAsStringAsync();
        Assert.Contains("data-testid=\"recovery-codes\"", enableHtml, StringComparison.Ordinal);
        Assert.Equal(10, Regex.Count(enableHtml, "<li><code>[a-z2-9]{5}-[a-z2-9]{5}</code></li>"));

        // Two-step login through the page: password, then the code.
        var browser = App.Client();
        var step1 = await browser.SubmitFormAsync("/login/tenant", "/login/tenant", new() { ["Email"] = email, ["Password"] = "portal-password" });
        var step1Html = await step1.Content.ReadAsStringAsync();
        Assert.Contains("data-testid=\"login-code-form\"", step1Html, StringComparison.Ordinal);
        Assert.Null(step1.SetCookie(AuthCookies.Access));
        Assert.DoesNotContain("portal-password", step1Html, StringComparison.Ordinal);

        var step2 = await browser.PostAsync("/login/tenant?handler=Code", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["Code"] = TestHttp.NextCode(seed),
            ["__RequestVerificationToken"] = TestHttp.AntiforgeryToken(step1Html),
        }));
        Assert.Equal(HttpStatusCode.Redirect, step2.StatusCode);
        Assert.Equal("/tenant/portal", step2.Headers.Location!.OriginalString);
        Assert.Contains(tenantId, await browser.GetStringAsync("/tenant/portal"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task LogoutForm_EndsTheSession()
    {
        var client = App.Client();
        var login = await client.LoginAsync(SajetWebFactory.AdminLogin, SajetWebFactory.AdminPassword, "admin");
        var refresh = login.SetCookie(AuthCookies.Refresh)!.Split(';')[0];

        var logout = await client.SubmitFormAsync("/admin", "/logout", []);
        Assert.Equal(HttpStatusCode.Redirect, logout.StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await client.GetAsync("/admin")).StatusCode);

        var replay = App.Client();
        replay.DefaultRequestHeaders.Add("Cookie", refresh);
        Assert.Equal(HttpStatusCode.Unauthorized, (await replay.PostAsync("/api/auth/refresh", null)).StatusCode);
    }

    private static string VisibleText(string html)
    {
        var withoutScripts = Regex.Replace(html, "<(script|style)[\\s\\S]*?</\\1>", " ");
        var text = Regex.Replace(withoutScripts, "<[^>]+>", " ");
        return System.Net.WebUtility.HtmlDecode(text);
    }
}
