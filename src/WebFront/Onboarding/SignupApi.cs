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
            .WithSummary("Sign up: creates the tenant (pending), the Stripe customer and a Checkout Session.");
        return app;
    }

    private static async Task<Results<Created<CheckoutStarted>, ValidationProblem, ProblemHttpResult>> CheckoutAsync(
        SignupRequest request, Signup signup, CancellationToken ct) =>
        await signup.StartAsync(request, ct) switch
        {
            SignupResult.Started s => TypedResults.Created($"/api/onboarding/status", new CheckoutStarted(s.TenantId, s.CheckoutUrl)),
            SignupResult.Invalid i => TypedResults.ValidationProblem(i.Errors, title: "Revisa los datos del alta"),
            SignupResult.PaymentUnavailable p => TypedResults.Problem(statusCode: 502, title: "Pago no disponible", detail: p.Detail),
            _ => throw new InvalidOperationException("unknown signup result"),
        };
}
