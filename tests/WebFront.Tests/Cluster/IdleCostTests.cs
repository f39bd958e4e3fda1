using Sajet.Persistence;
using Sajet.TestSupport;
using Sajet.WebFront.Tests.Onboarding;
using Xunit.Abstractions;

namespace Sajet.WebFront.Tests.Cluster;

[Collection(FaultCollection.Name)]
[Trait("Category", FaultCollection.Category)]
public sealed class IdleCostTests(ITestOutputHelper output)
{
    /// <summary>
    /// 100 active tenants, one silo and the web front, nothing happening: Orleans' membership heartbeats, the client's
    /// gateway refresh and the outbox's safety-net poll are all that touches PostgreSQL — at most 0.5 transactions a
    /// second together. The registered nodes add their polls (one commit each, counted by the samples they write).
    /// No tenant keeps a reminder once it has nothing due.
    /// </summary>
    [Fact]
    public async Task HundredActiveTenants_OneSiloAndWebFront_AtMostHalfATransactionPerSecond()
    {
        await using var h = await OnboardingHarness.StartAsync(nodes: 3);
        await h.StartSiloAsync("idle", s => s["Outbox:PollInterval"] = "00:00:30");
        await h.WaitForSilosAsync(1);
        await h.RegisterNodesAsync(30, "pve1", "pve2", "pve3");

        var signed = new List<OnboardingHarness.Signed>();
        foreach (var batch in Enumerable.Range(1, 100).Chunk(20))
        {
            signed.AddRange(await Task.WhenAll(batch.Select(i => h.SignUpAsync($"idle-{i:000}", i % 2 == 0 ? "basic" : "pro"))));
        }

        var paid = System.Diagnostics.Stopwatch.StartNew();
        Parallel.ForEach(signed, s => h.Stripe.Control.PayCheckoutSession(s.SessionId));
        try
        {
            await OnboardingHarness.WaitAsync(async () => await h.Db.ScalarAsync<long>("SELECT count(*) FROM tenants WHERE status = 'active'") == 100, "100 active", 300);
        }
        catch (TimeoutException)
        {
            // Say where the stragglers are, so a slow run can be told from a stuck one.
            output.WriteLine(await h.Db.ScalarAsync<string>("""
                SELECT string_agg(status || coalesce('/' || step, '') || ': ' || n, ', ') FROM (
                    SELECT status, step, count(*) AS n FROM tenants GROUP BY status, step) s
                """));
            output.WriteLine(await h.Db.ScalarAsync<string>("SELECT coalesce(string_agg(kind || ' x' || attempts || ' ' || coalesce(last_error, ''), E'\\n'), 'outbox empty') FROM outbox"));
            throw;
        }
        output.WriteLine($"100 tenants active {paid.Elapsed.TotalSeconds:F0} s after payment");
        await OnboardingHarness.WaitAsync(async () => await h.Db.ScalarAsync<long>("SELECT count(*) FROM outbox") == 0, "outbox drained", 60);
        await h.Stripe.Control.WaitForDeliveriesAsync(CancellationToken.None);

        // Settle: late webhooks, a poll of every node after the last reservation (the grain records what changed),
        // PostgreSQL's statistics flush (within 10 s of a backend going idle).
        await Task.Delay(TimeSpan.FromSeconds(35));
        // pg_stat_database counts autovacuum's transactions too, on this database's tables and on its catalogs (after 100
        // onboardings it analyzes a dozen tables, then vacuums pg_statistic and pg_class behind that): one window logged
        // with log_statement=all showed 21 transactions from the silo and the web front (6 polls, 10 membership, 2
        // gateway, 2 outbox, 1 other) where pg_stat_database counted 44, and no connection was opened in it. Autovacuum
        // is switched off on the server for the window (this test runs alone, in the fault collection) and on again after.
        await SetAutovacuumAsync(enabled: false);
        // A backend reports its transactions to pg_stat_database once idle for 10 s: the onboardings' must land before
        // the window opens, not inside it.
        await Task.Delay(TimeSpan.FromSeconds(12));
        var samplesBefore = await h.Db.ScalarAsync<long>("SELECT count(*) FROM node_samples");
        var before = await CommitsAsync(h.Db.Name);
        // A minute: the periodic reads (10 s, 15 s, 30 s) fall into a 30 s window unevenly enough to swing the rate by half.
        var window = TimeSpan.FromSeconds(60);
        await Task.Delay(window);
        var after = await CommitsAsync(h.Db.Name);
        var polls = await h.Db.ScalarAsync<long>("SELECT count(*) FROM node_samples") - samplesBefore;
        await SetAutovacuumAsync(enabled: true);

        var perSecond = (after - before - polls) / window.TotalSeconds;
        output.WriteLine($"idle: {after - before} transactions in {window.TotalSeconds} s, {polls} of them node polls: {perSecond:F2}/s besides the polls");
        Assert.True(perSecond <= 0.5, $"idle silo and web front made {after - before - polls} transactions besides {polls} polls in {window.TotalSeconds} s ({perSecond:F2}/s)");
        Assert.Equal(0, await h.Db.ScalarAsync<long>("SELECT count(*) FROM orleans_reminders WHERE grain_id LIKE 'tenant/%'"));
    }

    private static async Task SetAutovacuumAsync(bool enabled)
    {
        await using var admin = Database.CreateDataSource(TestDatabase.WithDatabase("postgres"));
        await using var cmd = admin.CreateCommand(enabled
            ? "ALTER SYSTEM RESET autovacuum; SELECT pg_reload_conf()"
            : "ALTER SYSTEM SET autovacuum = off; SELECT pg_reload_conf()");
        await cmd.ExecuteNonQueryAsync();
    }

    private static async Task<long> CommitsAsync(string database)
    {
        // Read from another database so the measurement adds nothing to the count.
        await using var admin = Database.CreateDataSource(TestDatabase.WithDatabase("postgres"));
        await using var cmd = admin.CreateCommand("SELECT pg_stat_clear_snapshot(); SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = @db");
        cmd.Parameters.AddWithValue("db", database);
        await using var reader = await cmd.ExecuteReaderAsync();
        await reader.NextResultAsync();
        await reader.ReadAsync();
        return reader.GetInt64(0);
    }
}
