// Runs the external-system simulators (Proxmox VE, Stripe, Odoo) on loopback, as ./sajet sim and ./sajet dev start them.
// Usage: dotnet run --project src/Simulators -- [proxmox] [--option=value ...]
using System.Runtime.InteropServices;
using Sajet.Simulators.Proxmox;

var name = args.Length > 0 && !args[0].StartsWith('-') ? args[0] : "proxmox";
var options = args.Length > 0 && !args[0].StartsWith('-') ? args[1..] : args;

Func<string[], TextWriter, CancellationToken, Task<IAsyncDisposable>>? start = name switch
{
    "proxmox" => ProxmoxSimulator.StartFromCommandLineAsync,
    _ => null,
};
if (start is null)
{
    Console.Error.WriteLine($"unknown simulator '{name}' (known: proxmox)");
    return 2;
}

using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stop.Cancel();
};
using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
{
    context.Cancel = true;
    stop.Cancel();
});

await using var simulator = await start(options, Console.Out, stop.Token);
Console.WriteLine("Press Ctrl+C to stop.");
try
{
    await Task.Delay(Timeout.Infinite, stop.Token);
}
catch (OperationCanceledException)
{
    // Ctrl+C or SIGTERM: fall through to dispose the simulator.
}

return 0;
