namespace Sajet.WebFront.Security;

public static class SecurityExtensions
{
    public static IServiceCollection AddSajetSecurity(this IServiceCollection services)
    {
        services.AddOptions<SecurityHeadersOptions>().BindConfiguration(SecurityHeadersOptions.Section).ValidateOnStart();
        services.AddOptions<RequestLimitOptions>().BindConfiguration(RequestLimitOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSajetRateLimiting();
        services.AddSajetDataProtection();   // one key ring in PostgreSQL for every web front instance
        // Razor forms carry the token in a hidden field; the cookie is httpOnly and strict like the session ones.
        services.AddAntiforgery(o =>
        {
            o.Cookie.Name = "sajet_af";
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
        });
        return services;
    }

    /// <summary>Headers and size limits, first in the pipeline so every answer (errors included) gets them.</summary>
    public static IApplicationBuilder UseSajetSecurityHeaders(this IApplicationBuilder app) =>
        app.UseMiddleware<SecurityHeadersMiddleware>().UseMiddleware<RequestSizeLimitMiddleware>();

    /// <summary>Input PostgreSQL cannot store (U+0000) refused with 400; after error handling, so pages get the error page.</summary>
    public static IApplicationBuilder UseSajetInputChecks(this IApplicationBuilder app) => app.UseMiddleware<NulCharacterMiddleware>();

    /// <summary>Authentication, the area guard and authorization, in that order.</summary>
    public static IApplicationBuilder UseSajetAuthorization(this IApplicationBuilder app) =>
        app.UseAuthentication().UseMiddleware<AreaGuardMiddleware>().UseAuthorization();
}
