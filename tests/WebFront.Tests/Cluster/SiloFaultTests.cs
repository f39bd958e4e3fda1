using System.Diagnostics;
using Sajet.WebFront.Tests.Onboarding;
using Xunit.Abstractions;

namespace Sajet.WebFront.Tests.Cluster;

/// <summary>
/// Real silo processes (the silo executable) in one Orleans cluster; one of them is killed or frozen while tenants
/// provision. Every tenant must still end active, with each transition once in its history and exactly one container
/// or database — whatever was in flight on the lost silo is resumed by another one from its stored state.
/// </summary>
[Collection(FaultCollection.Name)]
[Trait("Category", FaultCollection.Category)]
public sealed class SiloFaultTests(ITestOutputHelper output)
{
    [Fact]
    public Task ThreeSilos_OneKilledWhileThirtyProvision_AllActiveOnce() => FaultWhileProvisioningAsync("kill", p => p.Kill(entireProcessTree: true));

    [Fact]
    public Task ThreeSilos_OneFrozenWhileThirtyProvision_AllActiveOnce() => FaultWhileProvisioningAsync("stop", p => Signal(p, "STOP"));

    private async Task FaultWhileProvisioningAsync(string fault, Action<Process> inject)
    {
        // Tasks take a fraction of their real duration, so provisioning is in flight when the fault lands.
        await using var h = await OnboardingHarness.StartAsync(nodes: 3, taskScale: 0.3);
        var silos = Enumerable.Range(1, 3).Select(i => h.StartSiloProcess($"{fault}-{i}")).ToList();
        await h.WaitForSilosAsync(3);
        await h.RegisterNodesAsync("pve1", "pve2", "pve3");

        var signed = await Task.WhenAll(Enumerable.Range(1, 30).Select(i => h.SignUpAsync($"{fault}-{i:00}", i % 3 == 0 ? "basic" : "pro")));
        Parallel.ForEach(signed, s => h.Stripe.Control.PayCheckoutSession(s.SessionId));
        await OnboardingHarness.WaitAsync(async () => await h.Db.ScalarAsync<long>(
            $"SELECT count(*) FROM tenants WHERE subdomain LIKE '{fault}-%' AND status = 'provisioning'") >= 5, "tenants mid-provisioning", 120);

        var victim = silos[0];
        var at = DateTime.UtcNow;
        inject(victim);
        output.WriteLine($"{fault}: silo {victim.Id} at {at:O}");

        foreach (var s in signed)
        {
            await h.WaitForStatusAsync(s.TenantId, "active", 300);
        }

        // The last tenant to move again after the fault: its first history row written after the fault.
        var recovered = await h.Db.ScalarAsync<double>($"""
            SELECT coalesce(max(first_after), 0) FROM (
                SELECT extract(epoch FROM min(e.at) - '{at:O}'::timestamptz) AS first_after
                FROM grain_events e JOIN tenants t ON t.id = e.grain_key
                WHERE e.grain_type = 'tenant' AND t.subdomain LIKE '{fault}-%' AND e.at > '{at:O}'::timestamptz
                GROUP BY e.grain_key) moved
            """);
        output.WriteLine($"{fault}: {recovered:F1} s from the fault to the last tenant moving again");

        var containers = h.Proxmox.Cluster.Containers.ToList();
        foreach (var s in signed)
        {
            foreach (var state in new[] { "pending", "paid", "placing", "provisioning", "active" })
            {
                Assert.Equal(1, await h.Db.ScalarAsync<long>(
                    $"SELECT count(*) FROM grain_events WHERE grain_type = 'tenant' AND grain_key = '{s.TenantId}' AND to_state = '{state}'"));
            }

            var subdomain = await h.Db.ScalarAsync<string>($"SELECT subdomain FROM tenants WHERE id = '{s.TenantId}'");
            var plan = await h.Db.ScalarAsync<string>($"SELECT plan_id FROM tenants WHERE id = '{s.TenantId}'");
            Assert.Equal(plan == "pro" ? 1 : 0, containers.Count(c => c.Config.GetValueOrDefault("hostname") == $"t-{subdomain}"));
            Assert.Single(h.Odoo.Control.Databases, d => d.Name == subdomain);
        }

        if (fault == "stop")
        {
            Signal(victim, "CONT"); // Voted out meanwhile: it finds itself dead and stops.
        }
    }

    private static void Signal(Process process, string signal)
    {
        using var kill = Process.Start("kill", $"-{signal} {process.Id}");
        kill.WaitForExit();
    }
}
