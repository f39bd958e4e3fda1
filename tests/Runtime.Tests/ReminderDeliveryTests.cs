using System.Text.Json;
using Sajet.TestSilo;
using Sajet.TestSupport;

namespace Sajet.Runtime.Tests;

public sealed class ReminderDeliveryTests(DatabaseFixture fx) : IClassFixture<DatabaseFixture>
{
    [Fact]
    public async Task TwoSilos_2000DueReminders_EachRunsExactlyOnce()
    {
        var db = fx.Db.DataSource;
        await Db.ExecAsync(db, TestGrain.EffectsTable);
        await Db.SeedRemindersAsync(db, "bulk-", 2000, """{"mode":"ok"}""");

        await using var a = await new InProcessSilo(fx.Db.ConnectionString, "silo-a").StartAsync();
        await using var b = await new InProcessSilo(fx.Db.ConnectionString, "silo-b").StartAsync();
        await Db.UntilAsync(async () => await Db.ScalarAsync<long>(db, "SELECT count(*) FROM reminders WHERE grain_key LIKE 'bulk-%'") == 0, "all reminders finished");

        Assert.Equal(2000, await Db.ScalarAsync<long>(db, "SELECT count(*) FROM test_effects WHERE grain_key LIKE 'bulk-%'"));
        Assert.Equal(2000, await Db.ScalarAsync<long>(db, "SELECT count(DISTINCT grain_key) FROM test_effects WHERE grain_key LIKE 'bulk-%'"));
        Assert.Equal(2000, await Db.ScalarAsync<long>(db, "SELECT count(*) FROM grains WHERE grain_key LIKE 'bulk-%' AND (state->>'runs')::int = 1"));
        Assert.Equal(2000, await Db.ScalarAsync<long>(db, "SELECT count(*) FROM grain_events WHERE grain_key LIKE 'bulk-%' AND to_state = 'worked'"));
        // Both silos shared the work.
        Assert.True(await Db.ScalarAsync<long>(db, "SELECT count(*) FROM test_effects WHERE grain_key LIKE 'bulk-%' AND silo = 'silo-a'") > 0);
        Assert.True(await Db.ScalarAsync<long>(db, "SELECT count(*) FROM test_effects WHERE grain_key LIKE 'bulk-%' AND silo = 'silo-b'") > 0);
    }

    [Fact]
    public async Task PoisonHandler_StopsAtBudget_GrainIsTold_OthersKeepFlowing()
    {
        var db = fx.Db.DataSource;
        await Db.ExecAsync(db, TestGrain.EffectsTable);
        await Db.SeedRemindersAsync(db, "poison-", 1, """{"mode":"poison"}""", maxAttempts: 4);
        await Db.SeedRemindersAsync(db, "healthy-", 200, """{"mode":"ok"}""");

        await using var silo = await new InProcessSilo(fx.Db.ConnectionString, "silo-p").StartAsync();
        await Db.UntilAsync(async () => await Db.ScalarAsync<long>(db, "SELECT count(*) FROM reminders WHERE grain_key LIKE 'poison-%' OR grain_key LIKE 'healthy-%'") == 0, "poison given up and healthy done");

        Assert.Equal(4, await Db.ScalarAsync<long>(db, "SELECT count(*) FROM test_effects WHERE grain_key = 'poison-1'"));
        Assert.Equal("failed", await Db.ScalarAsync<string>(db, "SELECT status FROM grains WHERE grain_key = 'poison-1'"));
        Assert.Contains("poison handler always fails", await Db.ScalarAsync<string>(db, "SELECT state->>'failReason' FROM grains WHERE grain_key = 'poison-1'"));
        Assert.Equal(1, await Db.ScalarAsync<long>(db, "SELECT count(*) FROM grain_events WHERE grain_key = 'poison-1' AND to_state = 'failed' AND reason LIKE '%after 4 attempts%'"));
        Assert.Equal(200, await Db.ScalarAsync<long>(db, "SELECT count(*) FROM grains WHERE grain_key LIKE 'healthy-%' AND status = 'worked'"));
    }

