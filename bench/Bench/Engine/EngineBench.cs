using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Sajet.Runtime;
using static Sajet.Bench.BenchSupport;

namespace Sajet.Bench.Engine;

/// <summary>
/// ./sajet bench engine — the runtime against pgbench running the same claim SQL shapes on the same table, same
/// server, same run. Silos get 4 working connections (+1 held by LISTEN).
/// </summary>
public static class EngineBench
{
    private const string Db = "sajet_bench_engine";
    private const int Connections = 4;
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(10);

    // pgbench baseline 1: a job claim in two transactions (claim; finish and schedule the next), as the runtime does.
    private const string TwoTxClaim = """
        WITH due AS (SELECT id FROM reminders WHERE run_at <= now() ORDER BY run_at LIMIT 1 FOR UPDATE SKIP LOCKED)
        UPDATE reminders r SET lease_owner = 'pgbench', lease_token = gen_random_uuid(), run_at = now() + interval '30 seconds', attempt = r.attempt + 1
        FROM due WHERE r.id = due.id RETURNING r.id AS job \gset
        UPDATE reminders SET due_at = now(), run_at = now(), attempt = 0, lease_owner = NULL, lease_token = NULL WHERE id = :job;
        """;

    // pgbench baseline 2: burn-down in one transaction per job (claim and delete together).
    private const string OneTxBurnDown = """
        WITH due AS (SELECT id FROM reminders WHERE run_at <= now() ORDER BY run_at LIMIT 1 FOR UPDATE SKIP LOCKED)
        DELETE FROM reminders r USING due WHERE r.id = due.id;
        """;

    public static async Task<int> RunAsync(string[] args)
    {
        if (args.FirstOrDefault() == "child")
        {
            return await ChildAsync(args[1], int.Parse(args[2], CultureInfo.InvariantCulture), double.Parse(args[3], CultureInfo.InvariantCulture));
        }

        var only = args.FirstOrDefault(); // optional phase name, for quick iterations: steps
        var cs = await FreshDatabaseAsync(Db);
        await using var ds = Database.CreateDataSource(cs);
        Console.WriteLine($"# engine benchmark: {Environment.ProcessorCount} cores, {Connections} connections, window {Window.TotalSeconds} s");

        if (only == "scaleout")
        {
            await ScaleOutAsync(ds, cs);
            return 0;
        }

        // 1. Steady steps: 64 periodic no-op reminders that reschedule themselves at once.
        await SeedTicksAsync(ds, 64);
        var before = await TransactionsAsync(Db);
        var (steps, seconds) = await RunSiloAsync(cs, Connections, Window);
        var after = await TransactionsAsync(Db);
        var stepsPerSecond = steps / seconds;
        await SeedTicksAsync(ds, 64);
        var pg1 = Pgbench(Db, TwoTxClaim, "-c", "4", "-j", "2", "-T", Window.TotalSeconds.ToString(CultureInfo.InvariantCulture));
        Print("steps_per_s", stepsPerSecond);
        Print("pgbench_two_tx_claim_tps", pg1.Tps);
        Print("steps_ratio", stepsPerSecond / pg1.Tps, "goal >= 0.5");
        Print("commits_per_step", (after - before) / (double)steps, "goal <= 2");
        if (only == "steps")
        {
            return 0;
        }

        // 2. Drain 100,000 due one-shot reminders.
        await SeedOnceAsync(ds, 100_000, "now()");
        var drainWall = await DrainAsync(cs, ds, 100_000);
        await SeedOnceAsync(ds, 100_000, "now()");
        var pg2 = Pgbench(Db, OneTxBurnDown, "-c", "4", "-j", "2", "-t", "25000");
        var left = await ScalarAsync(ds, "SELECT count(*) FROM reminders");
        Print("drain_s", drainWall.TotalSeconds);
        Print("pgbench_burn_down_s", pg2.Wall.TotalSeconds, $"{left} left over");
        Print("drain_ratio", pg2.Wall.TotalSeconds / drainWall.TotalSeconds, "goal >= 0.5");

        // 3. Due-to-start lag at half load: half the slower of the two measured rates (one-shot reminders cost a
        // delete, periodic ones an update), with one-shot reminders falling due evenly over 10 s.
        var rate = Math.Min(stepsPerSecond, 100_000 / drainWall.TotalSeconds) / 2;
        var count = (int)(rate * Window.TotalSeconds);
        await SeedOnceAsync(ds, count, $"now() + interval '2 seconds' + (g * interval '{1000.0 / rate:0.###} milliseconds')");
        var lags = await LagAsync(cs, count);
        var claimLatency = pg2.LatencyAvgMs;
        var pollMs = new RuntimeOptions().PollInterval.TotalMilliseconds;
        Print("lag_p50_ms", Percentile(lags, 0.50));
        Print("lag_p99_ms", Percentile(lags, 0.99), string.Create(CultureInfo.InvariantCulture, $"goal <= poll {pollMs} ms + 10 x {claimLatency:0.###} ms = {pollMs + (10 * claimLatency):0.#} ms"));

        // 4. Scale-out: two silo processes with 2 connections each vs one with 4.
        await ScaleOutAsync(ds, cs);
        return 0;
    }

