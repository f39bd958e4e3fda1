using System.Globalization;

namespace Sajet.Simulators.Odoo;

/// <summary>How `Simulators odoo` starts this simulator: defaults, overridable through the environment.</summary>
public static class OdooSimulatorCli
{
    public static async Task<IAsyncDisposable> StartAsync(TextWriter output, CancellationToken ct)
    {
        var options = new OdooSimulatorOptions { LogToConsole = true };
        if (int.TryParse(Environment.GetEnvironmentVariable("SIM_ODOO_PORT"), NumberStyles.None, CultureInfo.InvariantCulture, out var port))
        {
            options.Port = port;
        }

        if (Environment.GetEnvironmentVariable("SIM_ODOO_MASTER_PASSWORD") is { Length: > 0 } master)
        {
            options.MasterPassword = master;
        }

        var simulator = await OdooSimulator.StartAsync(options, ct);
        // The master password is a simulator credential printed on purpose, so developers can call the db service.
        await output.WriteLineAsync($"odoo    {simulator.BaseUrl}/jsonrpc  master password: {simulator.MasterPassword}  control: {simulator.BaseUrl}/_sim/state");
        return simulator;
    }
}
