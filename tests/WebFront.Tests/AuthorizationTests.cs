using System.Net;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Sajet.WebFront.Tests;

public sealed class AuthorizationTests(WebFixture fx) : IClassFixture<WebFixture>
{
    private SajetWebFactory App => fx.Factory;

    /// <summary>
    /// Every admin API route (/api/admin, and the tenants, nodes, provisioning and live-event APIs) that is not
    /// explicitly anonymous, and every Razor page under /Admin, as the app has them right now.
    /// </summary>
    private List<(string Method, string Path, bool IsPage)> AdminEndpoints() =>
        Endpoints(["api/admin", "api/tenants", "api/nodes", "api/provision", "api/events"], "/Admin/");

    private List<(string Method, string Path, bool IsPage)> TenantEndpoints() => Endpoints(["api/tenant"], "/Tenant/");

    private List<(string Method, string Path, bool IsPage)> Endpoints(string[] apiPrefixes, string pageFolder)
    {
        var found = new List<(string, string, bool)>();
        foreach (var endpoint in App.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>())
        {
            var pattern = endpoint.RoutePattern.RawText!.TrimStart('/');
            if (endpoint.Metadata.GetMetadata<PageActionDescriptor>() is { } page)
            {
                if (page.ViewEnginePath.StartsWith(pageFolder, StringComparison.Ordinal))
                {
                    // Detail pages get an id that does not exist: authorization still runs first, and an admin gets 404.
                    found.Add(("GET", "/" + System.Text.RegularExpressions.Regex.Replace(pattern.ToLowerInvariant(), "\\{[^}]+\\}", "x"), true));
                }
            }
            else if (apiPrefixes.Any(prefix => pattern.Equals(prefix, StringComparison.OrdinalIgnoreCase) || pattern.StartsWith(prefix + "/", StringComparison.OrdinalIgnoreCase))
                     && endpoint.Metadata.GetMetadata<Microsoft.AspNetCore.Authorization.IAllowAnonymous>() is null)
            {
                var methods = endpoint.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["GET"];
                // Route parameters are filled with a harmless value: authorization runs before any lookup.
                var path = "/" + System.Text.RegularExpressions.Regex.Replace(pattern, "\\{[^}]+\\}", "x");
                found.AddRange(methods.Select(m => (m, path, false)));
            }
        }

        return found;
    }

    [Fact]
    public void AdminArea_HasRoutesAndPages_ToCheck()
    {
        var endpoints = AdminEndpoints();
        Assert.Contains(endpoints, e => e.IsPage && e.Path == "/admin");
        Assert.Contains(endpoints, e => !e.IsPage);
    }

    [Fact]
    public async Task EveryAdminRoute_Anonymous_Gets401OrLoginRedirect()
    {
        foreach (var (method, path, isPage) in AdminEndpoints())
        {
            var response = await App.Client().SendAsync(new HttpRequestMessage(new HttpMethod(method), path));
            if (isPage)
            {
                Assert.True(response.StatusCode == HttpStatusCode.Redirect, $"{method} {path} answered {response.StatusCode}");
                Assert.StartsWith("/login/admin?returnUrl=", response.Headers.Location!.OriginalString, StringComparison.Ordinal);
            }
            else
            {
                Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{method} {path} answered {response.StatusCode}");
                Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
            }
        }
    }

    [Fact]
    public async Task EveryAdminRoute_TenantUser_Gets403()
    {
        var (email, _) = await App.CreateTenantUserAsync();
        var client = App.Client();
        Assert.Equal(HttpStatusCode.OK, (await client.LoginAsync(email, "tenant-password-1", "tenant")).StatusCode);
        foreach (var (method, path, _) in AdminEndpoints())
        {
            var response = await client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));
            Assert.True(response.StatusCode == HttpStatusCode.Forbidden, $"{method} {path} answered {response.StatusCode}");
        }
    }

    [Fact]
    public async Task EveryAdminPage_Admin_Renders()
    {
        var email = await App.CreateAdminAsync();
        var client = App.Client();
        Assert.Equal(HttpStatusCode.OK, (await client.LoginAsync(email, "admin-password-1", "admin")).StatusCode);
        var pages = AdminEndpoints().Where(e => e.IsPage).Select(e => e.Path).ToList();
        Assert.Contains("/admin/tenants/x", pages);
        foreach (var path in pages)
        {
            // "x" is no tenant and no node: the detail pages answer an explicit 404, every other page renders.
            var expected = path.EndsWith("/x", StringComparison.Ordinal) ? HttpStatusCode.NotFound : HttpStatusCode.OK;
            Assert.True((await client.GetAsync(path)).StatusCode == expected, $"GET {path} did not answer {expected}");
        }
    }

    [Fact]
    public async Task EveryTenantRoute_AnonymousRedirectsToTenantLogin_AdminGets403()
    {
        var tenantEndpoints = TenantEndpoints();
        Assert.Contains(tenantEndpoints, e => e.Path == "/tenant/portal");
        var admin = App.Client();
        Assert.Equal(HttpStatusCode.OK, (await admin.LoginAsync(SajetWebFactory.AdminLogin, SajetWebFactory.AdminPassword, "admin")).StatusCode);
        foreach (var (method, path, isPage) in tenantEndpoints)
        {
            var anonymous = await App.Client().SendAsync(new HttpRequestMessage(new HttpMethod(method), path));
            if (isPage)
            {
                Assert.Equal(HttpStatusCode.Redirect, anonymous.StatusCode);
                Assert.StartsWith("/login/tenant?returnUrl=", anonymous.Headers.Location!.OriginalString, StringComparison.Ordinal);
            }
            else
            {
                Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
            }

            Assert.Equal(HttpStatusCode.Forbidden, (await admin.SendAsync(new HttpRequestMessage(new HttpMethod(method), path))).StatusCode);
        }
    }

    [Fact]
    public async Task TenantPortal_ShowsOnlyTheSignedInTenant()
    {
        var (emailA, tenantA) = await App.CreateTenantUserAsync();
        var (emailB, tenantB) = await App.CreateTenantUserAsync();
        var a = App.Client();
        Assert.Equal(HttpStatusCode.OK, (await a.LoginAsync(emailA, "tenant-password-1", "tenant")).StatusCode);

        // Whatever A puts in the URL, the portal is scoped by A's token.
        foreach (var url in new[] { "/tenant/portal", $"/tenant/portal?tenantId={tenantB}", $"/tenant/portal?tenant_id={tenantB}" })
        {
            var html = await a.GetStringAsync(url);
            Assert.Contains(tenantA, html, StringComparison.Ordinal);
            Assert.DoesNotContain(tenantB, html, StringComparison.Ordinal);
            Assert.DoesNotContain(emailB, html, StringComparison.Ordinal);
        }

        var me = await (await a.GetAsync("/api/auth/me")).JsonAsync();
        Assert.Equal(tenantA, me.GetProperty("tenantId").GetString());
    }

    [Theory]
    [InlineData("POST", "/api/admin/login")]
    [InlineData("GET", "/api/admin/login")]
    [InlineData("POST", "/api/login/unified")]
    [InlineData("GET", "/api/login/unified")]
    public async Task RetiredLoginRoutes_AreNotServed(string method, string path)
    {
        var response = await App.Client().SendAsync(new HttpRequestMessage(new HttpMethod(method), path));
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }
}
