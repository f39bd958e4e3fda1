using System.Text.Json;
using System.Text.Json.Serialization;
using Orleans.Storage;

namespace Sajet.SiloHosting;

/// <summary>
/// Grain state as plain System.Text.Json of the declared state type. Orleans' default writes Newtonsoft JSON with
/// assembly-qualified <c>$type</c> names, so renaming a class, namespace or assembly made stored state unreadable;
/// here nothing in the stored JSON names a .NET type, the state is read back as the type the grain declares, and an
/// operator can read the row (<c>SELECT payload FROM orleans_storage</c>). The price: a state type's properties are its
/// schema — rename a property with <c>[JsonPropertyName]</c> keeping the old name, and keep polymorphism out of state.
/// </summary>
public sealed class JsonGrainStorageSerializer : IGrainStorageSerializer
{
    /// <summary>camelCase like Sajet's JSON API; enums by name so a stored state says "active", not 4.</summary>
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter() },
    };

    public BinaryData Serialize<T>(T? input) => new(JsonSerializer.SerializeToUtf8Bytes(input, Options));

    public T Deserialize<T>(BinaryData input) =>
        input.ToObjectFromJson<T>(Options) ?? throw new JsonException($"Stored state for {typeof(T).Name} is JSON null");
}
