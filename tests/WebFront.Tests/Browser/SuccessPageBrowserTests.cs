using CookieContainer = System.Net.CookieContainer;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Sajet.Grains.Interfaces;
using Sajet.Persistence.Secrets;
using Sajet.WebFront.Onboarding;
using Sajet.WebFront.Tests.Onboarding;

namespace Sajet.WebFront.Tests.Browser;

/// <summary>/success as the customer sees it: in line for capacity, then ready, in light and dark, on a desktop and a phone.</summary>
public sealed class SuccessPageBrowserTests(ChromiumFixture chromium) : IClassFixture<ChromiumFixture>
{
    /// <summary>What the operator's history says and a customer must never read.</summary>
    private static readonly Regex Internal = new(@"pve|checkout\.session|vCPU|MiB|GiB|estrategia|VMID|UPID|Evento de Stripe", RegexOptions.IgnoreCase);

    private static readonly (string Name, ColorScheme Scheme, int Width)[] Looks =
    [
        ("light-1280", ColorScheme.Light, 1280), ("dark-1280", ColorScheme.Dark, 1280), ("light-390", ColorScheme.Light, 390), ("dark-390", ColorScheme.Dark, 390),
    ];

    [Fact]
    public async Task SuccessPage_WaitingThenReady_SpeaksToTheCustomer_LoginOnlyToThePayingBrowser_NoPassword()
    {
        var shots = Screenshots.For();
        await using var h = await OnboardingHarness.StartAsync(nodes: 1);
        await h.StartSiloAsync("success-page");

        // No node registered yet: the paid tenant waits for capacity.
        var cookies = new CookieContainer();
        using var payer = new HttpClient(new HttpClientHandler { CookieContainer = cookies, AllowAutoRedirect = false }) { BaseAddress = new Uri(h.Web.BaseUrl) };
        var signed = await h.SignUpAndPayAsync("en-la-cola", client: payer, status: TenantStatus.WaitingForCapacity);
        var success = $"{h.Web.BaseUrl}/success?session_id={signed.SessionId}";

        foreach (var look in Looks)
        {
            await using var context = await NewContextAsync(look.Scheme, look.Width);
            var page = await context.NewPageAsync();
            var problems = PageProblems.Watch(page);
            await page.GotoAsync(success);
            var badge = page.GetByTestId("onboarding-status");
            await Assertions.Expect(badge).ToHaveAttributeAsync("data-status", TenantStatus.WaitingForCapacity);
            await Assertions.Expect(badge).ToHaveTextAsync("En cola");
            Assert.True(await IsAmberAsync(badge), "the waiting badge is not amber");
            await Assertions.Expect(page.GetByTestId("onboarding-heading")).ToHaveTextAsync("Tu Odoo está en cola");
            var message = page.GetByTestId("onboarding-message");
            await Assertions.Expect(message).ToContainTextAsync("en la cola");
            await Assertions.Expect(message).ToContainTextAsync("Nuestro equipo ya está avisado");
            await Assertions.Expect(page.GetByTestId("onboarding-steps").Locator("li")).ToHaveTextAsync(
                [new Regex("^Pago recibido"), new Regex("^Preparando tu servidor"), new Regex("^Creando tu base de datos"), new Regex("^¡Listo!")]);
            await Assertions.Expect(page.GetByTestId("onboarding-ready")).ToBeHiddenAsync();
            await AssertCustomerWordsAsync(page, look.Scheme, look.Width);
            await shots.TakeAsync(page, $"waiting-{look.Name}");
            Assert.True(problems.Unexpected.Count == 0, string.Join("\n", problems.Unexpected));
        }

        // The paying browser keeps /success open while the operator adds a node: the page turns ready by itself and
        // shows the login and points to the welcome mail's link; no password is ever on the page.
        await using var paying = await NewContextAsync(ColorScheme.Light, 1280);
        await paying.AddCookiesAsync([SignupCookie(cookies, h.Web.BaseUrl)]);
        var open = await paying.NewPageAsync();
        var openProblems = PageProblems.Watch(open);
        await open.GotoAsync(success);
        await Assertions.Expect(open.GetByTestId("onboarding-status")).ToHaveAttributeAsync("data-status", TenantStatus.WaitingForCapacity);
        await open.EvaluateAsync("window.__sajetNoReload = true");
        await h.RegisterNodesAsync("pve1");
        await Assertions.Expect(open.GetByTestId("onboarding-status")).ToHaveAttributeAsync("data-status", TenantStatus.Active,
            new LocatorAssertionsToHaveAttributeOptions { Timeout = 120_000 });
        await Assertions.Expect(open.GetByTestId("onboarding-heading")).ToHaveTextAsync("¡Tu Odoo está listo!");
        await Assertions.Expect(open.GetByTestId("onboarding-url")).ToHaveTextAsync($"https://en-la-cola.{OnboardingHarness.Domain}");
        await Assertions.Expect(open.GetByTestId("onboarding-login")).ToHaveTextAsync("owner@en-la-cola.example.com");
        await Assertions.Expect(open.GetByTestId("onboarding-signin-note")).ToContainTextAsync("Te hemos enviado un correo a owner@en-la-cola.example.com");
        await Assertions.Expect(open.GetByTestId("onboarding-signin-note")).ToContainTextAsync("con un enlace para elegir tu contraseña");
        await Assertions.Expect(open.GetByTestId("onboarding-portal")).ToHaveAttributeAsync("href", "/login/tenant");
        Assert.True(await open.EvaluateAsync<bool>("window.__sajetNoReload === true"), "the success page reloaded");
        Assert.DoesNotContain(await GeneratedPasswordAsync(h, signed.TenantId), await open.ContentAsync(), StringComparison.Ordinal);
        await AssertCustomerWordsAsync(open, ColorScheme.Light, 1280);
        await shots.TakeAsync(open, "ready-light-1280-paying-browser");

        // A reload in the paying browser shows the same: the login, and where the link went.
        await open.ReloadAsync();
        await Assertions.Expect(open.GetByTestId("onboarding-login")).ToHaveTextAsync("owner@en-la-cola.example.com");
        await Assertions.Expect(open.GetByTestId("onboarding-signin-note")).ToContainTextAsync("con un enlace para elegir tu contraseña");
        Assert.True(openProblems.Unexpected.Count == 0, string.Join("\n", openProblems.Unexpected));

        foreach (var look in Looks)
        {
            await using var context = await NewContextAsync(look.Scheme, look.Width);
            var page = await context.NewPageAsync();
            await page.GotoAsync(success);
            await Assertions.Expect(page.GetByTestId("onboarding-status")).ToHaveTextAsync("Listo");
            await Assertions.Expect(page.GetByTestId("onboarding-ready")).ToBeVisibleAsync();
            await Assertions.Expect(page.GetByTestId("onboarding-login")).ToBeHiddenAsync();
            await Assertions.Expect(page.GetByTestId("onboarding-signin-note")).ToContainTextAsync("a la dirección con la que te diste de alta");
            await AssertCustomerWordsAsync(page, look.Scheme, look.Width);
            await shots.TakeAsync(page, $"ready-{look.Name}");
        }
    }

