using System.Net;
using System.Text;
using Sajet.Integrations.Stripe;
using Sajet.TestSupport;
using Sajet.WebFront.Tests.Onboarding;

namespace Sajet.WebFront.Tests.Cluster;

[Collection(FaultCollection.Name)]
[Trait("Category", FaultCollection.Category)]
public sealed class RecoveryTests
{
    /// <summary>
    /// PostgreSQL stopped with -m immediate (a crash: no checkpoint, every connection cut) and started again while two
    /// silos and the web front run: the Orleans membership, storage and reminders, the outbox and the webhook all
    /// reconnect by themselves; every tenant paid before, during and after ends active and no event is lost.
    /// </summary>
    [Fact]
    public async Task PostgresRestartedImmediate_TwoSilosAndWebFront_RecoverUnattended_NoTenantStuck()
    {
        await using var pg = await PrivatePostgres.StartAsync();
        await using var h = await OnboardingHarness.StartAsync(nodes: 2, taskScale: 0.2, server: pg);
        await h.StartSiloAsync("pg-a");
        await h.StartSiloAsync("pg-b");
        await h.WaitForSilosAsync(2);
        await h.RegisterNodesAsync("pve1", "pve2");

        var before = await Task.WhenAll(Enumerable.Range(1, 8).Select(i => h.SignUpAsync($"pg-before-{i}")));
        Parallel.ForEach(before, s => h.Stripe.Control.PayCheckoutSession(s.SessionId));
        await OnboardingHarness.WaitAsync(async () => await h.Db.ScalarAsync<long>(
            "SELECT count(*) FROM tenants WHERE status IN ('provisioning', 'active')") >= 3, "onboardings under way", 120);

        pg.Restart();

        // Stripe keeps delivering (and retrying) while the database is back; signups resume once it answers.
        var after = new List<OnboardingHarness.Signed>();
        for (var i = 1; i <= 4; i++)
        {
            after.Add(await RetryAsync(() => h.SignUpAsync($"pg-after-{i}")));
        }

        Parallel.ForEach(after, s => h.Stripe.Control.PayCheckoutSession(s.SessionId));
        foreach (var s in before.Concat(after))
        {
            await h.WaitForStatusAsync(s.TenantId, "active", 240);
            Assert.Equal(1, await h.Db.ScalarAsync<long>($"SELECT count(*) FROM grain_events WHERE grain_key = '{s.TenantId}' AND to_state = 'active'"));
        }

        await OnboardingHarness.WaitAsync(async () => await h.Db.ScalarAsync<long>("SELECT count(*) FROM outbox") == 0, "outbox drained", 120);
        Assert.Equal(0, await h.Db.ScalarAsync<long>("SELECT count(*) FROM stripe_events e WHERE e.tenant_id IS NOT NULL AND NOT EXISTS " +
            "(SELECT 1 FROM grain_events g WHERE g.grain_key = e.tenant_id AND g.correlation_id = e.id)"));
    }

    /// <summary>
    /// 150 webhook events, each delivered twice at once, while one of two silo processes is SIGKILLed: each event is
    /// stored once and applied by its tenant grain exactly once (the outbox row's id is the command id the grain keeps).
    /// </summary>
    [Fact]
    public async Task Webhooks_EachDeliveredTwice_WhileASiloIsKilled_EachAppliedOnce()
    {
        await using var h = await OnboardingHarness.StartAsync(nodes: 1);
        var doomed = h.StartSiloProcess("wh-doomed");
        var survivor = h.StartSiloProcess("wh-survivor");
        await h.WaitForSilosAsync(2);
        h.Stripe.Control.ClearWebhookEndpoints(); // Only the events this test sends.
        var tenants = await Task.WhenAll(Enumerable.Range(1, 10).Select(i => h.SignUpAsync($"wh-{i:00}")));

        using var client = h.Web.Client();
        var deliveries = Enumerable.Range(0, 150).SelectMany(i => new[] { i, i }).ToList();
        var sent = 0;
        var killed = false;
        await Parallel.ForEachAsync(deliveries, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, ct) =>
        {
            var tenant = tenants[i % tenants.Length].TenantId;
            var body = """
                {"id":"evt_kill_ID","object":"event","type":"customer.updated","created":CREATED,"livemode":false,
                 "data":{"object":{"id":"cus_kill","object":"customer","metadata":{"tenant_id":"TENANT"}}}}
                """.Replace("ID", $"{i:D3}", StringComparison.Ordinal)
                .Replace("CREATED", DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)
                .Replace("TENANT", tenant, StringComparison.Ordinal);
            using var request = new HttpRequestMessage(HttpMethod.Post, "/webhook/stripe") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
            request.Headers.TryAddWithoutValidation("Stripe-Signature", StripeWebhookSigner.GenerateHeader(body, DateTimeOffset.UtcNow.ToUnixTimeSeconds(), h.Stripe.WebhookSecret));
            using var response = await client.SendAsync(request, ct);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            if (Interlocked.Increment(ref sent) == 100 && !killed)
            {
                killed = true;
                doomed.Kill(entireProcessTree: true);
            }
        });

        await OnboardingHarness.WaitAsync(async () => await h.Db.ScalarAsync<long>("SELECT count(*) FROM outbox") == 0, "every event delivered", 180);
        Assert.Equal(150, await h.Db.ScalarAsync<long>("SELECT count(*) FROM stripe_events WHERE id LIKE 'evt_kill_%'"));
        Assert.Equal(150, await h.Db.ScalarAsync<long>("SELECT count(*) FROM grain_events WHERE correlation_id LIKE 'evt_kill_%' AND reason LIKE 'Evento de Stripe recibido%'"));
        Assert.Equal(150, await h.Db.ScalarAsync<long>("SELECT count(DISTINCT correlation_id) FROM grain_events WHERE correlation_id LIKE 'evt_kill_%'"));
        Assert.False(survivor.HasExited);
    }

    private static async Task<T> RetryAsync<T>(Func<Task<T>> action)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await action();
            }
            catch (Exception) when (attempt < 60)
            {
                await Task.Delay(1000);
            }
        }
    }
}
