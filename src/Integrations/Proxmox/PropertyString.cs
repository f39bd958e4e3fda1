namespace Sajet.Integrations.Proxmox;

/// <summary>
/// PVE's "property string": `key=value,key=value`, where one key (the default key, e.g. the volume of
/// `rootfs` or nothing for `net0`) may be written without its name. Keys keep their order.
/// </summary>
public sealed class PropertyString
{
    private readonly List<KeyValuePair<string, string>> _items = [];

    public PropertyString(string? defaultKey = null) => DefaultKey = defaultKey;

    public string? DefaultKey { get; }

    public IReadOnlyList<KeyValuePair<string, string>> Items => _items;

    public string? this[string key]
    {
        get => _items.FirstOrDefault(kv => kv.Key == key).Value;
        set
        {
            var index = _items.FindIndex(kv => kv.Key == key);
            if (value is null)
            {
                if (index >= 0)
                {
                    _items.RemoveAt(index);
                }
            }
            else if (index >= 0)
            {
                _items[index] = new(key, value);
            }
            else
            {
                _items.Add(new(key, value));
            }
        }
    }

    public static PropertyString Parse(string value, string? defaultKey = null)
    {
        var result = new PropertyString(defaultKey);
        foreach (var part in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var eq = part.IndexOf('=', StringComparison.Ordinal);
            if (eq < 0)
            {
                result[defaultKey ?? throw new FormatException($"property string '{value}' has a value without a key and no default key")] = part;
            }
            else
            {
                result[part[..eq]] = part[(eq + 1)..];
            }
        }

        return result;
    }

    /// <summary>The default key's value comes first and bare, the rest as written.</summary>
    public override string ToString()
    {
        var head = DefaultKey is not null && this[DefaultKey] is { } bare ? new[] { bare } : [];
        return string.Join(',', head.Concat(_items.Where(kv => kv.Key != DefaultKey).Select(kv => $"{kv.Key}={kv.Value}")));
    }
}
