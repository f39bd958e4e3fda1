using Npgsql;
using Sajet.Grains.Interfaces;
using Sajet.Persistence.Secrets;
using Sajet.Grains.Tenants;
using Sajet.Grains.Workflow;

namespace Sajet.Grains.Mail;

/// <summary>
/// The mail a tenant's transitions cause, enqueued in the tenant grain's projection transaction — the one that writes
/// those transitions to history — so a mail exists exactly when its transition does. Each mail's id is derived from
/// the transition's (state version, position), so re-projecting after a crash enqueues nothing twice (a welcome link
/// minted again then is dropped with its duplicate mail; the first one sent is the one that works).
/// </summary>
public static class TenantMail
{
    public static async Task EnqueueAsync(NpgsqlConnection conn, NpgsqlTransaction tx, string tenantId, TenantState tenant, IReadOnlyList<HistoryEntry> history,
        TenantOptions options, SecretProtector secrets, CancellationToken ct)
    {
        foreach (var h in history)
        {
            if (h.To is not { } to || to == h.From || Mail(tenantId, tenant, h, to, options, secrets) is not ({ } mail, var toAdmins))
            {
                continue;
            }

            var id = MailOutbox.StableId($"tenant/{tenantId}/{h.Version}/{h.Seq}/{mail.Template}");
            if (toAdmins)
            {
                await MailOutbox.EnqueueToAdminsAsync(conn, tx, id, mail, tenantId, ct);
            }
            else if (tenant.Email.Length > 0)
            {
                await MailOutbox.EnqueueAsync(conn, tx, id, mail, [tenant.Email], tenantId, ct);
            }
        }
    }

    /// <summary>Which mail a transition causes, and whether it goes to the operators; null for none.</summary>
    private static (MailContent? Mail, bool ToAdmins) Mail(string tenantId, TenantState t, HistoryEntry h, string to, TenantOptions options, SecretProtector secrets) => (h.From, to) switch
    {
        (TenantStatus.Provisioning, TenantStatus.Active) => (MailTemplates.WelcomeMail(t.CompanyName, t.Url ?? $"https://{t.Subdomain}.{options.Domain}", t.Email,
            WelcomeLinkOf(tenantId, t, h, options, secrets), options.WelcomeLinkLifetime), false),
        (_, TenantStatus.PastDue) => (MailTemplates.PaymentFailedMail(t.CompanyName, t.Url), false),
        (_, TenantStatus.Suspended) => (MailTemplates.SuspendedMail(t.CompanyName, h.Reason), false),
        (TenantStatus.Suspended, TenantStatus.Active) => (MailTemplates.ResumedMail(t.CompanyName, t.Url), false),
        // An abandoned signup never became a customer: nothing of theirs is kept, so there is nothing to announce.
        (not TenantStatus.Pending, TenantStatus.Cancelled) => (MailTemplates.CancelledMail(t.CompanyName, h.At + options.CancelledRetention), false),
        (_, TenantStatus.WaitingForCapacity) => (MailTemplates.WaitingForCapacityMail(t.Subdomain, t.CompanyName, t.PlanId, h.Reason), true),
        (_, TenantStatus.Failed) => (MailTemplates.ProvisioningFailedMail(t.Subdomain, t.CompanyName, h.Reason), true),
        _ => (null, false),
    };

    /// <summary>The "choose your password" link: valid from the activation it announces for <see cref="TenantOptions.WelcomeLinkLifetime"/>.</summary>
    private static string WelcomeLinkOf(string tenantId, TenantState t, HistoryEntry h, TenantOptions options, SecretProtector secrets) =>
        $"{options.AppUrl.TrimEnd('/')}/contrasena/nueva?t={WelcomeLink.Mint(secrets, tenantId, t.Email, h.At + options.WelcomeLinkLifetime)}";
}
