using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Sajet.WebFront.Audit;
using Sajet.WebFront.Auth;

namespace Sajet.WebFront.Pages;

/// <summary>The header's "Cerrar sesión" form posts here (with its antiforgery token); GET does nothing.</summary>
[AllowAnonymous]
public sealed class LogoutModel(Sessions sessions, TokenService tokens, AuditLog audit) : PageModel
{
    public IActionResult OnGet() => LocalRedirect("/");

    public async Task<IActionResult> OnPostAsync(CancellationToken ct)
    {
        var home = User.IsInRole(Roles.Admin) ? "/login/admin" : "/";
        if (await AuthApi.SessionToEndAsync(HttpContext, sessions, tokens, ct) is { } sessionId)
        {
            await sessions.RevokeAsync(sessionId, ct);
            await audit.WriteAsync(HttpContext, "auth.logout", new { session = sessionId });
        }

        AuthCookies.Clear(HttpContext);
        return LocalRedirect(home);
    }
}
