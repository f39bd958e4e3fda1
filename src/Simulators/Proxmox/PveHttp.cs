using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace Sajet.Simulators.Proxmox;

/// <summary>
/// The pve-api-daemon request pipeline as a client sees it: authenticate, route (501 for unknown methods),
/// proxy to the node (595 when it is down), verify parameters (400), run the handler (500 on die), wrap in
/// `{"data": ...}` with the error text in the status line and in `message`.
/// </summary>
internal sealed class PveHttp(ProxmoxCluster cluster, ProxmoxSimulatorOptions options, string tokenId, string tokenSecret, ILogger logger, CancellationToken stopping)
{
    private const string ApiPrefix = "/api2/json";

    // Perl's JSON encoder leaves quotes and non-ASCII text alone; match it so logged bodies read the same.
    private static readonly JsonSerializerOptions BodyJson = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public async Task HandleAsync(HttpContext context)
    {
        try
        {
            await HandleCoreAsync(context);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested || stopping.IsCancellationRequested)
        {
            // The client gave up during an injected delay; there is nobody left to answer.
            context.Abort();
        }
    }

    private async Task HandleCoreAsync(HttpContext context)
    {
        var request = context.Request;
        var method = request.Method;
        var path = request.Path.Value ?? "/";
        if (!path.StartsWith(ApiPrefix + "/", StringComparison.Ordinal))
        {
            await WriteAsync(context, 501, $"Method '{method} {path}' not implemented", null);
            return;
        }

        var apiPath = path[ApiPrefix.Length..].TrimEnd('/');
        if (apiPath.Length == 0)
        {
            apiPath = "/";
        }

        var (endpoint, pathParams) = Route(method, apiPath);
        if (!(endpoint is { Method: "POST", Path: "/access/ticket" }) && !await AuthenticateAsync(context))
        {
            return;
        }

        if (endpoint is null)
        {
            await WriteAsync(context, 501, $"Method '{method} {apiPath}' not implemented", null);
            return;
        }

        cluster.CountRequest(method, apiPath);
        var latency = cluster.LatencyFor(method, apiPath);
        if (latency > TimeSpan.Zero)
        {
            await Task.Delay(latency, options.TimeProvider, context.RequestAborted);
        }

        if (cluster.DrawErrorFault(method, apiPath) is { } fault)
        {
            await WriteAsync(context, fault.Status, fault.Message, null);
            return;
        }

        if (endpoint.ProxyToNode && pathParams.TryGetValue("node", out var node))
        {
            if (!cluster.IsNodeKnown(node, out var online))
            {
                await WriteAsync(context, 500, $"hostname lookup '{node}' failed - failed to get address info for: {node}: Name or service not known", null);
                return;
            }

            if (!online)
            {
                // pveproxy relays the failed connection to the node as status 595 with an empty body.
                await WriteRawAsync(context, 595, "No route to host", null);
                return;
            }
        }

        Dictionary<string, string> parameters;
        try
        {
            parameters = await ReadParametersAsync(request, pathParams);
        }
        catch (JsonException)
        {
            await WriteAsync(context, 400, "Parameter verification failed.", null, new() { ["body"] = "unable to parse JSON body" });
            return;
        }

        var errors = PveSchema.Validate(endpoint, parameters);
        if (errors.Count > 0)
        {
            await WriteAsync(context, 400, "Parameter verification failed.", null, errors);
            return;
        }

        PveResult result;
        try
        {
            result = cluster.Handle(endpoint, parameters);
        }
        catch (PveException ex)
        {
            await WriteAsync(context, ex.Status, ex.Message, null, ex.Errors);
            return;
        }

        if (cluster.TakeAfterWorkFault(method, apiPath) is { } lost)
        {
            logger.LogInformation("Dropping the answer to {Method} {Path} after the work was done ({Mode})", method, apiPath, lost);
            if (lost == AfterWorkFailure.Abort)
            {
                context.Abort();
                return;
            }

            using var hang = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, stopping);
            try
            {
                await Task.Delay(Timeout.Infinite, hang.Token);
            }
            catch (OperationCanceledException)
            {
                context.Abort();
                return;
            }
        }

        var body = new JsonObject { ["data"] = result.Data };
        if (result.Total is { } total)
        {
            body["total"] = total;
        }

