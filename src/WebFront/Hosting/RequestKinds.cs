namespace Sajet.WebFront.Hosting;

/// <summary>Machine endpoints answer problem+json; everything else is a page for people and answers HTML.</summary>
public static class RequestKinds
{
    private static readonly PathString[] MachinePrefixes = ["/api", "/health", "/openapi", "/webhook"];

    public static bool IsApi(HttpRequest request) => MachinePrefixes.Any(p => request.Path.StartsWithSegments(p, StringComparison.OrdinalIgnoreCase));
}
