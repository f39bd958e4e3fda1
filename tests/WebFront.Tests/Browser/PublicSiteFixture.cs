using Sajet.WebFront.Tests.Onboarding;

namespace Sajet.WebFront.Tests.Browser;

/// <summary>One browser and one running site (web front, simulators, its own database) for a class of read-only page tests.</summary>
public sealed class PublicSiteFixture : ChromiumFixture
{
    private OnboardingHarness? _harness;

    public OnboardingHarness Harness => _harness ?? throw new InvalidOperationException("The site was not started");

    /// <summary>Every page a visitor reaches without signing in; /success with a session nobody paid shows its "not found" state.</summary>
    public static readonly string[] PublicPages = ["/", "/signup", "/login/admin", "/login/tenant", "/success?session_id=cs_test_desconocida"];

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        _harness = await OnboardingHarness.StartAsync(nodes: 1);
    }

    public override async Task DisposeAsync()
    {
        if (_harness is not null)
        {
            await _harness.DisposeAsync();
        }

        await base.DisposeAsync();
    }

    /// <summary>A file-system friendly step name for a page path.</summary>
    public static string StepName(string path)
    {
        var name = path.Split('?')[0].Trim('/').Replace('/', '-');
        return name.Length == 0 ? "landing" : name;
    }
}
