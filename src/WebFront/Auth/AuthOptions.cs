using System.ComponentModel.DataAnnotations;
using Sajet.WebFront.Security;
using Sajet.Persistence.Secrets;

namespace Sajet.WebFront.Auth;

/// <summary>
/// Sign-in settings (section <c>Auth</c>). The environment names of the system this replaces win over the
/// section: JWT_SECRET_KEY, ADMIN_USERNAME, ADMIN_PASSWORD.
/// </summary>
public sealed class AuthOptions : IValidatableObject
{
    public const string Section = "Auth";

    /// <summary>Root of the JWT signing key (and of SecretProtector's when SAJET_SECRET_KEY is unset).</summary>
    [Required(ErrorMessage = "JWT_SECRET_KEY is not set: give it a random value of at least 32 characters (e.g. openssl rand -base64 48).")]
    public string JwtSecretKey { get; set; } = "";

    /// <summary>Login name of the first admin, created on start when no admin exists. An email, or a plain name.</summary>
    public string? AdminUsername { get; set; }

    public string? AdminPassword { get; set; }

    public string Issuer { get; set; } = "sajet";

    /// <summary>Shown by authenticator apps next to the account.</summary>
    public string TotpIssuer { get; set; } = "Sajet";

    public TimeSpan AccessTokenLifetime { get; set; } = TimeSpan.FromMinutes(15);

    public TimeSpan RefreshTokenLifetime { get; set; } = TimeSpan.FromDays(7);

    /// <summary>However often it is refreshed, a session ends this long after its sign-in.</summary>
    public TimeSpan SessionMaxLifetime { get; set; } = TimeSpan.FromDays(30);

    [Range(1, 100)]
    public int MaxFailedAttempts { get; set; } = 5;

    /// <summary>Failures count toward a lockout when they fall within this window of the first one.</summary>
    public TimeSpan FailureWindow { get; set; } = TimeSpan.FromMinutes(15);

    public TimeSpan LockoutDuration { get; set; } = TimeSpan.FromMinutes(15);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (JwtSecretKey.Length is > 0 and < SecretProtector.MinimumSecretLength)
        {
            yield return new ValidationResult($"JWT_SECRET_KEY must be at least {SecretProtector.MinimumSecretLength} characters long.", [nameof(JwtSecretKey)]);
        }

        if (AccessTokenLifetime <= TimeSpan.Zero || AccessTokenLifetime > TimeSpan.FromHours(1))
        {
            yield return new ValidationResult("Auth:AccessTokenLifetime must be between 0 and 1 hour.", [nameof(AccessTokenLifetime)]);
        }

        if (RefreshTokenLifetime <= TimeSpan.Zero || SessionMaxLifetime < RefreshTokenLifetime)
        {
            yield return new ValidationResult("Auth:RefreshTokenLifetime must be positive and not longer than Auth:SessionMaxLifetime.", [nameof(RefreshTokenLifetime)]);
        }

        if (string.IsNullOrWhiteSpace(AdminUsername) != string.IsNullOrEmpty(AdminPassword))
        {
            yield return new ValidationResult("ADMIN_USERNAME and ADMIN_PASSWORD are set together or not at all.", [nameof(AdminUsername)]);
        }
    }
}
