using System.ComponentModel.DataAnnotations;

namespace Sajet.Integrations.Stripe;

/// <summary>Settings of the Stripe integration, bound from the "Stripe" configuration section.</summary>
public sealed class StripeOptions
{
    public const string SectionName = "Stripe";

    /// <summary>
    /// The API version every request carries: Stripe.net 53.1.0 sends its own pinned version
    /// (<c>StripeConfiguration.ApiVersion</c>, 2026-10-28.endive) and it cannot be changed per client. Pin the webhook
    /// endpoint to a version too; the webhook reads only ids and types, so another release there does no harm.
    /// </summary>
    public static string PinnedApiVersion => global::Stripe.StripeConfiguration.ApiVersion;

    [Required]
    [RegularExpression(@"^(sk|rk)_(test|live)_\S+$", ErrorMessage = "SecretKey must be a Stripe secret (sk_…) or restricted (rk_…) key.")]
    public string SecretKey { get; set; } = "";

    /// <summary>A test-mode key (sk_test_/rk_test_): Stripe's own pages for its objects live under /test/ then.</summary>
    public bool TestMode => SecretKey.StartsWith("sk_test_", StringComparison.Ordinal) || SecretKey.StartsWith("rk_test_", StringComparison.Ordinal);

    /// <summary>A live-mode key (sk_live_/rk_live_): real charges.</summary>
    public bool LiveMode => SecretKey.StartsWith("sk_live_", StringComparison.Ordinal) || SecretKey.StartsWith("rk_live_", StringComparison.Ordinal);

    /// <summary>Every active endpoint secret; more than one while a secret is being rolled.</summary>
    [MinLength(1)]
    public IList<string> WebhookSecrets { get; set; } = [];

    /// <summary>Where the API is: Stripe's unless set; the simulator (http://127.0.0.1:12111) in dev and tests.</summary>
    [Required]
    [Url]
    public string ApiBase { get; set; } = "https://api.stripe.com";

    /// <summary>Retries of connection failures, 409 and 5xx (and whatever Stripe-Should-Retry allows), with the SDK's backoff.</summary>
    [Range(0, 10)]
    public int MaxNetworkRetries { get; set; } = 2;

    /// <summary>Per attempt; the SDK's default is 80 s.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(80);

    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan WebhookTolerance { get; set; } = TimeSpan.FromSeconds(300);

    /// <summary>
    /// Applies the environment names kept from the system Sajet replaces: STRIPE_SECRET_KEY, and
    /// STRIPE_WEBHOOK_SECRET, which may list several secrets separated by commas during a rotation.
    /// </summary>
    public StripeOptions ApplyEnvironment(Func<string, string?> getVariable)
    {
        var key = getVariable("STRIPE_SECRET_KEY");
        if (!string.IsNullOrWhiteSpace(key))
        {
            SecretKey = key.Trim();
        }

        var secrets = SplitSecrets(getVariable("STRIPE_WEBHOOK_SECRET"));
        if (secrets.Count > 0)
        {
            WebhookSecrets = [.. secrets];
        }

        return this;
    }

    public static IReadOnlyList<string> SplitSecrets(string? value) =>
        string.IsNullOrWhiteSpace(value)
            ? []
            : value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
