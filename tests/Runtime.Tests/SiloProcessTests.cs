using Sajet.TestSilo;
using Sajet.TestSupport;

namespace Sajet.Runtime.Tests;

/// <summary>Real silo processes: killed with SIGKILL, frozen with SIGSTOP past their lease.</summary>
public sealed class SiloProcessTests(DatabaseFixture fx) : IClassFixture<DatabaseFixture>
{
    [Fact]
    public async Task ThreeSiloProcesses_OneKilledMidHandler_AllWorkCompletesOnce()
    {
        var db = fx.Db.DataSource;
        await Db.ExecAsync(db, TestGrain.EffectsTable);
        // 60 handlers of 1.5 s each, 4 at a time per silo: the work spans several seconds, so the kill lands mid-handler.
        await Db.SeedRemindersAsync(db, "kill-", 60, """{"mode":"sleep","sleepMs":1500}""");

        await using var s1 = new SiloProcess(fx.Db.ConnectionString, "proc-1", leaseSeconds: 3, concurrency: 4);
        await using var s2 = new SiloProcess(fx.Db.ConnectionString, "proc-2", leaseSeconds: 3, concurrency: 4);
        await using var s3 = new SiloProcess(fx.Db.ConnectionString, "proc-3", leaseSeconds: 3, concurrency: 4);
        await Task.WhenAll(s1.Ready, s2.Ready, s3.Ready);

        await Db.UntilAsync(async () => await Db.ScalarAsync<long>(db, "SELECT count(*) FROM reminders WHERE lease_owner = 'proc-2'") > 0, "proc-2 holds leases");
        s2.Kill();
        var orphaned = await Db.ScalarAsync<long>(db, "SELECT count(*) FROM reminders WHERE lease_owner = 'proc-2'");

        await Db.UntilAsync(async () => await Db.ScalarAsync<long>(db, "SELECT count(*) FROM reminders WHERE grain_key LIKE 'kill-%'") == 0, "all work completed", 180);

        Assert.True(orphaned > 0);
        // Exactly one transition per grain, whoever ran it.
        Assert.Equal(60, await Db.ScalarAsync<long>(db, "SELECT count(*) FROM grains WHERE grain_key LIKE 'kill-%' AND (state->>'runs')::int = 1"));
        Assert.Equal(0, await Db.ScalarAsync<long>(db, """
            SELECT count(*) FROM (SELECT grain_key FROM grain_events WHERE grain_key LIKE 'kill-%' AND to_state = 'worked'
                                  GROUP BY grain_key HAVING count(*) <> 1) dup
            """));
        Assert.Equal(60, await Db.ScalarAsync<long>(db, "SELECT count(DISTINCT grain_key) FROM grain_events WHERE grain_key LIKE 'kill-%' AND to_state = 'worked'"));
        // The grains whose handler died with proc-2 were retried: their attempt counter shows 2.
        Assert.True(await Db.ScalarAsync<long>(db, "SELECT count(*) FROM grains WHERE grain_key LIKE 'kill-%' AND state->'attempts'->>0 = '2'") >= orphaned);
    }

    [Fact]
    public async Task LeaseTakeover_FrozenSiloPastLease_OtherSiloReruns_LateFinishRejected()
    {
        var db = fx.Db.DataSource;
        await Db.ExecAsync(db, TestGrain.EffectsTable);
        await using var frozen = new SiloProcess(fx.Db.ConnectionString, "frozen", leaseSeconds: 2, concurrency: 1);
        await frozen.Ready;
        // The handler does not listen to cancellation; it is still "running" when the process thaws.
        await Db.SeedRemindersAsync(db, "takeover-", 1, """{"mode":"hang","sleepMs":1500}""");
        await Db.UntilAsync(async () => await Db.ScalarAsync<long>(db, "SELECT count(*) FROM test_effects WHERE grain_key = 'takeover-1' AND silo = 'frozen'") == 1, "frozen silo started the handler");
        frozen.Signal("STOP");

        await using (var rescuer = await new InProcessSilo(fx.Db.ConnectionString, "rescuer").StartAsync())
        {
            await Db.UntilAsync(async () => await Db.ScalarAsync<long>(db, "SELECT count(*) FROM reminders WHERE grain_key = 'takeover-1'") == 0, "rescuer finished the firing");
        }

        frozen.Signal("CONT");
        await Db.UntilAsync(() => Task.FromResult(frozen.Output.Contains("late finish was discarded", StringComparison.Ordinal)), "frozen silo's late finish rejected");

        // The effect ran twice (at least once is the promise for effects), the transition once, by the rescuer.
        Assert.Equal(2, await Db.ScalarAsync<long>(db, "SELECT count(*) FROM test_effects WHERE grain_key = 'takeover-1'"));
        Assert.Equal(1, await Db.ScalarAsync<long>(db, "SELECT (state->>'runs')::int FROM grains WHERE grain_key = 'takeover-1'"));
        Assert.Equal("rescuer", await Db.ScalarAsync<string>(db, "SELECT data->>'silo' FROM grain_events WHERE grain_key = 'takeover-1' AND to_state = 'worked'"));
        Assert.Equal(2, await Db.ScalarAsync<long>(db, "SELECT (state->'attempts'->>0)::int FROM grains WHERE grain_key = 'takeover-1'"));
    }

    [Fact]
    public async Task GracefulStop_ReleasesInFlight_AnotherSiloFinishesAtOnce()
    {
        var db = fx.Db.DataSource;
        await Db.ExecAsync(db, TestGrain.EffectsTable);
        await Db.SeedRemindersAsync(db, "graceful-", 3, """{"mode":"sleep","sleepMs":600000}""");
        var first = await new InProcessSilo(fx.Db.ConnectionString, "graceful-1", s => s["Runtime:ShutdownGrace"] = "00:00:00.300").StartAsync();
        await Db.UntilAsync(async () => first.Silo.InFlightCount == 3 && await Db.ScalarAsync<long>(db, "SELECT count(*) FROM test_effects WHERE grain_key LIKE 'graceful-%'") == 3, "handlers running");
        await first.DisposeAsync();

        // Released, not expired: claimable now, and the interrupted attempt is not counted.
        Assert.Equal(3, await Db.ScalarAsync<long>(db, "SELECT count(*) FROM reminders WHERE grain_key LIKE 'graceful-%' AND lease_owner IS NULL AND attempt = 0 AND run_at <= now()"));
        Assert.Equal(1, await Db.ScalarAsync<long>(db, "SELECT count(*) FROM silos WHERE silo_id = 'graceful-1' AND stopped_at IS NOT NULL"));
        await Db.ExecAsync(db, """UPDATE reminders SET payload = '{"mode":"ok"}' WHERE grain_key LIKE 'graceful-%'""");
        await using var second = await new InProcessSilo(fx.Db.ConnectionString, "graceful-2").StartAsync();
        await Db.UntilAsync(async () => await Db.ScalarAsync<long>(db, "SELECT count(*) FROM grains WHERE grain_key LIKE 'graceful-%' AND status = 'worked'") == 3, "second silo finished them");
    }
}
