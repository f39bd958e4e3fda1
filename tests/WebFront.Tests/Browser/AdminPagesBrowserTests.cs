using Microsoft.Playwright;
using Sajet.WebFront.Tests.Onboarding;

namespace Sajet.WebFront.Tests.Browser;

/// <summary>Every admin page, with real data behind it: Spanish, no console errors, fits a phone, dark mode holds.</summary>
public sealed class AdminPagesBrowserTests(ChromiumFixture chromium) : IClassFixture<ChromiumFixture>
{
    [Fact]
    public async Task AdminPages_SpanishNoConsoleErrors_FitAPhone_KeepDarkMode()
    {
        var shots = Screenshots.For();
        await using var h = await OnboardingHarness.StartAsync(nodes: 1);
        await h.StartSiloAsync("admin-pages");
        await h.RegisterNodesAsync("pve1");
        var signed = await h.SignUpAsync("panel-movil");
        h.Stripe.Control.PayCheckoutSession(signed.SessionId);
        await h.WaitForStatusAsync(signed.TenantId, "active");

        await using var context = await Chromium.NewContextAsync(chromium.Browser, new BrowserNewContextOptions
        {
            ViewportSize = new ViewportSize { Width = 375, Height = 740 },
            IsMobile = true,
            HasTouch = true,
        });
        var page = await context.NewPageAsync();
        var problems = PageProblems.Watch(page);
        await page.GotoAsync(h.Web.BaseUrl + "/login/admin");
        await page.GetByTestId("theme-toggle").ClickAsync();
        await page.GetByTestId("login-email").FillAsync(SajetWebFactory.AdminLogin);
        await page.GetByTestId("login-password").FillAsync(SajetWebFactory.AdminPassword);
        await page.GetByTestId("login-submit").ClickAsync();
        await page.WaitForURLAsync(h.Web.BaseUrl + "/admin");

        var failures = new List<string>();
        string[] paths = ["/admin", "/admin/tenants", $"/admin/tenants/{signed.TenantId}", "/admin/nodes", "/admin/nodes/pve1",
            "/admin/provision", "/admin/billing", "/admin/logs", "/admin/settings"];
        foreach (var path in paths)
        {
            await page.GotoAsync(h.Web.BaseUrl + path);
            await shots.TakeAsync(page, path.Trim('/').Replace('/', '-'));
            if (await page.EvaluateAsync<string>("document.documentElement.lang") != "es")
            {
                failures.Add($"{path}: not lang=es");
            }

            if (await page.EvaluateAsync<string>("document.documentElement.dataset.theme") != "dark")
            {
                failures.Add($"{path}: dark mode lost");
            }

            if (await PageChecks.OverflowAsync(page) is { Length: > 0 } overflow)
            {
                failures.Add($"{path}: {overflow}");
            }

            foreach (var found in PageChecks.English.Matches(await PageChecks.UiTextAsync(page)).Select(m => m.Value).Distinct(StringComparer.OrdinalIgnoreCase))
            {
                failures.Add($"{path}: English word \"{found}\"");
            }
        }

        failures.AddRange(problems.Unexpected);
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }
}
