using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Sajet.Simulators.Odoo;

/// <summary>An Odoo exception as the JSON-RPC layer serialises it (odoo.md §3): data.name and data.message.</summary>
internal sealed class OdooFault(string name, string message) : Exception(message)
{
    public string Name { get; } = name;

    public static OdooFault AccessDenied() => new("odoo.exceptions.AccessDenied", "Access Denied");

    public static OdooFault TypeError(string message) => new("builtins.TypeError", message);
}

/// <summary>
/// POST /jsonrpc with the behaviour of odoo/http.py and odoo/service/{db,common}.py at 18.0: content
/// type and JSON checks before dispatch, id echoed, application errors as HTTP 200 envelopes, and the
/// db service's order of checks: public method, else master password, then list_db, then the operation.
/// </summary>
internal sealed class OdooRpcHandler(OdooSimulatorState state, OdooSimulatorOptions options)
{
    private static readonly string[] PublicDbMethods = ["db_exist", "list", "list_lang", "server_version"];

    private static readonly string[] ProtectedDbMethods =
        ["create_database", "duplicate_database", "drop", "dump", "restore", "rename", "change_admin_password", "migrate_databases", "list_countries"];

    private static readonly JsonArray Languages =
    [
        new JsonArray("en_US", "English (US)"),
        new JsonArray("es_ES", "Spanish / Español"),
        new JsonArray("es_MX", "Spanish (MX) / Español (MX)"),
        new JsonArray("de_DE", "German / Deutsch"),
        new JsonArray("fr_FR", "French / Français"),
    ];

    private static readonly JsonArray Countries =
    [
        new JsonArray("ES", "Spain"),
        new JsonArray("MX", "Mexico"),
        new JsonArray("US", "United States"),
        new JsonArray("DE", "Germany"),
    ];

    public async Task HandleAsync(HttpContext context)
    {
        Interlocked.Increment(ref state.HttpRequests);
        if (state.Down == OdooDownMode.BadGateway || (Volatile.Read(ref state.BadGatewayNext) > 0 && Interlocked.Decrement(ref state.BadGatewayNext) >= 0))
        {
            await PlainAsync(context, StatusCodes.Status502BadGateway, "502 Bad Gateway");
            return;
        }

        var mediaType = context.Request.ContentType?.Split(';')[0].Trim().ToLowerInvariant();
        if (mediaType is not ("application/json" or "application/json-rpc"))
        {
            await PlainAsync(context, StatusCodes.Status400BadRequest,
                "Request inferred type is compatible with ['http'] but '/jsonrpc' is type='json'.\n\nPlease verify the Content-Type request header and try again.");
            return;
        }

        JsonNode? request;
        try
        {
            request = await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
        }
        catch (JsonException)
        {
            await PlainAsync(context, StatusCodes.Status400BadRequest, "Invalid JSON data");
            return;
        }

        if (request is not JsonObject envelope)
        {
            await PlainAsync(context, StatusCodes.Status400BadRequest, "Invalid JSON data");
            return;
        }

        var id = envelope["id"]?.DeepClone();
        var response = new JsonObject { ["jsonrpc"] = "2.0", ["id"] = id };
        try
        {
            response["result"] = await DispatchAsync(envelope["params"], context.RequestAborted);
        }
        catch (OdooFault fault)
        {
            response["error"] = ErrorEnvelope(fault.Name, fault.Message);
        }

        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(response.ToJsonString(), context.RequestAborted);
    }

    private static JsonObject ErrorEnvelope(string name, string message) => new()
    {
        ["code"] = 200,
        ["message"] = "Odoo Server Error",
        ["data"] = new JsonObject
        {
            ["name"] = name,
            ["debug"] = "Traceback (most recent call last):\n"
                + "  File \"/usr/lib/python3/dist-packages/odoo/http.py\", line 2170, in _serve_db\n"
                + "    return service_model.retrying(self._serve_ir_http, self.env)\n"
                + "  File \"/usr/lib/python3/dist-packages/odoo/service/model.py\", line 156, in retrying\n"
                + "    result = func()\n"
                + $"{name}: {message}\n",
            ["message"] = message,
            ["arguments"] = new JsonArray(message),
            ["context"] = new JsonObject(),
        },
    };

