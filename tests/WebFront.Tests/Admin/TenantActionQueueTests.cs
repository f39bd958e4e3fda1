using System.Net;
using Sajet.WebFront.Tests.Admin;

namespace Sajet.WebFront.Tests.Admin;

/// <summary>
/// With no silo answering, an operator's action is not lost and not left unexplained: it is queued in the outbox
/// (applied once a silo is up) and answered 202 "in progress" with a Spanish message.
/// </summary>
public sealed class TenantActionQueueTests(WebFixture fx) : IClassFixture<WebFixture>
{
    [Fact]
    public async Task Suspend_WithoutACluster_IsQueuedDurably_AndAnsweredInProgress()
    {
        var app = fx.Factory;
        var id = await app.TenantAsync("active");
        var client = await app.AdminClientAsync();
        var response = await client.PostAsync($"/api/admin/tenants/{id}/suspend", null);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var json = await response.JsonAsync();
        Assert.Equal("in_progress", json.GetProperty("outcome").GetString());
        Assert.StartsWith("El clúster no respondió a tiempo", json.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(1L, await app.ScalarAsync<long>("SELECT count(*) FROM outbox WHERE grain_key = @id AND kind = 'tenant.suspend'", ("id", id)));

        // The same action on a state that forbids it is refused at once, queue or not.
        var resume = await client.PostAsync($"/api/admin/tenants/{id}/resume", null);
        Assert.Equal(HttpStatusCode.Conflict, resume.StatusCode);
        Assert.Equal(1L, await app.ScalarAsync<long>("SELECT count(*) FROM outbox WHERE grain_key = @id", ("id", id)));
    }
}
