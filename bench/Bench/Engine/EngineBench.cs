using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Orleans;
using Sajet.Cluster;
using Sajet.Persistence;
using Sajet.SiloHosting;
using static Sajet.Bench.BenchSupport;

namespace Sajet.Bench.Engine;

/// <summary>
/// ./sajet bench engine — the Orleans engine on PostgreSQL: persisted writes against pgbench upserting a row of the
/// same size, reads, idle cost of a silo, reminder lag, failover after SIGKILL and SIGSTOP of a silo process, and
/// 2-silo scale-out. Silos are separate processes (this executable's hidden `silo` verb); the client is this process.
/// </summary>
public static class EngineBench
{
    private const string Db = "sajet_bench_engine";
    private const int Callers = 64;
    private const int GrainsPerCaller = 16;
    private const int Rounds = 3;
    private static readonly TimeSpan LoadDuration = TimeSpan.FromSeconds(8);

    // Every silo process started, so a failure part-way leaves none running.
    private static readonly List<Process> Started = [];

    public static async Task<int> RunAsync(string[] args)
    {
        try
        {
            // No argument: every part. "write" or "failover": that part alone, for tuning one of them.
            return await MeasureAsync(args.FirstOrDefault());
        }
        finally
        {
            foreach (var p in Started)
            {
                if (!p.HasExited)
                {
                    // A stopped process ignores SIGKILL's delivery order only if never continued: continue it first.
                    _ = kill(p.Id, SigCont);
                    p.Kill(entireProcessTree: true);
                }

                p.Dispose();
            }
        }
    }

