using Microsoft.Extensions.Options;

namespace Sajet.WebFront.Security;

/// <summary>Section <c>SecurityHeaders</c>.</summary>
public sealed class SecurityHeadersOptions
{
    public const string Section = "SecurityHeaders";

    /// <summary>
    /// Origins a form may post to besides our own. Checkout forms post to us and we answer with a redirect to
    /// Stripe; browsers apply form-action to that redirect too, so Stripe's hosted pages must be listed.
    /// </summary>
    public string[] FormActionOrigins { get; set; } = ["https://checkout.stripe.com", "https://billing.stripe.com"];

    public TimeSpan HstsMaxAge { get; set; } = TimeSpan.FromDays(365);
}

/// <summary>
/// Security headers on every response, errors included (added when the response starts, after any Clear()).
/// Scripts and styles only from our origin: there is no inline script or style anywhere in our pages.
/// </summary>
public sealed class SecurityHeadersMiddleware(RequestDelegate next, IOptions<SecurityHeadersOptions> options)
{
    private readonly string _csp =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; " +
        "object-src 'none'; frame-ancestors 'none'; base-uri 'self'; " +
        $"form-action {string.Join(' ', ["'self'", .. options.Value.FormActionOrigins])}";

    // Swagger UI (third-party, /docs only) sets style attributes from its script; its scripts are still files of ours.
    private readonly string _docsCsp =
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; " +
        "object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'";

    // The Orleans Dashboard (third-party, /admin/orleans, admins only) has style attributes in its page and sets more
    // from its script; its scripts, fonts and data are all served from here, so only style-src is relaxed.
    private readonly string _orleansDashboardCsp =
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; connect-src 'self'; " +
        "object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'";

    private readonly string _hsts = $"max-age={(long)options.Value.HstsMaxAge.TotalSeconds}; includeSubDomains";

    public Task InvokeAsync(HttpContext http)
    {
        http.Response.OnStarting(() =>
        {
            var headers = http.Response.Headers;
            headers.ContentSecurityPolicy =
                http.Request.Path.StartsWithSegments("/docs") ? _docsCsp
                : http.Request.Path.StartsWithSegments("/admin/orleans") ? _orleansDashboardCsp
                : _csp;
            headers.XContentTypeOptions = "nosniff";
            headers.XFrameOptions = "DENY";
            headers["Referrer-Policy"] = "strict-origin-when-cross-origin";
            headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()";
            headers["Cross-Origin-Opener-Policy"] = "same-origin";
            if (http.Request.IsHttps)
            {
                headers.StrictTransportSecurity = _hsts;
            }

            return Task.CompletedTask;
        });
        return next(http);
    }
}
