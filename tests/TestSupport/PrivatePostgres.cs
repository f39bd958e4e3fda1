using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Sajet.TestSupport;

/// <summary>
/// A PostgreSQL server of the test's own (initdb in a temp directory), so it can be stopped with
/// <c>-m immediate</c> and started again while silos run.
/// </summary>
public sealed class PrivatePostgres : IAsyncDisposable
{
    private readonly string _dir;
    private readonly string _bin;

    private PrivatePostgres(string dir, string bin, int port)
    {
        _dir = dir;
        _bin = bin;
        Port = port;
    }

    public int Port { get; }

    public string ConnectionString => $"Host=127.0.0.1;Port={Port};Username=sajet;Database=postgres;Pooling=true;Maximum Pool Size=50;Timeout=5";

    public static async Task<PrivatePostgres> StartAsync()
    {
        var bin = Environment.GetEnvironmentVariable("SAJET_PG_BINDIR") is { Length: > 0 } b ? b
            : Directory.GetDirectories("/usr/lib/postgresql").OrderDescending().Select(d => Path.Combine(d, "bin")).FirstOrDefault(d => File.Exists(Path.Combine(d, "initdb")))
            ?? throw new InvalidOperationException("PostgreSQL server binaries not found. Run ./sajet test, which installs them (apt-get install postgresql).");
        var dir = Path.Combine(Path.GetTempPath(), "sajet-pg-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        var port = FreePort();
        var pg = new PrivatePostgres(dir, bin, port);
        if (IsRoot)
        {
            Run("chown", "postgres", dir);
        }

        pg.RunPg("initdb", "-D", Path.Combine(dir, "data"), "-U", "sajet", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8");
        File.AppendAllText(Path.Combine(dir, "data", "postgresql.conf"),
            $"\nlisten_addresses = '127.0.0.1'\nport = {port}\nunix_socket_directories = '{dir}'\nmax_connections = 100\n");
        pg.Start();
        await Task.CompletedTask;
        return pg;
    }

    public void Restart()
    {
        RunPg("pg_ctl", "-D", Path.Combine(_dir, "data"), "-m", "immediate", "-w", "stop");
        Start();
    }

    public ValueTask DisposeAsync()
    {
        try
        {
            RunPg("pg_ctl", "-D", Path.Combine(_dir, "data"), "-m", "immediate", "-w", "stop");
        }
        finally
        {
            Directory.Delete(_dir, recursive: true);
        }

        return ValueTask.CompletedTask;
    }

    private void Start() => RunPg("pg_ctl", "-D", Path.Combine(_dir, "data"), "-l", Path.Combine(_dir, "log"), "-w", "-t", "60", "start");

    private static bool IsRoot => Environment.UserName == "root";

    private void RunPg(string tool, params string[] args)
    {
        var exe = Path.Combine(_bin, tool);
        if (IsRoot)
        {
            Run("runuser", ["-u", "postgres", "--", exe, .. args]);
        }
        else
        {
            Run(exe, args);
        }
    }

    private static void Run(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        _ = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed ({p.ExitCode}): {stderr.Result}");
        }
    }

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }
}
