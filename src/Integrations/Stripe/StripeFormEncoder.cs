using System.Collections;
using System.Globalization;
using System.Text;

namespace Sajet.Integrations.Stripe;

/// <summary>
/// Encodes nested parameters the way Stripe's SDKs do: <c>a[b][c]=v</c> for objects and indexed
/// <c>a[0][b]=v</c> for lists (stripe.md §1). Brackets stay raw, as stripe-node sends them.
/// </summary>
public static class StripeFormEncoder
{
    public static string Encode(IEnumerable<KeyValuePair<string, object?>> parameters)
    {
        var pairs = new List<KeyValuePair<string, string>>();
        foreach (var (key, value) in parameters)
        {
            Flatten(EscapeKey(key), value, pairs);
        }

        var builder = new StringBuilder();
        foreach (var (key, value) in pairs)
        {
            if (builder.Length > 0)
            {
                builder.Append('&');
            }

            builder.Append(key).Append('=').Append(Uri.EscapeDataString(value));
        }

        return builder.ToString();
    }

    private static void Flatten(string prefix, object? value, List<KeyValuePair<string, string>> pairs)
    {
        switch (value)
        {
            case null:
                return;
            case string s:
                pairs.Add(new(prefix, s));
                return;
            case bool b:
                pairs.Add(new(prefix, b ? "true" : "false"));
                return;
            case DateTimeOffset d:
                pairs.Add(new(prefix, d.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)));
                return;
            case IFormattable f:
                pairs.Add(new(prefix, f.ToString(null, CultureInfo.InvariantCulture)));
                return;
            case IDictionary<string, string> strings:
                foreach (var (k, v) in strings)
                {
                    pairs.Add(new($"{prefix}[{EscapeKey(k)}]", v));
                }

                return;
            case IDictionary<string, object?> map:
                foreach (var (k, v) in map)
                {
                    Flatten($"{prefix}[{EscapeKey(k)}]", v, pairs);
                }

                return;
            case IEnumerable list:
                var i = 0;
                foreach (var item in list)
                {
                    Flatten($"{prefix}[{i.ToString(CultureInfo.InvariantCulture)}]", item, pairs);
                    i++;
                }

                return;
            default:
                throw new ArgumentException($"Cannot form-encode a value of type {value.GetType().Name} at '{prefix}'.", nameof(value));
        }
    }

    // Keys keep their brackets raw but anything else unsafe (spaces, '&', '=') is escaped.
    private static string EscapeKey(string key) =>
        Uri.EscapeDataString(key).Replace("%5B", "[", StringComparison.Ordinal).Replace("%5D", "]", StringComparison.Ordinal);
}
