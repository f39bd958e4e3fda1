using System.Text.Json;
using System.Text.Json.Serialization;

namespace Sajet.Integrations.Proxmox;

internal static class ProxmoxJson
{
    // PVE's Perl encoder sends numbers as strings when a value went through string handling (nextid, loadavg),
    // and booleans as 0/1; both forms must read the same.
    public static JsonSerializerOptions Options { get; } = new()
    {
        NumberHandling = JsonNumberHandling.AllowReadingFromString,
        PropertyNameCaseInsensitive = false,
        Converters = { new PveBooleanConverter() },
    };

    private sealed class PveBooleanConverter : JsonConverter<bool>
    {
        public override bool Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.TokenType switch
        {
            JsonTokenType.True => true,
            JsonTokenType.False => false,
            JsonTokenType.Number => reader.GetDouble() != 0,
            JsonTokenType.String => reader.GetString() is "1" or "true" or "yes" or "on",
            _ => throw new JsonException($"cannot read {reader.TokenType} as a Proxmox boolean"),
        };

        public override void Write(Utf8JsonWriter writer, bool value, JsonSerializerOptions options) => writer.WriteNumberValue(value ? 1 : 0);
    }
}
