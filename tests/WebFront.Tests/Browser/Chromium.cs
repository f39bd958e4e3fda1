using Microsoft.Playwright;

namespace Sajet.WebFront.Tests.Browser;

/// <summary>
/// Debian's Chromium driven by Playwright. Playwright's own browser download cannot work on this closed network,
/// so the tests use the distribution's package and fail loudly (never skip) when it is missing.
/// </summary>
public static class Chromium
{
    public const string ExecutablePath = "/usr/bin/chromium";
    public const string MissingMessage = "Chromium not found: sudo apt-get install -y chromium";

    /// <summary>
    /// Headless and quiet: without the background-networking, component-update and sync switches Chromium keeps
    /// dialling Google, and this network refuses those connections.
    /// </summary>
    public static readonly string[] Args =
    [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ];

    /// <summary>Generous: two cores are shared with concurrent builds, and Playwright's auto-wait only waits as long as needed.</summary>
    public const float Timeout = 60_000;

    public static async Task<(IPlaywright Playwright, IBrowser Browser)> LaunchAsync(string executablePath = ExecutablePath)
    {
        if (!File.Exists(executablePath))
        {
            throw new InvalidOperationException(MissingMessage);
        }

        var playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        try
        {
            var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
            {
                ExecutablePath = executablePath,
                Headless = true,
                Args = Args,
                Timeout = Timeout,
            });
            return (playwright, browser);
        }
        catch
        {
            playwright.Dispose();
            throw;
        }
    }

    /// <summary>A fresh context (cookies, storage) with Spanish locale, a light system scheme and generous timeouts.</summary>
    public static async Task<IBrowserContext> NewContextAsync(IBrowser browser, BrowserNewContextOptions? options = null)
    {
        options ??= new BrowserNewContextOptions();
        options.Locale ??= "es-ES";
        options.ColorScheme ??= ColorScheme.Light;
        var context = await browser.NewContextAsync(options);
        context.SetDefaultTimeout(Timeout);
        context.SetDefaultNavigationTimeout(Timeout);
        // Chromium logs CSP violations to the console already; this makes them explicit and unmistakable in a failure
        // message. Init scripts run through the DevTools protocol, so the site's own CSP does not block this one.
        await context.AddInitScriptAsync("""
            document.addEventListener("securitypolicyviolation", (e) =>
              console.error("CSP violation: " + e.violatedDirective + " blocked " + (e.blockedURI || "inline") + " at " + e.sourceFile + ":" + e.lineNumber));
            """);
        return context;
    }
}

/// <summary>One browser for every test of a class: launching Chromium costs far more than a context.</summary>
public class ChromiumFixture : IAsyncLifetime
{
    private IPlaywright? _playwright;
    private IBrowser? _browser;

    public IBrowser Browser => _browser ?? throw new InvalidOperationException("Chromium was not launched");

    public virtual async Task InitializeAsync() => (_playwright, _browser) = await Chromium.LaunchAsync();

    public virtual async Task DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.DisposeAsync();
        }

        _playwright?.Dispose();
    }
}
