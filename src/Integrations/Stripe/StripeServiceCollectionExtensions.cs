using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Sajet.Integrations.Stripe;

public static class StripeServiceCollectionExtensions
{
    /// <summary>
    /// The Stripe client from section <c>Stripe</c> plus STRIPE_SECRET_KEY / STRIPE_WEBHOOK_SECRET (comma-separated
    /// during a rotation), validated on start. Without Stripe:BaseUrl it talks to api.stripe.com.
    /// </summary>
    public static IServiceCollection AddSajetStripe(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<StripeOptions>()
            .Bind(configuration.GetSection("Stripe"))
            .Configure(o => o.ApplyEnvironment(name => configuration[name]))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddHttpClient<StripeClient>();
        return services;
    }
}
