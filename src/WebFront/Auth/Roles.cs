using System.Security.Claims;

namespace Sajet.WebFront.Auth;

/// <summary>Roles, claim names and authorization policy names shared by every feature.</summary>
public static class Roles
{
    public const string Admin = "admin";
    public const string Tenant = "tenant";

    /// <summary>Authorization policy names: put them on a MapGroup or a Razor Pages folder, not on single endpoints.</summary>
    public const string AdminPolicy = "admin";
    public const string TenantPolicy = "tenant";

    public static bool IsValid(string? role) => role is Admin or Tenant;
}

public static class SajetClaims
{
    public const string Subject = "sub";
    public const string Email = "email";
    public const string Role = "role";
    public const string TenantId = "tenant_id";

    /// <summary>The refresh-token family of the sign-in that issued the token, so logout can end it.</summary>
    public const string SessionId = "sid";

    /// <summary>The tenant a tenant user may see; null for admins and anonymous users. Never take it from the request.</summary>
    public static string? TenantIdOf(ClaimsPrincipal user) =>
        user.IsInRole(Roles.Tenant) ? user.FindFirstValue(TenantId) : null;

    public static long? UserIdOf(ClaimsPrincipal user) =>
        long.TryParse(user.FindFirstValue(Subject), out var id) ? id : null;

    /// <summary>The session (refresh-token family) of the request's access token.</summary>
    public static Guid? SessionIdOf(ClaimsPrincipal user) =>
        Guid.TryParse(user.FindFirstValue(SessionId), out var id) ? id : null;

    public static string? EmailOf(ClaimsPrincipal user) => user.FindFirstValue(Email);
}
