using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Orleans;
using Orleans.Configuration;
using Orleans.Runtime;
using Orleans.Storage;
using Orleans.TestingHost;
using Sajet.TestSupport;

namespace Sajet.Cluster.Tests;

/// <summary>
/// The statements of sql/0005_orleans.sql against Orleans' own ADO.NET providers: a real two-silo cluster and a client
/// on a database built only from sql/, driven through grains and through the providers' public table interfaces.
/// Proof that a statement ran is Npgsql's own tracing: every command the providers send is an Activity of the "Npgsql"
/// source carrying its text, and each text is matched to its OrleansQuery row. Each step also checks the rows it
/// changed, so a statement that ran but did the wrong thing fails too.
/// </summary>
public sealed class ProviderContractTests : IAsyncLifetime
{
    // Every key the 10.4.2 providers read (DbStoredQueries and AdoNetGrainStorage at commit 876ffe03).
    private static readonly string[] ProviderKeys =
    [
        "InsertMembershipVersionKey", "InsertMembershipKey", "UpdateMembershipKey", "UpdateIAmAlivetimeKey",
        "MembershipReadRowKey", "MembershipReadAllKey", "GatewaysQueryKey", "DeleteMembershipTableEntriesKey",
        "CleanupDefunctSiloEntriesKey",
        "ReadFromStorageKey", "WriteToStorageKey", "ClearStorageKey", "DeleteStorageKey",
        "UpsertReminderRowKey", "ReadReminderRowsKey", "ReadReminderRowKey", "ReadRangeRows1Key", "ReadRangeRows2Key",
        "DeleteReminderRowKey", "DeleteReminderRowsKey",
    ];

    private readonly ConcurrentQueue<string> _statements = new();
    private ActivityListener? _listener;
    private TestDatabase? _db;
    private TestCluster? _cluster;

    private TestDatabase Db => _db!;

    private TestCluster Cluster => _cluster!;

