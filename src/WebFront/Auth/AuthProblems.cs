using Microsoft.AspNetCore.Http.HttpResults;

namespace Sajet.WebFront.Auth;

/// <summary>Problem types of sign-in; the UI switches on <c>type</c>, people read <c>detail</c>.</summary>
public static class AuthProblems
{
    public const string InvalidCredentials = "urn:sajet:problem:invalid-credentials";

    /// <summary>The password was right; ask for a TOTP code or a recovery code and send them with the same request.</summary>
    public const string SecondFactorRequired = "urn:sajet:problem:second-factor-required";

    public const string SecondFactorInvalid = "urn:sajet:problem:second-factor-invalid";

    public const string InvalidCredentialsText = "Correo o contraseña incorrectos. Tras varios intentos fallidos la cuenta se bloquea durante unos minutos.";
    public const string SecondFactorRequiredText = "Introduce el código de tu aplicación de autenticación o un código de recuperación.";
    public const string SecondFactorInvalidText = "El código no es válido o ya se ha usado.";

    public static ProblemHttpResult Invalid() =>
        TypedResults.Problem(InvalidCredentialsText, statusCode: 401, title: "No se pudo iniciar sesión", type: InvalidCredentials);

    public static ProblemHttpResult SecondFactorNeeded() =>
        TypedResults.Problem(SecondFactorRequiredText, statusCode: 401, title: "Falta el segundo factor", type: SecondFactorRequired);

    public static ProblemHttpResult SecondFactorWrong() =>
        TypedResults.Problem(SecondFactorInvalidText, statusCode: 401, title: "Código incorrecto", type: SecondFactorInvalid);
}
