using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Sajet.Grains.Interfaces.Outbox;
using Sajet.Grains.Mail;
using Sajet.Grains.Nodes;
using Sajet.Grains.Outbox;
using Sajet.Grains.Provisioning;
using Sajet.Grains.Tenants;
using Sajet.Grains.Workflow;
using Sajet.Integrations.Proxmox;
using Sajet.Integrations.Stripe;
using Sajet.Persistence;
using Sajet.Persistence.Secrets;

namespace Sajet.Grains;

public static class GrainsRegistration
{
    /// <summary>
    /// What the grains need in a silo: the database, integration clients and their options (validated on start), and the
    /// outbox dispatcher that delivers the web front's commands.
    /// </summary>
    public static IServiceCollection AddSajetGrainServices(this IServiceCollection services, IConfiguration configuration)
    {
        // A silo frozen (or cut off) in the middle of a turn's transaction must not hold its locks for ever: PostgreSQL
        // ends a session left idle inside a transaction after 10 s, and a turn waits at most 10 s for a lock before it
        // fails and is retried. Turns never keep a transaction open across a call to Proxmox, Odoo or Stripe, so neither
        // limit touches a healthy silo.
        services.TryAddSingleton(sp => Database.CreateDataSource(Database.ConnectionString(configuration), sp.GetService<ILoggerFactory>(),
            c => c.Options = $"{c.Options} -c idle_in_transaction_session_timeout=10s -c lock_timeout=10s".Trim()));
        services.AddOptions<WorkflowOptions>().Bind(configuration.GetSection(WorkflowOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<OutboxOptions>().Bind(configuration.GetSection(OutboxOptions.Section));
        services.AddOptions<TenantOptions>().Bind(configuration.GetSection(TenantOptions.Section))
            // One name for the public address across the web front and the silos, kept from the system Sajet replaces.
            .PostConfigure(o => o.AppUrl = configuration["APP_URL"] is { Length: > 0 } url ? url : o.AppUrl)
            .ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<ProxmoxOptions>().Bind(configuration.GetSection(ProxmoxOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddSajetStripe(configuration);
        services.AddSingleton<StripeBillingActivities>();
        services.AddOptions<OdooResilienceOptions>().Bind(configuration.GetSection(OdooResilienceOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddHttpClient(OdooActivities.HttpClientName);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(_ => SecretProtector.FromConfiguration(configuration));
        services.AddSingleton<Provisioner>();
        services.AddSingleton<OdooActivities>();
        services.AddSingleton<NodePoller>();
        services.AddSajetOutbox();
        services.AddHostedService<OutboxDispatcher>();
        services.AddSajetMail(configuration);
        return services;
    }
}
