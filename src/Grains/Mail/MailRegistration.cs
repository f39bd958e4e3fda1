using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Sajet.Integrations.Mail;

namespace Sajet.Grains.Mail;

public static class MailRegistration
{
    /// <summary>The SMTP defaults and the outbox sender of a silo, both validated on start.</summary>
    public static IServiceCollection AddSajetMail(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<MailOptions>().Bind(configuration.GetSection(MailOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<MailOutboxOptions>().Bind(configuration.GetSection(MailOutboxOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddHostedService<MailSender>();
        return services;
    }
}
