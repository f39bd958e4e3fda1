using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Sajet.WebFront.Auth;

namespace Sajet.WebFront.Security;

/// <summary>
/// Protection by default: every path under /admin and /api/admin requires the admin policy, and every path under
/// /tenant and /api/tenant the tenant policy, whether or not the endpoint (or a page not written yet) remembered
/// to ask. The policies are also declared on the groups and page folders; this is the net under them.
/// </summary>
public sealed class AreaGuardMiddleware(RequestDelegate next)
{
    private static readonly (PathString Prefix, string Policy)[] Areas =
    [
        ("/admin", Roles.AdminPolicy),
        ("/api/admin", Roles.AdminPolicy),
        ("/tenant", Roles.TenantPolicy),
        ("/api/tenant", Roles.TenantPolicy),
    ];

    public static string? PolicyFor(PathString path) =>
        Areas.FirstOrDefault(a => path.StartsWithSegments(a.Prefix, StringComparison.OrdinalIgnoreCase)).Policy;

    public async Task InvokeAsync(HttpContext http, IAuthorizationService authorization)
    {
        // Paths that match no endpoint fall through to 404: the guard protects what exists, it does not advertise areas.
        if (http.GetEndpoint() is not null && PolicyFor(http.Request.Path) is { } policy && !(await authorization.AuthorizeAsync(http.User, policy)).Succeeded)
        {
            if (http.User.Identity?.IsAuthenticated == true)
            {
                await http.ForbidAsync();
            }
            else
            {
                await http.ChallengeAsync();
            }

            return;
        }

        await next(http);
    }
}
