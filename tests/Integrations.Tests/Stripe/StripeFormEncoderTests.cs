using Sajet.Integrations.Stripe;

namespace Sajet.Integrations.Tests.Stripe;

public sealed class StripeFormEncoderTests
{
    [Fact]
    public void Encode_NestedObjectsListsAndScalars_UseBracketsLikeTheSdks()
    {
        var encoded = StripeFormEncoder.Encode(new Dictionary<string, object?>
        {
            ["mode"] = "subscription",
            ["metadata"] = new Dictionary<string, string> { ["tenant_id"] = "42" },
            ["line_items"] = new List<object>
            {
                new Dictionary<string, object?>
                {
                    ["price_data"] = new Dictionary<string, object?>
                    {
                        ["unit_amount"] = 2900L,
                        ["recurring"] = new Dictionary<string, object?> { ["interval"] = "month" },
                    },
                    ["quantity"] = 1,
                },
            },
            ["expand"] = new[] { "customer", "subscription" },
            ["allow_promotion_codes"] = true,
            ["skipped"] = null,
            ["success_url"] = "https://app.test/ok?session_id={CHECKOUT_SESSION_ID}",
        });

        Assert.Equal(
            "mode=subscription&metadata[tenant_id]=42&line_items[0][price_data][unit_amount]=2900"
            + "&line_items[0][price_data][recurring][interval]=month&line_items[0][quantity]=1"
            + "&expand[0]=customer&expand[1]=subscription&allow_promotion_codes=true"
            + "&success_url=https%3A%2F%2Fapp.test%2Fok%3Fsession_id%3D%7BCHECKOUT_SESSION_ID%7D",
            encoded);
    }

    [Fact]
    public void Encode_EscapesKeysButKeepsBrackets() =>
        Assert.Equal("metadata[a%20b%26c]=x%3Dy", StripeFormEncoder.Encode(new Dictionary<string, object?>
        {
            ["metadata"] = new Dictionary<string, string> { ["a b&c"] = "x=y" },
        }));

    [Fact]
    public void RetryDelay_FollowsSdkBackoffAndRetryAfter()
    {
        var options = new StripeOptions();
        Assert.Equal(TimeSpan.FromMilliseconds(500), StripeClient.ComputeRetryDelay(1, null, options, 0));
        Assert.Equal(TimeSpan.FromMilliseconds(1000), StripeClient.ComputeRetryDelay(2, null, options, 0.999999).RoundToMilliseconds());
        Assert.Equal(TimeSpan.FromMilliseconds(2500), StripeClient.ComputeRetryDelay(10, null, options, 0));
        Assert.Equal(TimeSpan.FromSeconds(3), StripeClient.ComputeRetryDelay(1, TimeSpan.FromSeconds(3), options, 0));
        Assert.Equal(TimeSpan.FromMilliseconds(500), StripeClient.ComputeRetryDelay(1, TimeSpan.FromSeconds(120), options, 0));
    }
}

internal static class TimeSpanTestExtensions
{
    public static TimeSpan RoundToMilliseconds(this TimeSpan value) => TimeSpan.FromMilliseconds(Math.Round(value.TotalMilliseconds));
}
