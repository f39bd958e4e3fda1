using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Microsoft.Playwright;
using Sajet.WebFront.Tests.Onboarding;

namespace Sajet.WebFront.Tests.Browser;

/// <summary>
/// Issue 10, defects 5–7 in a real browser: each action on a tenant shows its outcome in place (a refusal too), the
/// page offers only what the state allows and follows the tenant live, and seven admin tabs over plain http all load
/// and stay live (one stream per browser, not one per tab).
/// </summary>
public sealed class AdminActionsBrowserTests(ChromiumFixture chromium) : IClassFixture<ChromiumFixture>
{
    [Fact]
    public async Task TenantActions_ShowTheirOutcomeInPlace_OnlyValidOnesOffered_SevenTabsStayLive()
    {
        var shots = Screenshots.For();
        await using var h = await OnboardingHarness.StartAsync(nodes: 1);
        await h.StartSiloAsync("actions-browser");
        await h.RegisterNodesAsync("pve1");
        using var api = await h.AdminClientAsync();
        Assert.Equal(HttpStatusCode.OK, (await api.PatchAsJsonAsync("/api/nodes/pve1", new { maintenance = true })).StatusCode);
        var signed = await h.SignUpAndPayAsync("acciones-web", status: "waiting_for_capacity");

        await using var context = await Chromium.NewContextAsync(chromium.Browser);
        var page = await context.NewPageAsync();
        var problems = PageProblems.Watch(page);
        await page.GotoAsync(h.Web.BaseUrl + "/login/admin");
        await page.GetByTestId("login-email").FillAsync(SajetWebFactory.AdminLogin);
        await page.GetByTestId("login-password").FillAsync(SajetWebFactory.AdminPassword);
        await page.GetByTestId("login-submit").ClickAsync();
        await page.WaitForURLAsync(h.Web.BaseUrl + "/admin");

        var detail = $"{h.Web.BaseUrl}/admin/tenants/{signed.TenantId}";
        await page.GotoAsync(detail);
        await page.EvaluateAsync("() => { window.__sameDocument = true; }");
        await ExpectButtonsAsync(page, visible: ["retry", "place", "keep-waiting", "cancel"], hidden: ["suspend", "resume"]);
        await shots.TakeAsync(page, "waiting-actions");

        // A refusal is shown where the operator looks, with the node's own reason.
        var status = page.GetByTestId("action-status");
        await page.GetByTestId("place-node").SelectOptionAsync("pve1");
        var clock = Stopwatch.StartNew();
        await page.GetByTestId("place").ClickAsync();
        await Assertions.Expect(status).ToHaveAttributeAsync("data-outcome", "refused");
        Console.WriteLine($"[actions] place refused shown after {clock.ElapsedMilliseconds} ms");
        await Assertions.Expect(status).ToContainTextAsync("pve1 no puede alojar");
        await Assertions.Expect(status).ToContainTextAsync("En mantenimiento.");
        await shots.TakeAsync(page, "place-refused");

        clock.Restart();
        await page.GetByTestId("keep-waiting").ClickAsync();
        await Assertions.Expect(status).ToHaveAttributeAsync("data-outcome", "done");
        Console.WriteLine($"[actions] keep waiting done shown after {clock.ElapsedMilliseconds} ms");
        await Assertions.Expect(status).ToContainTextAsync("sigue en la cola");

        // The node leaves maintenance: the queue places the tenant, and the open page follows it to active.
        Assert.Equal(HttpStatusCode.OK, (await api.PatchAsJsonAsync("/api/nodes/pve1", new { maintenance = false })).StatusCode);
        await h.WaitForStatusAsync(signed.TenantId, "active");
        await Assertions.Expect(page.GetByTestId("tenant-status")).ToHaveAttributeAsync("data-status", "active", new() { Timeout = 30_000 });
        await ExpectButtonsAsync(page, visible: ["suspend", "cancel"], hidden: ["retry", "place", "keep-waiting", "resume"]);
        await shots.TakeAsync(page, "active-actions");

        // Suspending asks for the tick first: without it the browser does not send the form.
        await page.GetByTestId("suspend").ClickAsync();
        Assert.Equal("active", await h.StatusAsync(signed.TenantId));
        await page.GetByTestId("suspend-confirm").CheckAsync();
        clock.Restart();
        await page.GetByTestId("suspend").ClickAsync();
        await Assertions.Expect(status).ToHaveTextAsync("Cliente suspendido.");
        Console.WriteLine($"[actions] suspend done shown after {clock.ElapsedMilliseconds} ms");
        await Assertions.Expect(page.GetByTestId("tenant-status")).ToHaveAttributeAsync("data-status", "suspended");
        await ExpectButtonsAsync(page, visible: ["resume", "cancel"], hidden: ["suspend", "retry"]);
        await shots.TakeAsync(page, "suspended");

        clock.Restart();
        await page.GetByTestId("resume").ClickAsync();
        await Assertions.Expect(status).ToHaveTextAsync("Cliente reactivado.");
        Console.WriteLine($"[actions] resume done shown after {clock.ElapsedMilliseconds} ms");
        await Assertions.Expect(page.GetByTestId("tenant-status")).ToHaveAttributeAsync("data-status", "active");
        Assert.True(await page.EvaluateAsync<bool>("() => window.__sameDocument === true"), "the actions must not reload the page");

        // Seven tabs over plain http (HTTP/1.1 allows six connections per host): all load, and all follow a change
        // made elsewhere (the API here) without a reload.
        var tabs = new List<IPage> { page };
        for (var i = 1; i < 7; i++)
        {
            var tab = await context.NewPageAsync();
            await tab.GotoAsync(i % 2 == 0 ? detail : h.Web.BaseUrl + "/admin/tenants", new() { Timeout = 20_000 });
            await tab.EvaluateAsync("() => { window.__sameDocument = true; }");
            tabs.Add(tab);
        }

        var seventh = await context.NewPageAsync();
        await seventh.GotoAsync(detail, new() { Timeout = 20_000 });
        tabs.Add(seventh);
        Assert.Equal(HttpStatusCode.OK, (await api.PostAsync($"/api/admin/tenants/{signed.TenantId}/suspend", null)).StatusCode);
        foreach (var tab in tabs.Where(t => t.Url == detail))
        {
            await Assertions.Expect(tab.GetByTestId("tenant-status")).ToHaveAttributeAsync("data-status", "suspended", new() { Timeout = 20_000 });
        }

        foreach (var tab in tabs.Where(t => t.Url != detail))
        {
            await Assertions.Expect(tab.GetByTestId($"tenant-row-{signed.TenantId}")).ToHaveAttributeAsync("data-status", "suspended", new() { Timeout = 20_000 });
        }

        await shots.TakeAsync(seventh, "seventh-tab-live");
        Assert.True(problems.Unexpected.Count == 0, string.Join("\n", problems.Unexpected));
    }

    private static async Task ExpectButtonsAsync(IPage page, string[] visible, string[] hidden)
    {
        foreach (var id in visible)
        {
            await Assertions.Expect(page.GetByTestId(id)).ToBeVisibleAsync();
        }

        foreach (var id in hidden)
        {
            await Assertions.Expect(page.GetByTestId(id)).ToHaveCountAsync(0);
        }
    }
}