    private static async Task<int> MeasureAsync(string? only)
    {
        var all = only is null;
        var cs = await FreshDatabaseAsync(Db);
        await using var ds = Database.CreateDataSource(cs);
        Console.WriteLine($"# engine benchmark: {Environment.ProcessorCount} cores, {Callers} callers, {LoadDuration.TotalSeconds:0} s per load");
        // As many connections as callers, as pgbench has: with 20, 44 of the 64 concurrent writes queued for a pooled
        // connection while pgbench's 64 clients each had one (a production silo has Npgsql's default, 100).
        var siloCs = new NpgsqlConnectionStringBuilder(cs) { MaxPoolSize = Callers }.ConnectionString;

        // 1. Idle cost: one silo, no client, after PostgreSQL's statistics flush (10 s) has passed the start-up.
        var silo1 = StartSilo(siloCs);
        await WaitActiveAsync(ds, 1);
        if (only == "failover")
        {
            using var failoverClient = await StartClientAsync(cs);
            await FailoverPartAsync(ds, failoverClient.Services.GetRequiredService<IClusterClient>(), siloCs, silo1, registerGrains: true);
            await failoverClient.StopAsync();
            return 0;
        }

        var idleTx = double.NaN;
        if (all)
        {
            await Task.Delay(TimeSpan.FromSeconds(11));
            var tx0 = await TransactionsAsync(Db);
            var idleWatch = Stopwatch.StartNew();
            await Task.Delay(TimeSpan.FromSeconds(20));
            await Task.Delay(TimeSpan.FromSeconds(1)); // the backends' own stats flush lags by up to a second
            idleTx = (await TransactionsAsync(Db) - tx0) / (idleWatch.Elapsed.TotalSeconds - 1);
        }

        // 2. Writes against their baseline, pgbench upserting a 303-byte row (the stored grain state row is about this
        // size) at the same concurrency, in alternating rounds: the machine's other load drifts over a run, so a single
        // baseline taken before the grains measured a different machine. Medians of the rounds are reported. Each pgbench
        // client owns 16 rows as each caller owns 16 grains (random ids over all rows made clients wait on each other's
        // row locks, which the grains never do).
        await ExecAsync(ds, "CREATE TABLE bench_upsert (id int PRIMARY KEY, payload text NOT NULL)");
        var row = new string('x', 303 - 8);
        var upsertScript = $"\\set id :client_id * {GrainsPerCaller} + random(0, {GrainsPerCaller - 1})\nINSERT INTO bench_upsert VALUES (:id, '{row}') ON CONFLICT (id) DO UPDATE SET payload = excluded.payload;\n";
        string[] pgbenchArgs = ["-c", Callers.ToString(CultureInfo.InvariantCulture), "-j", "2", "-T", ((int)LoadDuration.TotalSeconds).ToString(CultureInfo.InvariantCulture)];

        using var client = await StartClientAsync(cs);
        var factory = client.Services.GetRequiredService<IClusterClient>();

        // 3. Writes and reads with one silo. The warm-up activates the measured grains and creates their rows, as
        // pgbench's first round creates its rows: every measured write then updates an existing row of an active grain.
        await LoadAsync((c, g) => factory.GetGrain<IBenchStateGrain>(Key(1, c, g)).WriteAsync(), TimeSpan.FromSeconds(3));
        var upserts = new List<double>();
        var writes = new List<double>();
        for (var round = 0; round < Rounds; round++)
        {
            var pg0 = PostgresCpu();
            var upsert = Pgbench(Db, upsertScript, pgbenchArgs);
            upserts.Add(upsert.Tps);
            var pgUs = (PostgresCpu() - pg0).TotalMicroseconds / upsert.Transactions;

            var (pg1, silo0, self0) = (PostgresCpu(), silo1.TotalProcessorTime, Process.GetCurrentProcess().TotalProcessorTime);
            var calls = 0L;
            var write = await LoadAsync((c, g) => factory.GetGrain<IBenchStateGrain>(Key(1, c, g)).WriteAsync(), LoadDuration, n => calls = n);
            writes.Add(write);
            silo1.Refresh();
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"# write round {round + 1}: pgbench {upsert.Tps:0} tps, PostgreSQL {pgUs:0} us/tx; grains {write:0} calls/s, per call PostgreSQL " +
                $"{(PostgresCpu() - pg1).TotalMicroseconds / calls:0} us, silo {(silo1.TotalProcessorTime - silo0).TotalMicroseconds / calls:0} us, " +
                $"client {(Process.GetCurrentProcess().TotalProcessorTime - self0).TotalMicroseconds / calls:0} us"));
        }

        var write1 = Median(writes);
        var upsertTps = Median(upserts);
        var read1 = await LoadAsync((c, g) => factory.GetGrain<IBenchStateGrain>(Key(1, c, g)).ReadAsync(), LoadDuration);
        if (!all)
        {
            PrintWrites(write1, writes, upsertTps, upserts, read1);
            return 0;
        }

        // 4. The same load with two silos.
        StartSilo(siloCs);
        await WaitActiveAsync(ds, 2);
        await Task.Delay(TimeSpan.FromSeconds(3)); // the client learns the new gateway from its connected one
        await LoadAsync((c, g) => factory.GetGrain<IBenchStateGrain>(Key(2, c, g)).WriteAsync(), TimeSpan.FromSeconds(3));
        var write2 = await LoadAsync((c, g) => factory.GetGrain<IBenchStateGrain>(Key(3, c, g)).WriteAsync(), LoadDuration);

        PrintWrites(write1, writes, upsertTps, upserts, read1);
        Print("write_calls_per_s_2_silos", write2);
        Print("scaleout_ratio", write2 / write1, "2 silos / 1 silo, same client load; goal >= 0.9 on 2 cores");
        Print("idle_tx_per_s", idleTx, "one idle silo, no client, 20 s after an 11 s settle; goal <= 0.5");

        // 5. Reminder lag: 5,000 grains with 1-minute reminders, due times spread over the first minute.
        StartSilo(siloCs);
        await WaitActiveAsync(ds, 3);
        await Task.Delay(TimeSpan.FromSeconds(3));
        var registered = DateTime.UtcNow;
        await Parallel.ForEachAsync(Enumerable.Range(0, 5000), new ParallelOptions { MaxDegreeOfParallelism = Callers }, async (i, _) =>
            await factory.GetGrain<IBenchReminderGrain>(100_000 + i).StartAsync(TimeSpan.FromSeconds(5 + (i % 60)), TimeSpan.FromMinutes(1)));
        var registeredIn = DateTime.UtcNow - registered;
        // Each grain's first tick is due 5-64 s after its own registration; registration itself takes a few seconds,
        // so a fixed minute from the start missed the last-registered grains' ticks (4,866 of 5,000 counted).
        var firstTicksBy = DateTime.UtcNow + TimeSpan.FromSeconds(65);
        // 1,000 grains with 1-second reminders for the failover part, registered now so they tick meanwhile.
        await Parallel.ForEachAsync(Enumerable.Range(0, 1000), new ParallelOptions { MaxDegreeOfParallelism = Callers }, async (i, _) =>
            await factory.GetGrain<IBenchReminderGrain>(i).StartAsync(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1)));
        await WaitUntilAsync(firstTicksBy + TimeSpan.FromSeconds(5));
        var lags = new List<double>();
        await Parallel.ForEachAsync(Enumerable.Range(0, 5000), new ParallelOptions { MaxDegreeOfParallelism = Callers }, async (i, _) =>
        {
            if (await factory.GetGrain<IBenchReminderGrain>(100_000 + i).FirstLagAsync() is { } lag)
            {
                lock (lags)
                {
                    lags.Add(lag);
                }
            }
        });
        lags.Sort();
        Print("reminder_lag_p99_ms", Percentile(lags, 0.99), string.Create(CultureInfo.InvariantCulture,
            $"5,000 grains, 1-minute reminders, {lags.Count} first ticks of 5,000 (registered in {registeredIn.TotalSeconds:0.0} s); p50 {Percentile(lags, 0.5):0} ms; goal <= 1000"));

        await FailoverPartAsync(ds, factory, siloCs, silo1, registerGrains: false);
        await client.StopAsync();
        foreach (var p in Started.Where(p => !p.HasExited))
        {
            await StopGracefullyAsync(p);
        }

        return 0;
    }

    private static void PrintWrites(double write1, List<double> writes, double upsertTps, List<double> upserts, double read1)
    {
        Print("write_calls_per_s", write1, $"1 silo: WriteStateAsync per call, distinct grains, 64 callers from this client process; median of {Rounds} rounds {Join(writes)}");
        Print("pgbench_upsert_tps", upsertTps, $"303-byte row upsert, 64 clients, 16 rows each, rounds alternating with the grains'; median of {Join(upserts)}");
        Print("write_ratio", write1 / upsertTps, "goal >= 0.5");
        Print("read_calls_per_s", read1, "1 silo: the same grains, read only");
        Print("read_write_ratio", read1 / write1, "goal >= 20");
    }

    /// <summary>
    /// 6. Failover: the 1,000 grains with 1-second reminders on 3 silos; one silo killed, then (after a replacement)
    /// one frozen. Alone (<paramref name="registerGrains"/>), it starts the other two silos and the grains itself.
    /// </summary>
    private static async Task FailoverPartAsync(NpgsqlDataSource ds, IClusterClient factory, string siloCs, Process silo1, bool registerGrains)
    {
        if (registerGrains)
        {
            StartSilo(siloCs);
            StartSilo(siloCs);
            await WaitActiveAsync(ds, 3);
            await Task.Delay(TimeSpan.FromSeconds(3)); // the client learns the new gateways
            await Parallel.ForEachAsync(Enumerable.Range(0, 1000), new ParallelOptions { MaxDegreeOfParallelism = Callers }, async (i, _) =>
                await factory.GetGrain<IBenchReminderGrain>(i).StartAsync(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1)));
        }

        await MakeSureAllAnswerAsync(factory, DateTime.UtcNow, TimeSpan.FromSeconds(30));
        var killed = await FailoverAsync(factory, silo1, signal: null, "kill");
        Print("failover_kill_s", killed, "SIGKILL of 1 of 3 silos: every grain answers and its reminder fired after; goal <= 5");
        StartSilo(siloCs);
        await WaitActiveAsync(ds, 3);
        await MakeSureAllAnswerAsync(factory, DateTime.UtcNow, TimeSpan.FromSeconds(30));
        var frozen = Started.Where(p => !p.HasExited).Skip(1).First();
        var stopped = await FailoverAsync(factory, frozen, signal: SigStop, "stop");
        Print("failover_stop_s", stopped, "SIGSTOP of 1 of 3 silos: same condition; goal <= 15");
        _ = kill(frozen.Id, SigCont);
        frozen.Kill();

    }

    private static double Median(List<double> values) => Percentile([.. values.Order()], 0.5);

    private static string Join(List<double> values) => string.Join(", ", values.Select(v => v.ToString("0", CultureInfo.InvariantCulture)));

    private static long Key(int run, int caller, int grain) => (run * 1_000_000L) + (caller * GrainsPerCaller) + grain;

    /// <summary>64 callers, each calling its own grains in turn for <paramref name="duration"/>; calls per second.</summary>
    private static async Task<double> LoadAsync(Func<int, int, Task<int>> call, TimeSpan duration, Action<long>? count = null)
    {
        var calls = 0L;
        var sw = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, Callers).Select(async c =>
        {
            var n = 0;
            while (sw.Elapsed < duration)
            {
                await call(c, n++ % GrainsPerCaller);
                Interlocked.Increment(ref calls);
            }
        }));
        count?.Invoke(calls);
        return calls / sw.Elapsed.TotalSeconds;
    }

    /// <summary>Faults <paramref name="victim"/> (SIGKILL if <paramref name="signal"/> is null) and times the recovery.</summary>
    private static async Task<double> FailoverAsync(IClusterClient factory, Process victim, int? signal, string name)
    {
        var fault = DateTime.UtcNow;
        var sw = Stopwatch.StartNew();
        if (signal is { } s)
        {
            _ = kill(victim.Id, s);
        }
        else
        {
            victim.Kill();
        }

        Console.Error.WriteLine($"# {name}: silo {victim.Id} at {fault:HH:mm:ss.fff}");
        var answered = new Dictionary<int, double>();
        var recovered = await MakeSureAllAnswerAsync(factory, fault, TimeSpan.FromSeconds(60), answered) ? sw.Elapsed.TotalSeconds : double.NaN;
        await PrintTimelineAsync(factory, name, fault, answered);
        return recovered;
    }

    /// <summary>
    /// Where the failover time went, as seconds after the fault: when the lost grains were activated again, their first
    /// tick there, and when each grain's first call after the fault was answered (the silos' logs have the rest).
    /// </summary>
    private static async Task PrintTimelineAsync(IClusterClient factory, string name, DateTime fault, Dictionary<int, double> answered)
    {
        var timelines = new ActivationTimeline[1000];
        await Parallel.ForEachAsync(Enumerable.Range(0, 1000), new ParallelOptions { MaxDegreeOfParallelism = Callers }, async (i, _) =>
            timelines[i] = await factory.GetGrain<IBenchReminderGrain>(i).TimelineAsync());
        var moved = timelines.Where(t => t.Activated > fault).ToList();
        var activated = moved.Select(t => (t.Activated - fault).TotalSeconds).Order().ToList();
        var ticked = moved.Where(t => t.FirstTick is not null).Select(t => (t.FirstTick!.Value - fault).TotalSeconds).Order().ToList();
        var answers = answered.Values.Order().ToList();
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"# {name}: {moved.Count} grains reactivated at {Percentile(activated, 0):0.0}..{Percentile(activated, 1):0.0} s (p50 {Percentile(activated, 0.5):0.0}); " +
            $"their first tick {Percentile(ticked, 0):0.0}..{Percentile(ticked, 1):0.0} s (p50 {Percentile(ticked, 0.5):0.0}); " +
            $"first answer of every grain p50 {Percentile(answers, 0.5):0.0} p99 {Percentile(answers, 0.99):0.0} max {Percentile(answers, 1):0.0} s"));
    }

    /// <summary>Polls the 1,000 failover grains until each answers with a tick later than <paramref name="since"/>.</summary>
    private static async Task<bool> MakeSureAllAnswerAsync(IClusterClient factory, DateTime since, TimeSpan limit, Dictionary<int, double>? answered = null)
    {
        var pending = Enumerable.Range(0, 1000).ToHashSet();
        var sw = Stopwatch.StartNew();
        while (pending.Count > 0 && sw.Elapsed < limit)
        {
            var done = new List<int>();
            await Parallel.ForEachAsync(pending.ToList(), new ParallelOptions { MaxDegreeOfParallelism = Callers }, async (i, ct) =>
            {
                try
                {
                    // A short wait per call: a call to a dead silo's activation is retried in the next round.
                    var last = await factory.GetGrain<IBenchReminderGrain>(i).LastTickAsync().WaitAsync(TimeSpan.FromSeconds(1), ct);
                    lock (done)
                    {
                        answered?.TryAdd(i, (DateTime.UtcNow - since).TotalSeconds);
                        if (last > since)
                        {
                            done.Add(i);
                        }
                    }
                }
                catch (Exception e) when (e is TimeoutException or OrleansException or SiloUnavailableException)
                {
                    // Not recovered yet.
                }
            });
            pending.ExceptWith(done);
            if (pending.Count > 0)
            {
                await Task.Delay(100);
            }
        }

        return pending.Count == 0;
    }

    private static async Task WaitUntilAsync(DateTime utc)
    {
        var wait = utc - DateTime.UtcNow;
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait);
        }
    }

    private static async Task WaitActiveAsync(NpgsqlDataSource ds, int silos)
    {
        var deadline = Stopwatch.StartNew();
        while (await ScalarAsync(ds, "SELECT count(*) FROM orleans_membership WHERE status = 3") != silos)
        {
            if (deadline.Elapsed > TimeSpan.FromSeconds(60))
            {
                throw new TimeoutException($"gave up waiting for {silos} active silos");
            }

            await Task.Delay(200);
        }
    }

    private static async Task<IHost> StartClientAsync(string cs)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = "Testing" });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["DATABASE_URL"] = new NpgsqlConnectionStringBuilder(cs) { MaxPoolSize = 20 }.ConnectionString,
            // Short calls: a call stuck on a frozen silo gives up quickly and the poll tries again.
            ["Cluster:ClientResponseTimeout"] = "00:00:05",
        });
        builder.UseOrleansClient(c => c.UseSajetCluster(builder.Configuration));
        AddTimelineLog(builder.Logging, toStandardError: true);
        var host = builder.Build();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await host.StartAsync(timeout.Token);
        return host;
    }

    private static Process StartSilo(string cs)
    {
        var psi = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(typeof(EngineBench).Assembly.Location);
        psi.ArgumentList.Add("silo");
        // The silo executable's runtime settings (src/Silo/Silo.csproj): this process runs the bench's own runtimeconfig.
        psi.Environment["DOTNET_gcServer"] = "1";
        psi.Environment["DOTNET_ThreadPool_UnfairSemaphoreSpinLimit"] = "0";
        psi.Environment["BENCH_DATABASE_URL"] = cs;
        var p = Process.Start(psi) ?? throw new InvalidOperationException("could not start a silo process");
        Started.Add(p);
        // The silo's log (timestamped, membership and reminder service at Information) for a post-mortem of the failover
        // figures: silo-logs/engine-<pid>.log beside the bench binaries.
        var dir = Path.Combine(AppContext.BaseDirectory, "silo-logs");
        Directory.CreateDirectory(dir);
        var log = TextWriter.Synchronized(new StreamWriter(Path.Combine(dir, $"engine-{p.Id}.log")) { AutoFlush = true });
        p.OutputDataReceived += (_, e) => log.WriteLine(e.Data);
        p.ErrorDataReceived += (_, e) => { if (e.Data is { Length: > 0 } line) { Console.Error.WriteLine($"# silo {p.Id}: {line}"); } };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return p;
    }

    /// <summary>The hidden `silo` verb: the real Sajet silo host (Sajet's grains and these bench grains) until SIGTERM.</summary>
    public static async Task<int> SiloAsync()
    {
        var settings = new Dictionary<string, string?>
        {
            ["DATABASE_URL"] = Environment.GetEnvironmentVariable("BENCH_DATABASE_URL"),
            ["Cluster:SiloPort"] = "0",
            ["Cluster:GatewayPort"] = "0",
            ["Cluster:AdvertisedAddress"] = "127.0.0.1",
            // The failover grains tick every second so a takeover shows within a second.
            ["Cluster:ReminderMinimumPeriod"] = "00:00:01",
            ["Cluster:Dashboard"] = "false",
            ["STRIPE_SECRET_KEY"] = "sk_test_bench",
            ["STRIPE_WEBHOOK_SECRET"] = "whsec_bench",
            ["SAJET_SECRET_KEY"] = "bench-secret-key-bench-secret-key-0123456789",
        };
        using var stop = new CancellationTokenSource();
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c =>
        {
            c.Cancel = true;
            stop.Cancel();
        });
        using var host = SajetSilo.Build(settings, b => AddTimelineLog(b.Logging));
        await host.StartAsync();
        try
        {
            await Task.Delay(Timeout.Infinite, stop.Token);
        }
        catch (OperationCanceledException)
        {
            // SIGTERM: leave the cluster gracefully.
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(25));
        await host.StopAsync(timeout.Token);
        return 0;
    }

    /// <summary>
    /// Timestamped single-line logs of what decides failover times: membership (suspicions, votes, deaths), the
    /// reminder service (range changes, reminders started) and the client's gateway manager; the rest at Warning. The
    /// client's go to standard error (standard output carries the figures).
    /// </summary>
    private static void AddTimelineLog(ILoggingBuilder logging, bool toStandardError = false)
    {
        logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss.fff ";
            o.UseUtcTimestamp = true;
        });
        if (toStandardError)
        {
            logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        }

        logging.SetMinimumLevel(LogLevel.Warning);
        foreach (var category in (string[])["Orleans.Runtime.MembershipService", "Orleans.Runtime.ReminderService", "Orleans.Messaging", "Orleans.Runtime.GrainDirectory"])
        {
            logging.AddFilter(category, LogLevel.Information);
        }
    }

    private const int SigCont = 18;
    private const int SigStop = 19;

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);
}
