using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace Sajet.WebFront.Tests.Browser;

/// <summary>What every visitor sees before signing in: theme, console, phone layout and language.</summary>
public sealed partial class PublicPagesBrowserTests(PublicSiteFixture site) : IClassFixture<PublicSiteFixture>
{
    private string Url(string path) => site.Harness.Web.BaseUrl + path;

    [Fact]
    public async Task DarkMode_ChosenOnLanding_HoldsOnEveryPage()
    {
        var shots = Screenshots.For();
        // The context prefers a light scheme, so dark can only come from the visitor's click.
        await using var context = await Chromium.NewContextAsync(site.Browser);
        var page = await context.NewPageAsync();
        await page.GotoAsync(Url("/"));
        Assert.Equal("light", await ThemeAsync(page));
        await shots.TakeAsync(page, "landing-light");

        await page.GetByTestId("theme-toggle").ClickAsync();
        Assert.Equal("dark", await ThemeAsync(page));
        await Assertions.Expect(page.GetByTestId("theme-toggle")).ToHaveAttributeAsync("aria-pressed", "true");
        await shots.TakeAsync(page, "landing-dark");

        foreach (var path in new[] { "/signup", "/login/admin", "/login/tenant" })
        {
            await page.GotoAsync(Url(path));
            await shots.TakeAsync(page, PublicSiteFixture.StepName(path));
            Assert.True(await ThemeAsync(page) == "dark", $"{path} lost the dark theme");
            var background = await page.EvaluateAsync<string>("getComputedStyle(document.body).backgroundColor");
            Assert.True(Luminance(background) < 0.2, $"{path}: body background {background} is not dark");
            await Assertions.Expect(page.GetByTestId("theme-toggle")).ToHaveAttributeAsync("aria-pressed", "true");
        }
    }

    [Fact]
    public async Task PublicPages_HaveNoConsoleErrors()
    {
        var shots = Screenshots.For();
        await using var context = await Chromium.NewContextAsync(site.Browser);
        var page = await context.NewPageAsync();
        var problems = PageProblems.Watch(page);
        foreach (var path in PublicSiteFixture.PublicPages)
        {
            await page.GotoAsync(Url(path), new PageGotoOptions { WaitUntil = WaitUntilState.NetworkIdle });
            await shots.TakeAsync(page, PublicSiteFixture.StepName(path));
        }

        // /success polls the status API a second after load; a second page load flushes anything it logged.
        await page.GotoAsync(Url("/"), new PageGotoOptions { WaitUntil = WaitUntilState.NetworkIdle });
        Assert.True(problems.Unexpected.Count == 0, string.Join("\n", problems.Unexpected));
    }

    [Fact]
    public async Task PublicPages_FitAPhoneWithoutHorizontalScroll()
    {
        var shots = Screenshots.For();
        await using var context = await Chromium.NewContextAsync(site.Browser, new BrowserNewContextOptions
        {
            ViewportSize = new ViewportSize { Width = 375, Height = 740 },
            DeviceScaleFactor = 2,
            IsMobile = true,
            HasTouch = true,
        });
        var page = await context.NewPageAsync();
        var failures = new List<string>();
        foreach (var path in PublicSiteFixture.PublicPages)
        {
            await page.GotoAsync(Url(path));
            await shots.TakeAsync(page, PublicSiteFixture.StepName(path));
            var overflow = await PageChecks.OverflowAsync(page);
            if (overflow.Length > 0)
            {
                failures.Add($"{path}: {overflow}");
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }


    [Fact]
    public async Task PublicPages_AreInSpanish()
    {
        var shots = Screenshots.For();
        await using var context = await Chromium.NewContextAsync(site.Browser);
        var page = await context.NewPageAsync();
        var failures = new List<string>();
        var english = PageChecks.English;
        foreach (var path in PublicSiteFixture.PublicPages)
        {
            await page.GotoAsync(Url(path));
            await shots.TakeAsync(page, PublicSiteFixture.StepName(path));
            var lang = await page.EvaluateAsync<string>("document.documentElement.lang");
            if (lang != "es")
            {
                failures.Add($"{path}: lang=\"{lang}\"");
            }

            var text = await PageChecks.UiTextAsync(page);
            foreach (var found in english.Matches(text).Select(m => m.Value).Distinct(StringComparer.OrdinalIgnoreCase))
            {
                failures.Add($"{path}: English word \"{found}\"");
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    private static async Task<string> ThemeAsync(IPage page) => await page.EvaluateAsync<string>("document.documentElement.dataset.theme");

    /// <summary>Relative luminance (0 black … 1 white) of a computed "rgb(r, g, b)" colour.</summary>
    private static double Luminance(string rgb)
    {
        var match = RgbPattern().Match(rgb);
        Assert.True(match.Success, $"not an rgb() colour: {rgb}");
        double Channel(int i)
        {
            var c = double.Parse(match.Groups[i].Value, CultureInfo.InvariantCulture) / 255;
            return c <= 0.03928 ? c / 12.92 : Math.Pow((c + 0.055) / 1.055, 2.4);
        }

        return (0.2126 * Channel(1)) + (0.7152 * Channel(2)) + (0.0722 * Channel(3));
    }

    [GeneratedRegex(@"rgba?\((\d+),\s*(\d+),\s*(\d+)")]
    private static partial Regex RgbPattern();
}
