using Npgsql;
using Sajet.WebFront.Audit;
using Sajet.WebFront.Auth;
using Sajet.WebFront.Pages.Shared;

namespace Sajet.WebFront.Pages.Tenant;

/// <summary>The customer's portal. Everything shown is scoped by the tenant id in the token, never by the URL.</summary>
public sealed class PortalModel(NpgsqlDataSource db, TwoFactor twoFactor, AuditLog audit) : TwoFactorPageModel(db, twoFactor, audit)
{
    public string TenantId => SajetClaims.TenantIdOf(User) ?? "";
}
