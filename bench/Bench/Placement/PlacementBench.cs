using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;
using Sajet.Grains.Interfaces.Nodes;
using Sajet.Grains.Placement;
using Sajet.Persistence;
using Sajet.Persistence.Secrets;
using Sajet.SiloHosting;
using Sajet.Simulators.Proxmox;
using static Sajet.Bench.BenchSupport;

namespace Sajet.Bench.Placement;

/// <summary>
/// ./sajet bench placement — the placement decision over node snapshots read from a seeded database, against a
/// single-row autocommit measured on the same server in the same run; a placement end to end through the placement
/// grain and the node grains of a real silo; and what one node poll costs in commits and CPU through its node grain
/// for 100 nodes × 50 containers (simulator over loopback).
/// </summary>
public static class PlacementBench
{
    private const string Db = "sajet_bench_placement";
    private const string SecretKey = "bench-secret-key-0123456789abcdef";

    public static async Task<int> RunAsync(string[] args)
    {
        var cs = await FreshDatabaseAsync(Db);
        await using var ds = Database.CreateDataSource(cs);
        Console.WriteLine($"# placement benchmark: {Environment.ProcessorCount} cores");

        var (commitP50, commitP99) = await CommitLatencyAsync(ds, 3000);
        Print("commit_p50_ms", commitP50, "single-row INSERT, autocommit");
        Print("commit_p99_ms", commitP99);

        // Decision p99s are microseconds, so a GC pause or the other core's load moves one run's ratio a lot: three
        // rounds, small and large cluster alternating, and the median of each figure.
        var small = new List<(double P50, double P99)>();
        var large = new List<(double P50, double P99)>();
        var scale = new List<double>();
        for (var round = 0; round < 3; round++)
        {
            await SeedAsync(ds, 100, 5_000);
            small.Add(await DecideLatencyAsync(ds, 3000));
            await SeedAsync(ds, 1_000, 50_000);
            large.Add(await DecideLatencyAsync(ds, 1000));
            scale.Add(large[^1].P99 / small[^1].P99);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"# round {round + 1}: decide p99 {small[^1].P99:0.0000} ms at 100x5,000, {large[^1].P99:0.0000} ms at 1,000x50,000, scale {scale[^1]:0.00}"));
        }

        var (p50Small, p99Small) = (Median(small.Select(x => x.P50)), Median(small.Select(x => x.P99)));
        var (p50Large, p99Large) = (Median(large.Select(x => x.P50)), Median(large.Select(x => x.P99)));
        Print("decide_p50_ms_100x5000", p50Small, "median of 3 rounds");
        Print("decide_p99_ms_100x5000", p99Small, "median of 3 rounds");
        Print("decide_p50_ms_1000x50000", p50Large, "median of 3 rounds");
        Print("decide_p99_ms_1000x50000", p99Large, "median of 3 rounds");
        Print("p50_ratio", p50Small / commitP50, "decide p50 / commit p50 at 100x5,000, goal <= 0.1");
        Print("p99_ratio", p99Small / commitP50, "decide p99 / commit p50 at 100x5,000, goal <= 0.1");
        Print("scale_ratio", Median(scale), "median over 3 rounds of p99 at 1,000x50,000 / p99 at 100x5,000, goal <= 12");

        var (placeP50, placeP99) = await PlaceLatencyAsync(cs, ds, 100, 5_000, 500);
        Print("place_p50_ms", placeP50, "placement grain: 100 node grains asked, the chosen one reserves (state write + projection)");
        Print("place_p99_ms", placeP99);
        Print("place_p99_ratio", placeP99 / commitP99, "place p99 / single-row commit p99, goal <= 3");

        await IngestionAsync(cs, ds, 100, 50);
        return 0;
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted[sorted.Count / 2];
    }

    private static async Task<(double P50, double P99)> CommitLatencyAsync(NpgsqlDataSource ds, int count)
    {
        await ExecAsync(ds, "CREATE TABLE bench_commit (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, v integer NOT NULL)");
        await using var conn = await ds.OpenConnectionAsync();
        await using var cmd = new NpgsqlCommand("INSERT INTO bench_commit (v) VALUES (@v)", conn);
        var v = cmd.Parameters.AddWithValue("v", 0);
        var times = new List<double>(count);
        for (var i = 0; i < count + 100; i++)
        {
            v.Value = i;
            var start = Stopwatch.GetTimestamp();
            await cmd.ExecuteNonQueryAsync();
            if (i >= 100)
            {
                times.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            }
        }

        times.Sort();
        return (Percentile(times, 0.5), Percentile(times, 0.99));
    }

    /// <summary>Nodes half full on average, with reservations (and containers) consistent with the nodes' reserved columns.</summary>
    private static async Task SeedAsync(NpgsqlDataSource ds, int nodes, int containers)
    {
        await ExecAsync(ds, "TRUNCATE container_drift, node_alerts, node_samples, containers, reservations, nodes");
        await ExecAsync(ds, $"""
            INSERT INTO nodes (id, pve_node, api_url, token_id, token_secret_enc, health, cores, memory_bytes, disk_bytes,
                               cpu_used, memory_used, disk_used, storage_present, template_present, metrics_at, max_containers)
            SELECT format('n%s', g), format('pve%s', g), 'https://127.0.0.1:8006', 'sajet@pve!bench', '\x00'::bytea, 'online',
                   64 + (g % 4) * 32, (256 + (g % 4) * 128)::bigint << 30, (4096 + (g % 3) * 2048)::bigint << 30,
                   0.1 + (g % 10) / 50.0, (16 + g % 32)::bigint << 30, (200 + g % 100)::bigint << 30, true, true, now(), 100
            FROM generate_series(1, {nodes}) g;
            INSERT INTO reservations (key, node_id, cores, memory_mb, disk_gb)
            SELECT format('t%s', g), format('n%s', 1 + (g - 1) % {nodes}),
                   (ARRAY[1, 2, 4])[1 + g % 3], (ARRAY[2048, 4096, 8192])[1 + g % 3], (ARRAY[10, 50, 100])[1 + g % 3]
            FROM generate_series(1, {containers}) g;
            INSERT INTO containers (vmid, node_id, hostname, kind, tenant_id, status, reservation_key)
            SELECT 1000 + g, format('n%s', 1 + (g - 1) % {nodes}), format('t%s', g), 'dedicated', format('t%s', g), 'running', format('t%s', g)
            FROM generate_series(1, {containers}) g;
            UPDATE nodes n SET reserved_cores = s.cores, reserved_memory_mb = s.mem, reserved_disk_gb = s.disk, reserved_containers = s.cnt
            FROM (SELECT node_id, sum(cores)::int cores, sum(memory_mb) mem, sum(disk_gb) disk, count(*)::int cnt FROM reservations GROUP BY node_id) s
            WHERE n.id = s.node_id;
            ANALYZE;
            """);
    }

    private static async Task<(double P50, double P99)> DecideLatencyAsync(NpgsqlDataSource ds, int count)
    {
        var settings = new PlacementSettings();
        var nodes = await SnapshotsAsync(ds);
        var requests = new[] { new PlacementRequest("r1", 1, 2048, 10), new PlacementRequest("r2", 2, 4096, 50), new PlacementRequest("r3", 4, 8192, 100) };
        var placed = 0;
        // Warm up for a second, as BenchmarkDotNet would: the JIT promotes hot methods to optimised code only after
        // they ran for a while, and measuring before that times the first-tier code.
        var warm = Stopwatch.StartNew();
        for (var i = 0; warm.ElapsedMilliseconds < 1000; i++)
        {
            placed += Placer.Decide(requests[i % 3], nodes, settings).Placed ? 1 : 0;
        }

        var times = new List<double>(count);
        for (var i = 0; i < count; i++)
        {
            var start = Stopwatch.GetTimestamp();
            var decision = Placer.Decide(requests[i % 3], nodes, settings);
            times.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            placed += decision.Placed ? 1 : 0;
        }

        if (placed == 0)
        {
            throw new InvalidOperationException("The seeded nodes take nothing: the benchmark would measure refusals only");
        }

        times.Sort();
        return (Percentile(times, 0.5), Percentile(times, 0.99));
    }

    /// <summary>The seeded nodes as the node grains would describe them (the decision's input), read once.</summary>
    private static async Task<List<NodeSnapshot>> SnapshotsAsync(NpgsqlDataSource ds)
    {
        await using var cmd = ds.CreateCommand("""
            SELECT id, health, maintenance, extract(epoch FROM now() - metrics_at)::float8, storage_present, template_present, storage,
                   cores, cpu_overcommit::float8, memory_bytes, disk_bytes, cpu_used, memory_used, disk_used, max_containers,
                   reserved_cores, reserved_memory_mb, reserved_disk_gb, reserved_containers
            FROM nodes ORDER BY id
            """);
        var list = new List<NodeSnapshot>();
        await using var r = await cmd.ExecuteReaderAsync();
        while (await r.ReadAsync())
        {
            list.Add(new NodeSnapshot(
                r.GetString(0), r.GetString(1), r.GetBoolean(2), r.GetDouble(3), r.GetBoolean(4), r.GetBoolean(5), r.GetString(6),
                r.GetInt32(7), r.GetDouble(8), r.GetInt64(9), r.GetInt64(10), r.GetDouble(11), r.GetInt64(12), r.GetInt64(13), r.GetInt32(14),
                r.GetInt32(15), r.GetInt64(16), r.GetInt64(17), r.GetInt32(18)));
        }

        return list;
    }

    /// <summary>
    /// End to end through a real silo: the placement grain reads the registry, asks the 100 node grains, and the chosen
    /// node grain rechecks and reserves in its turn (state write, then the reservations projection). The nodes are
    /// simulated Proxmox nodes (polled, so their grains know them online), sized so the seeded 5,000 reservations
    /// leave room; the node grains take those reservations over on activation.
    /// </summary>
    private static async Task<(double P50, double P99)> PlaceLatencyAsync(string cs, NpgsqlDataSource ds, int nodes, int reservations, int count)
    {
        await using var sim = await FreshSimulatorAsync(ds, nodes, o =>
        {
            o.NodeCores = 128;
            o.NodeMemoryBytes = 512L << 30;
            o.LvmStorageBytes = 8L << 40;
        });
        await using (var cmd = ds.CreateCommand($"""
            INSERT INTO nodes (id, pve_node, api_url, token_id, token_secret_enc, fingerprint, max_containers)
            SELECT format('p%s', g), format('pve%s', g), @url, @token, @secret, @fp, 100 FROM generate_series(1, @nodes) g;
            INSERT INTO reservations (key, node_id, cores, memory_mb, disk_gb)
            SELECT format('t%s', g), format('p%s', 1 + (g - 1) % @nodes),
                   (ARRAY[1, 2, 4])[1 + g % 3], (ARRAY[2048, 4096, 8192])[1 + g % 3], (ARRAY[10, 50, 100])[1 + g % 3]
            FROM generate_series(1, {reservations}) g;
            """))
        {
            cmd.Parameters.AddWithValue("url", sim.HttpsUrl.ToString());
            cmd.Parameters.AddWithValue("token", sim.TokenId);
            cmd.Parameters.AddWithValue("secret", new SecretProtector(SecretKey).ProtectToBytes(sim.TokenSecret, NodeConstants.TokenSecretPurpose));
            cmd.Parameters.AddWithValue("fp", sim.CertificateFingerprint);
            cmd.Parameters.AddWithValue("nodes", nodes);
            await cmd.ExecuteNonQueryAsync();
        }

        using var silo = SajetSilo.Build(SiloSettings(cs));
        await silo.StartAsync();
        var grains = silo.Services.GetRequiredService<IGrainFactory>();
        for (var n = 1; n <= nodes; n++)
        {
            await grains.GetGrain<INodeGrain>($"p{n}").RegisteredAsync(Guid.NewGuid());
        }

        for (var n = 1; n <= nodes; n++)
        {
            var node = grains.GetGrain<INodeGrain>($"p{n}");
            while ((await node.GetHealthAsync()).Health != "online")
            {
                await Task.Delay(100);
            }
        }

        var placement = grains.GetGrain<IPlacementGrain>(0);
        for (var i = 0; i < 100; i++)
        {
            await placement.PlaceAsync(new PlacementRequest($"warm-{i}", 1, 1024, 5));
        }

        var times = new List<double>(count);
        var placed = 0;
        for (var i = 0; i < count; i++)
        {
            var start = Stopwatch.GetTimestamp();
            placed += (await placement.PlaceAsync(new PlacementRequest($"place-{i}", 1 + (i % 2), 2048, 10))).Placed ? 1 : 0;
            times.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        }

        // Where the time goes: a bare call to a node grain, and a node grain's reservation alone (state write + projection).
        var calls = new List<double>(200);
        var reserves = new List<double>(200);
        string storage;
        await using (var cmd = ds.CreateCommand("SELECT storage FROM nodes WHERE id = 'p1'"))
        {
            storage = (string)(await cmd.ExecuteScalarAsync())!;
        }

        for (var i = 0; i < 200; i++)
        {
            var id = $"p{1 + (i % nodes)}";
            var node = grains.GetGrain<INodeGrain>(id);
            var start = Stopwatch.GetTimestamp();
            await node.GetLiveAsync(null);
            calls.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            start = Stopwatch.GetTimestamp();
            var answer = await node.ReserveAsync(new PlacementRequest($"direct-{i}", 1, 1024, 5), new NodeRegistration(id, false, storage, 4, 100), new PlacementSettings());
            reserves.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            placed += answer.Reserved ? 0 : -count; // a refusal fails the run below: it would time the wrong thing
        }

        calls.Sort();
        reserves.Sort();
        Print("node_call_p50_ms", Percentile(calls, 0.5), "for information: a bare node grain call from the silo");
        Print("reserve_p50_ms", Percentile(reserves, 0.5), "for information: a node grain's reservation alone (turn, state write, projection)");
        Print("reserve_p99_ms", Percentile(reserves, 0.99));

        var held = await ScalarAsync(ds, "SELECT sum(reserved_containers)::bigint FROM nodes") - 200;

        // Registered node grains poll on their own and their reminders outlive this silo: unregister them, or they
        // would wake in the ingestion part's silo and poll beside the nodes it measures.
        for (var n = 1; n <= nodes; n++)
        {
            await grains.GetGrain<INodeGrain>($"p{n}").RemovedAsync(Guid.NewGuid());
        }

        await silo.StopAsync();
        if (placed < count || held != reservations + 100 + count)
        {
            throw new InvalidOperationException($"{placed} of {count} placements fitted, {held} reservations held: the benchmark would time refusals or lost reservations");
        }

        times.Sort();
        return (Percentile(times, 0.5), Percentile(times, 0.99));
    }

    /// <summary>Empties the node tables and starts a Proxmox simulator of <paramref name="nodes"/> nodes on free ports.</summary>
    private static async Task<ProxmoxSimulator> FreshSimulatorAsync(NpgsqlDataSource ds, int nodes, Action<ProxmoxSimulatorOptions>? size = null)
    {
        await ExecAsync(ds, "TRUNCATE container_drift, node_alerts, node_samples, containers, reservations, nodes");
        var options = new ProxmoxSimulatorOptions { HttpPort = 0, HttpsPort = 0, TaskDurationScale = 0, AuthFailureDelay = TimeSpan.Zero, NodeCount = nodes };
        size?.Invoke(options);
        return await ProxmoxSimulator.StartAsync(options);
    }

    private static Dictionary<string, string?> SiloSettings(string cs) => new()
    {
        ["DATABASE_URL"] = cs,
        ["SAJET_SECRET_KEY"] = SecretKey,
        ["STRIPE_SECRET_KEY"] = "sk_test_bench",
        ["STRIPE_WEBHOOK_SECRET"] = "whsec_bench",
        ["Cluster:SiloPort"] = "0",
        ["Cluster:GatewayPort"] = "0",
        ["Cluster:AdvertisedAddress"] = "127.0.0.1",
        ["Cluster:Dashboard"] = "false",
        ["Logging:LogLevel:Default"] = "Warning",
    };

    /// <summary>
    /// 100 simulated nodes with 50 Sajet containers each. Observations are fetched first (HTTP, outside the measure);
    /// then each node's apply step runs as the poll's grain call would. The first round warms up (and runs retention,
    /// which happens at most hourly); the second is measured: commits from pg_stat_database, CPU from this process.
    /// </summary>
    private static async Task IngestionAsync(string cs, NpgsqlDataSource ds, int nodes, int perNode)
    {
        await using var sim = await FreshSimulatorAsync(ds, nodes);
        var secret = new SecretProtector(SecretKey).ProtectToBytes(sim.TokenSecret, NodeConstants.TokenSecretPurpose);
        await using (var cmd = ds.CreateCommand("""
            INSERT INTO nodes (id, pve_node, api_url, token_id, token_secret_enc, fingerprint)
            SELECT format('n%s', g), format('pve%s', g), @url, @token, @secret, @fp FROM generate_series(1, @nodes) g
            """))
        {
            cmd.Parameters.AddWithValue("url", sim.HttpsUrl.ToString());
            cmd.Parameters.AddWithValue("token", sim.TokenId);
            cmd.Parameters.AddWithValue("secret", secret);
            cmd.Parameters.AddWithValue("fp", sim.CertificateFingerprint);
            cmd.Parameters.AddWithValue("nodes", nodes);
            await cmd.ExecuteNonQueryAsync();
        }

        var vmids = new List<(int Vmid, int Node)>();
        for (var n = 1; n <= nodes; n++)
        {
            for (var c = 0; c < perNode; c++)
            {
                var vmid = 10_000 + (n * 100) + c;
                sim.Cluster.CreateExternalContainer(new ExternalContainerSpec($"pve{n}", $"ct{vmid}") { Vmid = vmid, Tags = "sajet" });
                vmids.Add((vmid, n));
            }
        }

        await using (var cmd = ds.CreateCommand("""
            INSERT INTO containers (vmid, node_id, hostname, kind, status)
            SELECT v, format('n%s', n), format('ct%s', v), 'dedicated', 'running' FROM unnest(@vmids, @nodes) AS u(v, n)
            """))
        {
            cmd.Parameters.AddWithValue("vmids", vmids.Select(v => v.Vmid).ToArray());
            cmd.Parameters.AddWithValue("nodes", vmids.Select(v => v.Node).ToArray());
            await cmd.ExecuteNonQueryAsync();
        }

        await ApplyRoundAsync(cs, nodes, measure: false);
        await ApplyRoundAsync(cs, nodes, measure: true);
    }

    private static async Task ApplyRoundAsync(string cs, int nodes, bool measure)
    {
        // A real silo (the silo executable's host) polls each node through its grain: observe over loopback, then
        // apply in one domain transaction (and a state write only when health changed).
        using var silo = SajetSilo.Build(SiloSettings(cs));
        await silo.StartAsync();
        var grains = silo.Services.GetRequiredService<IGrainFactory>();
        var before = await TransactionsAsync(Db);
        var process = Process.GetCurrentProcess();
        var cpuBefore = process.TotalProcessorTime;
        var start = Stopwatch.GetTimestamp();
        for (var n = 1; n <= nodes; n++)
        {
            await grains.GetGrain<INodeGrain>($"n{n}").PollNowAsync();
        }

        var wall = Stopwatch.GetElapsedTime(start);
        process.Refresh();
        var cpu = process.TotalProcessorTime - cpuBefore;
        await silo.StopAsync();

        // Backends flush their statistics when they exit: drop the pools before reading the counters.
        NpgsqlConnection.ClearAllPools();
        await Task.Delay(1500);
        var commits = await TransactionsAsync(Db) - before;
        if (measure)
        {
            Print("ingest_commits_per_poll", commits / (double)nodes, "one node poll (50 containers) through its grain, incl. the silo's own membership traffic, pg_stat_database");
            Print("ingest_cpu_ms_per_poll", cpu.TotalMilliseconds / nodes, "process CPU time around the polls (observe over loopback + apply)");
            Print("ingest_wall_ms_per_poll", wall.TotalMilliseconds / nodes, "for information");
        }
    }
}
