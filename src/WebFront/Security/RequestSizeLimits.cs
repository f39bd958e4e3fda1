using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;

namespace Sajet.WebFront.Security;

/// <summary>Section <c>RequestLimits</c>: request bodies are small everywhere except webhooks.</summary>
public sealed class RequestLimitOptions
{
    public const string Section = "RequestLimits";

    [Range(1024, 100 * 1024 * 1024)]
    public long MaxBodyBytes { get; set; } = 64 * 1024;

    /// <summary>Stripe events with expanded objects can be large; they arrive under /webhook.</summary>
    [Range(1024, 100 * 1024 * 1024)]
    public long MaxWebhookBodyBytes { get; set; } = 512 * 1024;
}

/// <summary>
/// Refuses oversized bodies with 413 problem+json before anything reads them (declared length), and caps what
/// the server will read when no length is declared (chunked), far below Kestrel's 30 MB default.
/// </summary>
public sealed class RequestSizeLimitMiddleware(RequestDelegate next, IOptions<RequestLimitOptions> options)
{
    public async Task InvokeAsync(HttpContext http, IProblemDetailsService problems)
    {
        var limit = http.Request.Path.StartsWithSegments("/webhook") ? options.Value.MaxWebhookBodyBytes : options.Value.MaxBodyBytes;
        if (http.Request.ContentLength > limit)
        {
            http.Response.StatusCode = StatusCodes.Status413PayloadTooLarge;
            // Closing keeps the client from streaming the rest of a body we will not read.
            http.Response.Headers.Connection = "close";
            await problems.WriteAsync(new ProblemDetailsContext
            {
                HttpContext = http,
                ProblemDetails =
                {
                    Status = StatusCodes.Status413PayloadTooLarge,
                    Title = "La solicitud es demasiado grande",
                    Detail = $"El cuerpo de la solicitud supera el máximo de {limit / 1024} KB.",
                },
            });
            return;
        }

        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } feature)
        {
            feature.MaxRequestBodySize = limit;
        }

        await next(http);
    }
}
