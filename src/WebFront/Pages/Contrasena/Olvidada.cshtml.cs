using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.RateLimiting;
using Sajet.WebFront.Auth;
using Sajet.WebFront.Security;

namespace Sajet.WebFront.Pages.Contrasena;

/// <summary>"¿Olvidaste tu contraseña?": asks for the account's address and sends the link (PasswordReset).</summary>
[EnableRateLimiting(RateLimitPolicies.Login)]
public sealed class OlvidadaModel(PasswordReset resets) : PageModel
{
    [BindProperty]
    public string? Email { get; set; }

    public string? Error { get; private set; }

    public bool Sent { get; private set; }

    public void OnGet()
    {
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken ct)
    {
        if (Email is not { Length: > 0 and <= 254 } email || !email.Contains('@', StringComparison.Ordinal))
        {
            Error = "Escribe la dirección de correo de tu cuenta.";
            return Page();
        }

        if (!await resets.RequestAsync(HttpContext, email, ct))
        {
            Error = "No se pudo enviar el correo ahora mismo. Inténtalo de nuevo en unos minutos.";
            return Page();
        }

        Sent = true;
        return Page();
    }
}
