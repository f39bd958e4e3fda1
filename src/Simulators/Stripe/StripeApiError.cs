using System.Text.Json.Nodes;

namespace Sajet.Simulators.Stripe;

/// <summary>An error the simulator answers with Stripe's envelope (stripe.md §5).</summary>
internal sealed class StripeApiError(int status, string type, string message, string? code = null, string? param = null, string? declineCode = null)
    : Exception(message)
{
    public int Status { get; } = status;
    public string Type { get; } = type;
    public string? Code { get; } = code;
    public string? Param { get; } = param;
    public string? DeclineCode { get; } = declineCode;

    public JsonObject ToJson(string? requestId)
    {
        var error = new JsonObject { ["type"] = Type };
        if (Code is not null)
        {
            error["code"] = Code;
            error["doc_url"] = $"https://stripe.com/docs/error-codes/{Code.Replace('_', '-')}";
        }

        if (DeclineCode is not null)
        {
            error["decline_code"] = DeclineCode;
        }

        if (Param is not null)
        {
            error["param"] = Param;
        }

        error["message"] = Message;
        if (requestId is not null)
        {
            error["request_log_url"] = $"https://dashboard.stripe.com/test/logs/{requestId}";
        }

        return new JsonObject { ["error"] = error };
    }

    public static StripeApiError Missing(string param) =>
        new(400, "invalid_request_error", $"Missing required param: {param}.", "parameter_missing", param);

    public static StripeApiError Unknown(string param) =>
        new(400, "invalid_request_error", $"Received unknown parameter: {param}", "parameter_unknown", param);

    public static StripeApiError Invalid(string param, string message, string? code = null) =>
        new(400, "invalid_request_error", message, code, param);

    /// <summary>An id in the URL that does not exist: 404.</summary>
    public static StripeApiError NoSuchPath(string objectName, string id) =>
        new(404, "invalid_request_error", $"No such {objectName}: '{id}'", "resource_missing", "id");

    /// <summary>An id given as a parameter that does not exist: 400 with that parameter.</summary>
    public static StripeApiError NoSuchParam(string objectName, string id, string param) =>
        new(400, "invalid_request_error", $"No such {objectName}: '{id}'", "resource_missing", param);
}
