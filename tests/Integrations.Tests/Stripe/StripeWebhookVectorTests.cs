using System.Text;
using System.Text.Json;
using Sajet.Integrations.Stripe;

namespace Sajet.Integrations.Tests.Stripe;

/// <summary>Every vector of ../shared/reference/stripe-webhook-vectors.json, with its expected outcome.</summary>
public sealed class StripeWebhookVectorTests
{
    private static readonly JsonElement Vectors = LoadVectors();

    private static JsonElement LoadVectors()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Stripe", "stripe-webhook-vectors.json");
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        return doc.RootElement.GetProperty("vectors").Clone();
    }

    public static TheoryData<string> SimpleVectorIds()
    {
        var data = new TheoryData<string>();
        foreach (var v in Vectors.EnumerateArray().Where(v => v.TryGetProperty("secret", out _)))
        {
            data.Add(v.GetProperty("id").GetString()!);
        }

        return data;
    }

    public static TheoryData<string> NegativeCaseNames()
    {
        var data = new TheoryData<string>();
        foreach (var c in Vector("negative-cases").GetProperty("cases").EnumerateArray())
        {
            data.Add(c.GetProperty("case").GetString()!);
        }

        return data;
    }

    [Fact]
    public void VectorFile_HasEveryKindOfVector()
    {
        Assert.Equal(3, SimpleVectorIds().Count);
        Assert.Equal(6, NegativeCaseNames().Count);
        Assert.True(Vector("secret-rotation-two-v1").ValueKind == JsonValueKind.Object);
    }

    [Theory]
    [MemberData(nameof(SimpleVectorIds))]
    public void PositiveVector_VerifiesAndSignerReproducesV1(string id)
    {
        var v = Vector(id);
        var secret = v.GetProperty("secret").GetString()!;
        var payload = v.GetProperty("payload").GetString()!;
        var timestamp = v.GetProperty("timestamp").GetInt64();
        Assert.Equal("valid", v.GetProperty("expect").GetString());

        var result = Verify(secret, payload, v.GetProperty("header").GetString(), v);

        Assert.Equal(StripeSignatureStatus.Valid, result.Status);
        Assert.Equal(timestamp, result.Timestamp);
        Assert.Equal(v.GetProperty("expected_v1").GetString(), StripeWebhookSigner.ComputeSignature(secret, timestamp, payload));
    }

    [Fact]
    public void DotnetOfficialVector_RejectedWhenOutdated()
    {
        var v = Vector("dotnet-official");
        var verifier = new StripeWebhookVerifier([v.GetProperty("secret").GetString()!], TimeSpan.FromSeconds(300));
        var now = DateTimeOffset.FromUnixTimeSeconds(1533204620 + 300 + 100);

        var result = verifier.Verify(Encoding.UTF8.GetBytes(v.GetProperty("payload").GetString()!), v.GetProperty("header").GetString(), now);

        Assert.Equal(StripeSignatureStatus.TimestampOutsideTolerance, result.Status);
    }

    [Fact]
    public void RotationVector_ValidWithEitherSecretOrBoth_InvalidWithAnother()
    {
        var v = Vector("secret-rotation-two-v1");
        var secrets = v.GetProperty("secrets");
        var payload = v.GetProperty("payload").GetString()!;
        var header = v.GetProperty("header").GetString();
        var newSecret = secrets.GetProperty("new").GetString()!;
        var oldSecret = secrets.GetProperty("old").GetString()!;

        Assert.Equal(StripeSignatureStatus.Valid, Verify(newSecret, payload, header, v).Status);
        Assert.Equal(StripeSignatureStatus.Valid, Verify(oldSecret, payload, header, v).Status);
        Assert.Equal(StripeSignatureStatus.Valid, VerifyWith([oldSecret, newSecret], payload, header, v).Status);
        Assert.Equal(StripeSignatureStatus.SignatureMismatch, Verify("whsec_other", payload, header, v).Status);

        var byName = v.GetProperty("expected_v1_by_secret");
        var t = v.GetProperty("timestamp").GetInt64();
        Assert.Equal(byName.GetProperty("new").GetString(), StripeWebhookSigner.ComputeSignature(newSecret, t, payload));
        Assert.Equal(byName.GetProperty("old").GetString(), StripeWebhookSigner.ComputeSignature(oldSecret, t, payload));
        Assert.Equal(header, StripeWebhookSigner.GenerateHeader(payload, t, newSecret, oldSecret));
    }

    [Theory]
    [MemberData(nameof(NegativeCaseNames))]
    public void NegativeCase_HasItsExpectedOutcome(string name)
    {
        var c = Vector("negative-cases").GetProperty("cases").EnumerateArray().Single(x => x.GetProperty("case").GetString() == name);
        var expect = c.GetProperty("expect").GetString()!;
        var expected = expect switch
        {
            "valid" => StripeSignatureStatus.Valid,
            _ when expect.Contains("no matching signature", StringComparison.Ordinal) => StripeSignatureStatus.SignatureMismatch,
            _ when expect.Contains("prefix is part of the HMAC key", StringComparison.Ordinal) => StripeSignatureStatus.SignatureMismatch,
            _ when expect.Contains("timestamp outside tolerance", StringComparison.Ordinal) => StripeSignatureStatus.TimestampOutsideTolerance,
            _ when expect.Contains("no v1 signature", StringComparison.Ordinal) => StripeSignatureStatus.NoV1Signature,
            _ when expect.Contains("unable to extract timestamp", StringComparison.Ordinal) => StripeSignatureStatus.MalformedHeader,
            _ => throw new InvalidOperationException($"Unmapped expectation '{expect}'"),
        };

        var result = Verify(c.GetProperty("secret").GetString()!, c.GetProperty("payload").GetString()!, c.GetProperty("header").GetString(), c);

        Assert.Equal(expected, result.Status);
    }

    private static StripeSignatureResult Verify(string secret, string payload, string? header, JsonElement v) =>
        VerifyWith([secret], payload, header, v);

    private static StripeSignatureResult VerifyWith(string[] secrets, string payload, string? header, JsonElement v)
    {
        var verifier = new StripeWebhookVerifier(secrets, TimeSpan.FromSeconds(v.GetProperty("tolerance").GetInt32()));
        var now = DateTimeOffset.FromUnixTimeSeconds(v.GetProperty("verify_at").GetInt64());
        return verifier.Verify(Encoding.UTF8.GetBytes(payload), header, now);
    }

    private static JsonElement Vector(string id) =>
        Vectors.EnumerateArray().Single(v => v.GetProperty("id").GetString() == id);
}