    private async Task<JsonNode?> DispatchAsync(JsonNode? parameters, CancellationToken ct)
    {
        if (parameters is not JsonObject p)
        {
            throw OdooFault.TypeError("dispatch_rpc() missing 3 required positional arguments: 'service_name', 'method', and 'params'");
        }

        var service = p["service"]?.GetValueKind() == JsonValueKind.String ? p["service"]!.GetValue<string>() : null;
        var method = p["method"]?.GetValueKind() == JsonValueKind.String ? p["method"]!.GetValue<string>() : null;
        var args = p["args"] as JsonArray ?? [];
        if (service is null || method is null)
        {
            throw OdooFault.TypeError("dispatch_rpc() missing 1 required positional argument");
        }

        lock (state.Gate)
        {
            state.CallLog.Add($"{service}.{method}");
            if (state.ErrorRates.TryGetValue(method, out var rate) && state.Random.NextDouble() < rate)
            {
                throw new OdooFault("psycopg2.OperationalError", "server closed the connection unexpectedly\n\tThis probably means the server terminated abnormally\n\tbefore or while processing the request.\n");
            }
        }

        return service switch
        {
            "db" => await DbAsync(method, args, ct),
            "common" => Common(method, args),
            "object" => Object(method, args),
            _ => throw new OdooFault("builtins.NameError", $"Service {service} not found"),
        };
    }

    private async Task<JsonNode?> DbAsync(string method, JsonArray args, CancellationToken ct)
    {
        if (PublicDbMethods.Contains(method))
        {
            lock (state.Gate)
            {
                return method switch
                {
                    "db_exist" => Exists(Bind(args, "exp_db_exist", ["db_name"], 0)[0]),
                    "list" => ListDatabases(args),
                    "list_lang" => Languages.DeepClone(),
                    _ => options.ServerVersion,
                };
            }
        }

        if (!ProtectedDbMethods.Contains(method))
        {
            throw new OdooFault("builtins.KeyError", $"Method not found: {method}");
        }

        // dispatch(): params[0] is the master password, checked before anything else.
        var password = args.Count > 0 && args[0]?.GetValueKind() == JsonValueKind.String ? args[0]!.GetValue<string>() : null;
        var rest = new JsonArray([.. args.Skip(1).Select(a => a?.DeepClone())]);
        TimeSpan delay;
        lock (state.Gate)
        {
            if (string.IsNullOrEmpty(password) || password != state.MasterPassword)
            {
                throw OdooFault.AccessDenied();
            }

            // @check_db_management_enabled on every exp_* management function.
            if (!state.ListDb)
            {
                throw OdooFault.AccessDenied();
            }

            delay = state.CreateDelay;
        }

        if (method == "create_database" && delay > TimeSpan.Zero)
        {
            // Creation is synchronous and slow in real Odoo; the delay lets clients exercise their timeouts.
            await Task.Delay(delay, ct);
        }

        lock (state.Gate)
        {
            return method switch
            {
                "create_database" => CreateDatabase(rest),
                "duplicate_database" => Duplicate(rest),
                "drop" => Drop(rest),
                "rename" => Rename(rest),
                "change_admin_password" => ChangeAdminPassword(rest),
                "list_countries" => Countries.DeepClone(),
                _ => throw new OdooFault("builtins.NotImplementedError", $"The simulator does not implement db.{method}"),
            };
        }
    }

    private JsonArray ListDatabases(JsonArray args)
    {
        Bind(args, "exp_list", [], 1);
        if (!state.ListDb)
        {
            throw OdooFault.AccessDenied();
        }

        return new JsonArray([.. state.Databases.Keys.Order(StringComparer.Ordinal).Select(n => (JsonNode)n)]);
    }

    private bool Exists(JsonNode? name) =>
        name?.GetValueKind() == JsonValueKind.String && state.Databases.ContainsKey(name.GetValue<string>());

