using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Stripe;

namespace Sajet.Integrations.Stripe;

public static class StripeServiceCollectionExtensions
{
    private const string HttpClientKey = "stripe";

    /// <summary>
    /// Stripe.net's <see cref="StripeClient"/> (also as <see cref="IStripeClient"/>), once per container, from section
    /// <c>Stripe</c> plus STRIPE_SECRET_KEY / STRIPE_WEBHOOK_SECRET (comma-separated during a rotation), validated on
    /// start. Without Stripe:ApiBase it talks to api.stripe.com. Requests carry the SDK's pinned API version
    /// (<see cref="StripeOptions.PinnedApiVersion"/>, 2026-10-28.endive for Stripe.net 53.1.0).
    /// </summary>
    public static IServiceCollection AddSajetStripe(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<StripeOptions>()
            .Bind(configuration.GetSection(StripeOptions.SectionName))
            .Configure(o => o.ApplyEnvironment(name => configuration[name]))
            .ValidateDataAnnotations()
            .ValidateOnStart();

        // One long-lived HttpClient for the one client; recycling pooled connections lets it follow DNS changes, which a
        // singleton would otherwise never see. Keyed so that nobody else picks it up, and disposed with the container.
        services.TryAddKeyedSingleton(HttpClientKey, (sp, _) => new HttpClient(new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        })
        {
            Timeout = sp.GetRequiredService<IOptions<StripeOptions>>().Value.Timeout,
        });
        services.TryAddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<StripeOptions>>().Value;
            var apiBase = options.ApiBase.TrimEnd('/');
            // Sajet uploads no files and uses no Connect OAuth; with another API base (the simulator) those go there too,
            // so that a dev or test setup can never reach the real Stripe by a path nobody thought of.
            var elsewhere = apiBase != StripeClient.DefaultApiBase ? apiBase : null;
            return new StripeClient(new StripeClientOptions
            {
                ApiKey = options.SecretKey,
                ApiBase = apiBase,
                FilesBase = elsewhere,
                ConnectBase = elsewhere,
                HttpClient = new SystemNetHttpClient(sp.GetRequiredKeyedService<HttpClient>(HttpClientKey), options.MaxNetworkRetries),
            });
        });
        services.TryAddSingleton<IStripeClient>(sp => sp.GetRequiredService<StripeClient>());
        services.TryAddSingleton<StripeInvoiceCharges>();
        return services;
    }
}
