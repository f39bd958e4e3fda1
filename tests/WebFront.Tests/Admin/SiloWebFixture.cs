using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Sajet.TestSupport;

namespace Sajet.WebFront.Tests.Admin;

/// <summary>
/// The web front with one in-process silo on the same database: for pages whose answer comes from grains (the
/// capacity wizard asks the placement grain, which asks the node grains). Ready once the web front's cluster client
/// has connected.
/// </summary>
public sealed class SiloWebFixture : WebFixture
{
    private IHost? _silo;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        var settings = TestSilos.Settings(Factory.Db.ConnectionString);
        settings["SAJET_SECRET_KEY"] = SajetWebFactory.JwtSecretKey; // the web front's key protects the node tokens it stores
        settings["STRIPE_SECRET_KEY"] = "sk_test_not_used_by_these_tests";
        settings["STRIPE_WEBHOOK_SECRET"] = "whsec_not_used_by_these_tests";
        settings["Logging:LogLevel:Default"] = "Warning";
        _silo = await TestSilos.StartAsync(settings, b => b.Logging.SetMinimumLevel(LogLevel.Warning));

        await TestSilos.ClusterConnectedAsync(Factory.Services);
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        if (_silo is not null)
        {
            await TestSilos.StopAsync(_silo);
        }
    }
}
