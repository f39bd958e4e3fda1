using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Sajet.Grains.Tenants;
using Sajet.Integrations.Odoo;

namespace Sajet.Grains.Provisioning;

/// <summary>Where a container's Odoo answers: its hostname, and the VMID and Proxmox node when they are known.</summary>
public sealed record OdooInstance(string Hostname, int? Vmid, string? PveNode);

/// <summary>A tenant's database and its administrator, as the tenant will sign in.</summary>
public sealed record OdooDatabase(string Name, string Login, string Password, string Lang, string? CountryCode);

/// <summary>What <see cref="OdooActivities.EnsureDatabaseAsync"/> found or did.</summary>
public enum OdooDatabaseOutcome
{
    /// <summary>An earlier attempt had created it, and the administrator can sign in.</summary>
    AlreadyWorking,

    /// <summary>Created now, and the administrator can sign in.</summary>
    Created,

    /// <summary>It existed but refused the login (a half-made earlier attempt); dropped, so a retry creates it afresh.</summary>
    ExistedBrokenDropped,

    /// <summary>Odoo reported success but the login failed (its initialisation errors look like success); dropped.</summary>
    CreatedBrokenDropped,
}

/// <summary>What <see cref="OdooActivities.SetAdminPasswordAsync"/> found or did.</summary>
public enum OdooPasswordOutcome
{
    Changed,

    /// <summary>The new password already signs in: an earlier attempt set it before its result was recorded.</summary>
    AlreadySet,

    /// <summary>Neither the stored nor the new password signs in: someone changed it from inside Odoo.</summary>
    Refused,
}

/// <summary>What <see cref="OdooActivities.DropDatabaseAsync"/> found.</summary>
public enum OdooDropOutcome
{
    Dropped,

    /// <summary>No database of that name: nothing to remove.</summary>
    Absent,

    /// <summary>The instance did not answer: its container is gone or down, and its databases with it.</summary>
    Unreachable,
}

/// <summary>
/// Every call the tenant grain makes to an Odoo instance's JSON-RPC services. Each method may run again (a reminder
/// retried, a second activation during a partition), so each first finds what an earlier attempt made: a database is
/// known by its name and kept only if its administrator can sign in. Transport and Odoo errors other than the outcomes
/// named here propagate for the reminder to retry; what a result means for the workflow is the grain's to decide.
/// </summary>
public sealed class OdooActivities(IHttpClientFactory http, IOptions<TenantOptions> options, IOptions<OdooResilienceOptions> resilience, ILogger<OdooActivities> logger)
{
    /// <summary>The named HttpClient the Odoo clients share (registered in GrainsRegistration).</summary>
    public const string HttpClientName = "odoo";

    /// <summary>The server's version once Odoo answers; throws while it does not (yet).</summary>
    public Task<string> ServerVersionAsync(OdooInstance at, CancellationToken ct) => Client(at).ServerVersionAsync(ct);

    /// <summary>Makes sure <paramref name="db"/> exists and its administrator can sign in, or says why it had to be dropped.</summary>
    public async Task<OdooDatabaseOutcome> EnsureDatabaseAsync(OdooInstance at, OdooDatabase db, CancellationToken ct)
    {
        var odoo = Client(at);
        if (await odoo.DbExistAsync(db.Name, ct))
        {
            if (await odoo.AuthenticateAsync(db.Name, db.Login, db.Password, ct) is not null)
            {
                return OdooDatabaseOutcome.AlreadyWorking;
            }

            await odoo.DropAsync(db.Name, ct);
            return OdooDatabaseOutcome.ExistedBrokenDropped;
        }

        try
        {
            await odoo.CreateDatabaseAsync(new OdooCreateDatabaseRequest
            {
                Name = db.Name,
                AdminPassword = db.Password,
                Login = db.Login,
                Lang = db.Lang,
                CountryCode = db.CountryCode,
            }, ct);
        }
        catch (OdooException ex) when (ex.IsDatabaseExists)
        {
            // A concurrent or timed-out attempt created it meanwhile; the login check below decides.
        }

        if (await odoo.AuthenticateAsync(db.Name, db.Login, db.Password, ct) is null)
        {
            await odoo.DropAsync(db.Name, ct);
            return OdooDatabaseOutcome.CreatedBrokenDropped;
        }

        return OdooDatabaseOutcome.Created;
    }

    /// <summary>True when the administrator of <paramref name="database"/> can sign in.</summary>
    public async Task<bool> VerifyLoginAsync(OdooInstance at, string database, string login, string password, CancellationToken ct) =>
        await Client(at).AuthenticateAsync(database, login, password, ct) is not null;

    /// <summary>Gives the administrator of <paramref name="database"/> <paramref name="newPassword"/>, signing in with <paramref name="currentPassword"/>.</summary>
    public async Task<OdooPasswordOutcome> SetAdminPasswordAsync(OdooInstance at, string database, string login, string currentPassword, string newPassword, CancellationToken ct)
    {
        var odoo = Client(at);
        // New first: a retry after a crash between Odoo's write and the grain's checkpoint finds the work done.
        if (await odoo.AuthenticateAsync(database, login, newPassword, ct) is not null)
        {
            return OdooPasswordOutcome.AlreadySet;
        }

        if (await odoo.AuthenticateAsync(database, login, currentPassword, ct) is not { } uid)
        {
            return OdooPasswordOutcome.Refused;
        }

        await odoo.SetOwnPasswordAsync(database, uid, currentPassword, newPassword, ct);
        return await odoo.AuthenticateAsync(database, login, newPassword, ct) is not null
            ? OdooPasswordOutcome.Changed
            : throw new InvalidOperationException($"Odoo accepted the new administrator password of {database} but does not sign in with it");
    }

    /// <summary>Removes <paramref name="database"/> if it is there.</summary>
    public async Task<OdooDropOutcome> DropDatabaseAsync(OdooInstance at, string database, CancellationToken ct)
    {
        try
        {
            return await Client(at).DropAsync(database, ct) ? OdooDropOutcome.Dropped : OdooDropOutcome.Absent;
        }
        catch (OdooTransportException ex)
        {
            logger.LogInformation("Could not drop database {Database} on {Hostname}: {Error}", database, at.Hostname, ex.Message);
            return OdooDropOutcome.Unreachable;
        }
    }

    private OdooClient Client(OdooInstance at)
    {
        var url = options.Value.OdooUrlTemplate
            .Replace("{hostname}", at.Hostname, StringComparison.Ordinal)
            .Replace("{vmid}", at.Vmid?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "", StringComparison.Ordinal)
            .Replace("{node}", at.PveNode ?? "", StringComparison.Ordinal);
        return new OdooClient(http.CreateClient(HttpClientName), new OdooClientOptions { BaseUrl = url, MasterPassword = options.Value.OdooMasterPassword, Resilience = resilience.Value.Resilience });
    }
}
