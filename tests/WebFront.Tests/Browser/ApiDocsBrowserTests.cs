using Microsoft.Playwright;

namespace Sajet.WebFront.Tests.Browser;

/// <summary>/docs, the API reader, follows the site's theme: the system's dark preference, and the switch a person flips.</summary>
public sealed class ApiDocsBrowserTests(PublicSiteFixture site) : IClassFixture<PublicSiteFixture>
{
    [Theory]
    [InlineData(1280, "light")]
    [InlineData(1280, "dark")]
    [InlineData(390, "dark")]
    public async Task Docs_FollowTheSiteTheme_ShowSpanishSummaries_AndFit(int width, string scheme)
    {
        // One folder per row: the folder of a test is emptied when it starts.
        var shots = Screenshots.For($"ApiDocs-{width}-{scheme}");
        await using var context = await Chromium.NewContextAsync(site.Browser, new BrowserNewContextOptions
        {
            ViewportSize = new ViewportSize { Width = width, Height = 900 },
            ColorScheme = scheme == "dark" ? ColorScheme.Dark : ColorScheme.Light,
        });
        var page = await context.NewPageAsync();
        var problems = PageProblems.Watch(page);
        await page.GotoAsync(site.Harness.Web.BaseUrl + "/docs/");
        // Swagger UI renders from the document after it loads: wait for the operations, not for the page.
        await page.Locator(".opblock").First.WaitForAsync();
        await page.EvaluateAsync("document.fonts.ready.then(() => true)");
        await shots.TakeAsync(page, $"{width}-{scheme}");

        Assert.Equal(scheme, await page.EvaluateAsync<string>("document.documentElement.dataset.theme"));
        var background = await page.EvaluateAsync<string>("getComputedStyle(document.documentElement).backgroundColor");
        Assert.Equal(scheme == "dark" ? "rgb(17, 21, 27)" : "rgb(247, 248, 250)", background);
        var filter = await page.EvaluateAsync<string>("getComputedStyle(document.querySelector('.swagger-ui')).filter");
        Assert.Equal(scheme == "dark", filter.Contains("invert", StringComparison.Ordinal));
        Assert.Equal("API de Sajet", (await page.Locator(".info .title").InnerTextAsync()).Split('\n')[0].Trim().Split(" v1")[0].Trim());
        Assert.True(await page.Locator(".opblock").CountAsync() >= 20);
        await Assertions.Expect(page.Locator(".opblock-summary-description", new() { HasText = "Inicia sesión" })).ToBeVisibleAsync();
        Assert.Equal("", await PageChecks.OverflowAsync(page));

        // The switch in the bar flips the theme and is remembered for the rest of the site.
        var toggle = page.GetByTestId("theme-toggle");
        await Assertions.Expect(toggle).ToHaveTextAsync(scheme == "dark" ? "Modo claro" : "Modo oscuro");
        await toggle.ClickAsync();
        var flipped = scheme == "dark" ? "light" : "dark";
        Assert.Equal(flipped, await page.EvaluateAsync<string>("document.documentElement.dataset.theme"));
        Assert.Equal(flipped, await page.EvaluateAsync<string>("localStorage.getItem('sajet-theme')"));
        await page.GotoAsync(site.Harness.Web.BaseUrl + "/");
        Assert.Equal(flipped, await page.EvaluateAsync<string>("document.documentElement.dataset.theme"));

        Assert.Empty(problems.Unexpected);
    }
}
