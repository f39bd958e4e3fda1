using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Sajet.Simulators.Proxmox;

internal sealed record PveParam(
    string Name,
    string Type,
    bool Optional,
    double? Minimum,
    double? Maximum,
    IReadOnlyList<string>? Enum,
    int? MaxLength,
    int? MinLength,
    Regex? Pattern,
    string? Format,
    IReadOnlyDictionary<string, PveParam>? Keys,
    bool DefaultKey);

internal sealed record PveEndpoint(string Method, string Path, string[] Segments, bool ProxyToNode, IReadOnlyList<PveParam> Params)
{
    public PveParam? Find(string name)
    {
        foreach (var p in Params)
        {
            if (p.Name == name)
            {
                return p;
            }
        }

        // Indexed families (net[n], mp[n], dev[n], unused[n]) accept any numeric suffix.
        var match = IndexedName().Match(name);
        if (match.Success)
        {
            var family = match.Groups[1].Value + "[n]";
            foreach (var p in Params)
            {
                if (p.Name == family)
                {
                    return p;
                }
            }
        }

        return null;
    }

    private static Regex IndexedName() => PveSchema.IndexedNameRegex;
}

/// <summary>The PVE 9.1 parameter schema for the endpoints the simulator serves, and PVE's validator messages.</summary>
internal static partial class PveSchema
{
    internal static readonly Regex IndexedNameRegex = IndexedRegex();

    public static IReadOnlyList<PveEndpoint> Endpoints { get; } = Load();

    private static List<PveEndpoint> Load()
    {
        using var doc = JsonDocument.Parse(PveSchemaData.Json);
        var list = new List<PveEndpoint>();
        foreach (var e in doc.RootElement.EnumerateArray())
        {
            var path = e.GetProperty("path").GetString()!;
            var parameters = e.GetProperty("params").EnumerateArray().Select(p => ReadParam(p, p.GetProperty("name").GetString()!)).ToList();
            list.Add(new PveEndpoint(
                e.GetProperty("method").GetString()!,
                path,
                path.Split('/', StringSplitOptions.RemoveEmptyEntries),
                e.GetProperty("proxyto").ValueKind == JsonValueKind.String,
                parameters));
        }

        return list;
    }

    private static PveParam ReadParam(JsonElement p, string name)
    {
        Dictionary<string, PveParam>? keys = null;
        if (p.TryGetProperty("keys", out var k))
        {
            keys = [];
            foreach (var prop in k.EnumerateObject())
            {
                keys[prop.Name] = ReadParam(prop.Value, prop.Name);
            }
        }

        return new PveParam(
            name,
            p.TryGetProperty("type", out var t) ? t.GetString()! : "string",
            !p.TryGetProperty("optional", out var o) || o.ValueKind == JsonValueKind.True,
            Number(p, "minimum"),
            Number(p, "maximum"),
            p.TryGetProperty("enum", out var en) ? en.EnumerateArray().Select(x => x.GetString()!).ToList() : null,
            (int?)Number(p, "maxLength"),
            (int?)Number(p, "minLength"),
            p.TryGetProperty("pattern", out var pat) ? new Regex("^(?:" + pat.GetString()!.Replace("(?^:", "(?:", StringComparison.Ordinal) + ")$", RegexOptions.CultureInvariant) : null,
            p.TryGetProperty("format", out var f) ? f.GetString() : null,
            keys,
            p.TryGetProperty("default_key", out var dk) && dk.ValueKind == JsonValueKind.Number && dk.GetInt32() == 1);
    }

    private static double? Number(JsonElement p, string name)
    {
        if (!p.TryGetProperty(name, out var v))
        {
            return null;
        }

        return v.ValueKind == JsonValueKind.Number ? v.GetDouble() : double.Parse(v.GetString()!, CultureInfo.InvariantCulture);
    }

    /// <summary>Checks and normalises parameters in place (booleans become 0/1); returns PVE's per-parameter errors.</summary>
    public static Dictionary<string, string> Validate(PveEndpoint endpoint, Dictionary<string, string> values)
    {
        var errors = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var name in values.Keys.ToList())
        {
            var p = endpoint.Find(name);
            if (p is null)
            {
                errors[name] = "property is not defined in schema and the schema does not allow additional properties";
                continue;
            }

            var error = CheckValue(p, values[name], out var normalised);
            if (error is not null)
            {
                errors[name] = error;
            }
            else
            {
                values[name] = normalised;
            }
        }

        foreach (var p in endpoint.Params)
        {
            if (!p.Optional && !p.Name.EndsWith("[n]", StringComparison.Ordinal) && !values.ContainsKey(p.Name) && !errors.ContainsKey(p.Name))
            {
                errors[p.Name] = "property is missing and it is not optional";
            }
        }

