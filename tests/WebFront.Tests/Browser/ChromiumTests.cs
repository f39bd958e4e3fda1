namespace Sajet.WebFront.Tests.Browser;

public sealed class ChromiumTests
{
    /// <summary>A machine without Debian's Chromium must fail the browser tests with the fix, never skip them.</summary>
    [Fact]
    public async Task Launch_WithoutChromium_FailsWithTheInstallCommand()
    {
        var missing = Path.Combine(Path.GetTempPath(), "no-chromium-" + Guid.NewGuid().ToString("N"), "chromium");
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => Chromium.LaunchAsync(missing));
        Assert.Equal("Chromium not found: sudo apt-get install -y chromium", ex.Message);
    }
}
