using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Sajet.WebFront.Audit;
using Sajet.WebFront.Security;

namespace Sajet.WebFront.Auth;

/// <summary>JSON sign-in API under /api/auth: login, refresh, logout, who am I, and 2FA set-up.</summary>
public static class AuthApi
{
    public sealed record LoginRequest(string? Email, string? Password, string? Role, string? TotpCode, string? RecoveryCode, bool TokenInBody = false);

    public sealed record SessionResponse(long UserId, string Email, string Role, string? TenantId, DateTimeOffset ExpiresAt, string? AccessToken);

    public sealed record MeResponse(long UserId, string Email, string Role, string? TenantId, bool TotpEnabled);

    public sealed record CodeRequest(string? Code);

    public sealed record RecoveryCodesResponse(string[] RecoveryCodes);

    public sealed record PasswordChangeRequest(string? CurrentPassword, string? NewPassword);

    public sealed record PasswordForgotRequest(string? Email);

    public sealed record PasswordResetRequest(string? Token, string? NewPassword);

    public static IEndpointRouteBuilder MapAuthApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/auth").WithTags("Autenticación").RequireRateLimiting(RateLimitPolicies.Auth);
        group.MapPost("/login", LoginAsync).RequireRateLimiting(RateLimitPolicies.Login)
            .WithSummary("Inicia sesión: pone las cookies de acceso y de renovación (y devuelve el JWT si tokenInBody es true).");
        group.MapPost("/refresh", RefreshAsync).WithSummary("Renueva la sesión: cambia el token de renovación de su cookie y emite un token de acceso nuevo.");
        group.MapPost("/logout", LogoutAsync).WithSummary("Cierra la sesión: revoca sus tokens de renovación y borra las cookies.");
        group.MapGet("/me", MeAsync).RequireAuthorization().WithSummary("La cuenta con la que se ha iniciado sesión: usuario, rol y si tiene 2FA.");

        group.MapPost("/password", ChangePasswordAsync).RequireAuthorization()
            .WithSummary("Cambia la contraseña con la actual: cierra las demás sesiones de la cuenta; la sesión que la cambia sigue abierta.");

        // Under the login limit too: each request can send a mail.
        group.MapPost("/password/forgot", ForgotPasswordAsync).RequireRateLimiting(RateLimitPolicies.Login)
            .WithSummary("Envía por correo un enlace de un solo uso (60 minutos) para elegir una contraseña nueva; la respuesta no dice si la dirección tiene cuenta.");
        group.MapPost("/password/reset", ResetPasswordAsync)
            .WithSummary("Elige una contraseña nueva con el enlace del correo: lo gasta y cierra todas las sesiones de la cuenta.");

