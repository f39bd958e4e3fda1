using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Npgsql;
using Sajet.WebFront.Audit;
using Sajet.WebFront.Auth;

namespace Sajet.WebFront.Pages.Shared;

/// <summary>
/// A page with the 2FA panel (_TwoFactorPanel): set up (QR + secret), enable with a code, disable.
/// The same TwoFactor service backs /api/auth/2fa; the page posts forms so it works without script.
/// </summary>
public abstract class TwoFactorPageModel(NpgsqlDataSource db, TwoFactor twoFactor, AuditLog audit) : PageModel
{
    /// <summary>For pages that show more than the 2FA panel, without capturing the data source twice.</summary>
    protected NpgsqlDataSource Db => db;

    protected AuditLog Audit => audit;

    public UserAccount? Account { get; private set; }

    public TwoFactor.SetupInfo? Setup { get; private set; }

    /// <summary>Shown once, right after enabling; only their hashes are kept.</summary>
    public IReadOnlyList<string>? RecoveryCodes { get; private set; }

    public string? TwoFactorError { get; private set; }

    public string? TwoFactorNotice { get; private set; }

    [BindProperty]
    public string? TwoFactorCode { get; set; }

    // The password form (_PasswordPanel) lives beside 2FA: both are how a signed-in user guards the account.
    [BindProperty]
    public string? CurrentPassword { get; set; }

    [BindProperty]
    public string? NewPassword { get; set; }

    public IReadOnlyDictionary<string, string[]>? PasswordErrors { get; private set; }

    public string? PasswordNotice { get; private set; }

    public virtual async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        await LoadAsync(ct);
        return Account is null ? Forbid() : Page();
    }

    public async Task<IActionResult> OnPostSetupAsync(CancellationToken ct)
    {
        await LoadAsync(ct);
        if (Account is null)
        {
            return Forbid();
        }

        Setup = await twoFactor.BeginSetupAsync(Account, ct);
        await audit.WriteAsync(HttpContext, "auth.2fa_setup_started", new { userId = Account.Id });
        return Page();
    }

    public async Task<IActionResult> OnPostEnableAsync(CancellationToken ct)
    {
        var userId = SajetClaims.UserIdOf(User);
        var codes = userId is { } id ? await twoFactor.EnableAsync(id, TwoFactorCode, SajetClaims.SessionIdOf(User), ct) : null;
        TwoFactorCode = null;
        await LoadAsync(ct);
        if (codes is null)
        {
            TwoFactorError = "El código no es válido. Vuelve a generar el código QR si ha pasado mucho tiempo y comprueba la hora del dispositivo.";
            return Page();
        }

        await audit.WriteAsync(HttpContext, "auth.2fa_enabled", new { userId }, AuditSeverity.Warning);
        RecoveryCodes = codes;
        TwoFactorNotice = "Verificación en dos pasos activada.";
        return Page();
    }

    public async Task<IActionResult> OnPostDisableAsync(CancellationToken ct)
    {
        var userId = SajetClaims.UserIdOf(User);
        var ok = userId is { } id && await twoFactor.DisableAsync(id, TwoFactorCode, SajetClaims.SessionIdOf(User), ct);
        TwoFactorCode = null;
        await LoadAsync(ct);
        if (!ok)
        {
            TwoFactorError = "El código no es válido o ya se ha usado.";
            return Page();
        }

        await audit.WriteAsync(HttpContext, "auth.2fa_disabled", new { userId }, AuditSeverity.Warning);
        TwoFactorNotice = "Verificación en dos pasos desactivada.";
        return Page();
    }

    public async Task<IActionResult> OnPostPasswordAsync([FromServices] PasswordChange passwords, CancellationToken ct)
    {
        var errors = await passwords.ChangeAsync(HttpContext, CurrentPassword, NewPassword, ct);
        CurrentPassword = NewPassword = null;
        await LoadAsync(ct);
        if (Account is null)
        {
            return Forbid();
        }

        PasswordErrors = errors;
        PasswordNotice = errors is null ? "Contraseña cambiada. Se han cerrado tus demás sesiones; esta sigue abierta." : null;
        return Page();
    }

    protected virtual async Task LoadAsync(CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        Account = SajetClaims.UserIdOf(User) is { } id ? await Users.FindByIdAsync(conn, id, ct) : null;
    }
}
