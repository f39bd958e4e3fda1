using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Npgsql;
using Sajet.Persistence;
using Sajet.Persistence.Migrations;

namespace Sajet.Bench;

/// <summary>What every benchmark shares: a fresh database on the configured server, pgbench runs, output lines.</summary>
public static partial class BenchSupport
{
    public static string ServerConnectionString =>
        Database.ToNpgsql(Environment.GetEnvironmentVariable("DATABASE_URL") is { Length: > 0 } url ? url : "Host=127.0.0.1;Port=5439;Username=sajet;Database=sajet");

    public static string WithDatabase(string name, int? maxPool = null)
    {
        var b = new NpgsqlConnectionStringBuilder(ServerConnectionString) { Database = name, NoResetOnClose = true };
        if (maxPool is { } m)
        {
            b.MaxPoolSize = m;
        }

        return b.ConnectionString;
    }

    /// <summary>Drops and recreates database <paramref name="name"/> and applies the migrations.</summary>
    public static async Task<string> FreshDatabaseAsync(string name)
    {
        await using (var admin = Database.CreateDataSource(new NpgsqlConnectionStringBuilder(WithDatabase("postgres")) { Pooling = false }.ConnectionString))
        {
            await ExecAsync(admin, $"DROP DATABASE IF EXISTS {name} WITH (FORCE)");
            await ExecAsync(admin, $"CREATE DATABASE {name}");
        }

        var cs = WithDatabase(name);
        await using var ds = Database.CreateDataSource(cs);
        await Migrator.ApplyAsync(ds);
        return cs;
    }

    public static async Task ExecAsync(NpgsqlDataSource ds, string sql)
    {
        await using var cmd = ds.CreateCommand(sql);
        cmd.CommandTimeout = 600;
        await cmd.ExecuteNonQueryAsync();
    }

    public static async Task<long> ScalarAsync(NpgsqlDataSource ds, string sql)
    {
        await using var cmd = ds.CreateCommand(sql);
        return Convert.ToInt64(await cmd.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
    }

    /// <summary>Commits + rollbacks of database <paramref name="name"/>, read from another database so the read is not counted.</summary>
    public static async Task<long> TransactionsAsync(string name)
    {
        await using var admin = Database.CreateDataSource(new NpgsqlConnectionStringBuilder(WithDatabase("postgres")) { Pooling = false }.ConnectionString);
        await using var cmd = admin.CreateCommand("SELECT pg_stat_clear_snapshot(); SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = @db");
        cmd.Parameters.AddWithValue("db", name);
        await using var reader = await cmd.ExecuteReaderAsync();
        await reader.NextResultAsync();
        await reader.ReadAsync();
        return reader.GetInt64(0);
    }

    public sealed record PgbenchResult(double Tps, double LatencyAvgMs, TimeSpan Wall, long Transactions);

    /// <summary>Runs pgbench with a custom script against database <paramref name="name"/>.</summary>
    public static PgbenchResult Pgbench(string name, string script, params string[] args)
    {
        var file = Path.Combine(Path.GetTempPath(), $"sajet-bench-{Guid.NewGuid():N}.sql");
        File.WriteAllText(file, script);
        var b = new NpgsqlConnectionStringBuilder(ServerConnectionString);
        var psi = new ProcessStartInfo("pgbench") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in (string[])["-n", "-h", b.Host!, "-p", b.Port.ToString(CultureInfo.InvariantCulture), "-U", b.Username ?? "postgres", "-f", file, .. args, name])
        {
            psi.ArgumentList.Add(a);
        }

        var sw = Stopwatch.StartNew();
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("pgbench not found: apt-get install postgresql-contrib");
        var errTask = p.StandardError.ReadToEndAsync();
        var output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        sw.Stop();
        File.Delete(file);
        if (p.ExitCode != 0)
        {
            throw new InvalidOperationException($"pgbench failed: {errTask.Result}\n{output}");
        }

        double Find(Regex re) => re.Match(output) is { Success: true } m ? double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : double.NaN;
        var tx = TxRegex().Match(output) is { Success: true } t ? long.Parse(t.Groups[1].Value, CultureInfo.InvariantCulture) : 0;
        return new PgbenchResult(Find(TpsRegex()), Find(LatencyRegex()), sw.Elapsed, tx);
    }

    /// <summary>
    /// CPU time (user + system) consumed so far by the processes <paramref name="include"/> picks, read from /proc:
    /// per-event CPU is a much steadier figure than throughput on a small shared machine.
    /// </summary>
    public static TimeSpan CpuTime(Func<int, string, bool> include)
    {
        var ticks = 0L;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid))
            {
                continue;
            }

            try
            {
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var open = stat.IndexOf('(', StringComparison.Ordinal);
                var close = stat.LastIndexOf(')');
                var fields = stat[(close + 2)..].Split(' ');
                if (include(pid, stat[(open + 1)..close]))
                {
                    // utime + stime, plus cutime + cstime: what the process's children used before they ended (for
                    // PostgreSQL, the postmaster collects every ended backend and autovacuum worker).
                    ticks += long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)
                        + long.Parse(fields[13], CultureInfo.InvariantCulture) + long.Parse(fields[14], CultureInfo.InvariantCulture);
                }
            }
            catch (IOException)
            {
                // The process ended while we looked.
            }
        }

        return TimeSpan.FromSeconds(ticks / 100.0); // USER_HZ is 100 on Linux
    }

    public static TimeSpan PostgresCpu() => CpuTime((_, comm) => comm == "postgres");

    public static void Print(string name, double value, string? note = null) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name}={value:0.###}") + (note is null ? "" : $"    # {note}"));

    public static double Percentile(IReadOnlyList<double> sorted, double p) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];

    [GeneratedRegex(@"tps = ([0-9.]+) \(without initial connection time\)")]
    private static partial Regex TpsRegex();

    [GeneratedRegex(@"latency average = ([0-9.]+) ms")]
    private static partial Regex LatencyRegex();

    [GeneratedRegex(@"number of transactions actually processed: ([0-9]+)")]
    private static partial Regex TxRegex();

    /// <summary>SIGTERM, then a kill if the process has not left within 30 s.</summary>
    public static async Task StopGracefullyAsync(Process process)
    {
        if (process.HasExited)
        {
            return;
        }

        using (var term = Process.Start("kill", $"-TERM {process.Id}"))
        {
            await term.WaitForExitAsync();
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }
}
