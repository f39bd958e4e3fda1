using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Sajet.Grains;

namespace Sajet.SiloHosting;

public static class SajetSilo
{
    /// <summary>
    /// A Sajet silo: the Orleans silo on Sajet's database (membership, grain state, reminders) with the grains and the
    /// services they need, including the outbox dispatcher. The silo executable and the tests host the same thing.
    /// </summary>
    public static IHostApplicationBuilder AddSajetSilo(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSajetGrainServices(builder.Configuration);
        builder.UseOrleans(silo => silo.UseSajetCluster(builder.Configuration));
        return builder;
    }

    /// <summary>Builds a silo host from settings alone (tests, benchmarks): nothing read from files or the environment.</summary>
    public static IHost Build(IReadOnlyDictionary<string, string?> settings, Action<HostApplicationBuilder>? configure = null)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = "Testing" });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.AddSajetSilo();
        configure?.Invoke(builder);
        return builder.Build();
    }
}