    private JsonNode CreateDatabase(JsonArray args)
    {
        var a = Bind(args, "exp_create_database", ["db_name", "demo", "lang"], 4);
        var name = RequireString(a[0], "db_name");
        if (state.Databases.ContainsKey(name))
        {
            throw new OdooFault("odoo.service.db.DatabaseExists", $"database '{name}' already exists!");
        }

        var initFailed = state.AllCreatesInitFail || state.NextCreateInitFails;
        state.NextCreateInitFails = false;
        state.Databases[name] = new OdooDatabase(
            name,
            Login: OptionalString(a, 4) ?? "admin",
            Password: OptionalString(a, 3) ?? "admin",
            initFailed,
            Demo: a[1]?.GetValueKind() == JsonValueKind.True,
            Lang: OptionalString(a, 2) ?? "en_US",
            CountryCode: OptionalString(a, 5),
            Phone: OptionalString(a, 6));

        // The documented trap (odoo.md §2): init errors are only logged and the call still returns true.
        return true;
    }

    private JsonNode Duplicate(JsonArray args)
    {
        var a = Bind(args, "exp_duplicate_database", ["db_original_name", "db_name"], 1);
        var source = RequireString(a[0], "db_original_name");
        var target = RequireString(a[1], "db_name");
        if (!state.Databases.TryGetValue(source, out var original))
        {
            throw new OdooFault("psycopg2.errors.InvalidCatalogName", $"template database \"{source}\" does not exist\n");
        }

        if (state.Databases.ContainsKey(target))
        {
            throw new OdooFault("psycopg2.errors.DuplicateDatabase", $"database \"{target}\" already exists\n");
        }

        state.Databases[target] = original with { Name = target };
        return true;
    }

    private JsonNode Drop(JsonArray args)
    {
        var name = RequireString(Bind(args, "exp_drop", ["db_name"], 0)[0], "db_name");
        return state.Databases.Remove(name);
    }

    private JsonNode Rename(JsonArray args)
    {
        var a = Bind(args, "exp_rename", ["old_name", "new_name"], 0);
        var oldName = RequireString(a[0], "old_name");
        var newName = RequireString(a[1], "new_name");
        if (!state.Databases.Remove(oldName, out var db))
        {
            throw new OdooFault("psycopg2.errors.InvalidCatalogName", $"database \"{oldName}\" does not exist\n");
        }

        if (state.Databases.ContainsKey(newName))
        {
            state.Databases[oldName] = db;
            throw new OdooFault("psycopg2.errors.DuplicateDatabase", $"database \"{newName}\" already exists\n");
        }

        state.Databases[newName] = db with { Name = newName };
        return true;
    }

    private JsonNode ChangeAdminPassword(JsonArray args)
    {
        state.MasterPassword = RequireString(Bind(args, "exp_change_admin_password", ["new_password"], 0)[0], "new_password");
        return true;
    }

    private JsonNode? Common(string method, JsonArray args)
    {
        switch (method)
        {
            case "version":
                return new JsonObject
                {
                    ["server_version"] = options.ServerVersion,
                    ["server_version_info"] = new JsonArray(18, 0, 0, "final", 0, ""),
                    ["server_serie"] = options.ServerVersion,
                    ["protocol_version"] = 1,
                };
            case "authenticate":
            case "login":
                var a = method == "login"
                    ? Bind(args, "exp_login", ["db", "login", "password"], 0)
                    : Bind(args, "exp_authenticate", ["db", "login", "password"], 1);
                var db = RequireString(a[0], "db");
                lock (state.Gate)
                {
                    if (!state.Databases.TryGetValue(db, out var database))
                    {
                        throw new OdooFault("psycopg2.OperationalError",
                            $"connection to server on socket \"/var/run/postgresql/.s.PGSQL.5432\" failed: FATAL:  database \"{db}\" does not exist\n");
                    }

                    // A database whose initialisation failed has no usable admin user.
                    var ok = !database.InitFailed
                        && a[1]?.GetValueKind() == JsonValueKind.String && a[1]!.GetValue<string>() == database.Login
                        && a[2]?.GetValueKind() == JsonValueKind.String && a[2]!.GetValue<string>() == database.Password;
                    return ok ? 2 : false;
                }

            default:
                throw new OdooFault("builtins.KeyError", $"Method not found: {method}");
        }
    }

