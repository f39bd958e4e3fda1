using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.AspNetCore.Http;
using Sajet.Integrations.Stripe;
using Sajet.Persistence;
using Sajet.Simulators.Odoo;
using Sajet.Simulators.Proxmox;
using Sajet.Simulators.Stripe;
using static Sajet.Bench.BenchSupport;

namespace Sajet.Bench.Onboarding;

/// <summary>
/// ./sajet bench onboarding — tenants per minute from signup to active on zero-latency simulators (1 and 2 silo
/// processes), and the Stripe webhook endpoint (full verification + durable insert + routing) against a bare ASP.NET
/// endpoint and against pgbench inserting the same 2 KB event, at the same concurrency, in the same run.
/// </summary>
public static class OnboardingBench
{
    private const string Db = "sajet_bench_onboarding";
    private const string Secret = "bench-secret-key-bench-secret-key-0123456789";
    private const string Admin = "bench-admin@example.com";
    private const string AdminPassword = "bench-admin-password-1";
    private const int Concurrency = 8;
    private const int WebhookRequests = 60_000; // more than wrk sends in 8 s here, so every request is a new event
    private const int Rounds = 3;

    // Every process the benchmark starts, so a failure part-way does not leave a web front or silo running.
    private static readonly List<Process> Started = [];

    public static async Task<int> RunAsync(string[] args)
    {
        try
        {
            return await MeasureAsync(args);
        }
        finally
        {
            // The processes are disposed only here, so a failure part-way can still stop them.
            foreach (var p in Started)
            {
                if (!p.HasExited)
                {
                    p.Kill(entireProcessTree: true);
                }

                p.Dispose();
            }
        }
    }

