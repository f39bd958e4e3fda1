using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Sajet.Grains.Interfaces;
using Sajet.Grains.Nodes;
using Sajet.Grains.Provisioning;
using Sajet.Grains.Tenants;
using Sajet.Integrations.Proxmox;
using Sajet.Integrations.Stripe;
using Sajet.Runtime;
using Sajet.Runtime.Secrets;

namespace Sajet.Grains;

public static class GrainsRegistration
{
    /// <summary>Registers every Sajet grain type under its stable type name (the name is stored in the database).</summary>
    public static GrainRegistry AddSajetGrains(this GrainRegistry registry) => registry
        .Add<TenantGrain>(GrainTypes.Tenant)
        .Add<CapacityGrain>(GrainTypes.Capacity)
        .Add<NodeGrain>(NodeGrainTypes.Node)
        .Add<ContainerGrain>(NodeGrainTypes.Container);

    /// <summary>Services the grains need: integration clients and their options, validated on start.</summary>
    public static IServiceCollection AddSajetGrainServices(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<TenantOptions>().Bind(configuration.GetSection(TenantOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<ProxmoxOptions>().Bind(configuration.GetSection(ProxmoxOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddSajetStripe(configuration);
        services.AddSingleton<StripeBillingActivities>();
        services.AddHttpClient("odoo");
        services.TryAddSingleton(_ => SecretProtector.FromConfiguration(configuration));
        services.AddSingleton<Provisioner>();
        services.AddSingleton<NodePoller>();
        services.AddSingleton<CapacityNotifier>();
        return services;
    }
}