    /// <summary>
    /// One silo process with 4 connections against two with 2 each, alternated three times (medians), so a passing
    /// disturbance on a small machine does not decide the ratio.
    /// </summary>
    private static async Task ScaleOutAsync(Npgsql.NpgsqlDataSource ds, string cs)
    {
        var ones = new List<double>();
        var twos = new List<double>();
        for (var round = 0; round < 3; round++)
        {
            await SeedTicksAsync(ds, 64);
            ones.Add(await ChildrenAsync(cs, 1, Connections));
            await SeedTicksAsync(ds, 64);
            twos.Add(await ChildrenAsync(cs, 2, Connections / 2));
        }

        var one = ones.Order().ElementAt(1);
        var two = twos.Order().ElementAt(1);
        Print("one_silo_steps_per_s", one, "median of 3");
        Print("two_silos_steps_per_s", two, "median of 3");
        Print("scaleout_ratio", two / one, "goal >= 1.0");
    }

    private static async Task SeedTicksAsync(Npgsql.NpgsqlDataSource ds, int n)
    {
        await ExecAsync(ds, "DELETE FROM reminders");
        await ExecAsync(ds, $"""
            INSERT INTO reminders (grain_type, grain_key, name, due_at, run_at)
            SELECT 'noop', 'tick-' || g, 'tick', now(), now() FROM generate_series(1, {n}) g
            """);
    }

    private static async Task SeedOnceAsync(Npgsql.NpgsqlDataSource ds, int n, string due)
    {
        await ExecAsync(ds, "DELETE FROM reminders");
        await ExecAsync(ds, $"""
            INSERT INTO reminders (grain_type, grain_key, name, due_at, run_at)
            SELECT 'noop', 'once-' || g, 'once', {due}, {due} FROM generate_series(1, {n}) g
            """);
        await ExecAsync(ds, "VACUUM ANALYZE reminders");
    }

