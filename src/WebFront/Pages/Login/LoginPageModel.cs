using System.Globalization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Sajet.WebFront.Auth;
using Sajet.WebFront.Security;
using Sajet.Persistence.Secrets;

namespace Sajet.WebFront.Pages.Login;

/// <summary>
/// The login form of one role, in two steps when the account has 2FA. Between the steps the browser holds a
/// short-lived encrypted cookie naming the user whose password was just proven — never the password itself.
/// </summary>
public abstract class LoginPageModel(LoginService login, SecretProtector protector, TimeProvider time) : PageModel
{
    private const string PendingCookie = "sajet_2fa";
    private const string PendingPurpose = "login-2fa";
    private static readonly TimeSpan PendingLifetime = TimeSpan.FromMinutes(5);

    public abstract string Role { get; }

    public abstract string Heading { get; }

    /// <summary>The part of the site this role works in; a return URL must stay inside it.</summary>
    public abstract string Area { get; }

    public abstract string Home { get; }

    [BindProperty]
    public string? Email { get; set; }

    [BindProperty]
    public string? Password { get; set; }

    [BindProperty]
    public string? Code { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    public bool SecondStep { get; private set; }

    public string? Error { get; private set; }

    public void OnGet() => SecondStep = PendingUserId() is not null;

    public async Task<IActionResult> OnPostAsync(CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(Email) || string.IsNullOrEmpty(Password))
        {
            Error = "Escribe tu correo y tu contraseña.";
            return Page();
        }

        var result = await login.SignInAsync(Email, Password, Role, null, null, RateLimitPolicies.ClientIp(HttpContext), ct);
        Password = null;
        if (result.Status == LoginStatus.SecondFactorRequired)
        {
            var expires = time.GetUtcNow() + PendingLifetime;
            var value = protector.Protect($"{result.User!.Id}|{Role}|{expires.ToUnixTimeSeconds()}", PendingPurpose);
            Response.Cookies.Append(PendingCookie, value, AuthCookies.Options(HttpContext, Request.Path, expires));
            SecondStep = true;
            return Page();
        }

        return await FinishAsync(result);
    }

    public async Task<IActionResult> OnPostCodeAsync(CancellationToken ct)
    {
        if (PendingUserId() is not { } userId)
        {
            Error = "El tiempo para introducir el código ha terminado. Vuelve a escribir tu contraseña.";
            return Page();
        }

        SecondStep = true;
        var code = Code?.Trim() ?? "";
        var isTotp = code.Length == 6 && code.All(char.IsAsciiDigit);
        var result = await login.SecondFactorAsync(userId, Role, isTotp ? code : null, isTotp ? null : code, RateLimitPolicies.ClientIp(HttpContext), ct);
        Code = null;
        return await FinishAsync(result);
    }

    private async Task<IActionResult> FinishAsync(LoginResult result)
    {
        switch (result.Status)
        {
            case LoginStatus.Success:
                Response.Cookies.Delete(PendingCookie, AuthCookies.Options(HttpContext, Request.Path, null));
                AuthCookies.Set(HttpContext, result.Session!);
                return LocalRedirect(SafeReturnUrl());
            case LoginStatus.SecondFactorInvalid:
                Error = AuthProblems.SecondFactorInvalidText;
                return Page();
            case LoginStatus.Throttled:
                Error = "Has hecho demasiados intentos en poco tiempo. Espera un minuto y vuelve a intentarlo.";
                await RateLimitPolicies.AuditRejectionAsync(HttpContext, "login_failures");
                Response.StatusCode = StatusCodes.Status429TooManyRequests;
                return Page();
            default:
                SecondStep = false;
                Error = AuthProblems.InvalidCredentialsText;
                return Page();
        }
    }

    private long? PendingUserId()
    {
        if (Request.Cookies[PendingCookie] is not { Length: > 0 } cookie || protector.Unprotect(cookie, PendingPurpose) is not { } value)
        {
            return null;
        }

        var parts = value.Split('|');
        return parts.Length == 3 && parts[1] == Role
            && long.TryParse(parts[0], CultureInfo.InvariantCulture, out var id)
            && long.TryParse(parts[2], CultureInfo.InvariantCulture, out var expires)
            && DateTimeOffset.FromUnixTimeSeconds(expires) > time.GetUtcNow()
            ? id : null;
    }

    /// <summary>Only a local path inside this role's own area; anything else goes home (no open redirect).</summary>
    private string SafeReturnUrl() =>
        ReturnUrl is { Length: > 0 } url && Url.IsLocalUrl(url) && new PathString(url.Split('?', '#')[0]).StartsWithSegments(Area, StringComparison.OrdinalIgnoreCase)
            ? url : Home;
}

public sealed class AdminLoginModel(LoginService login, SecretProtector protector, TimeProvider time) : LoginPageModel(login, protector, time)
{
    public override string Role => Roles.Admin;

    public override string Heading => "Acceso de administración";

    public override string Area => "/admin";

    public override string Home => "/admin";
}

public sealed class TenantLoginModel(LoginService login, SecretProtector protector, TimeProvider time) : LoginPageModel(login, protector, time)
{
    public override string Role => Roles.Tenant;

    public override string Heading => "Acceso de clientes";

    public override string Area => "/tenant";

    public override string Home => "/tenant/portal";
}
