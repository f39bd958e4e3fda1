using System.Net;

namespace Sajet.Integrations.Stripe;

/// <summary>Stripe answered with its error object (stripe.md §5).</summary>
public sealed class StripeException : Exception
{
    public StripeException(HttpStatusCode httpStatus, string type, string message, string? code = null,
        string? declineCode = null, string? param = null, string? requestId = null, string? docUrl = null)
        : base(message)
    {
        HttpStatus = httpStatus;
        Type = type;
        Code = code;
        DeclineCode = declineCode;
        Param = param;
        RequestId = requestId;
        DocUrl = docUrl;
    }

    public HttpStatusCode HttpStatus { get; }

    /// <summary>api_error, card_error, idempotency_error or invalid_request_error.</summary>
    public string Type { get; }

    public string? Code { get; }

    public string? DeclineCode { get; }

    public string? Param { get; }

    public string? RequestId { get; }

    public string? DocUrl { get; }

    public bool IsResourceMissing => Code == "resource_missing";
}

/// <summary>Stripe could not be reached (connection refused, reset, timeout) after every retry.</summary>
public sealed class StripeConnectionException : Exception
{
    public StripeConnectionException(string message, Exception innerException) : base(message, innerException)
    {
    }
}
