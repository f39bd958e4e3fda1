using System.Globalization;

namespace Sajet.Simulators.Proxmox;

internal sealed class PveException(int status, string message, Dictionary<string, string>? errors = null) : Exception(message)
{
    public int Status { get; } = status;

    public Dictionary<string, string>? Errors { get; } = errors;

    public static PveException Param(string name, string message) => new(400, "Parameter verification failed.", new() { [name] = message });
}

internal sealed class SimNode
{
    public required string Name { get; init; }

    public required int Index { get; init; }

    public required int Cores { get; init; }

    public required long MemoryBytes { get; init; }

    public required DateTimeOffset BootTime { get; init; }

    public bool Online { get; set; } = true;

    public double? CpuOverride { get; set; }

    public long? MemoryUsedOverride { get; set; }

    public Dictionary<string, SimStorage> Storages { get; } = new(StringComparer.Ordinal);

    public string Ip => $"10.0.0.{Index + 10}";
}

internal sealed class SimStorage
{
    public required string Id { get; init; }

    /// <summary>`dir` or `lvmthin`.</summary>
    public required string Type { get; init; }

    public required string Content { get; init; }

    public required long TotalBytes { get; set; }

    public List<SimVolume> Volumes { get; } = [];

    public long UsedBytes => Volumes.Sum(v => v.SizeBytes);

    public long AvailBytes => Math.Max(0, TotalBytes - UsedBytes);

    public bool Supports(string content) => Content.Split(',').Contains(content);
}

internal sealed class SimVolume
{
    public required string VolId { get; init; }

    public required string Content { get; init; }

    public required string Format { get; init; }

    public required long SizeBytes { get; set; }

    public int? Vmid { get; init; }

    public required long CTime { get; init; }

    public string? Notes { get; init; }
}

internal sealed class SimContainer
{
    public required int Vmid { get; init; }

    public required string Node { get; set; }

    public string Status { get; set; } = "stopped";

    public string? Lock { get; set; }

    public SortedDictionary<string, string> Config { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Changes to a running container that PVE cannot hot-apply; a null value is a pending delete.</summary>
    public SortedDictionary<string, string?> Pending { get; } = new(StringComparer.Ordinal);

    public string? Pool { get; set; }

    public DateTimeOffset? StartedAt { get; set; }

    public required DateTimeOffset CreatedAt { get; init; }

    public double? CpuOverride { get; set; }

    public long? MemoryOverride { get; set; }

    public long? DiskOverride { get; set; }

    public bool HaManaged { get; set; }

    public int Cores(int hostCores) =>
        Config.TryGetValue("cores", out var c) ? int.Parse(c, CultureInfo.InvariantCulture)
        : Config.TryGetValue("cpulimit", out var l) && double.Parse(l, CultureInfo.InvariantCulture) is > 0 and var lim ? (int)Math.Ceiling(lim)
        : hostCores;

    public long MemoryMiB => Config.TryGetValue("memory", out var m) ? long.Parse(m, CultureInfo.InvariantCulture) : 512;

    public long SwapMiB => Config.TryGetValue("swap", out var s) ? long.Parse(s, CultureInfo.InvariantCulture) : 512;

    public IEnumerable<string> DiskKeys => Config.Keys.Where(k => k == "rootfs" || (k.StartsWith("mp", StringComparison.Ordinal) && k.Length > 2 && char.IsAsciiDigit(k[2])));
}

internal sealed class SimTask
{
    public required string Upid { get; init; }

    public required string Node { get; init; }

    public required int Pid { get; init; }

    public required int PStart { get; init; }

    public required long StartTime { get; init; }

    public required string Type { get; init; }

    public required string Id { get; init; }

    public required string User { get; init; }

    public List<string> Log { get; } = [];

    public string? ExitStatus { get; set; }

    public long? EndTime { get; set; }

    public bool Running => ExitStatus is null;

    public CancellationTokenSource Abort { get; } = new();
}

/// <summary>Sizes as PVE writes them in config (`8G`, `512M`) and reads them in resize.</summary>
internal static class DiskSize
{
    public static string Format(long bytes)
    {
        foreach (var (unit, shift) in new[] { ("T", 40), ("G", 30), ("M", 20), ("K", 10) })
        {
            if (bytes >= 1L << shift && bytes % (1L << shift) == 0)
            {
                return (bytes >> shift).ToString(CultureInfo.InvariantCulture) + unit;
            }
        }

        return bytes.ToString(CultureInfo.InvariantCulture);
    }

    public static long Parse(string value)
    {
        var unit = value[^1];
        var shift = unit switch { 'K' => 10, 'M' => 20, 'G' => 30, 'T' => 40, _ => 0 };
        var number = shift == 0 ? value : value[..^1];
        return (long)(double.Parse(number, CultureInfo.InvariantCulture) * (1L << shift));
    }
}
