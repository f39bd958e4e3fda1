using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using Sajet.Runtime;
using Sajet.TestSilo;

namespace Sajet.Runtime.Tests;

/// <summary>An in-process silo with its own connection pool, as a separate process would have.</summary>
public sealed class InProcessSilo : IAsyncDisposable
{
    private readonly ServiceProvider _services;

    public InProcessSilo(string connectionString, string siloId, Action<Dictionary<string, string?>>? configure = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["DATABASE_URL"] = connectionString,
            ["Runtime:SiloId"] = siloId,
            ["Runtime:PollInterval"] = "00:00:00.200",
            ["Runtime:BackoffBase"] = "00:00:00.020",
            ["Runtime:LeaseDuration"] = "00:00:05",
        };
        configure?.Invoke(settings);
        var config = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddLogging(b => b.SetMinimumLevel(LogLevel.Warning));
        services.AddSingleton(new SiloIdentity(siloId));
        services.AddSajetRuntime(config, g => g.Add<TestGrain>(TestGrain.TypeName));
        _services = services.BuildServiceProvider();
        Id = siloId;
    }

    public string Id { get; }

    public GrainRuntime Runtime => _services.GetRequiredService<GrainRuntime>();

    public GrainClient Client => _services.GetRequiredService<GrainClient>();

    public Silo Silo => _services.GetRequiredService<Silo>();

    public NpgsqlDataSource DataSource => _services.GetRequiredService<NpgsqlDataSource>();

    public async Task<InProcessSilo> StartAsync()
    {
        await Silo.StartAsync();
        return this;
    }

    public async ValueTask DisposeAsync()
    {
        await Silo.StopAsync();
        await _services.DisposeAsync();
    }
}

/// <summary>A real silo process (tests/TestSilo), for SIGKILL and SIGSTOP.</summary>
public sealed class SiloProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public SiloProcess(string connectionString, string siloId, double leaseSeconds, int concurrency)
    {
        Id = siloId;
        var dll = Path.Combine(AppContext.BaseDirectory, "Sajet.TestSilo.dll");
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { dll, connectionString, siloId, leaseSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture), concurrency.ToString(System.Globalization.CultureInfo.InvariantCulture) })
        {
            psi.ArgumentList.Add(a);
        }

        _process = Process.Start(psi) ?? throw new InvalidOperationException("could not start the test silo");
        _process.OutputDataReceived += (_, e) => OnLine(e.Data);
        _process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public string Id { get; }

    public int Pid => _process.Id;

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public Task Ready => _ready.Task.WaitAsync(TimeSpan.FromSeconds(60));

    public void Kill() => _process.Kill(entireProcessTree: true);

    public void Signal(string signal) => Process.Start("kill", ["-" + signal, Pid.ToString(System.Globalization.CultureInfo.InvariantCulture)])!.WaitForExit();

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            Signal("CONT");
            Signal("TERM");
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            try
            {
                await _process.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(true);
            }
        }

        _process.Dispose();
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }

        if (line.Contains("SILO READY", StringComparison.Ordinal))
        {
            _ready.TrySetResult();
        }
    }
}

public static class Db
{
    public static async Task<T> ScalarAsync<T>(NpgsqlDataSource db, string sql)
    {
        await using var cmd = db.CreateCommand(sql);
        var value = await cmd.ExecuteScalarAsync();
        return (T)Convert.ChangeType(value!, typeof(T), System.Globalization.CultureInfo.InvariantCulture);
    }

    public static async Task ExecAsync(NpgsqlDataSource db, string sql)
    {
        await using var cmd = db.CreateCommand(sql);
        await cmd.ExecuteNonQueryAsync();
    }

    /// <summary>Waits for a condition with a generous deadline; the deadline guards against hangs, it asserts no speed.</summary>
    public static async Task UntilAsync(Func<Task<bool>> condition, string what, int seconds = 120)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Gave up waiting for: {what}");
            }

            await Task.Delay(100);
        }
    }

    /// <summary>Inserts due reminders for test grains (and their grain rows) in one statement.</summary>
    public static Task SeedRemindersAsync(NpgsqlDataSource db, string prefix, int count, string payloadJson, int maxAttempts = 25, string due = "now()") =>
        ExecAsync(db, $"""
            INSERT INTO reminders (grain_type, grain_key, name, payload, due_at, run_at, max_attempts)
            SELECT 'test', '{prefix}' || g, 'work', '{payloadJson}'::jsonb, {due}, {due}, {maxAttempts}
            FROM generate_series(1, {count}) g
            """);
}
