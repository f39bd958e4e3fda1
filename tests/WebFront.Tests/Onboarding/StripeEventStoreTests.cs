using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Sajet.Integrations.Stripe;
using Sajet.Grains.Interfaces.Outbox;
using Sajet.TestSupport;
using Sajet.WebFront.Onboarding;

namespace Sajet.WebFront.Tests.Onboarding;

/// <summary>
/// The webhook's group commit: events that arrive together share a transaction, each is stored and routed once, each
/// caller is answered after its commit, and one event PostgreSQL refuses does not take the others down with it.
/// </summary>
public sealed class StripeEventStoreTests
{
    [Fact]
    public async Task ConcurrentDeliveries_GroupIntoFewerTransactions_EachEventStoredAndRoutedOnce()
    {
        await using var h = await OnboardingHarness.StartAsync(nodes: 1);
        var tenant = (await h.SignUpAsync("group-commit")).TenantId;
        // The simulator's own webhooks for this signup (customer.created) must land before the count starts.
        await h.Stripe.Control.WaitForDeliveriesAsync(CancellationToken.None);
        var store = h.Web.Services.GetRequiredService<StripeEventStore>();
        var (batchesBefore, eventsBefore) = (store.Batches, store.Events);
        using var client = h.Web.Client();

        // 150 events, each delivered twice, 32 requests at a time through the real endpoint.
        var deliveries = Enumerable.Range(0, 150).SelectMany(i => new[] { i, i }).ToList();
        var answers = new List<(HttpStatusCode Status, bool Duplicate)>();
        await Parallel.ForEachAsync(deliveries, new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (i, ct) =>
        {
            var body = Event($"evt_group_{i:D3}", tenant);
            using var request = new HttpRequestMessage(HttpMethod.Post, "/webhook/stripe") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
            request.Headers.TryAddWithoutValidation("Stripe-Signature", StripeWebhookSigner.GenerateHeader(body, DateTimeOffset.UtcNow.ToUnixTimeSeconds(), h.Stripe.WebhookSecret));
            using var response = await client.SendAsync(request, ct);
            var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct)).RootElement;
            lock (answers)
            {
                answers.Add((response.StatusCode, json.TryGetProperty("duplicate", out var d) && d.GetBoolean()));
            }
        });

        Assert.All(answers, a => Assert.Equal(HttpStatusCode.OK, a.Status));
        Assert.Equal(150, answers.Count(a => !a.Duplicate));
        Assert.Equal(150, await h.Db.ScalarAsync<long>("SELECT count(*) FROM stripe_events WHERE id LIKE 'evt_group_%'"));
        Assert.Equal(150, await h.Db.ScalarAsync<long>($"SELECT count(*) FROM stripe_events WHERE id LIKE 'evt_group_%' AND tenant_id = '{tenant}'"));
        Assert.Equal(150, await h.Db.ScalarAsync<long>(
            $"SELECT count(DISTINCT payload->>'eventId') FROM outbox WHERE grain_key = '{tenant}' AND payload->>'eventId' LIKE 'evt_group_%'"));
        Assert.Equal(150, await h.Db.ScalarAsync<long>(
            $"SELECT count(*) FROM outbox WHERE grain_key = '{tenant}' AND payload->>'eventId' LIKE 'evt_group_%'"));
        var (batches, events) = (store.Batches - batchesBefore, store.Events - eventsBefore);
        Assert.Equal(300, events);
        Assert.True(batches < events, $"{events} events went in {batches} transactions: concurrent deliveries did not share any");
    }

    [Fact]
    public async Task AnEventPostgresRefuses_FailsAlone_TheRestOfItsBatchIsStored()
    {
        await using var db = await TestDatabase.CreateAsync();
        await Exec(db.DataSource, """
            INSERT INTO tenants (id, subdomain, company_name, email, country, plan_id)
            VALUES ('tn_poison', 'poison', 'Empresa', 'a@b.example.com', 'ES', 'pro')
            """);
        var store = new StripeEventStore(db.DataSource, new OutboxWaker(db.DataSource, NullLogger<OutboxWaker>.Instance), NullLogger<StripeEventStore>.Instance);

        // The first call starts a write on its own; the next 40 queue behind it and go as one batch, with the poison
        // in the middle: valid JSON that jsonb refuses (a NUL escape), as PostgreSQL would for such a payload.
        var first = store.StoreAsync(Incoming("evt_first", Event("evt_first", "tn_poison")));
        var queued = Enumerable.Range(0, 40).Select(i => i == 20
            ? store.StoreAsync(Incoming("evt_poison", Event("evt_poison", "tn_poison").Replace("\"plan\":\"pro\"", "\"plan\":\"pro\\u0000\"", StringComparison.Ordinal)))
            : store.StoreAsync(Incoming($"evt_ok_{i:D2}", Event($"evt_ok_{i:D2}", "tn_poison")))).ToList();

        Assert.True((await first).Stored);
        var poison = queued[20];
        await Assert.ThrowsAsync<PostgresException>(() => poison);
        foreach (var ok in queued.Where(t => t != poison))
        {
            var result = await ok;
            Assert.True(result.Stored);
            Assert.Equal("tn_poison", result.TenantId);
        }

        Assert.Equal(40, await Scalar(db.DataSource, "SELECT count(*) FROM stripe_events"));
        Assert.Equal(0, await Scalar(db.DataSource, "SELECT count(*) FROM stripe_events WHERE id = 'evt_poison'"));
        Assert.Equal(40, await Scalar(db.DataSource, "SELECT count(*) FROM outbox WHERE grain_key = 'tn_poison' AND kind = 'tenant.stripe-event'"));
        // One write for the first event; the 40-event batch failed as a whole and its 39 good events went one by one.
        Assert.Equal(40, store.Batches);
        Assert.Equal(40, store.Events);
    }

    private static IncomingStripeEvent Incoming(string id, string body) =>
        new(id, "checkout.session.completed", 1767225600, false, body, "tn_poison", "cus_poison", null);

    private static string Event(string id, string tenantId) => """
        {"id":"EVENT_ID","object":"event","type":"checkout.session.completed","created":1767225600,"livemode":false,
         "data":{"object":{"id":"cs_test_EVENT_ID","object":"checkout.session","client_reference_id":"TENANT_ID","customer":"cus_x",
         "mode":"subscription","payment_status":"paid","status":"complete","metadata":{"tenant_id":"TENANT_ID","plan":"pro"}}}}
        """.Replace("EVENT_ID", id, StringComparison.Ordinal).Replace("TENANT_ID", tenantId, StringComparison.Ordinal);

    private static async Task Exec(NpgsqlDataSource ds, string sql)
    {
        await using var cmd = ds.CreateCommand(sql);
        await cmd.ExecuteNonQueryAsync();
    }

    private static async Task<long> Scalar(NpgsqlDataSource ds, string sql)
    {
        await using var cmd = ds.CreateCommand(sql);
        return Convert.ToInt64(await cmd.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }
}
