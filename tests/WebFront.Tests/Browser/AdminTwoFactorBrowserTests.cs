extern alias simulators;

using Microsoft.Playwright;
using Sajet.WebFront.Auth;
using Sajet.WebFront.Tests.Onboarding;
using simulators::Sajet.Simulators.Proxmox;

namespace Sajet.WebFront.Tests.Browser;

/// <summary>The first admin turns on two-step verification in the browser and signs in with it.</summary>
public sealed class AdminTwoFactorBrowserTests(ChromiumFixture chromium) : IClassFixture<ChromiumFixture>
{
    [Fact]
    public async Task Admin_EnablesTotp_SignsInWithCode_SeesWaitingTenantLive_PlacesItFromTheWizard()
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

        // The capacity wizard: a paying tenant finds no node and appears in the waiting queue without a reload.
        await page.GotoAsync(h.Web.BaseUrl + "/admin/provision");
        await Assertions.Expect(page.GetByTestId("waiting-queue")).ToBeVisibleAsync();
        await page.EvaluateAsync("() => { window.__sameDocument = true; }");
        var silo = await h.StartSiloAsync("wizard-silo");
        var signed = await h.SignUpAndPayAsync("espera-asistente", status: "waiting_for_capacity");
        await Assertions.Expect(page.GetByTestId($"waiting-{signed.TenantId}")).ToBeVisibleAsync(new() { Timeout = 30_000 });
        Assert.True(await page.EvaluateAsync<bool>("() => window.__sameDocument === true"), "the queue must update without a reload");
        await shots.TakeAsync(page, "waiting-tenant-appeared");

        // A node is added while no silo runs (so nothing places the tenant behind the admin's back), shown online as
        // its first poll would leave it; then the admin places the tenant on it from the wizard.
        await h.StopSiloAsync(silo);
        await page.GetByTestId("add-node").ClickAsync();
        await page.GetByTestId("register-id").FillAsync("pve1");
        await page.GetByTestId("register-api-url").FillAsync(h.Proxmox.HttpsUrl.ToString().TrimEnd('/'));
        await page.GetByTestId("register-token-id").FillAsync(h.Proxmox.TokenId);
        await page.GetByTestId("register-token-secret").FillAsync(h.Proxmox.TokenSecret);
        await page.GetByTestId("register-fingerprint").FillAsync(h.Proxmox.CertificateFingerprint);
        await shots.TakeAsync(page, "add-node");
        await page.GetByTestId("register-submit").ClickAsync();
        await Assertions.Expect(page.GetByTestId("node-row-pve1")).ToBeVisibleAsync();
        await shots.TakeAsync(page, "node-added");
        await page.GotoAsync(h.Web.BaseUrl + "/admin/provision");

        await h.Db.ExecAsync("""
            UPDATE nodes SET health = 'online', metrics_at = now(), storage_present = true, template_present = true,
                             cores = 32, memory_bytes = 128::bigint << 30, disk_bytes = 4::bigint << 40
            WHERE id = 'pve1'
            """);
        await page.ReloadAsync();
        await Assertions.Expect(page.GetByTestId($"place-node-{signed.TenantId}").Locator("option[value=pve1]")).ToHaveCountAsync(1);
        await page.GetByTestId($"place-node-{signed.TenantId}").SelectOptionAsync("pve1");
        await page.GetByTestId($"place-{signed.TenantId}").ClickAsync();
        // No silo answers: the placement is queued durably and the page says so at once.
        await Assertions.Expect(page.GetByTestId("action-status")).ToHaveAttributeAsync("data-outcome", "in_progress");
        await Assertions.Expect(page.GetByTestId("action-status")).ToContainTextAsync("la acción queda en cola");
        await page.EvaluateAsync("() => { window.__sameDocument = true; }");
        await shots.TakeAsync(page, "placement-sent");

        // The operator's placement must be what places the tenant, not the capacity notice of the new node's first poll
        // racing it (seen on a loaded CI machine): the node's API answers slowly until the placement is in the history.
        // The placement itself does not wait for that slow poll: a reservation is not held up by a poll in flight.
        h.Proxmox.Cluster.AddLatency(new LatencyFault("/nodes/**", TimeSpan.FromSeconds(5)));
        h.Proxmox.Cluster.AddLatency(new LatencyFault("/cluster/**", TimeSpan.FromSeconds(5)));
        await h.StartSiloAsync("wizard-silo-2");
        await OnboardingHarness.WaitAsync(async () => await h.Db.ScalarAsync<long>(
            $"SELECT count(*) FROM grain_events WHERE grain_key = '{signed.TenantId}' AND reason LIKE '%pidió colocar en pve1%'") == 1, "the operator's placement", 60);
        h.Proxmox.Cluster.ResetFaults();
        await h.WaitForStatusAsync(signed.TenantId, "active");
        await Assertions.Expect(page.GetByTestId($"waiting-{signed.TenantId}")).ToHaveCountAsync(0, new() { Timeout = 30_000 });
        Assert.True(await page.EvaluateAsync<bool>("() => window.__sameDocument === true"), "the queue must update without a reload");
        await shots.TakeAsync(page, "placed");
        Assert.Equal(1, await h.Db.ScalarAsync<long>($"SELECT count(*) FROM grain_events WHERE grain_key = '{signed.TenantId}' AND reason LIKE '%pidió colocar en pve1%'"));
        Assert.Equal("pve1", await h.Db.ScalarAsync<string>($"SELECT node_id FROM tenants WHERE id = '{signed.TenantId}'"));

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
