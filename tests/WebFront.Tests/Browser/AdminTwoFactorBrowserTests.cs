using Microsoft.Playwright;
using Sajet.WebFront.Auth;
using Sajet.WebFront.Tests.Onboarding;

namespace Sajet.WebFront.Tests.Browser;

/// <summary>The first admin turns on two-step verification in the browser and signs in with it.</summary>
public sealed class AdminTwoFactorBrowserTests(ChromiumFixture chromium) : IClassFixture<ChromiumFixture>
{
    [Fact]
    public async Task Admin_EnablesTotp_SignsOut_AndSignsInWithCode()
    {
        var shots = Screenshots.For();
        // A site of its own: turning on 2FA for the first admin must not leak into other tests.
        await using var h = await OnboardingHarness.StartAsync(nodes: 1);
        await using var context = await Chromium.NewContextAsync(chromium.Browser);
        var page = await context.NewPageAsync();
        var problems = PageProblems.Watch(page);

        await SignInAsync(page, h, shots, "login");
        await page.WaitForURLAsync(h.Web.BaseUrl + "/admin");
        await shots.TakeAsync(page, "admin");

        await page.GotoAsync(h.Web.BaseUrl + "/admin/settings");
        await page.GetByTestId("twofactor-setup").ClickAsync();
        var secret = (await page.GetByTestId("twofactor-secret").TextContentAsync())!.Trim();
        await Assertions.Expect(page.GetByTestId("twofactor-qr")).ToBeVisibleAsync();
        await shots.TakeAsync(page, "settings-setup");

        // An authenticator app's code, from the secret the page shows.
        var key = Base32.Decode(secret);
        var step = Totp.StepAt(DateTimeOffset.UtcNow);
        await page.GetByTestId("twofactor-code").FillAsync(Totp.Compute(key, step));
        await page.GetByTestId("twofactor-enable").ClickAsync();
        await Assertions.Expect(page.GetByTestId("twofactor-notice")).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByTestId("recovery-codes").Locator("li")).Not.ToHaveCountAsync(0);
        await shots.TakeAsync(page, "settings-enabled");

        await page.GetByTestId("logout").ClickAsync();
        await Assertions.Expect(page.Locator("body")).ToHaveAttributeAsync("data-signed-in", "false");
        await shots.TakeAsync(page, "signed-out");

        await SignInAsync(page, h, shots, "login-again");
        await Assertions.Expect(page.GetByTestId("login-code")).ToBeVisibleAsync();
        await shots.TakeAsync(page, "login-code");
        // The step used to enable is spent (replays are refused); the next step's code is already accepted (±1 step
        // for clock drift), so the test need not wait half a minute for the clock to move on.
        await page.GetByTestId("login-code").FillAsync(Totp.Compute(key, step + 1));
        await page.GetByTestId("login-code-submit").ClickAsync();
        await page.WaitForURLAsync(h.Web.BaseUrl + "/admin");
        await Assertions.Expect(page.Locator("body")).ToHaveAttributeAsync("data-signed-in", "true");
        await shots.TakeAsync(page, "admin-with-2fa");

        Assert.True(problems.Unexpected.Count == 0, string.Join("\n", problems.Unexpected));
    }

    private static async Task SignInAsync(IPage page, OnboardingHarness h, Screenshots shots, string step)
    {
        await page.GotoAsync(h.Web.BaseUrl + "/login/admin");
        await page.GetByTestId("login-email").FillAsync(SajetWebFactory.AdminLogin);
        await page.GetByTestId("login-password").FillAsync(SajetWebFactory.AdminPassword);
        await shots.TakeAsync(page, step);
        await page.GetByTestId("login-submit").ClickAsync();
    }
}
