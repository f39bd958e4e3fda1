// Runs the external-system simulators on loopback, as ./sajet sim and ./sajet dev start them.
// Usage: Simulators [stripe] [odoo]   (no argument starts all of them); Ctrl+C stops.
using System.Runtime.InteropServices;
using Sajet.Simulators.Odoo;
using Sajet.Simulators.Stripe;

var names = args.Length == 0 ? ["stripe", "odoo"] : args;
using var stop = new CancellationTokenSource();
using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);

var running = new List<IAsyncDisposable>();
try
{
    foreach (var name in names)
    {
        running.Add(name switch
        {
            "stripe" => await StripeSimulatorCli.StartAsync(Console.Out, stop.Token),
            "odoo" => await OdooSimulatorCli.StartAsync(Console.Out, stop.Token),
            _ => throw new ArgumentException($"Unknown simulator '{name}'. Known: stripe, odoo."),
        });
    }

    Console.WriteLine("Press Ctrl+C to stop.");
    await Task.Delay(Timeout.Infinite, stop.Token).ContinueWith(_ => { }, TaskScheduler.Default);
    return 0;
}
catch (ArgumentException ex)
{
    Console.Error.WriteLine(ex.Message);
    return 2;
}
finally
{
    foreach (var simulator in running)
    {
        await simulator.DisposeAsync();
    }
}

void Stop(PosixSignalContext context)
{
    context.Cancel = true;
    stop.Cancel();
}