    private static ServiceProvider BuildSilo(string cs, int connections, string id)
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            // One more than the working connections: LISTEN holds one for good.
            ["DATABASE_URL"] = new Npgsql.NpgsqlConnectionStringBuilder(cs) { MaxPoolSize = connections + 1 }.ConnectionString,
            ["Runtime:SiloId"] = id,
            ["Runtime:MaxConcurrency"] = (connections * 8).ToString(CultureInfo.InvariantCulture),
        }).Build();
        var services = new ServiceCollection();
        services.AddLogging(b => b.SetMinimumLevel(LogLevel.Warning).AddConsole());
        services.AddSajetRuntime(config, g => g.Add<NoopGrain>("noop"));
        return services.BuildServiceProvider();
    }

    private static async Task<(long Steps, double Seconds)> RunSiloAsync(string cs, int connections, TimeSpan window)
    {
        await using var sp = BuildSilo(cs, connections, "bench-steps");
        var silo = sp.GetRequiredService<Silo>();
        await silo.StartAsync();
        await Task.Delay(TimeSpan.FromSeconds(1)); // warm-up
        var start = NoopGrain.Steps;
        var sw = Stopwatch.StartNew();
        await Task.Delay(window);
        var steps = NoopGrain.Steps - start;
        var seconds = sw.Elapsed.TotalSeconds;
        await silo.StopAsync();
        Console.WriteLine($"# {silo.Id}: {silo.ClaimStats.Claims} claims returned {silo.ClaimStats.Claimed} reminders");
        return (steps, seconds);
    }

    private static async Task<TimeSpan> DrainAsync(string cs, Npgsql.NpgsqlDataSource ds, int n)
    {
        await using var sp = BuildSilo(cs, Connections, "bench-drain");
        var silo = sp.GetRequiredService<Silo>();
        var start = NoopGrain.Steps;
        var sw = Stopwatch.StartNew();
        await silo.StartAsync();
        while (NoopGrain.Steps - start < n || silo.InFlightCount > 0)
        {
            await Task.Delay(5);
        }

        var wall = sw.Elapsed;
        await silo.StopAsync();
        var left = await ScalarAsync(ds, "SELECT count(*) FROM reminders");
        if (left != 0)
        {
            throw new InvalidOperationException($"drain left {left} reminders");
        }

        return wall;
    }

    private static async Task<List<double>> LagAsync(string cs, int n)
    {
        NoopGrain.Lags = new ConcurrentBag<double>();
        await using var sp = BuildSilo(cs, Connections, "bench-lag");
        var silo = sp.GetRequiredService<Silo>();
        await silo.StartAsync();
        while (NoopGrain.Lags.Count < n)
        {
            await Task.Delay(50);
        }

        await silo.StopAsync();
        var lags = NoopGrain.Lags.Order().ToList();
        NoopGrain.Lags = null;
        return lags;
    }

    private static async Task<double> ChildrenAsync(string cs, int processes, int connectionsEach)
    {
        var dll = typeof(EngineBench).Assembly.Location;
        var children = Enumerable.Range(0, processes).Select(_ =>
        {
            var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true };
            foreach (var a in new[] { dll, "engine", "child", cs, connectionsEach.ToString(CultureInfo.InvariantCulture), Window.TotalSeconds.ToString(CultureInfo.InvariantCulture) })
            {
                psi.ArgumentList.Add(a);
            }

            return Process.Start(psi)!;
        }).ToList();
        var outputs = await Task.WhenAll(children.Select(c => c.StandardOutput.ReadToEndAsync()));
        foreach (var c in children)
        {
            await c.WaitForExitAsync();
        }

        return outputs.Sum(o => double.Parse(o.Trim().Split('=')[1], CultureInfo.InvariantCulture));
    }

    private static async Task<int> ChildAsync(string cs, int connections, double seconds)
    {
        var (steps, elapsed) = await RunSiloAsync(cs, connections, TimeSpan.FromSeconds(seconds));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"steps_per_s={steps / elapsed}"));
        return 0;
    }
}

/// <summary>The benchmark's grain: its reminder does nothing but count (and measure lag).</summary>
public sealed class NoopGrain : Grain<NoopGrain.Nothing>
{
    private static long _steps;

    public static long Steps => Interlocked.Read(ref _steps);

    public static ConcurrentBag<double>? Lags { get; set; }

    public override Task<ReminderResult> ReceiveReminderAsync(ReminderFiring firing, CancellationToken ct)
    {
        Interlocked.Increment(ref _steps);
        Lags?.Add((DateTimeOffset.UtcNow - firing.DueAt).TotalMilliseconds);
        return Task.FromResult(firing.Name == "tick" ? ReminderResult.Reschedule(TimeSpan.Zero) : ReminderResult.Done());
    }

    public sealed class Nothing;
}
