using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Sajet.Integrations.Stripe;
using Sajet.Persistence;
using Sajet.WebFront.Security;

namespace Sajet.WebFront.Onboarding;

public sealed record CheckoutStarted(string TenantId, string CheckoutUrl);

public static class SignupApi
{
    public static IServiceCollection AddSajetOnboarding(this IServiceCollection services)
    {
        services.AddScoped<Signup>();
        services.AddOptions<SignupBrowserOptions>().BindConfiguration(SignupBrowserOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        // One verifier for every webhook request: the secrets and tolerance only change with a restart.
        services.AddSingleton(sp =>
        {
            var stripe = sp.GetRequiredService<IOptions<StripeOptions>>().Value;
            return new StripeWebhookVerifier(stripe.WebhookSecrets, stripe.WebhookTolerance, sp.GetRequiredService<TimeProvider>());
        });
        services.AddKeyedSingleton(StripeEventStore.DataSourceKey, (sp, _) => Database.CreateDataSource(
            Database.ConnectionString(sp.GetRequiredService<IConfiguration>()), sp.GetService<ILoggerFactory>(), StripeEventStore.ConfigureConnections));
        services.AddSingleton<StripeEventStore>();
        return services;
    }

    public static IEndpointRouteBuilder MapSignupApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/checkout", CheckoutAsync)
            .AllowAnonymous()
            .DisableAntiforgery() // A JSON API for scripts and other sites' forms is not cookie-authenticated.
            .RequireRateLimiting(RateLimitPolicies.Checkout)
            .WithTags("Alta")
            .WithSummary("Alta: crea el cliente (pendiente), el cliente en Stripe y la sesión de pago de Stripe Checkout.");
        return app;
    }

    private static async Task<Results<Created<CheckoutStarted>, ValidationProblem, ProblemHttpResult>> CheckoutAsync(
        SignupRequest request, Signup signup, HttpResponse response, IOptions<SignupBrowserOptions> browser, CancellationToken ct) =>
        await signup.StartAsync(request, ct) switch
        {
            SignupResult.Started s => Started(s, response, browser.Value),
            SignupResult.Invalid i => TypedResults.ValidationProblem(i.Errors, title: "Revisa los datos del alta"),
            SignupResult.PaymentUnavailable p => TypedResults.Problem(statusCode: 502, title: "Pago no disponible", detail: p.Detail),
            _ => throw new InvalidOperationException("unknown signup result"),
        };

    // The client that called the API is the one paying (a browser's fetch, or a script that follows the checkout URL).
    private static Created<CheckoutStarted> Started(SignupResult.Started started, HttpResponse response, SignupBrowserOptions browser)
    {
        SignupBrowser.Remember(response, started.BrowserToken, browser.CookieLifetime);
        return TypedResults.Created("/api/onboarding/status", new CheckoutStarted(started.TenantId, started.CheckoutUrl));
    }
}
