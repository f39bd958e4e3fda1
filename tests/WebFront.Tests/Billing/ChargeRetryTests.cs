using Sajet.Integrations.Stripe;
using Sajet.WebFront.Billing;

namespace Sajet.WebFront.Tests.Billing;

public sealed class ChargeRetryTests
{
    [Theory]
    [InlineData("https://invoice.stripe.com/i/acct_1/test_abc", true, "https://invoice.stripe.com/i/acct_1/test_abc")]
    [InlineData(null, true, "https://dashboard.stripe.com/test/invoices/in_123")]
    [InlineData(null, false, "https://dashboard.stripe.com/invoices/in_123")]
    [InlineData("javascript:alert(1)", false, "https://dashboard.stripe.com/invoices/in_123")]
    [InlineData("", true, "https://dashboard.stripe.com/test/invoices/in_123")]
    public void InvoiceUrl_HostedPageElseTheBackOfficeInTheKeysMode(string? hosted, bool testMode, string expected) =>
        Assert.Equal(expected, ChargeRetry.InvoiceUrl("in_123", hosted, testMode));

    [Theory]
    [InlineData("generic_decline", "La tarjeta fue rechazada.")]
    [InlineData("card_declined", "La tarjeta fue rechazada.")]
    [InlineData(null, "La tarjeta fue rechazada.")]
    [InlineData("insufficient_funds", "La tarjeta fue rechazada por falta de fondos.")]
    [InlineData("expired_card", "La tarjeta ha caducado.")]
    public void Declined_SpeaksSpanish(string? code, string expected) => Assert.Equal(expected, ChargeRetry.Declined(code));

    [Fact]
    public void Message_OnlyAPaidChargeIsGoodNews()
    {
        foreach (var outcome in Enum.GetValues<InvoiceChargeOutcome>())
        {
            var (ok, message) = ChargeRetry.Message(new InvoiceChargeResult(outcome), "in_1");
            Assert.Equal(outcome == InvoiceChargeOutcome.Paid, ok);
            Assert.False(string.IsNullOrWhiteSpace(message));
        }
    }

    [Fact]
    public void StripeOptions_TestMode_FollowsTheKeyPrefix()
    {
        Assert.True(new StripeOptions { SecretKey = "sk_test_abc" }.TestMode);
        Assert.True(new StripeOptions { SecretKey = "rk_test_abc" }.TestMode);
        Assert.False(new StripeOptions { SecretKey = "sk_live_abc" }.TestMode);
    }
}