    private static async Task<int> MeasureAsync(string[] args)
    {
        var tenants = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 40;
        var cs = await FreshDatabaseAsync(Db);
        await using var ds = Database.CreateDataSource(cs);
        await using var proxmox = await ProxmoxSimulator.StartAsync(new ProxmoxSimulatorOptions
        {
            HttpPort = 0, HttpsPort = 0, NodeCount = 3, TaskDurationScale = 0, AuthFailureDelay = TimeSpan.Zero,
            LvmStorageBytes = 16L << 40, NodeMemoryBytes = 512L << 30, NodeCores = 128,
        });
        await using var odoo = await OdooSimulator.StartAsync(new OdooSimulatorOptions { Port = 0 });
        var webPort = FreePort();
        var webUrl = $"http://127.0.0.1:{webPort}";
        await using var stripe = await StripeSimulator.StartAsync(new StripeSimulatorOptions { Port = 0, RetryScale = 0.001, WebhookEndpoints = [$"{webUrl}/webhook/stripe"] });
        var env = Environment(cs, stripe, odoo);
        Console.WriteLine($"# onboarding benchmark: {System.Environment.ProcessorCount} cores, {tenants} tenants per run, webhook concurrency {Concurrency}");

        var web = StartProcess("WebFront", ["--urls", webUrl], env);
        using var http = new HttpClient { BaseAddress = new Uri(webUrl), Timeout = TimeSpan.FromSeconds(30) };
        await WaitHealthyAsync(http);
        await RegisterNodesAsync(http, ds, proxmox);

        // 1. Tenants per minute, with one and then two silo processes (`onboarding 0` measures only the webhook).
        if (tenants > 0)
        {
            var one = await TenantsPerMinuteAsync(http, ds, stripe, env, tenants, silos: 1, "one");
            var two = await TenantsPerMinuteAsync(http, ds, stripe, env, tenants, silos: 2, "two");
            Print("tenants_per_min", one, "1 silo");
            Print("tenants_per_min_2_silos", two);
            Print("silos_ratio", two / one, "2 silos / 1");
        }
        else
        {
            var signup = await http.PostAsJsonAsync("/api/checkout", new { companyName = "Bench", email = "bench@example.com", subdomain = "bench-webhook", plan = "pro", country = "ES" });
            if (signup.StatusCode != HttpStatusCode.Created)
            {
                throw new InvalidOperationException($"signup failed: {await signup.Content.ReadAsStringAsync()}");
            }
        }

        // 2. The webhook endpoint: signed 2 KB events for an existing tenant, stored and routed in one transaction.
        // A fresh web front process, so statistics still pending from the first part cannot land in this count.
        stripe.Control.ClearWebhookEndpoints();
        web.Kill(entireProcessTree: true);
        await web.WaitForExitAsync();
        // SAJET_BENCH_PERF=FILE records the whole machine with perf during the measured run (JIT symbols via perf maps).
        var perfFile = System.Environment.GetEnvironmentVariable("SAJET_BENCH_PERF");
        var hookEnv = perfFile is { Length: > 0 } ? new Dictionary<string, string>(env) { ["DOTNET_PerfMapEnabled"] = "1", ["DOTNET_EnableWriteXorExecute"] = "0" } : env;
        var hooks = StartProcess("WebFront", ["--urls", webUrl], hookEnv);
        await WaitHealthyAsync(http);
        await Task.Delay(TimeSpan.FromSeconds(11)); // past PostgreSQL's idle statistics flush interval (10 s)
        // The signup's claim exists at once; the tenants row only once a silo applied the signup.
        var tenant = await ScalarStringAsync(ds, "SELECT tenant_id FROM signups LIMIT 1");
        var template = EventTemplate(tenant);
        // The load comes from wrk (C, like pgbench), so the client's own cost on these 2 cores is as small as
        // pgbench's: a .NET client signing and sending from the same machine took more CPU than the server it measured.
        // Bodies and signatures are made before the clock starts; each request carries a new event id.
        // pgbench's table exists before the warm-up, so its creation is not in the commit count.
        await ExecAsync(ds, "CREATE TABLE bench_events (LIKE stripe_events INCLUDING ALL)");
        var literal = template.Replace("EVENT_ID", "evt_pgbench", StringComparison.Ordinal).Replace("'", "''", StringComparison.Ordinal);
        var insertSql = $"INSERT INTO bench_events (id, type, created, payload) VALUES ('evt_' || md5(random()::text || clock_timestamp()::text), 'checkout.session.completed', now(), '{literal}'::jsonb);\n";
        var warmScript = WrkScript(template, "evt_warm_", stripe.WebhookSecret, WebhookRequests);
        Wrk(webUrl + "/webhook/stripe", warmScript, TimeSpan.FromSeconds(8)); // warm-up: JIT tiers, pools, plans
        var scripts = Enumerable.Range(1, Rounds).Select(r => WrkScript(template, $"evt_bench{r}_", stripe.WebhookSecret, WebhookRequests)).ToList();
        await Task.Delay(TimeSpan.FromSeconds(11)); // let the warm-up's statistics flush before counting
        var before = await TransactionsAsync(Db);

        // Webhook and pgbench take turns, so a change in this VM's fsync speed lands on both sides of each ratio.
        var rounds = new List<(Load Webhook, PgbenchResult Insert, double WebCpuUs, double PgCpuUs, double PgbenchPgCpuUs)>();
        foreach (var script in scripts)
        {
            var (webCpu0, pgCpu0) = (CpuTime((pid, _) => pid == hooks.Id), PostgresCpu());
            using var perf = perfFile is { Length: > 0 } && rounds.Count == 0
                ? Process.Start("perf", ["record", "-a", "-g", "-F", "999", "-o", perfFile, "--", "sleep", "3"]) : null;
            var load = Wrk(webUrl + "/webhook/stripe", script, TimeSpan.FromSeconds(3));
            perf?.WaitForExit();
            var (webCpu1, pgCpu1) = (CpuTime((pid, _) => pid == hooks.Id), PostgresCpu());
            var insert = Pgbench(Db, insertSql, "-c", Concurrency.ToString(CultureInfo.InvariantCulture), "-j", "2", "-T", "3");
            await Task.Delay(500); // pgbench's backends have ended; let the postmaster collect their CPU time
            var pgCpu2 = PostgresCpu();
            rounds.Add((load, insert, (webCpu1 - webCpu0).TotalMicroseconds / load.Requests, (pgCpu1 - pgCpu0).TotalMicroseconds / load.Requests,
                (pgCpu2 - pgCpu1).TotalMicroseconds / insert.Transactions));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"# round {rounds.Count}: webhook {load.PerSecond:0}/s p99 {load.P99Ms:0.00} ms, pgbench insert {insert.Tps:0} tps avg {insert.LatencyAvgMs:0.000} ms"));
        }

        // Stopping the web front flushes its connections' statistics, so the count is complete.
        hooks.Kill(entireProcessTree: true);
        await hooks.WaitForExitAsync();
        var after = await TransactionsAsync(Db);
        var stored = await ScalarAsync(ds, "SELECT count(*) FROM stripe_events WHERE id LIKE 'evt_bench%'");
        var sent = rounds.Sum(r => r.Webhook.Requests);
        var pgbenchTransactions = rounds.Sum(r => r.Insert.Transactions);

        // Baseline A: a bare ASP.NET endpoint that reads the body and answers 200, same client, same concurrency.
        var barePort = FreePort();
        var bare = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        bare.WebHost.UseUrls($"http://127.0.0.1:{barePort}");
        bare.Logging.ClearProviders();
        await using var bareApp = bare.Build();
        bareApp.MapPost("/webhook/stripe", async (HttpRequest r) => { await r.Body.CopyToAsync(Stream.Null); return Results.Ok(); });
        await bareApp.StartAsync();
        Wrk($"http://127.0.0.1:{barePort}/webhook/stripe", warmScript, TimeSpan.FromSeconds(2));
        var bareCpu0 = CpuTime((pid, _) => pid == System.Environment.ProcessId);
        var baseline = Wrk($"http://127.0.0.1:{barePort}/webhook/stripe", scripts[0], TimeSpan.FromSeconds(3));
        var bareCpuUs = (CpuTime((pid, _) => pid == System.Environment.ProcessId) - bareCpu0).TotalMicroseconds / baseline.Requests;

        static double Median(IEnumerable<double> values)
        {
            var sorted = values.Order().ToList();
            return sorted[sorted.Count / 2];
        }

        var webhookPerS = Median(rounds.Select(r => r.Webhook.PerSecond));
        Print("webhook_per_s", webhookPerS, $"median of {Rounds}; {stored} stored, {sent} sent");
        Print("bare_endpoint_per_s", baseline.PerSecond);
        Print("pgbench_insert_tps", Median(rounds.Select(r => r.Insert.Tps)));
        Print("webhook_vs_bare_ratio", webhookPerS / baseline.PerSecond);
        Print("webhook_vs_insert_ratio", Median(rounds.Select(r => r.Webhook.PerSecond / r.Insert.Tps)), "goal >= 0.5; median of the rounds' ratios");
        Print("webhook_p99_ms", Median(rounds.Select(r => r.Webhook.P99Ms)));
        Print("pgbench_insert_avg_ms", Median(rounds.Select(r => r.Insert.LatencyAvgMs)));
        Print("webhook_p99_ratio", Median(rounds.Select(r => r.Webhook.P99Ms / r.Insert.LatencyAvgMs)), "goal <= 10");
        Print("commits_per_event", (after - before - pgbenchTransactions) / (double)stored, "goal <= 1: each event in one transaction, events that arrive together share it");
        Print("webhook_web_cpu_us_per_event", Median(rounds.Select(r => r.WebCpuUs)), "web front process");
        Print("bare_endpoint_cpu_us_per_request", bareCpuUs, "this process, simulators idle");
        Print("webhook_pg_cpu_us_per_event", Median(rounds.Select(r => r.PgCpuUs)), "all PostgreSQL processes");
        Print("pgbench_insert_pg_cpu_us_per_tx", Median(rounds.Select(r => r.PgbenchPgCpuUs)), "all PostgreSQL processes");
        return 0;
    }

    private static Dictionary<string, string> Environment(string cs, StripeSimulator stripe, OdooSimulator odoo) => new()
    {
        ["DATABASE_URL"] = cs,
        ["JWT_SECRET_KEY"] = Secret,
        ["SAJET_SECRET_KEY"] = Secret,
        ["ADMIN_USERNAME"] = Admin,
        ["ADMIN_PASSWORD"] = AdminPassword,
        ["STRIPE_SECRET_KEY"] = stripe.SecretKey,
        ["STRIPE_WEBHOOK_SECRET"] = stripe.WebhookSecret,
        ["Stripe__ApiBase"] = stripe.BaseUrl,
        ["Tenants__OdooUrlTemplate"] = odoo.BaseUrl,
        ["Tenants__OdooMasterPassword"] = odoo.MasterPassword,
        ["Tenants__TaskPollInterval"] = "00:00:00.010",
        ["Tenants__StepRetryDelay"] = "00:00:00.050",
        ["Tenants__ReconcileFirstInterval"] = "00:00:05",
        ["Proxmox__TaskPollInterval"] = "00:00:00.010",
        ["Proxmox__MaxTaskPollInterval"] = "00:00:00.050",
        ["Cluster__SiloPort"] = "0",
        ["Cluster__GatewayPort"] = "0",
        ["Cluster__AdvertisedAddress"] = "127.0.0.1",
        ["Cluster__Dashboard"] = "false",
        ["Outbox__PollInterval"] = "00:00:05",
        ["RateLimits__CheckoutsPerMinute"] = "10000",
        ["RateLimits__WebhooksPerMinute"] = "10000000", // the benchmark sends ~500,000 a minute
        ["RateLimits__SignupsPerHour"] = "10000",
        ["Logging__LogLevel__Default"] = "Warning",
    };

    private static async Task<double> TenantsPerMinuteAsync(HttpClient http, Npgsql.NpgsqlDataSource ds, StripeSimulator stripe,
        Dictionary<string, string> env, int count, int silos, string run)
    {
        var processes = Enumerable.Range(1, silos).Select(i =>
        {
            return StartProcess("Silo", ["run"], env);
        }).ToList();
        try
        {
            await WaitAsync(async () => await ScalarAsync(ds, "SELECT count(*) FROM orleans_membership WHERE status = 3") == silos, "silos up");
            var sw = Stopwatch.StartNew();
            await Parallel.ForEachAsync(Enumerable.Range(1, count), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, ct) =>
            {
                var response = await http.PostAsJsonAsync("/api/checkout", new { companyName = $"Bench {run} {i}", email = $"b{i}@{run}.example.com", subdomain = $"b-{run}-{i}", plan = i % 3 == 0 ? "basic" : "pro", country = "ES" }, ct);
                var body = await response.Content.ReadAsStringAsync(ct);
                if (response.StatusCode != HttpStatusCode.Created)
                {
                    throw new InvalidOperationException($"signup failed: {body}");
                }

                var url = JsonDocument.Parse(body).RootElement.GetProperty("checkoutUrl").GetString()!;
                stripe.Control.PayCheckoutSession(url[(url.LastIndexOf('/') + 1)..]);
            });
            await WaitAsync(async () => await ScalarAsync(ds, $"SELECT count(*) FROM tenants WHERE subdomain LIKE 'b-{run}-%' AND status = 'active'") == count, $"{count} tenants active", 600);
            var perMinute = count / sw.Elapsed.TotalMinutes;
            var failed = await ScalarAsync(ds, $"SELECT count(*) FROM tenants WHERE subdomain LIKE 'b-{run}-%' AND status = 'failed'");
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"# {silos} silo(s): {count} tenants active in {sw.Elapsed.TotalSeconds:0.0} s ({failed} failed)"));
            return perMinute;
        }
        finally
        {
            foreach (var p in processes)
            {
                // Gracefully: a silo that leaves says so in the membership table, so the next run counts only its own.
                await StopGracefullyAsync(p);
            }
        }
    }

    private sealed record Load(double PerSecond, double P99Ms, long Requests = 0);

    private static readonly JsonSerializerOptions LuaStrings = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>
    /// A wrk script with <paramref name="count"/> signed events as complete HTTP requests, built here so wrk's Lua only
    /// picks the next one (like pgbench, the client does next to nothing per request); wrk's two threads take alternate ones.
    /// </summary>
    private static string WrkScript(string template, string prefix, string secret, int count)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var path = Path.Combine(Path.GetTempPath(), $"sajet-wrk-{prefix}{Guid.NewGuid():N}.lua");
        using var w = new StreamWriter(path);
        w.WriteLine("requests = {");
        for (var i = 0; i < count; i++)
        {
            var body = template.Replace("EVENT_ID", $"{prefix}{i:D8}", StringComparison.Ordinal);
            var signature = StripeWebhookSigner.GenerateHeader(body, now, secret);
            var request = $"POST /webhook/stripe HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                + $"Stripe-Signature: {signature}\r\nContent-Length: {Encoding.UTF8.GetByteCount(body)}\r\n\r\n{body}";
            // Lua reads \r, \n, \" and \\ but not \u escapes: relaxed escaping keeps the bytes the signature covers.
            w.Write(JsonSerializer.Serialize(request, LuaStrings));
            w.WriteLine(",");
        }

        w.WriteLine("""
            }
            local threads = 0
            function setup(thread) thread:set("offset", threads); threads = threads + 1 end
            function init(args) counter = 0 end
            request = function()
              local i = (counter * 2 + offset) % #requests + 1
              counter = counter + 1
              return requests[i]
            end
            """);
        return path;
    }

    /// <summary>Runs wrk (2 threads, the same 8 connections as pgbench's clients) and reads its rate and p99.</summary>
    private static Load Wrk(string url, string script, TimeSpan duration)
    {
        var psi = new ProcessStartInfo("wrk") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "-t2", $"-c{Concurrency}", $"-d{(int)duration.TotalSeconds}s", "--latency", "-s", script, url })
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi) ?? throw new InvalidOperationException("wrk not found: apt-get install wrk");
        var output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        var rate = System.Text.RegularExpressions.Regex.Match(output, @"Requests/sec:\s+([0-9.]+)");
        var p99 = System.Text.RegularExpressions.Regex.Match(output, @"99%\s+([0-9.]+)(us|ms|s)");
        var total = System.Text.RegularExpressions.Regex.Match(output, @"([0-9]+) requests in");
        if (!rate.Success || !p99.Success || output.Contains("Non-2xx", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"wrk against {url} failed or got errors:\n{output}");
        }

        foreach (System.Text.RegularExpressions.Match line in System.Text.RegularExpressions.Regex.Matches(output, @"^\s+(Latency .*|\d+% .*)$", System.Text.RegularExpressions.RegexOptions.Multiline))
        {
            Console.WriteLine($"#   {url[(url.LastIndexOf(':') + 1)..]} {line.Groups[1].Value.Trim()}");
        }

        var value = double.Parse(p99.Groups[1].Value, CultureInfo.InvariantCulture);
        var ms = p99.Groups[2].Value switch { "us" => value / 1000, "s" => value * 1000, _ => value };
        return new Load(double.Parse(rate.Groups[1].Value, CultureInfo.InvariantCulture), ms, long.Parse(total.Groups[1].Value, CultureInfo.InvariantCulture));
    }

    /// <summary>A checkout.session.completed event of about 2 KB, as Stripe sends them.</summary>
    private static string EventTemplate(string tenantId) => """
        {"id":"EVENT_ID","object":"event","api_version":"2026-07-29.dahlia","created":1767225600,"livemode":false,"pending_webhooks":1,
         "request":{"id":null,"idempotency_key":null},"type":"checkout.session.completed",
         "data":{"object":{"id":"cs_test_bench","object":"checkout.session","client_reference_id":"TENANT_ID","customer":"cus_bench",
         "mode":"subscription","payment_status":"paid","status":"complete","subscription":"sub_bench","amount_total":4900,"currency":"usd",
         "metadata":{"tenant_id":"TENANT_ID","plan":"pro","note":"PADDING"}}}}
        """.Replace("TENANT_ID", tenantId, StringComparison.Ordinal).Replace("PADDING", new string('x', 1200), StringComparison.Ordinal);

    private static async Task RegisterNodesAsync(HttpClient http, Npgsql.NpgsqlDataSource ds, ProxmoxSimulator proxmox)
    {
        var login = await http.PostAsJsonAsync("/api/auth/login", new { email = Admin, password = AdminPassword, role = "admin", tokenInBody = true });
        var token = JsonDocument.Parse(await login.Content.ReadAsStringAsync()).RootElement.GetProperty("accessToken").GetString();
        http.DefaultRequestHeaders.Authorization = new("Bearer", token);
        foreach (var node in new[] { "pve1", "pve2", "pve3" })
        {
            var response = await http.PostAsJsonAsync("/api/nodes", new { id = node, apiUrl = proxmox.HttpUrl.ToString().TrimEnd('/'), tokenId = proxmox.TokenId, tokenSecret = proxmox.TokenSecret, pveNode = node });
            if (response.StatusCode != HttpStatusCode.Created)
            {
                throw new InvalidOperationException($"node registration failed: {await response.Content.ReadAsStringAsync()}");
            }
        }

        http.DefaultRequestHeaders.Authorization = null;
        // The first poll needs a silo; until one runs the nodes are written as the node grain would on success.
        await ExecAsync(ds, "UPDATE settings SET value = '5' WHERE key = 'nodes.poll_interval_seconds'");
        await ExecAsync(ds, "UPDATE nodes SET health = 'online', metrics_at = now(), storage_present = true, template_present = true, cores = 128, memory_bytes = 512::bigint << 30, disk_bytes = 16::bigint << 40");
    }

    private static Process StartProcess(string project, string[] args, Dictionary<string, string> env)
    {
        var root = AppContext.BaseDirectory;
        var configuration = root.Contains("/Release/", StringComparison.Ordinal) ? "Release" : "Debug";
        var repo = Path.GetFullPath(Path.Combine(root, "../../../../.."));
        var dll = Path.Combine(repo, "src", project, "bin", configuration, "net10.0", $"Sajet.{project}.dll");
        var psi = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Path.Combine(repo, "src", project) };
        psi.ArgumentList.Add(dll);
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        foreach (var (k, v) in env)
        {
            psi.Environment[k] = v;
        }

        var p = Process.Start(psi)!;
        Started.Add(p);
        p.OutputDataReceived += (_, _) => { };
        p.ErrorDataReceived += (_, e) => { if (e.Data is { Length: > 0 } line && line.Contains("fail", StringComparison.OrdinalIgnoreCase)) { Console.Error.WriteLine($"# {project}: {line}"); } };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return p;
    }

    private static async Task WaitHealthyAsync(HttpClient http) =>
        await WaitAsync(async () =>
        {
            try
            {
                return (await http.GetAsync("/health")).StatusCode is HttpStatusCode.OK;
            }
            catch (HttpRequestException)
            {
                return false;
            }
        }, "web front healthy");

    private static async Task WaitAsync(Func<Task<bool>> condition, string what, int seconds = 120)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"gave up waiting for {what}");
            }

            await Task.Delay(100);
        }
    }

    private static async Task<string> ScalarStringAsync(Npgsql.NpgsqlDataSource ds, string sql)
    {
        await using var cmd = ds.CreateCommand(sql);
        return (string)(await cmd.ExecuteScalarAsync())!;
    }

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }
}
