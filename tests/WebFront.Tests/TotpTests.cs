using System.Text;
using Sajet.WebFront.Auth;
using Sajet.WebFront.Security;
using Sajet.Persistence.Secrets;

namespace Sajet.WebFront.Tests;

public sealed class TotpTests
{
    // RFC 6238 Appendix B, SHA-1 column: 8 digits, the 20-byte ASCII key "12345678901234567890".
    [Theory]
    [InlineData(59L, "94287082")]
    [InlineData(1111111109L, "07081804")]
    [InlineData(1111111111L, "14050471")]
    [InlineData(1234567890L, "89005924")]
    [InlineData(2000000000L, "69279037")]
    [InlineData(20000000000L, "65353130")]
    public void Compute_Rfc6238Sha1Vectors_Match(long unixSeconds, string expected)
    {
        var key = Encoding.ASCII.GetBytes("12345678901234567890");
        Assert.Equal(expected, Totp.Compute(key, Totp.StepAt(DateTimeOffset.FromUnixTimeSeconds(unixSeconds)), digits: 8));
    }

    [Fact]
    public void Match_AcceptsOneStepEitherSide_RefusesTwo()
    {
        var key = Totp.NewSeed();
        var now = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000);
        var step = Totp.StepAt(now);
        Assert.Equal(step - 1, Totp.Match(key, Totp.Compute(key, step - 1), now));
        Assert.Equal(step, Totp.Match(key, Totp.Compute(key, step), now));
        Assert.Equal(step + 1, Totp.Match(key, Totp.Compute(key, step + 1), now));
        Assert.Null(Totp.Match(key, Totp.Compute(key, step + 2), now));
        Assert.Null(Totp.Match(key, Totp.Compute(key, step - 2), now));
        Assert.Null(Totp.Match(key, "12a456", now));
        Assert.Null(Totp.Match(key, null, now));
    }

    [Fact]
    public void Base32_RoundTrips_Rfc4648Vector()
    {
        Assert.Equal("MZXW6YTBOI", Base32.Encode("foobar"u8));
        Assert.Equal("foobar"u8.ToArray(), Base32.Decode("MZXW6YTBOI======"));
        var seed = Totp.NewSeed();
        Assert.Equal(seed, Base32.Decode(Base32.Encode(seed)));
    }

    [Fact]
    public void OtpauthUri_CarriesSeedAndIssuer()
    {
        var seed = Totp.NewSeed();
        var uri = Totp.OtpauthUri("Sajet", "ana@example.com", seed);
        Assert.StartsWith("otpauth://totp/Sajet:ana%40example.com?secret=", uri, StringComparison.Ordinal);
        var secret = System.Text.RegularExpressions.Regex.Match(uri, "[?&]secret=([A-Z2-7]+)").Groups[1].Value;
        Assert.Equal(seed, Base32.Decode(secret));
        Assert.Contains("&issuer=Sajet&algorithm=SHA1&digits=6&period=30", uri, StringComparison.Ordinal);
    }
}

public sealed class SecretProtectorTests
{
    private readonly SecretProtector _protector = new("a-very-long-secret-key-for-the-tests-0123");

    [Fact]
    public void Protect_RoundTrips_AndIsRandomised()
    {
        var a = _protector.Protect("token-secret", "proxmox:node-1");
        var b = _protector.Protect("token-secret", "proxmox:node-1");
        Assert.NotEqual(a, b);
        Assert.DoesNotContain("token-secret", a, StringComparison.Ordinal);
        Assert.Equal("token-secret", _protector.Unprotect(a, "proxmox:node-1"));
    }

    [Fact]
    public void Unprotect_OtherPurposeTamperedOrOtherKey_IsNull()
    {
        var value = _protector.Protect("seed", "totp:1");
        Assert.Null(_protector.Unprotect(value, "totp:2"));
        var bytes = Convert.FromBase64String(value[3..]);
        bytes[^1] ^= 1;
        Assert.Null(_protector.Unprotect("v1." + Convert.ToBase64String(bytes), "totp:1"));
        Assert.Null(new SecretProtector("another-very-long-secret-key-for-tests-99").Unprotect(value, "totp:1"));
        Assert.Null(_protector.Unprotect("garbage", "totp:1"));
    }

    [Fact]
    public void Constructor_ShortSecret_Throws() => Assert.Throws<ArgumentException>(() => new SecretProtector("short"));
}
