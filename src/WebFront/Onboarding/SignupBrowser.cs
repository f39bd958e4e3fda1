using System.Buffers.Text;
using System.ComponentModel.DataAnnotations;
using System.Security.Cryptography;
using System.Text;

namespace Sajet.WebFront.Onboarding;

/// <summary>How long the browser that signed up is remembered (section <c>Onboarding:SignupBrowser</c>).</summary>
public sealed class SignupBrowserOptions : IValidatableObject
{
    public const string Section = "Onboarding:SignupBrowser";

    /// <summary>
    /// How long the browser keeps the cookie that proves it signed up (/success then names the account's login). It has
    /// to outlast the payment, the provisioning and a wait for capacity, which may take days.
    /// </summary>
    public TimeSpan CookieLifetime { get; set; } = TimeSpan.FromDays(7);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (CookieLifetime < TimeSpan.FromHours(1) || CookieLifetime > TimeSpan.FromDays(90))
        {
            yield return new ValidationResult("Onboarding:SignupBrowser:CookieLifetime must be between 1 hour and 90 days.", [nameof(CookieLifetime)]);
        }
    }
}

/// <summary>
/// The cookie that ties a browser to the signup it started: a random token, of which the signups row keeps only the
/// SHA-256. httpOnly so page scripts never see it; SameSite=Lax so Stripe's redirect back to /success (a top-level
/// navigation from another site) still carries it.
/// </summary>
public static class SignupBrowser
{
    public const string CookieName = "sajet_signup";

    public static (string Token, byte[] Hash) NewToken()
    {
        var token = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
        return (token, HashOf(token));
    }

    public static byte[] HashOf(string token) => SHA256.HashData(Encoding.ASCII.GetBytes(token));

    /// <summary>The hash of the request's signup cookie, or null when it has none (or not one of ours).</summary>
    public static byte[]? HashOf(HttpRequest request) =>
        request.Cookies.TryGetValue(CookieName, out var token) && token is { Length: > 0 and <= 64 } ? HashOf(token) : null;

    public static void Remember(HttpResponse response, string token, TimeSpan lifetime) =>
        response.Cookies.Append(CookieName, token, new CookieOptions
        {
            HttpOnly = true,
            Secure = response.HttpContext.Request.IsHttps,
            SameSite = SameSiteMode.Lax,
            Path = "/",
            MaxAge = lifetime,
            IsEssential = true,
        });
}
