using Sajet.WebFront.Hosting;

namespace Sajet.WebFront.Security;

/// <summary>
/// Refuses with 400 a query string or form field that holds U+0000. PostgreSQL text cannot hold it, so such a value
/// only ever ended as a 500 from the first query that used it (found by ./sajet scan on the logs and tenant filters
/// and the capacity check). Pages get the Spanish error page, the API problem+json.
/// </summary>
public sealed class NulCharacterMiddleware(RequestDelegate next)
{
    public async Task InvokeAsync(HttpContext http, IProblemDetailsService problems)
    {
        if (!HasNul(http.Request.Query) && !(http.Request.HasFormContentType && await FormHasNulAsync(http.Request)))
        {
            await next(http);
            return;
        }

        http.Response.StatusCode = StatusCodes.Status400BadRequest;
        if (!RequestKinds.IsApi(http.Request))
        {
            return;
        }

        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = http,
            ProblemDetails =
            {
                Status = StatusCodes.Status400BadRequest,
                Title = "Solicitud no válida",
                Detail = "La solicitud contiene un carácter nulo (U+0000), que no se admite.",
            },
        });
    }

    private static bool HasNul(IEnumerable<KeyValuePair<string, Microsoft.Extensions.Primitives.StringValues>> values) =>
        values.Any(p => p.Key.Contains('\0') || p.Value.Any(v => v?.Contains('\0') == true));

    private static async Task<bool> FormHasNulAsync(HttpRequest request)
    {
        try
        {
            // Read once and kept by the framework: antiforgery and model binding use the same form later.
            return HasNul(await request.ReadFormAsync(request.HttpContext.RequestAborted));
        }
        catch (InvalidDataException)
        {
            return false; // A malformed body is refused where it is bound, as before.
        }
    }
}
