using Sajet.Integrations.Stripe;

namespace Sajet.Integrations.Tests.Stripe;

public sealed class StripeWebhookSignerTests
{
    private const string Payload = """{"id":"evt_1","object":"event","type":"invoice.paid"}""";
    private static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeSeconds(1_767_225_600);

    [Fact]
    public void RoundTrip_SignedNow_IsValid()
    {
        var header = StripeWebhookSigner.GenerateHeader(Payload, Now, "whsec_a");
        Assert.Equal(StripeSignatureStatus.Valid, Verifier("whsec_a").Verify(System.Text.Encoding.UTF8.GetBytes(Payload), header, Now).Status);
    }

    [Fact]
    public void RoundTrip_VerifierHoldsOldAndNewSecrets_AcceptsEither()
    {
        var verifier = Verifier("whsec_old", "whsec_new");
        Assert.True(verifier.Verify(Bytes(), StripeWebhookSigner.GenerateHeader(Payload, Now, "whsec_old"), Now).IsValid);
        Assert.True(verifier.Verify(Bytes(), StripeWebhookSigner.GenerateHeader(Payload, Now, "whsec_new"), Now).IsValid);
        Assert.Equal(StripeSignatureStatus.SignatureMismatch, verifier.Verify(Bytes(), StripeWebhookSigner.GenerateHeader(Payload, Now, "whsec_third"), Now).Status);
    }

    [Fact]
    public void RoundTrip_SenderSignsWithTwoSecrets_VerifierWithOnlyNewAccepts()
    {
        var header = StripeWebhookSigner.GenerateHeader(Payload, Now, "whsec_old", "whsec_new");
        Assert.True(Verifier("whsec_new").Verify(Bytes(), header, Now).IsValid);
    }

    [Fact]
    public void Staleness_BoundaryPassesOneSecondLaterFails()
    {
        var header = StripeWebhookSigner.GenerateHeader(Payload, Now, "whsec_a");
        Assert.True(Verifier("whsec_a").Verify(Bytes(), header, Now.AddSeconds(300)).IsValid);
        Assert.Equal(StripeSignatureStatus.TimestampOutsideTolerance, Verifier("whsec_a").Verify(Bytes(), header, Now.AddSeconds(301)).Status);
    }

    [Fact]
    public void FutureTimestamp_PassesWithinTolerance_RefusedBeyond_AsStripeNetDecides()
    {
        // stripe-node lets any future time pass; Stripe.net bounds the clock difference both ways.
        Assert.True(Verifier("whsec_a").Verify(Bytes(), StripeWebhookSigner.GenerateHeader(Payload, Now.AddSeconds(300), "whsec_a"), Now).IsValid);
        Assert.Equal(StripeSignatureStatus.TimestampOutsideTolerance,
            Verifier("whsec_a").Verify(Bytes(), StripeWebhookSigner.GenerateHeader(Payload, Now.AddMinutes(30), "whsec_a"), Now).Status);
    }

    [Fact]
    public void SignerAndVerifier_AgreeWithStripeNetsOwnHeader()
    {
        var header = global::Stripe.EventUtility.GenerateSignatureHeader(Payload, "whsec_a", Now.ToUnixTimeSeconds());
        Assert.Equal(StripeWebhookSigner.GenerateHeader(Payload, Now, "whsec_a"), header);
        Assert.True(Verifier("whsec_a").Verify(Payload, header, Now).IsValid);
    }

    [Fact]
    public void StaleAndForged_AreToldApart()
    {
        var header = StripeWebhookSigner.GenerateHeader(Payload, Now.AddHours(-1), "whsec_a");
        Assert.Equal(StripeSignatureStatus.TimestampOutsideTolerance, Verifier("whsec_b", "whsec_a").Verify(Bytes(), header, Now).Status);
        Assert.Equal(StripeSignatureStatus.SignatureMismatch, Verifier("whsec_b").Verify(Bytes(), header, Now).Status);
    }

    [Fact]
    public void InjectedTimeProvider_DecidesStaleness()
    {
        var time = new FixedTime(Now.AddHours(1));
        var verifier = new StripeWebhookVerifier(["whsec_a"], TimeSpan.FromSeconds(300), time);
        Assert.Equal(StripeSignatureStatus.TimestampOutsideTolerance,
            verifier.Verify(Payload, StripeWebhookSigner.GenerateHeader(Payload, Now, "whsec_a")).Status);
    }

    [Theory]
    [InlineData(null, StripeSignatureStatus.MissingHeader)]
    [InlineData("", StripeSignatureStatus.MissingHeader)]
    [InlineData("garbage", StripeSignatureStatus.MalformedHeader)]
    [InlineData("t=abc,v1=00", StripeSignatureStatus.MalformedHeader)]
    [InlineData("t=1767225600", StripeSignatureStatus.NoV1Signature)]
    [InlineData("t=1767225600,v1=nothex", StripeSignatureStatus.SignatureMismatch)]
    public void BadHeaders_HaveTheirReason(string? header, StripeSignatureStatus expected) =>
        Assert.Equal(expected, Verifier("whsec_a").Verify(Bytes(), header, Now).Status);

    [Fact]
    public void Options_FromEnvironment_SplitsRotatedSecrets()
    {
        var env = new Dictionary<string, string> { ["STRIPE_SECRET_KEY"] = "sk_test_abc", ["STRIPE_WEBHOOK_SECRET"] = "whsec_old, whsec_new" };
        var options = new StripeOptions().ApplyEnvironment(name => env.GetValueOrDefault(name));
        Assert.Equal("sk_test_abc", options.SecretKey);
        Assert.Equal(["whsec_old", "whsec_new"], options.WebhookSecrets);
        Assert.True(new StripeWebhookVerifier(options, new FixedTime(Now)).Verify(Payload, StripeWebhookSigner.GenerateHeader(Payload, Now, "whsec_new")).IsValid);
    }

    [Fact]
    public void Options_Validation_RejectsMissingKeyAndSecrets()
    {
        var results = new List<System.ComponentModel.DataAnnotations.ValidationResult>();
        var empty = new StripeOptions();
        var ok = System.ComponentModel.DataAnnotations.Validator.TryValidateObject(empty, new(empty), results, true);
        Assert.False(ok);
        Assert.Contains(results, r => r.MemberNames.Contains(nameof(StripeOptions.SecretKey)));
        Assert.Contains(results, r => r.MemberNames.Contains(nameof(StripeOptions.WebhookSecrets)));

        var good = new StripeOptions { SecretKey = "sk_test_x", WebhookSecrets = ["whsec_x"] };
        Assert.True(System.ComponentModel.DataAnnotations.Validator.TryValidateObject(good, new(good), results = [], true), string.Join("; ", results));
        Assert.Equal("2026-10-28.endive", StripeOptions.PinnedApiVersion);
    }

    private static byte[] Bytes() => System.Text.Encoding.UTF8.GetBytes(Payload);

    private static StripeWebhookVerifier Verifier(params string[] secrets) => new(secrets, TimeSpan.FromSeconds(300));

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
