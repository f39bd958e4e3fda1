using System.Globalization;

namespace Sajet.Simulators.Stripe;

/// <summary>How `Simulators stripe` starts this simulator: defaults, overridable through the environment.</summary>
public static class StripeSimulatorCli
{
    public static async Task<IAsyncDisposable> StartAsync(TextWriter output, CancellationToken ct)
    {
        var options = new StripeSimulatorOptions { LogToConsole = true };
        if (int.TryParse(Environment.GetEnvironmentVariable("SIM_STRIPE_PORT"), NumberStyles.None, CultureInfo.InvariantCulture, out var port))
        {
            options.Port = port;
        }

        if (Environment.GetEnvironmentVariable("STRIPE_WEBHOOK_SECRET") is { Length: > 0 } secret)
        {
            // Sign with the secret the app is configured with (the first one during a rotation).
            options.WebhookSecret = secret.Split(',', StringSplitOptions.TrimEntries)[0];
        }

        if (Environment.GetEnvironmentVariable("SIM_STRIPE_WEBHOOK_URL") is { Length: > 0 } urls)
        {
            options.WebhookEndpoints = [.. urls.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
        }

        var simulator = await StripeSimulator.StartAsync(options, ct);
        // Simulator test credentials are printed on purpose: they only work against this simulator.
        await output.WriteLineAsync($"stripe  {simulator.BaseUrl}  secret key: {simulator.SecretKey} (any sk_test_ key works)  webhook secret: {simulator.WebhookSecret}");
        await output.WriteLineAsync($"        webhooks -> {(options.WebhookEndpoints.Count == 0 ? "(none; POST /_sim/webhooks/endpoints)" : string.Join(", ", options.WebhookEndpoints))}  control: {simulator.BaseUrl}/_sim/state");
        return simulator;
    }
}
