using System.ComponentModel.DataAnnotations;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Polly.CircuitBreaker;
using Polly.Timeout;
using Sajet.Integrations.Resilience;

namespace Sajet.Integrations.Odoo;

public sealed class OdooClientOptions : IValidatableObject
{
    /// <summary>The instance's internal address, e.g. http://10.0.0.5:8069; the db service should never be public.</summary>
    [Required]
    [Url]
    public string BaseUrl { get; set; } = "http://127.0.0.1:8069";

    [Required]
    public string MasterPassword { get; set; } = "";

    /// <summary>Per call. create_database is synchronous and can take minutes (odoo.md §2).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Every JSON-RPC call is a POST, so only the calls that merely read (server_version, list, db_exist, version) are
    /// marked as reads and retried; create, duplicate, drop and authenticate are sent once.
    /// </summary>
    public HttpResilienceOptions Resilience { get; set; } = new()
    {
        // As Timeout: create_database is synchronous and takes minutes; the shorter of the two wins.
        TotalTimeout = TimeSpan.FromMinutes(10),
        // The reads answer in milliseconds even on a busy server; 15 s without an answer is a stuck worker.
        ReadAttemptTimeout = TimeSpan.FromSeconds(15),
        // A restarting Odoo (after a module upgrade) refuses connections for a second or two.
        MaxReadRetries = 2,
        RetryBaseDelay = TimeSpan.FromMilliseconds(500),
        // An instance that failed half of ten or more attempts (retries count) in a minute is left alone for 30 s: provisioning steps
        // back off on their own (WorkflowOptions), so a fast, clear failure is better than one more long timeout.
        BreakerFailureRatio = 0.5,
        BreakerMinimumThroughput = 10,
        BreakerSamplingDuration = TimeSpan.FromMinutes(1),
        BreakerBreakDuration = TimeSpan.FromSeconds(30),
    };

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext) => Resilience.Validate(validationContext);
}

public sealed record OdooVersion(string ServerVersion, string ServerSerie, int ProtocolVersion, IReadOnlyList<JsonElement> ServerVersionInfo);

public sealed class OdooCreateDatabaseRequest
{
    public required string Name { get; init; }
    public bool Demo { get; init; }
    public string Lang { get; init; } = "es_ES";
    public required string AdminPassword { get; init; }

    /// <summary>An e-mail address here also becomes the user's and the company's e-mail.</summary>
    public string Login { get; init; } = "admin";

    public string? CountryCode { get; init; }
    public string? Phone { get; init; }
}

/// <summary>
/// Client of Odoo's JSON-RPC "db" and "common" services (odoo.md §2-4). create_database returns
/// true even when initialisation failed, so callers confirm a new database with
/// <see cref="AuthenticateAsync"/> before reporting success.
/// </summary>
public sealed partial class OdooClient
{
    private readonly HttpClient _http;
    private readonly OdooClientOptions _options;
    private readonly ILogger _logger;
    private readonly Uri _endpoint;
    private long _nextId;

    public OdooClient(HttpClient http, OdooClientOptions options, ILogger<OdooClient>? logger = null)
    {
        // Nothing binds these from configuration yet, so they are checked here, before the first call needs them.
        Validator.ValidateObject(options.Resilience, new ValidationContext(options.Resilience), validateAllProperties: true);
        _http = http;
        _options = options;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _endpoint = new Uri(options.BaseUrl.TrimEnd('/') + "/jsonrpc");
    }

    public async Task<string> ServerVersionAsync(CancellationToken ct = default) =>
        (await CallAsync("db", "server_version", [], ct, read: true)).GetValue<string>();

    /// <summary>Refused by Odoo (AccessDenied) when list_db is off.</summary>
    public async Task<IReadOnlyList<string>> ListAsync(CancellationToken ct = default) =>
        [.. (await CallAsync("db", "list", [], ct, read: true)).AsArray().Select(n => n!.GetValue<string>())];

    public async Task<bool> DbExistAsync(string name, CancellationToken ct = default) =>
        (await CallAsync("db", "db_exist", [name], ct, read: true)).GetValue<bool>();

