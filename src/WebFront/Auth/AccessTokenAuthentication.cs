using Microsoft.AspNetCore.Authentication.JwtBearer;
using Sajet.WebFront.Hosting;

namespace Sajet.WebFront.Auth;

/// <summary>
/// The access JWT, checked by ASP.NET Core's JwtBearer handler with TokenService's parameters. Sajet adds three things
/// around it: browsers carry the token in the httpOnly access cookie rather than a header; a signed, unexpired token
/// of a session that ended on any instance (RevokedSessions) is refused; and failures answer as the rest of the site
/// does — problem+json for the API, a redirect to the matching login page for pages.
/// </summary>
public static class AccessTokenAuthentication
{
    public const string SchemeName = JwtBearerDefaults.AuthenticationScheme;

    public static void Configure(JwtBearerOptions options, TokenService tokens, RevokedSessions revoked)
    {
        options.TokenValidationParameters = tokens.ValidationParameters(SchemeName);
        // Claims keep the names Sajet writes (sub, role, sid) instead of the WS-* URIs of the default mapping.
        options.MapInboundClaims = false;
        // Tokens are HS256 under Sajet's own key; there is no authority to fetch metadata from.
        options.RequireHttpsMetadata = false;
        options.Events = new JwtBearerEvents
        {
            OnMessageReceived = context =>
            {
                // An explicit Authorization header (API clients) wins; JwtBearer reads it when Token stays null.
                if (!context.Request.Headers.Authorization.ToString().StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
                {
                    context.Token = context.Request.Cookies[AuthCookies.Access];
                }

                return Task.CompletedTask;
            },
            OnTokenValidated = context =>
            {
                if (!Roles.IsValid(context.Principal?.FindFirst(SajetClaims.Role)?.Value))
                {
                    context.Fail("The access token carries no known role.");
                }
                else if (!Guid.TryParse(context.Principal?.FindFirst(SajetClaims.SessionId)?.Value, out var session) || revoked.IsRevoked(session))
                {
                    // Ended by logout, a password or 2FA change, an admin, or refresh-token reuse, on any instance.
                    context.Fail("The session of this access token has ended.");
                }

                return Task.CompletedTask;
            },
            OnChallenge = async context =>
            {
                context.HandleResponse();
                var http = context.HttpContext;
                if (RequestKinds.IsApi(http.Request))
                {
                    http.Response.StatusCode = StatusCodes.Status401Unauthorized;
                    http.Response.Headers.WWWAuthenticate = "Bearer";
                    await http.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
                    {
                        HttpContext = http,
                        ProblemDetails = { Status = 401, Title = "No autenticado", Detail = "Inicia sesión para continuar." },
                    });
                    return;
                }

                var request = http.Request;
                var login = request.Path.StartsWithSegments("/admin") ? "/login/admin" : "/login/tenant";
                http.Response.Redirect($"{request.PathBase}{login}?returnUrl={Uri.EscapeDataString(request.PathBase + request.Path + request.QueryString)}");
            },
            OnForbidden = async context =>
            {
                var http = context.HttpContext;
                http.Response.StatusCode = StatusCodes.Status403Forbidden;
                if (RequestKinds.IsApi(http.Request))
                {
                    await http.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
                    {
                        HttpContext = http,
                        ProblemDetails = { Status = 403, Title = "Acceso denegado", Detail = "Tu cuenta no tiene permiso para esta acción." },
                    });
                }

                // Pages: the empty 403 is rendered by the Spanish error page (status code pages).
            },
        };
    }
}
