extern alias simulators;

using Microsoft.Playwright;
using Sajet.WebFront.Tests.Onboarding;

namespace Sajet.WebFront.Tests.Browser;

/// <summary>A newcomer's whole way from the landing page to a ready Odoo, in a real browser.</summary>
public sealed class NewcomerJourneyBrowserTests(ChromiumFixture chromium) : IClassFixture<ChromiumFixture>
{
    [Fact]
    public async Task Newcomer_ChoosesPro_Pays_AndWatchesOdooBecomeReadyWithoutReload()
    {
        var shots = Screenshots.For();
        await using var h = await OnboardingHarness.StartAsync(nodes: 1);
        // Reconciliation an hour away: the tenant can only leave "pending" through the webhook this test releases,
        // so the success page is known to load before anything is ready.
        await h.StartSiloAsync("browser-journey", s => s["Tenants:ReconcileFirstInterval"] = "01:00:00");
        await h.RegisterNodesAsync("pve1");

        await using var context = await Chromium.NewContextAsync(chromium.Browser);
        var page = await context.NewPageAsync();
        var problems = PageProblems.Watch(page);

        // Landing: the plans are the database's active plans, in its order.
        await page.GotoAsync(h.Web.BaseUrl + "/");
        await shots.TakeAsync(page, "landing");
        var plans = (await h.Db.ScalarAsync<string>("SELECT string_agg(id || '=' || name, ',' ORDER BY sort, price_cents) FROM plans WHERE active")).Split(',');
        var cards = page.Locator("[data-testid^='plan-']");
        await Assertions.Expect(cards).ToHaveCountAsync(plans.Length);
        for (var i = 0; i < plans.Length; i++)
        {
            var (id, name) = (plans[i].Split('=')[0], plans[i].Split('=')[1]);
            await Assertions.Expect(cards.Nth(i)).ToHaveAttributeAsync("data-testid", $"plan-{id}");
            await Assertions.Expect(cards.Nth(i).Locator("h3")).ToHaveTextAsync(name);
        }

        // Signup form, reached from the Pro card with Pro already chosen.
        await page.GetByTestId("choose-pro").ClickAsync();
        await page.WaitForURLAsync("**/signup?plan=pro");
        await Assertions.Expect(page.GetByTestId("signup-plan")).ToHaveValueAsync("pro");
        await page.GetByTestId("signup-company").FillAsync("Ferretería Navegador S.L.");
        await page.GetByTestId("signup-email").FillAsync("duena@navegador.example.com");
        await page.GetByTestId("signup-subdomain").FillAsync("navegador");
        await page.GetByTestId("signup-country").SelectOptionAsync("MX");
        await shots.TakeAsync(page, "signup-filled");

        // Held back so the success page provably loads first; released once it is on screen.
        var webhook = Assert.Single(h.Stripe.Control.WebhookEndpoints).Url;
        h.Stripe.Control.ClearWebhookEndpoints();
        var eventsBefore = h.Stripe.Control.Events.Count;

        // Stripe's hosted checkout (the simulator's), in Spanish.
        await page.GetByTestId("signup-submit").ClickAsync();
        await page.WaitForURLAsync(h.Stripe.BaseUrl.TrimEnd('/') + "/c/pay/**");
        Assert.Equal("es", await page.EvaluateAsync<string>("document.documentElement.lang"));
        await Assertions.Expect(page.GetByText("MODO DE PRUEBA")).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByText("Pagar con tarjeta")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#email")).ToHaveValueAsync("duena@navegador.example.com");
        await shots.TakeAsync(page, "stripe-checkout");

        // The status API asks the tenant grain to check the session with Stripe while it is pending (a customer whose
        // webhook is late still moves on); Stripe failing those reads keeps it pending until the webhook is released.
        h.Stripe.Control.AddFault(new simulators::Sajet.Simulators.Stripe.StripeFault { PathPrefix = "/v1/checkout/sessions", Method = "GET", Status = 500 });
        await page.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Pagar", Exact = true }).ClickAsync();
        await page.WaitForURLAsync("**/success?session_id=*");
        Assert.StartsWith(h.Web.BaseUrl + "/success?session_id=", page.Url);
        var status = page.GetByTestId("onboarding-status");
        await Assertions.Expect(status).ToHaveAttributeAsync("data-status", "pending");
        await Assertions.Expect(page.Locator("#onboarding-progress")).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByTestId("onboarding-ready")).ToBeHiddenAsync();
        await shots.TakeAsync(page, "success-pending");

        // From here on the page must update itself: a marker on window and a navigation count both prove no reload.
        await page.EvaluateAsync("window.__sajetNoReload = true");
        var navigations = 0;
        page.FrameNavigated += (_, frame) =>
        {
            if (frame == page.MainFrame)
            {
                Interlocked.Increment(ref navigations);
            }
        };

        h.Stripe.Control.ClearFaults();
        h.Stripe.Control.AddWebhookEndpoint(webhook);
        foreach (var evt in h.Stripe.Control.Events.Skip(eventsBefore))
        {
            h.Stripe.Control.ResendEvent((string)evt["id"]!);
        }

        try
        {
            await Assertions.Expect(status).ToHaveAttributeAsync("data-status", "active", new LocatorAssertionsToHaveAttributeOptions { Timeout = 120_000 });
        }
        catch (PlaywrightException ex)
        {
            var tenant = await h.Db.ScalarAsync<string>("SELECT id FROM tenants WHERE subdomain = 'navegador'");
            throw new InvalidOperationException($"{ex.Message}\n{await h.DescribeAsync(tenant)}", ex);
        }

        await Assertions.Expect(status).ToHaveTextAsync("Listo");
        await Assertions.Expect(page.GetByTestId("onboarding-ready")).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByTestId("onboarding-url")).ToHaveTextAsync($"https://navegador.{OnboardingHarness.Domain}");
        // The browser that signed up on /signup (its cookie) is shown its login; the password is chosen from the welcome mail.
        await Assertions.Expect(page.GetByTestId("onboarding-login")).ToHaveTextAsync("duena@navegador.example.com");
        await Assertions.Expect(page.GetByTestId("onboarding-signin-note")).ToContainTextAsync("con un enlace para elegir tu contraseña");
        await Assertions.Expect(page.Locator("#onboarding-progress")).ToHaveJSPropertyAsync("value", 100);
        await shots.TakeAsync(page, "success-ready");

        Assert.True(await page.EvaluateAsync<bool>("window.__sajetNoReload === true"), "the success page reloaded");
        Assert.Equal(0, Volatile.Read(ref navigations));
        Assert.True(problems.Unexpected.Count == 0, string.Join("\n", problems.Unexpected));
    }
}