    private static async Task<string> GeneratedPasswordAsync(OnboardingHarness h, string tenantId) =>
        h.Web.Services.GetRequiredService<SecretProtector>().Unprotect(
            await h.Db.ScalarAsync<string>($"SELECT odoo_password_protected FROM tenants WHERE id = '{tenantId}'"), SetOdooPassword.Purpose)!;

    private async Task<IBrowserContext> NewContextAsync(ColorScheme scheme, int width) => await Chromium.NewContextAsync(chromium.Browser, new BrowserNewContextOptions
    {
        ColorScheme = scheme,
        ViewportSize = new ViewportSize { Width = width, Height = width < 600 ? 844 : 900 },
    });

    private static async Task AssertCustomerWordsAsync(IPage page, ColorScheme scheme, int width)
    {
        Assert.Equal(scheme == ColorScheme.Dark ? "dark" : "light", await page.EvaluateAsync<string>("document.documentElement.dataset.theme"));
        var text = await PageChecks.UiTextAsync(page);
        Assert.DoesNotMatch(Internal, text);
        Assert.DoesNotMatch(PageChecks.English, text);
        if (width < 600)
        {
            Assert.Equal("", await PageChecks.OverflowAsync(page));
        }
    }

    private static Cookie SignupCookie(CookieContainer cookies, string baseUrl)
    {
        var cookie = cookies.GetCookies(new Uri(baseUrl))[SignupBrowser.CookieName];
        Assert.NotNull(cookie);
        Assert.True(cookie.HttpOnly, "the signup cookie must be httpOnly");
        return new Cookie { Name = cookie.Name, Value = cookie.Value, Url = baseUrl, HttpOnly = true, SameSite = SameSiteAttribute.Lax };
    }

    /// <summary>The badge is painted with the theme's warning colour, not the green of "ready".</summary>
    private static Task<bool> IsAmberAsync(ILocator badge) => badge.EvaluateAsync<bool>("""
        (el) => {
          const probe = document.createElement("span");
          probe.style.background = "var(--warn-bg)";
          document.body.append(probe);
          const amber = getComputedStyle(probe).backgroundColor;
          probe.remove();
          return getComputedStyle(el).backgroundColor === amber;
        }
        """);
}
