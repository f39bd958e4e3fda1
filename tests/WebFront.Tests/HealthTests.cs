using System.Net;

namespace Sajet.WebFront.Tests;

public sealed class HealthTests(WebFixture fx) : IClassFixture<WebFixture>
{
    [Fact]
    public async Task Health_ReportsDatabaseAndSiloHeartbeats()
    {
        var app = fx.Factory;
        await app.ScalarAsync<int>("""
            INSERT INTO silos (silo_id, host, pid, heartbeat_at) VALUES
                ('silo-alive', 'host-a', 11, now() - interval '2 seconds'),
                ('silo-stale', 'host-b', 12, now() - interval '10 minutes');
            SELECT 1
            """);

        var response = await app.Client().GetAsync("/health");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.JsonAsync();
        Assert.Equal("ok", body.GetProperty("status").GetString());
        Assert.Equal("ok", body.GetProperty("database").GetString());
        var silos = body.GetProperty("silos").EnumerateArray().ToDictionary(s => s.GetProperty("id").GetString()!);
        Assert.True(silos["silo-alive"].GetProperty("alive").GetBoolean());
        Assert.Equal("host-a", silos["silo-alive"].GetProperty("host").GetString());
        Assert.InRange(silos["silo-alive"].GetProperty("heartbeatAgeSeconds").GetDouble(), 0, 60);
        Assert.False(silos["silo-stale"].GetProperty("alive").GetBoolean());
        Assert.InRange(silos["silo-stale"].GetProperty("heartbeatAgeSeconds").GetDouble(), 590, 1200);

        // The admin dashboard shows the same rows.
        var admin = app.Client();
        await admin.LoginAsync(SajetWebFactory.AdminLogin, SajetWebFactory.AdminPassword, "admin");
        var dashboard = await admin.GetStringAsync("/admin");
        Assert.Contains("Panel de administración", dashboard, StringComparison.Ordinal);
        Assert.Contains("silo-alive", dashboard, StringComparison.Ordinal);
        Assert.Contains("1 silo activo", dashboard, StringComparison.Ordinal);
    }
}
