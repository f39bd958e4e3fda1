using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Sajet.Grains.Nodes;
using Sajet.Integrations.Proxmox;
using Sajet.Runtime;
using Sajet.Runtime.Secrets;

namespace Sajet.Grains;

public static class GrainsRegistration
{
    /// <summary>Registers every Sajet grain type under its stable type name (the name is stored in the database).</summary>
    public static GrainRegistry AddSajetGrains(this GrainRegistry registry) => registry
        .Add<NodeGrain>(NodeGrainTypes.Node)
        .Add<ContainerGrain>(NodeGrainTypes.Container);

    /// <summary>Services the grains need (integration clients, options).</summary>
    public static IServiceCollection AddSajetGrainServices(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ProxmoxOptions>().Bind(configuration.GetSection(ProxmoxOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton(_ => SecretProtector.FromConfiguration(configuration));
        services.AddSingleton<NodePoller>();
        services.AddSingleton<CapacityNotifier>();
        return services;
    }
}
