using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Sajet.WebFront.Auth;

/// <summary>
/// Issues and validates the short-lived access JWT (HS256). The signing key is derived from JWT_SECRET_KEY with
/// HKDF so it never equals the key that encrypts secrets at rest, even when both come from one configured value.
/// </summary>
public sealed class TokenService
{
    private readonly AuthOptions _options;
    private readonly TimeProvider _time;
    private readonly SymmetricSecurityKey _key;
    private readonly JsonWebTokenHandler _handler = new() { MapInboundClaims = false };

    public TokenService(IOptions<AuthOptions> options, TimeProvider time)
    {
        _options = options.Value;
        _time = time;
        _key = new SymmetricSecurityKey(HKDF.DeriveKey(HashAlgorithmName.SHA256, Encoding.UTF8.GetBytes(_options.JwtSecretKey), 32,
            Encoding.UTF8.GetBytes("sajet"), Encoding.UTF8.GetBytes("sajet/jwt/v1")));
    }

    /// <summary>An access token for the user; <paramref name="issuedAt"/> defaults to now.</summary>
    public (string Token, DateTimeOffset ExpiresAt) CreateAccessToken(UserAccount user, Guid sessionId, DateTimeOffset? issuedAt = null)
    {
        var iat = issuedAt ?? _time.GetUtcNow();
        var expires = iat + _options.AccessTokenLifetime;
        var claims = new Dictionary<string, object>
        {
            [SajetClaims.Subject] = user.Id.ToString(),
            [SajetClaims.Email] = user.Email,
            [SajetClaims.Role] = user.Role,
            [SajetClaims.SessionId] = sessionId.ToString(),
            ["jti"] = Guid.NewGuid().ToString("N"),
        };
        if (user.TenantId is not null)
        {
            claims[SajetClaims.TenantId] = user.TenantId;
        }

        var token = _handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = _options.Issuer,
            Audience = _options.Issuer,
            IssuedAt = iat.UtcDateTime,
            NotBefore = iat.UtcDateTime,
            Expires = expires.UtcDateTime,
            Claims = claims,
            SigningCredentials = new SigningCredentials(_key, SecurityAlgorithms.HmacSha256),
        });
        return (token, expires);
    }

    /// <summary>
    /// What a valid access token is: Sajet's issuer and audience, HS256 under the derived key, unexpired within 30 s of
    /// clock skew between web fronts. The JwtBearer handler and logout's own check share it.
    /// </summary>
    public TokenValidationParameters ValidationParameters(string authenticationType, bool ignoreLifetime = false) => new()
    {
        ValidIssuer = _options.Issuer,
        ValidAudience = _options.Issuer,
        IssuerSigningKey = _key,
        // Pinning the algorithm closes the "alg: none" and algorithm-confusion doors.
        ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
        ValidateLifetime = !ignoreLifetime,
        RequireExpirationTime = true,
        ClockSkew = TimeSpan.FromSeconds(30),
        NameClaimType = SajetClaims.Email,
        RoleClaimType = SajetClaims.Role,
        AuthenticationType = authenticationType,
    };

    /// <summary>The principal the token stands for, or null when it is malformed, tampered with or expired.</summary>
    public async Task<ClaimsPrincipal?> ValidateAsync(string token, string authenticationType, bool ignoreLifetime = false)
    {
        var result = await _handler.ValidateTokenAsync(token, ValidationParameters(authenticationType, ignoreLifetime));
        if (!result.IsValid || !Roles.IsValid(result.ClaimsIdentity.FindFirst(SajetClaims.Role)?.Value))
        {
            return null;
        }

        return new ClaimsPrincipal(result.ClaimsIdentity);
    }
}