    [Fact]
    public async Task Messages_SentFromClient_AreAppliedExactlyOnce()
    {
        var db = fx.Db.DataSource;
        await using var a = await new InProcessSilo(fx.Db.ConnectionString, "silo-m1").StartAsync();
        await using var b = await new InProcessSilo(fx.Db.ConnectionString, "silo-m2").StartAsync();
        var target = new GrainId(TestGrain.TypeName, "messages-1");
        await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => a.Client.SendAsync(target, new IncrementMessage(2))));

        await Db.UntilAsync(async () => await Db.ScalarAsync<long>(db, "SELECT count(*) FROM reminders WHERE grain_key = 'messages-1'") == 0, "messages delivered");
        var state = await a.Client.ReadStateAsync<TestState>(target);
        Assert.Equal(100, state!.Count);
    }

    [Fact]
    public async Task Reschedule_AndCallSetReminder_UseDatabaseClock()
    {
        var db = fx.Db.DataSource;
        await Db.ExecAsync(db, TestGrain.EffectsTable);
        await using var silo = await new InProcessSilo(fx.Db.ConnectionString, "silo-c").StartAsync();
        await silo.Runtime.CallAsync<TestGrain>("clock-1", g => g.Schedule("later", TimeSpan.FromHours(1), new WorkPayload()));

        // due_at is computed by the server: one hour after the transaction's now(), not the silo's clock.
        var seconds = await Db.ScalarAsync<double>(db, "SELECT extract(epoch FROM due_at - created_at) FROM reminders WHERE grain_key = 'clock-1'");
        Assert.InRange(seconds, 3599, 3601);
        Assert.Equal(0, await Db.ScalarAsync<long>(db, "SELECT count(*) FROM test_effects WHERE grain_key = 'clock-1'"));
    }
}

public sealed class GrainCallTests(DatabaseFixture fx) : IClassFixture<DatabaseFixture>
{
    [Fact]
    public async Task HundredConcurrentCalls_OneGrain_TwoSilos_AllAppliedSerialised()
    {
        await using var a = new InProcessSilo(fx.Db.ConnectionString, "call-a");
        await using var b = new InProcessSilo(fx.Db.ConnectionString, "call-b");
        var results = await Task.WhenAll(Enumerable.Range(0, 100).Select(i =>
            (i % 2 == 0 ? a : b).Runtime.CallAsync<TestGrain, int>("counter-1", g => g.Increment())));

        // Each call saw the previous one's write: the returned counts are exactly 1..100.
        Assert.Equal(Enumerable.Range(1, 100), results.Order());
        var state = await a.Client.ReadStateAsync<TestState>(new GrainId(TestGrain.TypeName, "counter-1"));
        Assert.Equal(100, state!.Count);
        Assert.Equal(100, await Db.ScalarAsync<long>(fx.Db.DataSource, "SELECT version FROM grains WHERE grain_key = 'counter-1'"));
    }

    [Fact]
    public async Task StatusChange_WritesHistoryEvent_WithActorAndCorrelation()
    {
        await Db.ExecAsync(fx.Db.DataSource, TestGrain.EffectsTable);
        await using var a = new InProcessSilo(fx.Db.ConnectionString, "call-h");
        await a.Runtime.CallAsync<TestGrain>("history-1", g => g.Worked("manual", 1), new CallOptions("admin:ana", "evt_123"));

        await using var cmd = fx.Db.DataSource.CreateCommand("SELECT from_state, to_state, actor, correlation_id, data::text FROM grain_events WHERE grain_key = 'history-1'");
        await using var r = await cmd.ExecuteReaderAsync();
        Assert.True(await r.ReadAsync());
        Assert.True(r.IsDBNull(0));
        Assert.Equal("worked", r.GetString(1));
        Assert.Equal("admin:ana", r.GetString(2));
        Assert.Equal("evt_123", r.GetString(3));
        Assert.Equal(1, JsonDocument.Parse(r.GetString(4)).RootElement.GetProperty("attempt").GetInt32());
        Assert.False(await r.ReadAsync());
    }

    [Fact]
    public async Task HandlerContext_IsReadOnly_OutsideTheLock()
    {
        await using var a = new InProcessSilo(fx.Db.ConnectionString, "call-r");
        await a.Runtime.CallAsync<TestGrain, int>("ro-1", g => g.Increment());
        var grain = (TestGrain)(await a.Runtime.LoadSnapshotAsync(new GrainId(TestGrain.TypeName, "ro-1"), CallOptions.System, default))!;
        Assert.Equal(1, grain.State.Count);
        Assert.Throws<InvalidOperationException>(() => grain.Schedule("x", TimeSpan.Zero, new WorkPayload()));
    }
}
