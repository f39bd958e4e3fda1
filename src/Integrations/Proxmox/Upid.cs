using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Sajet.Integrations.Proxmox;

/// <summary>A Proxmox task id: `UPID:node:pid:pstart:starttime:type:id:user:`. Poll the task on <see cref="Node"/>.</summary>
public readonly partial record struct Upid(string Node, int Pid, long PStart, long StartTime, string Type, string Id, string User)
{
    public DateTimeOffset Started => DateTimeOffset.FromUnixTimeSeconds(StartTime);

    public static Upid Parse(string value) =>
        TryParse(value, out var upid) ? upid : throw new FormatException($"'{value}' is not a Proxmox UPID");

    public static bool TryParse([NotNullWhen(true)] string? value, out Upid upid)
    {
        upid = default;
        var m = value is null ? null : Format().Match(value);
        if (m is null || !m.Success)
        {
            return false;
        }

        upid = new Upid(
            m.Groups[1].Value,
            int.Parse(m.Groups[3].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture),
            long.Parse(m.Groups[4].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture),
            long.Parse(m.Groups[5].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture),
            m.Groups[6].Value,
            m.Groups[7].Value,
            m.Groups[8].Value);
        return true;
    }

    // pstart grows to 9 digits after ~497 days of uptime; the others stay 8.
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"UPID:{Node}:{Pid:X8}:{PStart:X8}:{StartTime:X8}:{Type}:{Id}:{User}:");

    [GeneratedRegex(@"^UPID:([a-zA-Z0-9]([a-zA-Z0-9\-]*[a-zA-Z0-9])?):([0-9A-Fa-f]{8}):([0-9A-Fa-f]{8,9}):([0-9A-Fa-f]{8}):([^:\s/]+):([^:\s/]*):([^:\s/]+):$")]
    private static partial Regex Format();
}
