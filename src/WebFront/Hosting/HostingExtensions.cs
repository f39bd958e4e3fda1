using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.WebUtilities;
using Npgsql;
using Sajet.Persistence.Migrations;
using Sajet.WebFront.Auth;

namespace Sajet.WebFront.Hosting;

/// <summary>Where the app listens and how it is reached (APP_PORT, APP_URL, kept from the system this replaces).</summary>
public sealed class AppOptions
{
    [Range(1, 65535)]
    public int AppPort { get; set; } = 4443;

    /// <summary>The public base URL (https://panel.example.com), used for links that leave the request's context.</summary>
    [Url]
    public string? AppUrl { get; set; }

    /// <summary>
    /// The base of every link that leaves the request (Stripe's return URLs, mail links): APP_URL, else this machine's
    /// port. Never the request's Host header, which a client can forge to receive someone else's link.
    /// </summary>
    public string PublicBaseUrl => (AppUrl is { Length: > 0 } url ? url : $"http://127.0.0.1:{AppPort}").TrimEnd('/');
}

public static class HostingExtensions
{
    private static readonly Dictionary<int, string> SpanishTitles = new()
    {
        [400] = "Solicitud no válida",
        [401] = "No autenticado",
        [403] = "Acceso denegado",
        [404] = "No encontrado",
        [405] = "Método no permitido",
        [406] = "Formato no aceptable",
        [409] = "Conflicto",
        [413] = "La solicitud es demasiado grande",
        [415] = "Tipo de contenido no admitido",
        [422] = "No se puede procesar la solicitud",
        [429] = "Demasiadas solicitudes",
        [500] = "Error interno del servidor",
        [502] = "Error en un servicio externo",
        [503] = "Servicio no disponible",
        [504] = "Un servicio externo no respondió a tiempo",
    };

    // Titles the framework fills in by itself (ProblemDetailsDefaults and reason phrases); ours are already Spanish.
    private static readonly HashSet<string> EnglishDefaults =
    [
        "An error occurred while processing your request.", "One or more validation errors occurred.", "Bad Request", "Unauthorized",
        "Forbidden", "Not Found", "Method Not Allowed", "Not Acceptable", "Request Timeout", "Conflict", "Precondition Failed",
        "Content Too Large", "Payload Too Large", "Request Entity Too Large", "Unsupported Media Type", "Unprocessable Entity",
        "Unprocessable Content", "Too Many Requests", "Upgrade Required", "Internal Server Error", "Bad Gateway", "Service Unavailable",
        "Gateway Timeout",
    ];

    public static WebApplicationBuilder AddSajetHosting(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<AppOptions>()
            .Configure<IConfiguration>((o, config) =>
            {
                o.AppPort = int.TryParse(config["APP_PORT"], out var port) ? port : o.AppPort;
                o.AppUrl = config["APP_URL"] is { Length: > 0 } url ? url : o.AppUrl;
            })
            .ValidateDataAnnotations()
            .ValidateOnStart();

        // An explicit --urls / ASPNETCORE_URLS wins; otherwise APP_PORT on all interfaces.
        if (string.IsNullOrEmpty(builder.Configuration[WebHostDefaults.ServerUrlsKey]))
        {
            var port = int.TryParse(builder.Configuration["APP_PORT"], out var p) ? p : 4443;
            builder.WebHost.UseUrls($"http://0.0.0.0:{port}");
        }

        // Only proxies on loopback are trusted by default; the client IP feeds rate limits and the audit log.
        builder.Services.Configure<ForwardedHeadersOptions>(o => o.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto);

        builder.Services.AddProblemDetails(o => o.CustomizeProblemDetails = ctx =>
        {
            var problem = ctx.ProblemDetails;
            var status = problem.Status ?? ctx.HttpContext.Response.StatusCode;
            if ((problem.Title is null || EnglishDefaults.Contains(problem.Title) || problem.Title == ReasonPhrases.GetReasonPhrase(status))
                && SpanishTitles.TryGetValue(status, out var title))
            {
                problem.Title = title;
            }

            if (problem.Type == AuthProblems.InvalidCredentials)
            {
                // This answer must be byte-identical for "unknown login" and "wrong password".
                problem.Extensions.Remove("traceId");
            }
        });
        return builder;
    }

    /// <summary>
    /// Errors: API paths answer problem+json; pages re-execute the Spanish error page. Kestrel's request errors
    /// (an oversized chunked body) keep their own status instead of becoming 500.
    /// </summary>
    public static WebApplication UseSajetErrorHandling(this WebApplication app)
    {
        static int StatusOf(Exception ex) => ex is BadHttpRequestException bad ? bad.StatusCode : StatusCodes.Status500InternalServerError;

        app.UseForwardedHeaders();
        app.UseWhen(http => RequestKinds.IsApi(http.Request), api =>
        {
            api.UseExceptionHandler(new ExceptionHandlerOptions { StatusCodeSelector = StatusOf });
            api.UseStatusCodePages();
        });
        app.UseWhen(http => !RequestKinds.IsApi(http.Request), pages =>
        {
            pages.UseExceptionHandler(new ExceptionHandlerOptions { ExceptionHandlingPath = "/error", StatusCodeSelector = StatusOf });
            pages.UseStatusCodePagesWithReExecute("/error/{0}");
        });
        return app;
    }

    /// <summary>Brings a fresh or older database up to date before the app serves anything.</summary>
    public static async Task ApplyMigrationsAsync(this WebApplication app)
    {
        var log = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Sajet.Migrations");
        await Migrator.ApplyAsync(app.Services.GetRequiredService<NpgsqlDataSource>(), log);
    }
}
