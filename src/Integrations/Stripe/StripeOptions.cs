using System.ComponentModel.DataAnnotations;

namespace Sajet.Integrations.Stripe;

/// <summary>Settings of the Stripe integration, bound from the "Stripe" configuration section.</summary>
public sealed class StripeOptions
{
    public const string SectionName = "Stripe";

    /// <summary>The API version this client's DTOs were written against (stripe.md §3); webhook endpoints must be pinned to it too.</summary>
    public const string PinnedApiVersion = "2026-07-29.dahlia";

    [Required]
    [RegularExpression(@"^(sk|rk)_(test|live)_\S+$", ErrorMessage = "SecretKey must be a Stripe secret (sk_…) or restricted (rk_…) key.")]
    public string SecretKey { get; set; } = "";

    /// <summary>Every active endpoint secret; more than one while a secret is being rolled.</summary>
    [MinLength(1)]
    public IList<string> WebhookSecrets { get; set; } = [];

    [Required]
    [Url]
    public string BaseUrl { get; set; } = "https://api.stripe.com";

    [Required]
    public string ApiVersion { get; set; } = PinnedApiVersion;

    [Range(0, 10)]
    public int MaxNetworkRetries { get; set; } = 2;

    /// <summary>Per attempt; stripe-node's default is 80 s.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(80);

    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan WebhookTolerance { get; set; } = TimeSpan.FromSeconds(300);

    /// <summary>First backoff step; the official SDKs use 0.5 s.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:01:00")]
    public TimeSpan InitialNetworkRetryDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    [Range(typeof(TimeSpan), "00:00:00", "00:05:00")]
    public TimeSpan MaxNetworkRetryDelay { get; set; } = TimeSpan.FromSeconds(5);

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
