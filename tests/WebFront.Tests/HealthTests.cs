using System.Net;

namespace Sajet.WebFront.Tests;

public sealed class OrleansHealthTests(WebFixture fx) : IClassFixture<WebFixture>
{
    [Fact]
    public async Task Health_ListsOrleansSilosFromTheMembershipTable_AndTheAdminPageShowsThem()
    {
        var app = fx.Factory;
        // Rows as Orleans' clustering provider writes them (cluster "sajet", the default Cluster:ClusterId).
        await app.ScalarAsync<int>("""
            INSERT INTO orleans_membership_version (deployment_id, version) VALUES ('sajet', 7) ON CONFLICT DO NOTHING;
            INSERT INTO orleans_membership (deployment_id, address, port, generation, silo_name, host_name, status, proxy_port,
                                            start_time, i_am_alive_time) VALUES
                ('sajet', '127.0.0.1', 11111, 42, 'silo-orleans-a', 'host-a', 3, 30000, now() - interval '1 hour', now() - interval '3 seconds'),
                ('sajet', '127.0.0.1', 11112, 43, 'silo-orleans-b', 'host-b', 6, 30001, now() - interval '2 hours', now() - interval '30 minutes');
            SELECT 1
            """);

        var body = await (await app.Client().GetAsync("/health")).JsonAsync();
        // No silo runs in these tests: the web front is up with its Orleans client still trying to connect.
        Assert.Equal("connecting", body.GetProperty("orleansClient").GetString());
        var silos = body.GetProperty("orleansSilos").EnumerateArray().ToDictionary(s => s.GetProperty("name").GetString()!);
        Assert.Equal("active", silos["silo-orleans-a"].GetProperty("status").GetString());
        Assert.Equal("127.0.0.1:11111", silos["silo-orleans-a"].GetProperty("address").GetString());
        Assert.InRange(silos["silo-orleans-a"].GetProperty("iAmAliveAgeSeconds").GetDouble(), 0, 60);
        Assert.Equal("dead", silos["silo-orleans-b"].GetProperty("status").GetString());

        var admin = app.Client();
        await admin.LoginAsync(SajetWebFactory.AdminLogin, SajetWebFactory.AdminPassword, "admin");
        var dashboard = await admin.GetStringAsync("/admin");
        Assert.Contains("Silos de Orleans", dashboard, StringComparison.Ordinal);
        Assert.Contains("silo-orleans-a", dashboard, StringComparison.Ordinal);
        Assert.Contains("muerto", dashboard, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OrleansDashboard_AdminsOnly_WithItsOwnStylePolicy()
    {
        var app = fx.Factory;
        var anonymous = await app.Client().GetAsync("/admin/orleans/");
        Assert.NotEqual(HttpStatusCode.OK, anonymous.StatusCode);

        var admin = app.Client();
        await admin.LoginAsync(SajetWebFactory.AdminLogin, SajetWebFactory.AdminPassword, "admin");
        var page = await admin.GetAsync("/admin/orleans/");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("Orleans Dashboard", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var csp = string.Join(' ', page.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("style-src 'self' 'unsafe-inline'", csp, StringComparison.Ordinal);
        Assert.Contains("script-src 'self';", csp, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/admin/orleans/index.min.js")).StatusCode);
    }
}