        var twoFactor = group.MapGroup("/2fa").RequireAuthorization();
        twoFactor.MapPost("/setup", SetupAsync).WithSummary("Prepara la verificación en dos pasos: crea una semilla TOTP pendiente y devuelve su URI otpauth y su código QR.");
        twoFactor.MapPost("/enable", EnableAsync).WithSummary("Activa la verificación en dos pasos con un código de la semilla pendiente; devuelve 10 códigos de recuperación de un solo uso.");
        twoFactor.MapPost("/disable", DisableAsync).WithSummary("Desactiva la verificación en dos pasos con un código actual o uno de recuperación.");
        return app;
    }

    private static async Task<Results<Ok<SessionResponse>, ValidationProblem, ProblemHttpResult, EmptyHttpResult>> LoginAsync(
        LoginRequest body, HttpContext http, LoginService login, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrWhiteSpace(body.Email))
        {
            errors["email"] = ["El correo es obligatorio."];
        }

        if (string.IsNullOrEmpty(body.Password))
        {
            errors["password"] = ["La contraseña es obligatoria."];
        }

        if (!Roles.IsValid(body.Role))
        {
            errors["role"] = ["El rol debe ser «admin» o «tenant»."];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, title: "Revisa los datos del formulario.");
        }

        var result = await login.SignInAsync(body.Email!, body.Password!, body.Role!, body.TotpCode, body.RecoveryCode, RateLimitPolicies.ClientIp(http), ct);
        switch (result.Status)
        {
            case LoginStatus.Success:
                AuthCookies.Set(http, result.Session!);
                return TypedResults.Ok(ToResponse(result.Session!, body.TokenInBody));
            case LoginStatus.SecondFactorRequired:
                return AuthProblems.SecondFactorNeeded();
            case LoginStatus.SecondFactorInvalid:
                return AuthProblems.SecondFactorWrong();
            case LoginStatus.Throttled:
                await RateLimitPolicies.WriteTooManyRequestsAsync(http, result.RetryAfter, "login_failures");
                return TypedResults.Empty;
            default:
                return AuthProblems.Invalid();
        }
    }

    private static async Task<Results<Ok<SessionResponse>, ProblemHttpResult>> RefreshAsync(HttpContext http, Sessions sessions, CancellationToken ct)
    {
        var token = http.Request.Cookies[AuthCookies.Refresh];
        var result = string.IsNullOrEmpty(token) ? null : await sessions.RotateAsync(token, RateLimitPolicies.ClientIp(http), ct);
        if (result?.Session is not { } session)
        {
            AuthCookies.Clear(http);
            return TypedResults.Problem("La sesión ha caducado o se ha cerrado. Vuelve a iniciar sesión.", statusCode: 401, title: "Sesión no válida");
        }

        AuthCookies.Set(http, session);
        return TypedResults.Ok(ToResponse(session, tokenInBody: false));
    }

    private static async Task<NoContent> LogoutAsync(HttpContext http, Sessions sessions, TokenService tokens, AuditLog audit, CancellationToken ct)
    {
        var sessionId = await SessionToEndAsync(http, sessions, tokens, ct);
        if (sessionId is { } id)
        {
            await sessions.RevokeAsync(id, ct);
            await audit.WriteAsync(http, "auth.logout", new { session = id });
        }

        AuthCookies.Clear(http);
        return TypedResults.NoContent();
    }

    /// <summary>
    /// The session a logout ends: from the refresh cookie when the request carries it (API path), else from the
    /// access token's sid — whose signature is checked, but not its age, so an idle tab can still log out.
    /// </summary>
    public static async Task<Guid?> SessionToEndAsync(HttpContext http, Sessions sessions, TokenService tokens, CancellationToken ct)
    {
        if (http.Request.Cookies[AuthCookies.Refresh] is { Length: > 0 } refresh && await sessions.SessionOfAsync(refresh, ct) is { } fromRefresh)
        {
            return fromRefresh;
        }

        if (http.Request.Cookies[AuthCookies.Access] is { Length: > 0 } access
            && await tokens.ValidateAsync(access, "logout", ignoreLifetime: true) is { } principal
            && Guid.TryParse(principal.FindFirst(SajetClaims.SessionId)?.Value, out var fromAccess))
        {
            return fromAccess;
        }

        return null;
    }

    private static async Task<Results<Ok<MeResponse>, NotFound>> MeAsync(HttpContext http, NpgsqlDataSource db, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        var user = SajetClaims.UserIdOf(http.User) is { } id ? await Users.FindByIdAsync(conn, id, ct) : null;
        return user is null ? TypedResults.NotFound() : TypedResults.Ok(new MeResponse(user.Id, user.Email, user.Role, user.TenantId, user.TotpEnabled));
    }

    private static async Task<Results<NoContent, ValidationProblem>> ChangePasswordAsync(PasswordChangeRequest body, HttpContext http, PasswordChange passwords, CancellationToken ct) =>
        await passwords.ChangeAsync(http, body.CurrentPassword, body.NewPassword, ct) is { } errors
            ? TypedResults.ValidationProblem(errors, title: "No se pudo cambiar la contraseña.")
            : TypedResults.NoContent();

    private static async Task<Results<Accepted, ValidationProblem, ProblemHttpResult>> ForgotPasswordAsync(HttpContext http, PasswordForgotRequest body, PasswordReset resets, CancellationToken ct)
    {
        if (body.Email is not { Length: > 0 and <= 254 } email || !email.Contains('@', StringComparison.Ordinal))
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["email"] = ["Escribe la dirección de correo de tu cuenta."] },
                title: "No se pudo enviar el enlace.");
        }

        return await resets.RequestAsync(http, email, ct)
            ? TypedResults.Accepted((string?)null)
            : TypedResults.Problem("No se pudo enviar el correo ahora mismo. Inténtalo de nuevo en unos minutos.", statusCode: StatusCodes.Status503ServiceUnavailable,
                title: "Correo no disponible");
    }

    private static async Task<Results<NoContent, ValidationProblem>> ResetPasswordAsync(HttpContext http, PasswordResetRequest body, PasswordReset resets, CancellationToken ct) =>
        await resets.ResetAsync(http, body.Token, body.NewPassword, ct) is { } errors
            ? TypedResults.ValidationProblem(errors, title: "No se pudo cambiar la contraseña.")
            : TypedResults.NoContent();

    private static async Task<Results<Ok<TwoFactor.SetupInfo>, NotFound>> SetupAsync(HttpContext http, NpgsqlDataSource db, TwoFactor twoFactor, AuditLog audit, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        var user = SajetClaims.UserIdOf(http.User) is { } id ? await Users.FindByIdAsync(conn, id, ct) : null;
        if (user is null)
        {
            return TypedResults.NotFound();
        }

        var setup = await twoFactor.BeginSetupAsync(user, ct);
        await audit.WriteAsync(http, "auth.2fa_setup_started", new { userId = user.Id });
        return TypedResults.Ok(setup);
    }

    private static async Task<Results<Ok<RecoveryCodesResponse>, ValidationProblem>> EnableAsync(CodeRequest body, HttpContext http, TwoFactor twoFactor, AuditLog audit, CancellationToken ct)
    {
        var userId = SajetClaims.UserIdOf(http.User)!.Value;
        if (await twoFactor.EnableAsync(userId, body.Code, SajetClaims.SessionIdOf(http.User), ct) is not { } codes)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["code"] = ["El código no es válido. Comprueba la hora del dispositivo y vuelve a intentarlo."] },
                title: "No se pudo activar la verificación en dos pasos.");
        }

        await audit.WriteAsync(http, "auth.2fa_enabled", new { userId }, AuditSeverity.Warning);
        return TypedResults.Ok(new RecoveryCodesResponse(codes));
    }

    private static async Task<Results<NoContent, ValidationProblem>> DisableAsync(CodeRequest body, HttpContext http, TwoFactor twoFactor, AuditLog audit, CancellationToken ct)
    {
        var userId = SajetClaims.UserIdOf(http.User)!.Value;
        if (!await twoFactor.DisableAsync(userId, body.Code, SajetClaims.SessionIdOf(http.User), ct))
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["code"] = ["El código no es válido o la verificación en dos pasos no está activa."] },
                title: "No se pudo desactivar la verificación en dos pasos.");
        }

        await audit.WriteAsync(http, "auth.2fa_disabled", new { userId }, AuditSeverity.Warning);
        return TypedResults.NoContent();
    }

    private static SessionResponse ToResponse(Sessions.IssuedSession s, bool tokenInBody) =>
        new(s.User.Id, s.User.Email, s.User.Role, s.User.TenantId, s.AccessExpiresAt, tokenInBody ? s.AccessToken : null);
}
