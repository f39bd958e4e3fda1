using Microsoft.Extensions.DependencyInjection;
using Sajet.Grains.Interfaces.Nodes;
using Sajet.Persistence.Secrets;

namespace Sajet.WebFront.Tests.Admin;

/// <summary>Row factories for the admin pages' tests: each call makes rows of its own, so tests never share data.</summary>
public static class AdminSeed
{
    public static async Task<string> TenantAsync(this SajetWebFactory app, string status, string plan = "pro", DateTime? waitingSince = null,
        string? subscriptionId = null, string? customerId = null, string? email = null, string? id = null)
    {
        id ??= "t-" + Guid.NewGuid().ToString("N")[..10];
        await using var cmd = app.Db.DataSource.CreateCommand("""
            INSERT INTO tenants (id, subdomain, company_name, email, country, plan_id, status, waiting_since, subscription_id, stripe_customer_id)
            VALUES (@id, @sub, @company, @email, 'ES', @plan, @status, @waiting, @subscription, @customer)
            """);
        cmd.Parameters.AddWithValue("id", id);
        cmd.Parameters.AddWithValue("sub", "s" + id.Replace("t-", "", StringComparison.Ordinal));
        cmd.Parameters.AddWithValue("company", "Empresa " + id);
        cmd.Parameters.AddWithValue("email", email ?? $"{id}@example.com");
        cmd.Parameters.AddWithValue("plan", plan);
        cmd.Parameters.AddWithValue("status", status);
        cmd.Parameters.AddWithValue("waiting", (object?)waitingSince ?? DBNull.Value);
        cmd.Parameters.AddWithValue("subscription", (object?)subscriptionId ?? DBNull.Value);
        cmd.Parameters.AddWithValue("customer", (object?)customerId ?? DBNull.Value);
        await cmd.ExecuteNonQueryAsync();
        return id;
    }

    public static async Task HistoryAsync(this SajetWebFactory app, string tenantId, string? from, string? to, string reason, string actor, string? correlation)
    {
        await using var cmd = app.Db.DataSource.CreateCommand("""
            INSERT INTO grain_events (grain_type, grain_key, from_state, to_state, reason, actor, correlation_id)
            VALUES ('tenant', @id, @from, @to, @reason, @actor, @correlation)
            """);
        cmd.Parameters.AddWithValue("id", tenantId);
        cmd.Parameters.AddWithValue("from", (object?)from ?? DBNull.Value);
        cmd.Parameters.AddWithValue("to", (object?)to ?? DBNull.Value);
        cmd.Parameters.AddWithValue("reason", reason);
        cmd.Parameters.AddWithValue("actor", actor);
        cmd.Parameters.AddWithValue("correlation", (object?)correlation ?? DBNull.Value);
        await cmd.ExecuteNonQueryAsync();
    }

    /// <summary>A registered node as the registry stores it, its token secret encrypted with the app's own key.</summary>
    public static async Task<string> NodeAsync(this SajetWebFactory app)
    {
        var id = "n" + Guid.NewGuid().ToString("N")[..8];
        await using var cmd = app.Db.DataSource.CreateCommand("""
            INSERT INTO nodes (id, pve_node, api_url, token_id, token_secret_enc, storage, template)
            VALUES (@id, 'pve', 'https://pve.example.com:8006', 'sajet@pve!sajet', @secret, 'local-lvm', 'local:vztmpl/debian-12.tar.zst')
            """);
        cmd.Parameters.AddWithValue("id", id);
        cmd.Parameters.AddWithValue("secret", app.Services.GetRequiredService<SecretProtector>()
            .ProtectToBytes("5f0c6f0e-3c1a-4c8e-9a55-2b7f4d1e8a90", NodeConstants.TokenSecretPurpose));
        await cmd.ExecuteNonQueryAsync();
        return id;
    }

    public static async Task<HttpClient> AdminClientAsync(this SajetWebFactory app)
    {
        var client = app.Client();
        Assert.Equal(System.Net.HttpStatusCode.OK, (await client.LoginAsync(SajetWebFactory.AdminLogin, SajetWebFactory.AdminPassword, "admin")).StatusCode);
        return client;
    }
}
