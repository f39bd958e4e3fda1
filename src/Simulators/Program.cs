// Runs the external-system simulators on loopback, as ./sajet sim and ./sajet dev start them.
// Usage: Simulators [proxmox] [stripe] [odoo] [mail] [--option=value ...]   (no name starts all four); Ctrl+C stops.
// Options after the names go to the Proxmox simulator (--http-port= --https-port= --nodes= --seed= --task-scale=).
using System.Runtime.InteropServices;
using Sajet.Simulators.Mail;
using Sajet.Simulators.Odoo;
using Sajet.Simulators.Proxmox;
using Sajet.Simulators.Stripe;

var names = args.TakeWhile(a => !a.StartsWith('-')).ToArray();
var proxmoxOptions = args.SkipWhile(a => !a.StartsWith('-')).ToArray();
if (names.Length == 0)
{
    names = ["proxmox", "stripe", "odoo", "mail"];
}

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
            "proxmox" => await ProxmoxSimulator.StartFromCommandLineAsync(proxmoxOptions, Console.Out, stop.Token),
            "stripe" => await StripeSimulatorCli.StartAsync(Console.Out, stop.Token),
            "odoo" => await OdooSimulatorCli.StartAsync(Console.Out, stop.Token),
            "mail" => await MailSinkCli.StartAsync(Console.Out, stop.Token),
            _ => throw new ArgumentException($"Unknown simulator '{name}'. Known: proxmox, stripe, odoo, mail."),
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
