using Npgsql;
using Sajet.WebFront.Audit;
using Sajet.WebFront.Auth;
using Sajet.WebFront.Pages.Shared;

namespace Sajet.WebFront.Pages.Admin;

/// <summary>The operator's own account settings: 2FA.</summary>
public sealed class SettingsModel(NpgsqlDataSource db, TwoFactor twoFactor, AuditLog audit) : TwoFactorPageModel(db, twoFactor, audit);
