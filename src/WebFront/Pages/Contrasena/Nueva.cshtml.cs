using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.RateLimiting;
using Sajet.WebFront.Auth;
using Sajet.WebFront.Security;

namespace Sajet.WebFront.Pages.Contrasena;

/// <summary>The page the reset and welcome mails link to: a new password for the link's account (PasswordReset).</summary>
[EnableRateLimiting(RateLimitPolicies.Auth)]
public sealed class NuevaModel(PasswordReset resets) : PageModel
{
    [BindProperty(SupportsGet = true, Name = "t")]
    public string? Token { get; set; }

    [BindProperty]
    public string? NewPassword { get; set; }

    [BindProperty]
    public string? Repeat { get; set; }

    public Dictionary<string, string[]> Errors { get; private set; } = [];

    public bool Done { get; private set; }

    /// <summary>The welcome mail's link: a first password, which the customer's Odoo administrator gets too.</summary>
    public bool Welcome => resets.IsWelcome(Token);

    public void OnGet()
    {
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken ct)
    {
        if (NewPassword != Repeat)
        {
            Errors = new() { ["repeat"] = ["Las dos contraseñas no coinciden."] };
            return Page();
        }

        if (await resets.ResetAsync(HttpContext, Token, NewPassword, ct) is { } errors)
        {
            Errors = errors;
            return Page();
        }

        Done = true;
        return Page();
    }
}
