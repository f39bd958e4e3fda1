using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Options;
using Npgsql;
using Sajet.WebFront.Onboarding;

namespace Sajet.WebFront.Pages;

/// <summary>/signup (also /onboarding): the signup form; a valid post goes on to Stripe Checkout.</summary>
public sealed class SignupModel(NpgsqlDataSource db, Signup signup, IConfiguration configuration, IOptions<SignupBrowserOptions> reveal) : PageModel
{
    public static readonly IReadOnlyList<(string Code, string Name)> Countries =
    [
        ("ES", "España"), ("MX", "México"), ("AR", "Argentina"), ("CO", "Colombia"), ("CL", "Chile"), ("PE", "Perú"),
        ("EC", "Ecuador"), ("UY", "Uruguay"), ("GT", "Guatemala"), ("CR", "Costa Rica"), ("DO", "República Dominicana"), ("US", "Estados Unidos"),
    ];

    [BindProperty]
    public string? CompanyName { get; set; }

    [BindProperty]
    public string? Email { get; set; }

    [BindProperty]
    public string? Subdomain { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Plan { get; set; }

    [BindProperty]
    public string? Country { get; set; } = "ES";

    [BindProperty(Name = "cancelado", SupportsGet = true)]
    public string? CancelledFlag { get; set; }

    public bool Cancelled => CancelledFlag == "1";

    public IReadOnlyList<Onboarding.Plan> Plans { get; private set; } = [];

    public Dictionary<string, string[]> Errors { get; private set; } = [];

    public string? GeneralError { get; private set; }

    public string Domain => configuration["Tenants:Domain"] ?? "sajet.localhost";

    public async Task OnGetAsync(CancellationToken ct) => Plans = await Plans_(ct);

    public async Task<IActionResult> OnPostAsync(CancellationToken ct)
    {
        var result = await signup.StartAsync(new SignupRequest(CompanyName, Email, Subdomain, Plan, Country), ct);
        switch (result)
        {
            case SignupResult.Started started:
                SignupBrowser.Remember(Response, started.BrowserToken, reveal.Value.CookieLifetime);
                return Redirect(started.CheckoutUrl);
            case SignupResult.Invalid invalid:
                Errors = invalid.Errors;
                break;
            case SignupResult.PaymentUnavailable unavailable:
                GeneralError = unavailable.Detail;
                break;
        }

        Response.StatusCode = StatusCodes.Status400BadRequest;
        Plans = await Plans_(ct);
        return Page();
    }

    private Task<IReadOnlyList<Onboarding.Plan>> Plans_(CancellationToken ct) => Onboarding.Plans.ActiveAsync(db, ct);
}
