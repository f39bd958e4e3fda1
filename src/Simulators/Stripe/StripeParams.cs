using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Sajet.Simulators.Stripe;

/// <summary>Typed reads of parsed form parameters, failing with Stripe's messages.</summary>
internal static class StripeParams
{
    public static void RejectUnknown(JsonObject p, IReadOnlyCollection<string> known, string prefix = "")
    {
        foreach (var key in p.Select(kv => kv.Key))
        {
            if (!known.Contains(key))
            {
                throw StripeApiError.Unknown(prefix.Length == 0 ? key : $"{prefix}[{key}]");
            }
        }
    }

    /// <summary>A string parameter; "" counts as absent (Stripe's unset).</summary>
    public static string? Str(JsonObject p, string key, string? name = null)
    {
        var node = p[key];
        if (node is null)
        {
            return null;
        }

        if (node is not JsonValue v || v.GetValueKind() != JsonValueKind.String)
        {
            throw StripeApiError.Invalid(name ?? key, $"Invalid string: {{...}}", "parameter_invalid_string");
        }

        var s = v.GetValue<string>();
        return s.Length == 0 ? null : s;
    }

    public static string Required(JsonObject p, string key, string? name = null) =>
        Str(p, key, name) ?? throw StripeApiError.Missing(name ?? key);

    public static long? Int(JsonObject p, string key, string? name = null)
    {
        var s = Str(p, key, name);
        if (s is null)
        {
            return null;
        }

        return long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw StripeApiError.Invalid(name ?? key, $"Invalid integer: {s}", "parameter_invalid_integer");
    }

    public static bool? Bool(JsonObject p, string key, string? name = null)
    {
        var s = Str(p, key, name);
        return s switch
        {
            null => null,
            "true" => true,
            "false" => false,
            _ => throw StripeApiError.Invalid(name ?? key, $"Invalid boolean: {s}"),
        };
    }

    public static string? Enum(JsonObject p, string key, params string[] allowed)
    {
        var s = Str(p, key);
        if (s is not null && !allowed.Contains(s))
        {
            var list = allowed.Length == 1 ? allowed[0] : string.Join(", ", allowed[..^1]) + ", or " + allowed[^1];
            throw StripeApiError.Invalid(key, $"Invalid {key}: must be one of {list}");
        }

        return s;
    }

    public static JsonObject? Obj(JsonObject p, string key)
    {
        var node = p[key];
        return node switch
        {
            null => null,
            JsonObject o => o,
            JsonValue v when v.GetValueKind() == JsonValueKind.String && v.GetValue<string>().Length == 0 => null,
            _ => throw StripeApiError.Invalid(key, $"Invalid object"),
        };
    }

    public static List<JsonObject> ObjList(JsonObject p, string key)
    {
        var node = p[key];
        return node switch
        {
            null => [],
            JsonArray a => [.. a.Select((n, i) => n as JsonObject ?? throw StripeApiError.Invalid($"{key}[{i}]", "Invalid object"))],
            _ => throw StripeApiError.Invalid(key, "Invalid array"),
        };
    }

    public static List<string> StrList(JsonObject p, string key)
    {
        var node = p[key];
        return node switch
        {
            null => [],
            JsonArray a => [.. a.Select(n => n is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : throw StripeApiError.Invalid(key, "Invalid array"))],
            JsonValue v when v.GetValueKind() == JsonValueKind.String => [v.GetValue<string>()],
            _ => throw StripeApiError.Invalid(key, "Invalid array"),
        };
    }

    /// <summary>metadata[key]=value pairs; keys up to 40 characters, values up to 500, at most 50 keys.</summary>
    public static Dictionary<string, string>? Metadata(JsonObject p, string key = "metadata", string? name = null)
    {
        var obj = Obj(p, key);
        if (obj is null)
        {
            return p[key] is null ? null : [];
        }

        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (k, v) in obj)
        {
            if (v is not JsonValue value || value.GetValueKind() != JsonValueKind.String)
            {
                throw StripeApiError.Invalid($"{name ?? key}[{k}]", "Invalid string: {...}", "parameter_invalid_string");
            }

            if (k.Length > 40)
            {
                throw StripeApiError.Invalid($"{name ?? key}[{k}]", "Metadata keys can have up to 40 characters.");
            }

            if (value.GetValue<string>().Length > 500)
            {
                throw StripeApiError.Invalid($"{name ?? key}[{k}]", "Metadata values can have up to 500 characters.");
            }

            result[k] = value.GetValue<string>();
        }

        if (result.Count > 50)
        {
            throw StripeApiError.Invalid(name ?? key, "Metadata can have up to 50 keys.");
        }

        return result;
    }

    public static bool IsUrl(string value) =>
        Uri.TryCreate(value.Replace("{CHECKOUT_SESSION_ID}", "x", StringComparison.Ordinal), UriKind.Absolute, out var uri)
        && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps);
}
