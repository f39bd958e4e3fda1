using System.Text.Json;
using System.Text.Json.Serialization;

namespace Sajet.Integrations.Stripe;

/// <summary>
/// A field that Stripe sends as an id, or as the full object when it was named in <c>expand[]</c>.
/// </summary>
[JsonConverter(typeof(ExpandableConverterFactory))]
public sealed class Expandable<T> where T : class
{
    public Expandable(string id, T? expanded)
    {
        Id = id;
        Expanded = expanded;
    }

    public string Id { get; }

    /// <summary>The object, when the request expanded this field; null otherwise.</summary>
    public T? Expanded { get; }

    public override string ToString() => Id;
}

internal sealed class ExpandableConverterFactory : JsonConverterFactory
{
    public override bool CanConvert(Type typeToConvert) =>
        typeToConvert.IsGenericType && typeToConvert.GetGenericTypeDefinition() == typeof(Expandable<>);

    public override JsonConverter CreateConverter(Type typeToConvert, JsonSerializerOptions options) =>
        (JsonConverter)Activator.CreateInstance(typeof(ExpandableConverter<>).MakeGenericType(typeToConvert.GetGenericArguments()[0]))!;
}

internal sealed class ExpandableConverter<T> : JsonConverter<Expandable<T>> where T : class
{
    public override Expandable<T>? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.Null:
                return null;
            case JsonTokenType.String:
                return new Expandable<T>(reader.GetString()!, null);
            case JsonTokenType.StartObject:
                using (var doc = JsonDocument.ParseValue(ref reader))
                {
                    var id = doc.RootElement.TryGetProperty("id", out var idElement) ? idElement.GetString() ?? "" : "";
                    return new Expandable<T>(id, doc.RootElement.Deserialize<T>(options));
                }

            default:
                throw new JsonException($"Expected an id or an object for {typeof(T).Name}, got {reader.TokenType}.");
        }
    }

    public override void Write(Utf8JsonWriter writer, Expandable<T> value, JsonSerializerOptions options)
    {
        if (value.Expanded is { } expanded)
        {
            JsonSerializer.Serialize(writer, expanded, options);
        }
        else
        {
            writer.WriteStringValue(value.Id);
        }
    }
}
