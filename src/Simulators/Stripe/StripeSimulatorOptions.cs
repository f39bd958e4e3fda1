namespace Sajet.Simulators.Stripe;

public sealed class StripeSimulatorOptions
{
    /// <summary>The port stripe-mock uses; 0 picks a free port (read the real one from <see cref="StripeSimulator.BaseUrl"/>).</summary>
    public int Port { get; set; } = 12111;

    /// <summary>The key the simulator reports; with <see cref="AcceptAnyTestKey"/> off it is the only key accepted.</summary>
    public string SecretKey { get; set; } = "sk_test_sajet_simulator";

    /// <summary>Accept any sk_test_/rk_test_ key, as a sandbox account with many keys would.</summary>
    public bool AcceptAnyTestKey { get; set; } = true;

    public string WebhookSecret { get; set; } = "whsec_sajet_simulator_secret";

    /// <summary>Events are POSTed to each of these, signed with <see cref="WebhookSecret"/>.</summary>
    public IList<string> WebhookEndpoints { get; set; } = [];

    /// <summary>The version objects and webhooks are rendered in (stripe.md §3); request Stripe-Version headers are accepted but do not change shapes.</summary>
    public string ApiVersion { get; set; } = "2026-07-29.dahlia";

    /// <summary>
    /// Seeds ids, fault rates and shuffles so that a run can be repeated. Unset, every start (and reset) draws a new
    /// seed: ids must not repeat across restarts, as Stripe's never do, or a database kept from an earlier run (./sajet
    /// dev) would meet the same Checkout Session id twice.
    /// </summary>
    public int? Seed { get; set; }

    /// <summary>Multiplies the webhook retry schedule (1 min, 3 min, 9 min, …); 0.0001 makes retries take milliseconds.</summary>
    public double RetryScale { get; set; } = 1.0;

    /// <summary>Attempts per event and endpoint, the first included; test mode retries "a few times".</summary>
    public int MaxDeliveryAttempts { get; set; } = 4;

    /// <summary>A delivery that takes longer counts as failed, as on Stripe.</summary>
    public TimeSpan DeliveryTimeout { get; set; } = TimeSpan.FromSeconds(10);

    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    public bool LogToConsole { get; set; }
}