    // odoo/service/model.py: dispatch checks (db, uid, password) with security.check before anything else, then runs
    // execute_kw(db, uid, model, method, args, kwargs). Only what Sajet calls is modelled: the administrator (uid 2,
    // base.user_admin) writing its own password on res.users.
    private JsonNode? Object(string method, JsonArray args)
    {
        if (method is not ("execute_kw" or "execute"))
        {
            throw new OdooFault("builtins.NameError", $"Method not available {method}");
        }

        var a = Bind(args, "execute_kw", ["db", "uid", "passwd", "obj", "method"], 2);
        var db = RequireString(a[0], "db");
        lock (state.Gate)
        {
            var uid = a[1]?.GetValueKind() == JsonValueKind.Number ? a[1]!.GetValue<int>() : -1;
            if (!state.Databases.TryGetValue(db, out var database) || database.InitFailed || uid != 2
                || a[2]?.GetValueKind() != JsonValueKind.String || a[2]!.GetValue<string>() != database.Password)
            {
                throw OdooFault.AccessDenied();
            }

            var model = RequireString(a[3], "obj");
            var call = RequireString(a[4], "method");
            if (model != "res.users")
            {
                throw new OdooFault("builtins.KeyError", model);
            }

            if (call != "write")
            {
                throw new OdooFault("builtins.AttributeError", $"The method '{call}' does not exist on the model '{model}'");
            }

            var callArgs = a[5] as JsonArray ?? [];
            var ids = callArgs.Count > 0 ? callArgs[0] as JsonArray : null;
            var values = callArgs.Count > 1 ? callArgs[1] as JsonObject : null;
            if (ids is null || values is null)
            {
                throw OdooFault.TypeError("BaseModel.write() missing 1 required positional argument: 'vals'");
            }

            if (ids.Any(i => i?.GetValueKind() != JsonValueKind.Number || i.GetValue<int>() != 2))
            {
                throw new OdooFault("odoo.exceptions.MissingError", "Record does not exist or has been deleted.");
            }

            if (values["password"] is { } password && password.GetValueKind() == JsonValueKind.String)
            {
                state.Databases[db] = database with { Password = password.GetValue<string>() };
            }

            return true;
        }
    }

    /// <summary>Python's positional binding: missing required or surplus arguments raise TypeError as CPython words it.</summary>
    private static JsonNode?[] Bind(JsonArray args, string function, string[] required, int optionalCount)
    {
        if (args.Count < required.Length)
        {
            var missing = required.Skip(args.Count).Select(n => $"'{n}'").ToList();
            var names = missing.Count == 1 ? missing[0] : string.Join(", ", missing.SkipLast(1)) + " and " + missing[^1];
            throw OdooFault.TypeError($"{function}() missing {missing.Count} required positional argument{(missing.Count == 1 ? "" : "s")}: {names}");
        }

        var max = required.Length + optionalCount;
        if (args.Count > max)
        {
            var takes = optionalCount == 0 ? $"{max}" : $"from {required.Length} to {max}";
            throw OdooFault.TypeError($"{function}() takes {takes} positional argument{(max == 1 ? "" : "s")} but {args.Count} were given");
        }

        var bound = new JsonNode?[max];
        for (var i = 0; i < args.Count; i++)
        {
            bound[i] = args[i];
        }

        return bound;
    }

    private static string RequireString(JsonNode? node, string parameter) =>
        node?.GetValueKind() == JsonValueKind.String
            ? node.GetValue<string>()
            : throw OdooFault.TypeError($"{parameter} must be a string, got {node?.GetValueKind().ToString() ?? "None"}");

    private static string? OptionalString(JsonNode?[] args, int index) =>
        index < args.Length && args[index]?.GetValueKind() == JsonValueKind.String ? args[index]!.GetValue<string>() : null;

    private static async Task PlainAsync(HttpContext context, int status, string text)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        await context.Response.WriteAsync(text, Encoding.UTF8, context.RequestAborted);
    }
}
