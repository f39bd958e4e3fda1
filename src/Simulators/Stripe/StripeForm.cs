using System.Globalization;
using System.Text.Json.Nodes;

namespace Sajet.Simulators.Stripe;

/// <summary>
/// Parses Stripe's bracket-encoded forms (stripe.md §1) into a JSON tree whose leaves are strings:
/// <c>a[b][0][c]=v</c>, <c>expand[]=x</c> and <c>expand[0]=x</c>, raw or percent-encoded brackets.
/// </summary>
internal static class StripeForm
{
    public static List<KeyValuePair<string, string>> Pairs(string? encoded)
    {
        var pairs = new List<KeyValuePair<string, string>>();
        if (string.IsNullOrEmpty(encoded))
        {
            return pairs;
        }

        foreach (var part in encoded.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = part.IndexOf('=', StringComparison.Ordinal);
            var key = Decode(eq < 0 ? part : part[..eq]);
            var value = eq < 0 ? "" : Decode(part[(eq + 1)..]);
            pairs.Add(new(key, value));
        }

        return pairs;
    }

    public static JsonObject Parse(IEnumerable<KeyValuePair<string, string>> pairs)
    {
        var root = new Node();
        foreach (var (key, value) in pairs)
        {
            var segments = Segments(key);
            var node = root;
            for (var i = 0; i < segments.Count; i++)
            {
                var segment = segments[i];
                if (segment.Length == 0)
                {
                    // "[]" appends: each occurrence is a new element.
                    segment = node.NextAppendKey();
                }

                if (i == segments.Count - 1)
                {
                    node.Children[segment] = new Node { Value = value };
                }
                else
                {
                    if (!node.Children.TryGetValue(segment, out var child) || child.Value is not null)
                    {
                        child = new Node();
                        node.Children[segment] = child;
                    }

                    node = child;
                }
            }
        }

        return (JsonObject)root.ToJson(forceObject: true)!;
    }

    private static List<string> Segments(string key)
    {
        var open = key.IndexOf('[', StringComparison.Ordinal);
        if (open < 0)
        {
            return [key];
        }

        var segments = new List<string> { key[..open] };
        var rest = key[open..];
        while (rest.StartsWith('['))
        {
            var close = rest.IndexOf(']', StringComparison.Ordinal);
            if (close < 0)
            {
                break;
            }

            segments.Add(rest[1..close]);
            rest = rest[(close + 1)..];
        }

        return segments;
    }

    private static string Decode(string s) => Uri.UnescapeDataString(s.Replace('+', ' '));

    private sealed class Node
    {
        private int _appended;

        public string? Value { get; init; }

        public Dictionary<string, Node> Children { get; } = new(StringComparer.Ordinal);

        public string NextAppendKey()
        {
            while (Children.ContainsKey(_appended.ToString(CultureInfo.InvariantCulture)))
            {
                _appended++;
            }

            return (_appended++).ToString(CultureInfo.InvariantCulture);
        }

        public JsonNode? ToJson(bool forceObject = false)
        {
            if (Value is not null)
            {
                return JsonValue.Create(Value);
            }

            if (!forceObject && Children.Count > 0 && Children.Keys.All(k => int.TryParse(k, NumberStyles.None, CultureInfo.InvariantCulture, out _)))
            {
                return new JsonArray([.. Children.OrderBy(c => int.Parse(c.Key, CultureInfo.InvariantCulture)).Select(c => c.Value.ToJson())]);
            }

            var obj = new JsonObject();
            foreach (var (k, child) in Children)
            {
                obj[k] = child.ToJson();
            }

            return obj;
        }
    }
}
