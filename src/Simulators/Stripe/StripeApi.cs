using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using static Sajet.Simulators.Stripe.StripeParams;

namespace Sajet.Simulators.Stripe;

/// <summary>
/// The /v1 REST subset: authentication, fault injection, idempotency, parameter validation, the
/// operations, expansion, and Stripe's headers and error envelope.
/// </summary>
internal sealed partial class StripeApi(StripeState state, StripeWebhookDispatcher dispatcher, StripeSimulatorOptions options)
{
    private static readonly string[] Pagination = ["limit", "starting_after", "ending_before", "expand"];

    private sealed record Req(string Method, string[] Path, JsonObject Params, List<string> Expand, Mutation M);

    public async Task HandleAsync(HttpContext context)
    {
        var http = context.Request;
        var response = context.Response;
        var path = http.Path.Value ?? "/";
        string requestId;
        lock (state.Gate)
        {
            requestId = state.NewId("req_", 14);
            var key = $"{http.Method} {path}";
            state.Requests[key] = state.Requests.GetValueOrDefault(key) + 1;
        }

        response.Headers["Request-Id"] = requestId;
        response.Headers["Stripe-Version"] = state.ApiVersion;

        if (await InjectFaultAsync(context, path, requestId))
        {
            return;
        }

        try
        {
            Authenticate(http);
            if (http.Headers["Stripe-Version"].FirstOrDefault() is { } version && !VersionPattern().IsMatch(version))
            {
                throw new StripeApiError(400, "invalid_request_error", $"Invalid Stripe API version: {version}");
            }

            var pairs = StripeForm.Pairs(http.QueryString.Value);
            if (http.Method != HttpMethods.Get && http.ContentLength != 0)
            {
                using var reader = new StreamReader(http.Body, Encoding.UTF8);
                var body = await reader.ReadToEndAsync(context.RequestAborted);
                if (http.ContentType is null || http.ContentType.StartsWith("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase))
                {
                    pairs.AddRange(StripeForm.Pairs(body));
                }
            }

            var idempotencyKey = http.Method == HttpMethods.Post ? http.Headers["Idempotency-Key"].FirstOrDefault() : null;
            if (idempotencyKey is { Length: > 255 })
            {
                throw new StripeApiError(400, "invalid_request_error", "Idempotency-Key is too long (maximum 255 characters).");
            }

            var fingerprint = $"{http.Method} {path}\n" + string.Join("&", pairs.Select(p => $"{p.Key}={p.Value}").Order(StringComparer.Ordinal));
            var storeKey = idempotencyKey is null ? null : $"{Bearer(http)}\n{idempotencyKey}";
            if (storeKey is not null)
            {
                response.Headers["Idempotency-Key"] = idempotencyKey;
                IdempotencyRecord? existing;
                lock (state.Gate)
                {
                    existing = state.Idempotency.GetValueOrDefault(storeKey);
                    if (existing is null)
                    {
                        state.Idempotency[storeKey] = new IdempotencyRecord(fingerprint, 0, "", InFlight: true);
                    }
                }

                if (existing is not null)
                {
                    await ReplayAsync(context, existing, fingerprint, requestId);
                    return;
                }
            }

            int status;
            JsonObject result;
            var mutation = new Mutation(requestId, idempotencyKey);
            try
            {
                var parameters = StripeForm.Parse(pairs);
                var expand = StrList(parameters, "expand");
                var segments = path.Trim('/').Split('/');
                lock (state.Gate)
                {
                    (status, result) = Route(new Req(http.Method, segments, parameters, expand, mutation));
                }
            }
            catch (Exception ex) when (ex is not StripeApiError)
            {
                // A simulator bug must not leave the idempotency key "in flight" forever.
                lock (state.Gate)
                {
                    if (storeKey is not null)
                    {
                        state.Idempotency.Remove(storeKey);
                    }
                }

                throw new StripeApiError(500, "api_error", $"An unknown error occurred (simulator: {ex.GetType().Name}: {ex.Message})");
            }
            catch (StripeApiError)
            {
                if (storeKey is not null)
                {
                    lock (state.Gate)
                    {
                        // Rejected before executing: nothing stored, the key may be retried (stripe.md §4).
                        state.Idempotency.Remove(storeKey);
                    }
                }

                throw;
            }

            var json = result.ToJsonString(StripeState.Wire);
            if (storeKey is not null)
            {
                lock (state.Gate)
                {
                    state.Idempotency[storeKey] = new IdempotencyRecord(fingerprint, status, json, InFlight: false);
                }
            }

            dispatcher.Enqueue(mutation.Events);
            await WriteJsonAsync(response, status, json);
        }
        catch (StripeApiError error)
        {
            if (error.Status == 401)
            {
                response.Headers.WWWAuthenticate = "Basic realm=\"Stripe\"";
            }

            await WriteJsonAsync(response, error.Status, error.ToJson(requestId).ToJsonString(StripeState.Wire));
        }
    }

    private static async Task ReplayAsync(HttpContext context, IdempotencyRecord existing, string fingerprint, string requestId)
    {
        if (existing.Fingerprint != fingerprint)
        {
            throw new StripeApiError(400, "idempotency_error",
                "Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than "
                + $"'{context.Request.Headers["Idempotency-Key"]}' if you meant to execute a different request.");
        }

        if (existing.InFlight)
        {
            throw new StripeApiError(409, "idempotency_error",
                "There is currently another in-progress request using this Idempotent Key (that probably means you submitted twice, and the other request is still going through): "
                + $"{context.Request.Headers["Idempotency-Key"]}. Please try again later.");
        }

        context.Response.Headers["Idempotent-Replayed"] = "true";
        context.Response.Headers["Original-Request"] = requestId;
        await WriteJsonAsync(context.Response, existing.Status, existing.Body);
    }

    private async Task<bool> InjectFaultAsync(HttpContext context, string path, string requestId)
    {
        StripeFault? fault = null;
        TimeSpan latency = TimeSpan.Zero;
        lock (state.Gate)
        {
            for (var i = 0; i < state.Faults.Count; i++)
            {
                var f = state.Faults[i];
                if (!path.StartsWith(f.PathPrefix, StringComparison.Ordinal)
                    || (f.Method is not null && !string.Equals(f.Method, context.Request.Method, StringComparison.OrdinalIgnoreCase)))
                {
                    continue;
                }

                latency += f.Latency;
                if (f.Remaining is 0 || (f.Rate < 1 && state.Random.NextDouble() >= f.Rate))
                {
                    continue;
                }

                if (f.Remaining is { } left)
                {
                    state.Faults[i] = f with { Remaining = left - 1 };
                }

                fault = f;
                break;
            }
        }

        if (latency > TimeSpan.Zero)
        {
            await Task.Delay(latency, context.RequestAborted);
        }

        if (fault is null)
        {
            return false;
        }

        if (fault.Status == 0)
        {
            context.Abort();
            return true;
        }

        if (fault.ShouldRetry is { } shouldRetry)
        {
            context.Response.Headers["Stripe-Should-Retry"] = shouldRetry;
        }

        if (fault.RetryAfterSeconds is { } retryAfter)
        {
            context.Response.Headers.RetryAfter = retryAfter.ToString(CultureInfo.InvariantCulture);
        }

        var error = fault.Status switch
        {
            429 => new StripeApiError(429, "invalid_request_error",
                "Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits.", fault.Code ?? "rate_limit"),
            409 => new StripeApiError(409, "invalid_request_error",
                "This object cannot be accessed right now because another API request or Stripe process is currently accessing it. "
                + "If you see this error intermittently, retry the request.", fault.Code ?? "lock_timeout"),
            >= 500 => new StripeApiError(fault.Status, "api_error", "An unknown error occurred", fault.Code),
            _ => new StripeApiError(fault.Status, "invalid_request_error", "Simulated failure.", fault.Code),
        };
        await WriteJsonAsync(context.Response, fault.Status, error.ToJson(requestId).ToJsonString(StripeState.Wire));
        return true;
    }

    private void Authenticate(HttpRequest http)
    {
        var key = Bearer(http);
        if (string.IsNullOrEmpty(key))
        {
            throw new StripeApiError(401, "invalid_request_error",
                "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth "
                + "(e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, "
                + "or we can help at https://support.stripe.com/.");
        }

        var accepted = options.AcceptAnyTestKey
            ? (key.StartsWith("sk_test_", StringComparison.Ordinal) || key.StartsWith("rk_test_", StringComparison.Ordinal)) && key.Length > 8
            : key == options.SecretKey;
        if (!accepted)
        {
            var masked = key.Length <= 12 ? new string('*', key.Length) : key[..8] + new string('*', key.Length - 12) + key[^4..];
            throw new StripeApiError(401, "invalid_request_error", $"Invalid API Key provided: {masked}");
        }
    }

    private static string? Bearer(HttpRequest http)
    {
        var header = http.Headers.Authorization.FirstOrDefault();
        if (header is null)
        {
            return null;
        }

        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return header[7..].Trim();
        }

        if (header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                // curl -u sk_test_...: sends the key as the user name with an empty password.
                var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header[6..].Trim()));
                return decoded.Split(':')[0];
            }
            catch (FormatException)
            {
                return null;
            }
        }

        return null;
    }

    private static async Task WriteJsonAsync(HttpResponse response, int status, string json)
    {
        response.StatusCode = status;
        response.ContentType = "application/json";
        await response.WriteAsync(json);
    }

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}(\.[a-z]+)?$")]
    private static partial Regex VersionPattern();
}