        await WriteRawAsync(context, 200, null, body);
    }

    private static (PveEndpoint? Endpoint, Dictionary<string, string> PathParams) Route(string method, string apiPath)
    {
        var segments = apiPath.Split('/', StringSplitOptions.RemoveEmptyEntries);
        foreach (var e in PveSchema.Endpoints)
        {
            if (e.Method != method || e.Segments.Length != segments.Length)
            {
                continue;
            }

            var values = new Dictionary<string, string>(StringComparer.Ordinal);
            var match = true;
            for (var i = 0; i < segments.Length && match; i++)
            {
                var template = e.Segments[i];
                if (template.StartsWith('{'))
                {
                    values[template[1..^1]] = segments[i];
                }
                else
                {
                    match = template == segments[i];
                }
            }

            if (match)
            {
                return (e, values);
            }
        }

        return (null, []);
    }

    private async Task<bool> AuthenticateAsync(HttpContext context)
    {
        var header = context.Request.Headers.Authorization.ToString();
        if (header.Length == 0 && !context.Request.Cookies.ContainsKey("PVEAuthCookie"))
        {
            await WriteAsync(context, 401, "No ticket", null);
            return false;
        }

        const string scheme = "PVEAPIToken";
        if (header.StartsWith(scheme, StringComparison.Ordinal) && header.Length > scheme.Length && header[scheme.Length] is '=' or ' ')
        {
            var credential = header[(scheme.Length + 1)..].Trim();
            var eq = credential.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0 && credential[..eq] == tokenId && credential[(eq + 1)..] == tokenSecret)
            {
                return true;
            }
        }

        logger.LogInformation("Refusing request {Method} {Path}: bad credentials", context.Request.Method, context.Request.Path.Value);
        if (options.AuthFailureDelay > TimeSpan.Zero)
        {
            await Task.Delay(options.AuthFailureDelay, options.TimeProvider, context.RequestAborted);
        }

        await WriteAsync(context, 401, "Authentication failed!", null);
        return false;
    }

    private static async Task<Dictionary<string, string>> ReadParametersAsync(HttpRequest request, Dictionary<string, string> pathParams)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        if (request.Method is "POST" or "PUT")
        {
            if (request.HasFormContentType)
            {
                var form = await request.ReadFormAsync();
                foreach (var (key, value) in form)
                {
                    values[key] = value.ToString();
                }
            }
            else if (request.ContentType?.StartsWith("application/json", StringComparison.OrdinalIgnoreCase) == true)
            {
                using var doc = await JsonDocument.ParseAsync(request.Body);
                if (doc.RootElement.ValueKind == JsonValueKind.Object)
                {
                    foreach (var prop in doc.RootElement.EnumerateObject())
                    {
                        values[prop.Name] = prop.Value.ValueKind switch
                        {
                            JsonValueKind.True => "1",
                            JsonValueKind.False => "0",
                            JsonValueKind.String => prop.Value.GetString()!,
                            _ => prop.Value.GetRawText(),
                        };
                    }
                }
            }
        }

        // Query values win over the body, as in pve-http-server.
        foreach (var (key, value) in request.Query)
        {
            values[key] = value.ToString();
        }

        foreach (var (key, value) in pathParams)
        {
            values[key] = value;
        }

        return values;
    }

    private static Task WriteAsync(HttpContext context, int status, string message, JsonNode? data, Dictionary<string, string>? errors = null)
    {
        var text = message.EndsWith('\n') ? message : message + "\n";
        var body = new JsonObject { ["data"] = data };
        if (errors is { Count: > 0 })
        {
            var map = new JsonObject();
            foreach (var (key, value) in errors)
            {
                map[key] = value;
            }

            body["errors"] = map;
        }

        body["message"] = text;
        return WriteRawAsync(context, status, text.Split('\n')[0], body);
    }

    private static async Task WriteRawAsync(HttpContext context, int status, string? reason, JsonObject? body)
    {
        var response = context.Response;
        response.StatusCode = status;
        if (reason is not null)
        {
            context.Features.Get<IHttpResponseFeature>()!.ReasonPhrase = reason;
        }

        var now = DateTimeOffset.UtcNow.ToString("r", CultureInfo.InvariantCulture);
        response.Headers.CacheControl = "max-age=0";
        response.Headers.Pragma = "no-cache";
        response.Headers.Expires = now;
        response.Headers.Server = "pve-api-daemon/3.0";
        if (body is null)
        {
            response.ContentLength = 0;
            return;
        }

        var bytes = JsonSerializer.SerializeToUtf8Bytes(body, BodyJson);
        response.ContentType = "application/json;charset=UTF-8";
        response.ContentLength = bytes.Length;
        await response.Body.WriteAsync(bytes);
    }
}
