using System.Text.Encodings.Web;
using System.Text.Unicode;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.WebEncoders;
using Sajet.WebFront.Auth;
using Sajet.WebFront.Security;

namespace Sajet.WebFront.Pages;

public static class PagesExtensions
{
    /// <summary>
    /// Razor Pages in Spanish. Folder conventions make every page under /Admin admin-only and every page under
    /// /Tenant tenant-only the moment its file exists; antiforgery validation on POST is Razor Pages' default.
    /// </summary>
    public static IServiceCollection AddSajetPages(this IServiceCollection services)
    {
        services.Configure<RouteOptions>(o => o.LowercaseUrls = true);
        // Spanish text is written as UTF-8 characters rather than &#xE1; entities: smaller pages, readable source.
        services.Configure<WebEncoderOptions>(o => o.TextEncoderSettings = new TextEncoderSettings(UnicodeRanges.All));
        services.AddRazorPages(o =>
        {
            o.Conventions.AuthorizeFolder("/Admin", Roles.AdminPolicy);
            o.Conventions.AuthorizeFolder("/Tenant", Roles.TenantPolicy);
            // The login forms get the same per-IP request limit as POST /api/auth/login.
            o.Conventions.AddFolderApplicationModelConvention("/Login", model => model.EndpointMetadata.Add(new EnableRateLimitingAttribute(RateLimitPolicies.Login)));
            o.Conventions.ConfigureFilter(new UnknownHandlerFilter());
        });
        return services;
    }

    public static WebApplication MapSajetPages(this WebApplication app)
    {
        app.MapRazorPages();
        return app;
    }
}