        return errors;
    }

    private static string? CheckValue(PveParam p, string value, out string normalised)
    {
        normalised = value;
        switch (p.Type)
        {
            case "integer":
                if (!long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var i))
                {
                    return $"type check ('integer') failed - got '{value}'";
                }

                if (p.Minimum is { } imin && i < imin)
                {
                    return $"value must have a minimum value of {imin.ToString(CultureInfo.InvariantCulture)}";
                }

                if (p.Maximum is { } imax && i > imax)
                {
                    return $"value must have a maximum value of {imax.ToString(CultureInfo.InvariantCulture)}";
                }

                break;
            case "number":
                if (!double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) || double.IsNaN(d) || double.IsInfinity(d))
                {
                    return $"type check ('number') failed - got '{value}'";
                }

                if (p.Minimum is { } dmin && d < dmin)
                {
                    return $"value must have a minimum value of {dmin.ToString(CultureInfo.InvariantCulture)}";
                }

                if (p.Maximum is { } dmax && d > dmax)
                {
                    return $"value must have a maximum value of {dmax.ToString(CultureInfo.InvariantCulture)}";
                }

                break;
            case "boolean":
                var b = ParseBool(value);
                if (b is null)
                {
                    return $"type check ('boolean') failed - got '{value}'";
                }

                normalised = b.Value ? "1" : "0";
                break;
            default:
                if (p.Enum is not null && !p.Enum.Contains(value))
                {
                    return $"value '{value}' does not have a value in the enumeration '{string.Join(", ", p.Enum)}'";
                }

                if (p.MaxLength is { } maxLen && value.Length > maxLen)
                {
                    return $"value may only be {maxLen} characters long";
                }

                if (p.MinLength is { } minLen && value.Length < minLen)
                {
                    return $"value must be at least {minLen} characters long";
                }

                if (p.Pattern is not null && !p.Pattern.IsMatch(value))
                {
                    return "value does not match the regex pattern";
                }

                if (p.Keys is not null)
                {
                    return CheckPropertyString(p, value);
                }

                return CheckFormat(p.Format, value);
        }

        return null;
    }

    private static string? CheckPropertyString(PveParam p, string value)
    {
        Dictionary<string, string> parsed;
        try
        {
            parsed = ParsePropertyString(value, p.Keys!.Values.FirstOrDefault(k => k.DefaultKey)?.Name);
        }
        catch (FormatException ex)
        {
            return "invalid format - " + ex.Message;
        }

        foreach (var (key, v) in parsed)
        {
            if (!p.Keys!.TryGetValue(key, out var sub))
            {
                return $"invalid format - invalid key in comma-separated list property: {key}";
            }

            var error = CheckValue(sub, v, out _);
            if (error is not null)
            {
                return $"invalid format - format error\n{p.Name}.{key}: {error}";
            }
        }

        foreach (var sub in p.Keys!.Values)
        {
            if (!sub.Optional && !parsed.ContainsKey(sub.Name))
            {
                return $"invalid format - format error\n{p.Name}.{sub.Name}: property is missing and it is not optional";
            }
        }

        return null;
    }

    /// <summary>Splits a PVE property string; a bare value belongs to the default key.</summary>
    public static Dictionary<string, string> ParsePropertyString(string value, string? defaultKey)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var part in value.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = part.IndexOf('=', StringComparison.Ordinal);
            string key;
            string v;
            if (eq < 0)
            {
                if (defaultKey is null)
                {
                    throw new FormatException($"value without key, but schema does not define a default key");
                }

                key = defaultKey;
                v = part;
            }
            else
            {
                key = part[..eq];
                v = part[(eq + 1)..];
            }

            if (!result.TryAdd(key, v))
            {
                throw new FormatException($"duplicate key in comma-separated list property: {key}");
            }
        }

        return result;
    }

    private static string? CheckFormat(string? format, string value) => format switch
    {
        "pve-node" when !NodeNameRegex().IsMatch(value) => "invalid format - value does not look like a valid node name",
        "pve-storage-id" when !StorageIdRegex().IsMatch(value) => $"invalid format - storage ID '{value}' contains illegal characters",
        "pve-tag-list" => SplitTags(value).FirstOrDefault(t => !TagRegex().IsMatch(t)) is { } bad ? $"invalid format - invalid tag '{bad}'" : null,
        "dns-name" when !DnsNameRegex().IsMatch(value) => "invalid format - value does not look like a valid DNS name",
        "pve-vmid-list" when !VmidListRegex().IsMatch(value) => "invalid format - value does not look like a valid VMID list",
        "pve-configid-list" when value.Split([',', ';', ' '], StringSplitOptions.RemoveEmptyEntries).Any(k => !ConfigIdRegex().IsMatch(k)) => "invalid format - invalid configuration ID",
        "pve-storage-content" or "pve-storage-content-list" when value.Split([',', ';', ' '], StringSplitOptions.RemoveEmptyEntries).Any(c => c is not ("images" or "rootdir" or "vztmpl" or "iso" or "backup" or "snippets" or "import")) => $"invalid format - invalid content type '{value}'",
        _ => null,
    };

    public static bool? ParseBool(string value) => value.ToLowerInvariant() switch
    {
        "1" or "true" or "yes" or "on" => true,
        "0" or "false" or "no" or "off" => false,
        _ => null,
    };

    public static IEnumerable<string> SplitTags(string value) => value.Split([';', ',', ' '], StringSplitOptions.RemoveEmptyEntries);

    [GeneratedRegex(@"^(net|mp|dev|unused)(\d+)$")]
    private static partial Regex IndexedRegex();

    [GeneratedRegex(@"^[a-zA-Z0-9]([a-zA-Z0-9\-]*[a-zA-Z0-9])?$")]
    internal static partial Regex NodeNameRegex();

    [GeneratedRegex(@"^[a-z][a-z0-9\-_.]*[a-z0-9]$", RegexOptions.IgnoreCase)]
    private static partial Regex StorageIdRegex();

    [GeneratedRegex(@"^[a-z0-9_][a-z0-9_+.\-]*$", RegexOptions.IgnoreCase)]
    private static partial Regex TagRegex();

    [GeneratedRegex(@"^(?:[a-zA-Z0-9](?:[a-zA-Z0-9\-]*[a-zA-Z0-9])?\.)*[a-zA-Z0-9](?:[a-zA-Z0-9\-]*[a-zA-Z0-9])?$")]
    private static partial Regex DnsNameRegex();

    [GeneratedRegex(@"^\d+(?:[,;\s]+\d+)*$")]
    private static partial Regex VmidListRegex();

    [GeneratedRegex(@"^[a-z][a-z0-9_\-]*$")]
    private static partial Regex ConfigIdRegex();
}