    /// <summary>Throws <see cref="OdooException"/> (e.g. odoo.service.db.DatabaseExists) on failure.</summary>
    public async Task CreateDatabaseAsync(OdooCreateDatabaseRequest request, CancellationToken ct = default)
    {
        ValidateDatabaseName(request.Name);
        var result = await CallAsync("db", "create_database",
            [_options.MasterPassword, request.Name, request.Demo, request.Lang, request.AdminPassword, request.Login, request.CountryCode, request.Phone], ct);
        ExpectTrue(result, "create_database");
    }

    public async Task DuplicateDatabaseAsync(string sourceName, string newName, bool neutralize = false, CancellationToken ct = default)
    {
        ValidateDatabaseName(newName);
        ExpectTrue(await CallAsync("db", "duplicate_database", [_options.MasterPassword, sourceName, newName, neutralize], ct), "duplicate_database");
    }

    /// <returns>false when no database of that name existed (not an error in Odoo).</returns>
    public async Task<bool> DropAsync(string name, CancellationToken ct = default) =>
        (await CallAsync("db", "drop", [_options.MasterPassword, name], ct)).GetValue<bool>();

    /// <returns>The user id, or null when Odoo answers false (bad credentials, or a database whose initialisation failed).</returns>
    public async Task<int?> AuthenticateAsync(string database, string login, string password, CancellationToken ct = default)
    {
        var result = await CallAsync("common", "authenticate", [database, login, password, new JsonObject()], ct);
        return result.GetValueKind() == JsonValueKind.Number ? result.GetValue<int>() : null;
    }

    /// <summary>
    /// Sets the password of user <paramref name="uid"/> with that user's own credentials (object.execute_kw, res.users
    /// write): an administrator may write its own password. Throws <see cref="OdooException"/> (AccessDenied) when the
    /// current password is wrong.
    /// </summary>
    public async Task SetOwnPasswordAsync(string database, int uid, string currentPassword, string newPassword, CancellationToken ct = default) =>
        await CallAsync("object", "execute_kw",
            [database, uid, currentPassword, "res.users", "write", new JsonArray(new JsonArray(uid), new JsonObject { ["password"] = newPassword })], ct);

    public async Task<OdooVersion> VersionAsync(CancellationToken ct = default)
    {
        var result = (await CallAsync("common", "version", [], ct, read: true)).AsObject();
        return new OdooVersion(
            result["server_version"]?.GetValue<string>() ?? "",
            result["server_serie"]?.GetValue<string>() ?? "",
            result["protocol_version"]?.GetValue<int>() ?? 0,
            [.. (result["server_version_info"] as JsonArray ?? []).Select(n => JsonSerializer.SerializeToElement(n))]);
    }

    /// <summary>Odoo's web-form rule (the RPC path does not check it) plus PostgreSQL's 63-byte identifier limit.</summary>
    public static bool IsValidDatabaseName(string? name) =>
        name is not null && DatabaseNamePattern().IsMatch(name) && Encoding.UTF8.GetByteCount(name) <= 63;

    public static void ValidateDatabaseName(string? name)
    {
        if (!IsValidDatabaseName(name))
        {
            throw new ArgumentException(
                $"'{name}' is not a valid Odoo database name: use letters, digits, '_', '.' or '-', start with a letter or digit, 2 to 63 characters.",
                nameof(name));
        }
    }

    [GeneratedRegex("^[a-zA-Z0-9][a-zA-Z0-9_.-]+$")]
    private static partial Regex DatabaseNamePattern();

