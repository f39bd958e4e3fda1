using System.Buffers.Text;
using System.Globalization;
using System.Text;

namespace Sajet.Persistence.Secrets;

/// <summary>What a welcome link says: whose account it opens, and until when.</summary>
public sealed record WelcomeLinkClaims(string TenantId, string Email, DateTimeOffset ExpiresAt);

/// <summary>
/// The token of the welcome mail's "choose your password" link. The silo mints it while it writes the welcome mail (the
/// mail is rendered once, in the tenant grain's projection), and the web front redeems it: a silo cannot write the web
/// front's password_resets table, so the token carries its own claims, sealed with AES-GCM under the secret key both
/// share (<see cref="SecretProtector"/>), and cannot be forged or altered. The web front makes it single-use by
/// recording its hash when it is spent. URL-safe base64 without padding.
/// </summary>
public static class WelcomeLink
{
    private const string Purpose = "welcome-link/v1";

    /// <summary>A reset link's token is 32 random bytes (43 characters); a welcome token is longer, and never above this.</summary>
    public const int MaxTokenLength = 512;

    public static string Mint(SecretProtector secrets, string tenantId, string email, DateTimeOffset expiresAt)
    {
        var payload = string.Join('\n', tenantId, email, expiresAt.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture));
        return Base64Url.EncodeToString(secrets.Seal(Encoding.UTF8.GetBytes(payload), Purpose));
    }

    /// <summary>The claims of a genuine token (expired or not: the caller judges the time); null for anything else.</summary>
    public static WelcomeLinkClaims? Read(SecretProtector secrets, string? token)
    {
        if (string.IsNullOrEmpty(token) || token.Length > MaxTokenLength || !Base64Url.IsValid(token))
        {
            return null;
        }

        if (secrets.Open(Base64Url.DecodeFromChars(token), Purpose) is not { } plain)
        {
            return null;
        }

        var parts = Encoding.UTF8.GetString(plain).Split('\n');
        return parts.Length == 3 && long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var expires)
            ? new WelcomeLinkClaims(parts[0], parts[1], DateTimeOffset.FromUnixTimeSeconds(expires))
            : null;
    }
}
