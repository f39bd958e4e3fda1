using System.Net;
using System.Net.Http.Json;
using System.Text;

namespace Sajet.WebFront.Tests;

public sealed class SecurityTests(WebFixture fx) : IClassFixture<WebFixture>
{
    private SajetWebFactory App => fx.Factory;

    // Issue 10, defect 4: /success polls the status every 3 s, and the status shared the 10-a-minute checkout limit.
    [Fact]
    public async Task OnboardingStatus_TwoMinutesOfPolling_NeverRateLimited()
    {
        var client = App.Client();
        var answers = new List<HttpStatusCode>();
        for (var i = 0; i < 40; i++)
        {
            answers.Add((await client.GetAsync("/api/onboarding/status?session_id=cs_test_unknown")).StatusCode);
        }

        Assert.All(answers, a => Assert.Equal(HttpStatusCode.NotFound, a));
    }

    [Theory]
    [InlineData("/")]
    [InlineData("/login/admin")]
    [InlineData("/health")]
    [InlineData("/api/auth/me")]
    [InlineData("/no-such-page")]
    [InlineData("/css/site.css")]
    public async Task EveryResponse_CarriesSecurityHeaders_StrictCspWithoutInlineScript(string path)
    {
        var response = await App.Client().GetAsync(path);
        var csp = string.Join(";", response.Headers.GetValues("Content-Security-Policy"));
        var directives = csp.Split(';', StringSplitOptions.TrimEntries).ToDictionary(d => d.Split(' ')[0], d => d);
        Assert.Equal("script-src 'self'", directives["script-src"]);
        Assert.Equal("style-src 'self'", directives["style-src"]);
        Assert.Equal("frame-ancestors 'none'", directives["frame-ancestors"]);
        Assert.Equal("default-src 'self'", directives["default-src"]);
        Assert.Equal("base-uri 'self'", directives["base-uri"]);
        Assert.StartsWith("form-action 'self'", directives["form-action"], StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-inline", csp, StringComparison.Ordinal);
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal("DENY", response.Headers.GetValues("X-Frame-Options").Single());
        Assert.Equal("strict-origin-when-cross-origin", response.Headers.GetValues("Referrer-Policy").Single());
        Assert.True(response.Headers.Contains("Permissions-Policy"));
        Assert.False(response.Headers.Contains("Strict-Transport-Security"));
    }

    [Fact]
    public async Task Hsts_OnlyOverHttps()
    {
        var response = await App.Client(https: true).GetAsync("/");
        Assert.StartsWith("max-age=", response.Headers.GetValues("Strict-Transport-Security").Single(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Docs_SwaggerUiServed_WithScriptsStillFromSelfOnly()
    {
        var response = await App.Client().GetAsync("/docs/index.html");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var csp = response.Headers.GetValues("Content-Security-Policy").Single();
        Assert.Contains("script-src 'self';", csp, StringComparison.Ordinal);
        var openapi = await App.Client().GetAsync("/openapi/v1.json");
        Assert.Equal(HttpStatusCode.OK, openapi.StatusCode);
        Assert.Contains("/api/auth/login", await openapi.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pages_HaveNoInlineScriptOrStyle()
    {
        foreach (var path in new[] { "/", "/login/admin", "/login/tenant", "/error/404" })
        {
            var html = await (await App.Client().GetAsync(path)).Content.ReadAsStringAsync();
            Assert.DoesNotMatch("<script(?![^>]*\\ssrc=)[^>]*>", html);
            Assert.DoesNotContain("<style", html, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain(" style=", html, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotMatch("\\son[a-z]+=\"", html);
        }
    }

    [Fact]
    public async Task FormPost_WithoutAntiforgeryToken_Is400()
    {
        var client = App.Client();
        await client.GetAsync("/login/admin");
        var response = await client.PostAsync("/login/admin", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["Email"] = SajetWebFactory.AdminLogin,
            ["Password"] = SajetWebFactory.AdminPassword,
        }));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Null(response.SetCookie("sajet_at"));
        Assert.Contains("lang=\"es\"", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task OversizedBody_Is413ProblemInSpanish()
    {
        var big = new StringContent("{\"email\":\"" + new string('a', 70 * 1024) + "\"}", Encoding.UTF8, "application/json");
        var response = await App.Client().PostAsync("/api/auth/login", big);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal("La solicitud es demasiado grande", (await response.JsonAsync()).GetProperty("title").GetString());

        // Under the limit is fine (and an ordinary validation problem).
        var small = await App.Client().PostAsJsonAsync("/api/auth/login", new { email = new string('a', 1000) });
        Assert.Equal(HttpStatusCode.BadRequest, small.StatusCode);
    }

    [Fact]
    public async Task MalformedJson_Is400ProblemWithSpanishTitle()
    {
        var response = await App.Client().PostAsync("/api/auth/login", new StringContent("{not json", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal("Solicitud no válida", (await response.JsonAsync()).GetProperty("title").GetString());
    }

    [Fact]
    public async Task OversizedForm_Is413()
    {
        var response = await App.Client().PostAsync("/login/admin", new FormUrlEncodedContent(new Dictionary<string, string> { ["Email"] = new string('a', 70 * 1024) }));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }

    [Fact]
    public async Task UnknownApiRoute_Is404Problem_UnknownPage_IsSpanishHtml()
    {
        var api = await App.Client().GetAsync("/api/nothing-here");
        Assert.Equal(HttpStatusCode.NotFound, api.StatusCode);
        Assert.Equal("application/problem+json", api.Content.Headers.ContentType!.MediaType);
        Assert.Equal("No encontrado", (await api.JsonAsync()).GetProperty("title").GetString());

        var page = await App.Client().GetAsync("/nothing-here");
        Assert.Equal(HttpStatusCode.NotFound, page.StatusCode);
        Assert.Contains("Página no encontrada", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
