using Microsoft.OpenApi;

namespace Sajet.WebFront.ApiDocs;

/// <summary>
/// The API's OpenAPI document (/openapi/v1.json) and its reader at /docs (Swagger UI), in Spanish and in the site's
/// light or dark theme. /redoc, where the system Sajet replaces served its second reader, sends readers to /docs:
/// one reader to keep themed and inside the CSP is enough.
/// </summary>
public static class ApiDocs
{
    public const string DocumentPath = "/openapi/v1.json";

    public static IServiceCollection AddSajetApiDocs(this IServiceCollection services) =>
        services.AddOpenApi(o => o.AddDocumentTransformer((document, _, _) =>
        {
            document.Info = new OpenApiInfo
            {
                Title = "API de Sajet",
                Version = "v1",
                Description = "Altas y pagos, clientes, nodos Proxmox y capacidad, autenticación y auditoría de Sajet. " +
                    "Las rutas de administración piden una sesión de administrador (cookie) y devuelven los errores como problem+json en español.",
            };
            return Task.CompletedTask;
        }));

    /// <summary>Swagger UI's own files are served by its middleware; ours (theme, toggle) are plain static files.</summary>
    public static IApplicationBuilder UseSajetApiDocs(this IApplicationBuilder app) =>
        app.UseSwaggerUI(o =>
        {
            o.RoutePrefix = "docs";
            o.SwaggerEndpoint(DocumentPath, "API de Sajet v1");
            o.DocumentTitle = "API de Sajet";
            // Injected after Swagger UI's bundle: the theme is applied before the UI renders its first frame.
            o.InjectJavascript("/js/theme-init.js");
            o.InjectJavascript("/js/docs.js");
            o.InjectStylesheet("/css/docs.css");
        });

    public static IEndpointRouteBuilder MapSajetApiDocs(this IEndpointRouteBuilder app)
    {
        app.MapOpenApi(DocumentPath).AllowAnonymous();
        // 308 keeps the method and tells clients the move is permanent.
        app.MapGet("/redoc", () => TypedResults.Redirect("/docs/", permanent: true, preserveMethod: true))
            .AllowAnonymous().ExcludeFromDescription();
        return app;
    }
}
