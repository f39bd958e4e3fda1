using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Sajet.Simulators.Shared;

/// <summary>Starts a bare Kestrel app on a loopback port for a simulator; no config files, no launch settings.</summary>
internal static class SimulatorHost
{
    public static WebApplication Create(IPAddress address, int port, bool logToConsole)
    {
        // Content root beside the binary: the default (the working directory) puts a recursive file watcher on
        // whatever folder the simulator was started from, e.g. the repository with PostgreSQL's data directory in it,
        // and every WAL write then wakes this process.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        builder.WebHost.ConfigureKestrel(k => k.Listen(address, port));
        // Several simulators share one process; the process, not each host, owns Ctrl+C and SIGTERM.
        builder.Services.AddSingleton<IHostLifetime, ProcessOwnedLifetime>();
        builder.Logging.ClearProviders();
        if (logToConsole)
        {
            builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
            builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
            builder.Logging.AddFilter("Microsoft.Hosting", LogLevel.Warning);
        }

        return builder.Build();
    }

    public static string ListeningUrl(WebApplication app)
    {
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        return addresses.First().TrimEnd('/');
    }

    public static int Port(string url) => new Uri(url).Port;

    /// <summary>Control endpoints change the simulator's behaviour, so only the local machine may call them.</summary>
    public static bool IsLoopback(HttpContext context) =>
        context.Connection.RemoteIpAddress is { } ip && IPAddress.IsLoopback(ip);
}

internal sealed class ProcessOwnedLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
