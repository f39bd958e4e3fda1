using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using Sajet.WebFront.Hosting;

namespace Sajet.WebFront.Auth;

/// <summary>
/// Authenticates with the access JWT from <c>Authorization: Bearer</c> (API clients) or the access cookie (browsers).
/// Unauthenticated page requests are sent to the matching login page; API requests get 401/403 problem+json.
/// </summary>
public sealed class JwtAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    TokenService tokens,
    RevokedSessions revoked,
    IProblemDetailsService problems) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "SajetJwt";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        var token = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header["Bearer ".Length..].Trim() : Request.Cookies[AuthCookies.Access];
        if (string.IsNullOrEmpty(token))
        {
            return AuthenticateResult.NoResult();
        }

        var principal = await tokens.ValidateAsync(token, Scheme.Name);
        if (principal is null)
        {
            return AuthenticateResult.Fail("The access token is invalid or expired.");
        }

        // A signed, unexpired token of a session that was ended (logout, refresh-token reuse) on any instance.
        return Guid.TryParse(principal.FindFirst(SajetClaims.SessionId)?.Value, out var session) && revoked.IsRevoked(session)
            ? AuthenticateResult.Fail("The session of this access token has ended.")
            : AuthenticateResult.Success(new AuthenticationTicket(principal, Scheme.Name));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        if (RequestKinds.IsApi(Request))
        {
            Response.StatusCode = StatusCodes.Status401Unauthorized;
            Response.Headers.WWWAuthenticate = "Bearer";
            await problems.WriteAsync(new ProblemDetailsContext
            {
                HttpContext = Context,
                ProblemDetails = { Status = 401, Title = "No autenticado", Detail = "Inicia sesión para continuar." },
            });
            return;
        }

        var login = Request.Path.StartsWithSegments("/admin") ? "/login/admin" : "/login/tenant";
        Response.Redirect($"{Request.PathBase}{login}?returnUrl={Uri.EscapeDataString(Request.PathBase + Request.Path + Request.QueryString)}");
    }

    protected override async Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status403Forbidden;
        if (RequestKinds.IsApi(Request))
        {
            await problems.WriteAsync(new ProblemDetailsContext
            {
                HttpContext = Context,
                ProblemDetails = { Status = 403, Title = "Acceso denegado", Detail = "Tu cuenta no tiene permiso para esta acción." },
            });
        }

        // Pages: the empty 403 is rendered by the Spanish error page (status code pages).
    }
}
