using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Sajet.Grains.Provisioning;

namespace Sajet.Grains.Tests.Provisioning;

/// <summary>The silo reads Odoo's resilience values from configuration, keeps Odoo's defaults for the rest, and refuses bad ones.</summary>
public class OdooResilienceOptionsTests
{
    private static IOptions<OdooResilienceOptions> Resolve(params (string Key, string Value)[] settings)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value)))
            .Build();
        return new ServiceCollection().AddSajetGrainServices(configuration).BuildServiceProvider()
            .GetRequiredService<IOptions<OdooResilienceOptions>>();
    }

    [Fact]
    public void Configured_ValueIsUsed_OthersKeepOdoosDefaults()
    {
        var options = Resolve(("Odoo:Resilience:MaxReadRetries", "4")).Value.Resilience;
        Assert.Equal(4, options.MaxReadRetries);
        // Not Proxmox's 30 s nor the class default: create_database is synchronous and takes minutes.
        Assert.Equal(TimeSpan.FromMinutes(10), options.TotalTimeout);
    }

    [Fact]
    public void OutOfRange_IsRefusedWithTheSettingsName()
    {
        var ex = Assert.Throws<OptionsValidationException>(() => Resolve(("Odoo:Resilience:MaxReadRetries", "99")).Value);
        Assert.Contains("MaxReadRetries", ex.Message, StringComparison.Ordinal);
    }
}