    private async Task<JsonNode> CallAsync(string service, string method, JsonArray args, CancellationToken ct, bool read = false)
    {
        var id = Interlocked.Increment(ref _nextId);
        var payload = new JsonObject
        {
            ["jsonrpc"] = "2.0",
            ["method"] = "call",
            ["id"] = id,
            ["params"] = new JsonObject { ["service"] = service, ["method"] = method, ["args"] = args },
        };

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(_options.Timeout);
        var json = payload.ToJsonString();
        HttpResponseMessage response;
        try
        {
            response = await HttpResilience.SendAsync(_endpoint, _options.Resilience, read, async token =>
            {
                using var content = new StringContent(json, Encoding.UTF8, "application/json");
                return await _http.PostAsync(_endpoint, content, token);
            }, timeout.Token);
        }
        catch (BrokenCircuitException ex)
        {
            throw new OdooTransportException($"Odoo at {_endpoint.GetLeftPart(UriPartial.Authority)} failed repeatedly; {service}.{method} was not sent while its circuit is open.", null, ex);
        }
        catch (TimeoutRejectedException ex)
        {
            throw new OdooTransportException($"Odoo did not answer {service}.{method} within {ex.Timeout}.", null, ex);
        }
        catch (HttpRequestException ex)
        {
            throw new OdooTransportException($"Could not reach Odoo at {_endpoint.GetLeftPart(UriPartial.Authority)} for {service}.{method}: {ex.Message}", null, ex);
        }
        catch (OperationCanceledException ex) when (!ct.IsCancellationRequested)
        {
            throw new OdooTransportException($"Odoo did not answer {service}.{method} within {_options.Timeout}.", null, ex);
        }

        using (response)
        {
            var body = await response.Content.ReadAsStringAsync(ct);
            if (!response.IsSuccessStatusCode)
            {
                throw new OdooTransportException(
                    $"Odoo answered HTTP {(int)response.StatusCode} to {service}.{method}: {Truncate(body)}", (int)response.StatusCode, null);
            }

            JsonObject envelope;
            try
            {
                envelope = JsonNode.Parse(body) as JsonObject ?? throw new JsonException("not an object");
            }
            catch (JsonException ex)
            {
                throw new OdooTransportException($"Odoo answered {service}.{method} with something that is not a JSON-RPC response: {Truncate(body)}", (int)response.StatusCode, ex);
            }

            if (envelope["error"] is JsonObject error)
            {
                var data = error["data"] as JsonObject;
                var exception = new OdooException(
                    data?["name"]?.GetValue<string>() ?? "unknown",
                    data?["message"]?.GetValue<string>() ?? error["message"]?.GetValue<string>() ?? "Odoo Server Error",
                    error["code"]?.GetValueKind() == JsonValueKind.Number ? error["code"]!.GetValue<int>() : 0,
                    data?["debug"]?.GetValue<string>());
                // The traceback goes to the log for operators; it never reaches exception messages or users.
                _logger.LogWarning("Odoo {Service}.{Method} failed: {ErrorName}: {ErrorMessage}\n{Debug}",
                    service, method, exception.Name, exception.Message, exception.Debug);
                throw exception;
            }

            if (!envelope.ContainsKey("result"))
            {
                throw new OdooTransportException($"Odoo's answer to {service}.{method} has neither result nor error.", (int)response.StatusCode, null);
            }

            // JSON false/true/null all arrive as nodes; a JSON null result is mapped to false like Python's None check.
            return envelope["result"] ?? JsonValue.Create(false);
        }
    }

    private static void ExpectTrue(JsonNode result, string method)
    {
        if (result.GetValueKind() != JsonValueKind.True)
        {
            throw new OdooTransportException($"Odoo answered {method} with {result.ToJsonString()} instead of true.", 200, null);
        }
    }

    private static string Truncate(string text) => text.Length <= 200 ? text : text[..200] + "…";
}

/// <summary>An Odoo application error (odoo.md §3): branch on <see cref="Name"/>, show <see cref="Exception.Message"/>.</summary>
public sealed class OdooException : Exception
{
    public OdooException(string name, string message, int code, string? debug) : base(message)
    {
        Name = name;
        Code = code;
        Debug = debug;
    }

    /// <summary>Python class path, e.g. odoo.exceptions.AccessDenied or odoo.service.db.DatabaseExists.</summary>
    public string Name { get; }

    /// <summary>error.code: 200 for server errors.</summary>
    public int Code { get; }

    /// <summary>The server's Python traceback: for logs only.</summary>
    public string? Debug { get; }

    public bool IsAccessDenied => Name == "odoo.exceptions.AccessDenied";

    public bool IsDatabaseExists => Name == "odoo.service.db.DatabaseExists";
}

/// <summary>Odoo could not be reached, timed out, or answered with something other than a JSON-RPC response.</summary>
public sealed class OdooTransportException : Exception
{
    public OdooTransportException(string message, int? httpStatus, Exception? innerException) : base(message, innerException)
    {
        HttpStatus = httpStatus;
    }

    public int? HttpStatus { get; }
}