    public async Task InitializeAsync()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "Npgsql",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
            ActivityStopped = activity =>
            {
                if (activity.GetTagItem("db.query.text") is string text)
                {
                    _statements.Enqueue(text);
                }
            },
        };
        ActivitySource.AddActivityListener(_listener);
        _db = await TestDatabase.CreateAsync();
        _cluster = await TestSilos.StartClusterAsync(_db, silos: 2);
    }

    public async Task DisposeAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.StopAllSilosAsync();
            await _cluster.DisposeAsync();
        }

        _listener?.Dispose();
        if (_db is not null)
        {
            await _db.DisposeAsync();
        }
    }

    [Fact]
    public async Task EveryProviderQueryKey_RunsAgainstARealCluster_AndDoesWhatTheProviderExpects()
    {
        var queries = await QueriesAsync();
        Assert.Equal(ProviderKeys.Order(StringComparer.Ordinal), queries.Keys.Order(StringComparer.Ordinal));
        var serviceId = Cluster.Options.ServiceId;
        var clusterId = Cluster.Options.ClusterId;

        // ── Membership: two silos joined (version row, inserts, Joining → Active updates) and the client found a gateway.
        Assert.Equal(2, await Db.ScalarAsync<int>($"SELECT count(*) FROM orleans_membership WHERE deployment_id = '{clusterId}' AND status = 3"));
        Assert.True(await Db.ScalarAsync<int>($"SELECT version FROM orleans_membership_version WHERE deployment_id = '{clusterId}'") >= 4);
        var membership = TestSilos.Services(Cluster.Silos[0]).GetRequiredService<IMembershipTable>();
        var all = await membership.ReadAllAsync();
        Assert.Equal(2, all.Members.Count(m => m.Item1.Status == SiloStatus.Active));
        var primaryAddress = Cluster.Silos[0].SiloAddress;
        var own = Assert.Single((await membership.ReadRowAsync(primaryAddress)).Members);
        Assert.Equal(primaryAddress, own.Item1.SiloAddress);

        var alive = DateTime.UtcNow.AddSeconds(30);
        await membership.UpdateIAmAliveAsync(new MembershipEntry { SiloAddress = primaryAddress, IAmAliveTime = alive });
        var storedAlive = await Db.ScalarAsync<DateTime>(
            $"SELECT i_am_alive_time FROM orleans_membership WHERE port = {primaryAddress.Endpoint.Port} AND generation = {primaryAddress.Generation}");
        Assert.InRange((storedAlive.ToUniversalTime() - alive).Duration(), TimeSpan.Zero, TimeSpan.FromMilliseconds(5));

        // A silo that stops is marked dead; cleaning up rows older than "soon" removes it and keeps the active one.
        var secondary = Cluster.Silos[1];
        await Cluster.StopSiloAsync(secondary);
        Assert.Equal(6, await Db.ScalarAsync<int>($"SELECT status FROM orleans_membership WHERE port = {secondary.SiloAddress.Endpoint.Port}"));
        await membership.CleanupDefunctSiloEntriesAsync(DateTimeOffset.UtcNow.AddMinutes(1));
        Assert.Equal(0, await Db.ScalarAsync<int>($"SELECT count(*) FROM orleans_membership WHERE port = {secondary.SiloAddress.Endpoint.Port}"));
        Assert.Equal(1, await Db.ScalarAsync<int>($"SELECT count(*) FROM orleans_membership WHERE deployment_id = '{clusterId}'"));

        // Dropping another cluster's entries leaves this one alone (the cascade takes only that cluster's silos).
        await Db.ExecAsync("""
            INSERT INTO orleans_membership_version (deployment_id, version) VALUES ('other-cluster', 3);
            INSERT INTO orleans_membership (deployment_id, address, port, generation, silo_name, host_name, status, start_time, i_am_alive_time)
            VALUES ('other-cluster', '10.0.0.9', 11111, 1, 's', 'h', 3, now(), now());
            """);
        await membership.DeleteMembershipTableEntriesAsync("other-cluster");
        Assert.Equal(0, await Db.ScalarAsync<int>("SELECT count(*) FROM orleans_membership WHERE deployment_id = 'other-cluster'"));
        Assert.Equal(0, await Db.ScalarAsync<int>("SELECT count(*) FROM orleans_membership_version WHERE deployment_id = 'other-cluster'"));
        Assert.Equal(1, await Db.ScalarAsync<int>($"SELECT count(*) FROM orleans_membership WHERE deployment_id = '{clusterId}'"));

        // ── Grain state: insert, update, read back after deactivation, stored as readable JSON without .NET type names.
        var grain = Cluster.GrainFactory.GetGrain<IStateGrain>("tenant-1");
        await grain.SetAsync("first");
        await grain.SetAsync("second");
        const string Row = "FROM orleans_storage WHERE grain_type = 'contract-state' AND key_ext = 'tenant-1'";
        Assert.Equal(2, await Db.ScalarAsync<int>($"SELECT version {Row}"));
        var json = await Db.ScalarAsync<string>($"SELECT payload::text {Row}");
        Assert.Equal("""{"value":"second","status":"Written"}""", json);
        await grain.DeactivateAsync();
        Assert.Equal("second", await grain.GetAsync());

        // Someone else wrote a newer version (a second activation during a partition): this activation's write fails
        // with InconsistentStateException and the newer state stays.
        await Db.ExecAsync("""UPDATE orleans_storage SET payload = '{"value":"newer"}', version = version + 1 WHERE grain_type = 'contract-state' AND key_ext = 'tenant-1'""");
        await Assert.ThrowsAsync<InconsistentStateException>(() => grain.SetAsync("stale"));
        Assert.Equal("newer", await Db.ScalarAsync<string>($"SELECT payload->>'value' {Row}"));
        Assert.Equal("newer", await grain.GetAsync()); // the runtime dropped the stale activation; the next one re-read

        // Two first writes race: a row appears after this activation read "nothing". The unique identity key makes the
        // insert lose instead of adding a second row.
        var racer = Cluster.GrainFactory.GetGrain<IStateGrain>("tenant-2");
        Assert.Null(await racer.GetAsync());
        await Db.ExecAsync("""
            INSERT INTO orleans_storage (service_id, grain_type, grain_id_n0, grain_id_n1, key_ext, grain_id_hash, grain_type_hash, payload, version)
            SELECT service_id, grain_type, grain_id_n0, grain_id_n1, 'tenant-2', grain_id_hash + 1, grain_type_hash, '{"value":"winner"}', 1
            FROM orleans_storage WHERE key_ext = 'tenant-1'
            """);
        await Assert.ThrowsAsync<InconsistentStateException>(() => racer.SetAsync("loser"));
        Assert.Equal(1, await Db.ScalarAsync<int>("SELECT count(*) FROM orleans_storage WHERE key_ext = 'tenant-2'"));
        Assert.Equal("winner", await Db.ScalarAsync<string>("SELECT payload->>'value' FROM orleans_storage WHERE key_ext = 'tenant-2'"));

        // Clear on the default provider keeps the row, payload gone, version counted on; on DeleteOnClear the row goes.
        var versionBeforeClear = await Db.ScalarAsync<int>($"SELECT version {Row}");
        await grain.ClearAsync();
        Assert.Equal(versionBeforeClear + 1, await Db.ScalarAsync<int>($"SELECT version {Row}"));
        Assert.True(await Db.ScalarAsync<bool>($"SELECT payload IS NULL {Row}"));
        await grain.SetAsync("after-clear");
        Assert.Equal(versionBeforeClear + 2, await Db.ScalarAsync<int>($"SELECT version {Row}"));

        var purged = Cluster.GrainFactory.GetGrain<IPurgedStateGrain>("tenant-3");
        await purged.SetAsync("temporary");
        Assert.Equal(1, await Db.ScalarAsync<int>("SELECT count(*) FROM orleans_storage WHERE grain_type = 'contract-purged'"));
        await purged.ClearAsync();
        Assert.Equal(0, await Db.ScalarAsync<int>("SELECT count(*) FROM orleans_storage WHERE grain_type = 'contract-purged'"));
        await purged.SetAsync("again");
        Assert.Equal(1, await Db.ScalarAsync<int>("SELECT version FROM orleans_storage WHERE grain_type = 'contract-purged'"));

        // ── Reminders: register (insert, then update), read one and all of a grain, fire, unregister.
        var reminders = Cluster.GrainFactory.GetGrain<IReminderGrain>(Guid.NewGuid());
        await reminders.RegisterAsync("wake", TimeSpan.FromSeconds(1));
        await reminders.RegisterAsync("wake", TimeSpan.FromSeconds(2));
        await reminders.RegisterAsync("other", TimeSpan.FromMinutes(5));
        Assert.Equal(1, await Db.ScalarAsync<int>("SELECT version FROM orleans_reminders WHERE reminder_name = 'wake'"));
        Assert.Equal(2000, await Db.ScalarAsync<long>("SELECT period_ms FROM orleans_reminders WHERE reminder_name = 'wake'"));
        Assert.True(await reminders.ExistsAsync("wake"));
        Assert.Equal(2, await reminders.CountAsync());
        await WaitUntilAsync(async () => await reminders.TicksAsync() > 0, TimeSpan.FromSeconds(30));
        await reminders.UnregisterAsync("wake");
        Assert.Equal(0, await Db.ScalarAsync<int>("SELECT count(*) FROM orleans_reminders WHERE reminder_name = 'wake'"));

        // Ring ranges: a silo owning (begin, end] reads with ReadRangeRows1Key when that does not wrap in signed order,
        // ReadRangeRows2Key when it does. Asked directly here so both shapes run whatever hashes the silos got.
        var reminderTable = TestSilos.Services(Cluster.Silos[0]).GetRequiredService<IReminderTable>();
        var hash = unchecked((uint)await Db.ScalarAsync<int>("SELECT grain_hash FROM orleans_reminders WHERE reminder_name = 'other'"));
        Assert.Single((await reminderTable.ReadRows(hash - 1, hash)).Reminders, r => r.ReminderName == "other");
        Assert.DoesNotContain((await reminderTable.ReadRows(hash, hash + 1)).Reminders, r => r.ReminderName == "other");
        Assert.Single((await reminderTable.ReadRows(hash + 1, hash)).Reminders, r => r.ReminderName == "other");
        Assert.DoesNotContain((await reminderTable.ReadRows(hash, hash - 1)).Reminders, r => r.ReminderName == "other");
        await reminderTable.TestOnlyClearTable();
        Assert.Equal(0, await Db.ScalarAsync<int>($"SELECT count(*) FROM orleans_reminders WHERE service_id = '{serviceId}'"));

        // ── Every key's statement was sent by a provider.
        var ran = _statements.ToHashSet(StringComparer.Ordinal);
        var missing = queries.Where(q => !ran.Contains(q.Value)).Select(q => q.Key).Order(StringComparer.Ordinal).ToList();
        Assert.True(missing.Count == 0, "Statements never sent by a provider: " + string.Join(", ", missing));
    }

    private async Task<Dictionary<string, string>> QueriesAsync()
    {
        await using var cmd = Db.DataSource.CreateCommand("SELECT QueryKey, QueryText FROM OrleansQuery");
        await using var reader = await cmd.ExecuteReaderAsync();
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        while (await reader.ReadAsync())
        {
            result[reader.GetString(0)] = reader.GetString(1);
        }

        return result;
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"Condition not met within {timeout}");
            await Task.Delay(200);
        }
    }
}
