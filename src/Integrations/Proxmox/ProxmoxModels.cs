using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Sajet.Integrations.Proxmox;

public sealed record ProxmoxVersion(
    [property: JsonPropertyName("version")] string Version,
    [property: JsonPropertyName("release")] string Release,
    [property: JsonPropertyName("repoid")] string RepoId);

/// <summary>An item of GET /nodes. Figures are absent for offline nodes.</summary>
public sealed record ProxmoxNode
{
    [JsonPropertyName("node")] public required string Node { get; init; }

    /// <summary>`online`, `offline` or `unknown`.</summary>
    [JsonPropertyName("status")] public required string Status { get; init; }

    /// <summary>Fraction (0..1) of all host CPUs.</summary>
    [JsonPropertyName("cpu")] public double? Cpu { get; init; }

    [JsonPropertyName("maxcpu")] public int? MaxCpu { get; init; }

    [JsonPropertyName("mem")] public long? Mem { get; init; }

    [JsonPropertyName("maxmem")] public long? MaxMem { get; init; }

    [JsonPropertyName("disk")] public long? Disk { get; init; }

    [JsonPropertyName("maxdisk")] public long? MaxDisk { get; init; }

    [JsonPropertyName("uptime")] public long? Uptime { get; init; }

    [JsonPropertyName("ssl_fingerprint")] public string? SslFingerprint { get; init; }

    public bool IsOnline => Status == "online";
}

public sealed record ProxmoxMemory(
    [property: JsonPropertyName("total")] long Total,
    [property: JsonPropertyName("used")] long Used,
    [property: JsonPropertyName("free")] long Free,
    [property: JsonPropertyName("available")] long? Available);

public sealed record ProxmoxRootFs(
    [property: JsonPropertyName("total")] long Total,
    [property: JsonPropertyName("used")] long Used,
    [property: JsonPropertyName("free")] long Free,
    [property: JsonPropertyName("avail")] long Avail);

public sealed record ProxmoxCpuInfo(
    [property: JsonPropertyName("cpus")] int Cpus,
    [property: JsonPropertyName("cores")] int Cores,
    [property: JsonPropertyName("sockets")] int Sockets,
    [property: JsonPropertyName("model")] string Model);

/// <summary>GET /nodes/{node}/status.</summary>
public sealed record ProxmoxNodeStatus
{
    [JsonPropertyName("cpu")] public double Cpu { get; init; }

    /// <summary>1, 5 and 15 minute load; PVE sends them as strings.</summary>
    [JsonPropertyName("loadavg")] public double[] LoadAverage { get; init; } = [];

    [JsonPropertyName("uptime")] public long Uptime { get; init; }

    [JsonPropertyName("memory")] public required ProxmoxMemory Memory { get; init; }

    [JsonPropertyName("rootfs")] public required ProxmoxRootFs RootFs { get; init; }

    [JsonPropertyName("cpuinfo")] public required ProxmoxCpuInfo CpuInfo { get; init; }

    [JsonPropertyName("pveversion")] public string? PveVersion { get; init; }

    [JsonPropertyName("kversion")] public string? KernelVersion { get; init; }
}

/// <summary>A row of GET /cluster/status: one `cluster` row and one `node` row per member.</summary>
public sealed record ProxmoxClusterStatusEntry
{
    [JsonPropertyName("type")] public required string Type { get; init; }

    [JsonPropertyName("id")] public required string Id { get; init; }

    [JsonPropertyName("name")] public required string Name { get; init; }

    [JsonPropertyName("nodes")] public int? Nodes { get; init; }

    [JsonPropertyName("quorate")] public bool? Quorate { get; init; }

    [JsonPropertyName("version")] public int? Version { get; init; }

    [JsonPropertyName("nodeid")] public int? NodeId { get; init; }

    [JsonPropertyName("ip")] public string? Ip { get; init; }

    [JsonPropertyName("online")] public bool? Online { get; init; }

    [JsonPropertyName("local")] public bool? Local { get; init; }
}

public enum ProxmoxResourceType
{
    Vm,
    Storage,
    Node,
    Sdn,
}

/// <summary>A row of GET /cluster/resources; which members are set depends on <see cref="Type"/> (`node`, `lxc`, `qemu`, `storage`, ...).</summary>
public sealed record ProxmoxClusterResource
{
    [JsonPropertyName("id")] public required string Id { get; init; }

    [JsonPropertyName("type")] public required string Type { get; init; }

    [JsonPropertyName("node")] public string? Node { get; init; }

    [JsonPropertyName("status")] public string? Status { get; init; }

    [JsonPropertyName("vmid")] public int? Vmid { get; init; }

    [JsonPropertyName("name")] public string? Name { get; init; }

    [JsonPropertyName("cpu")] public double? Cpu { get; init; }

    [JsonPropertyName("maxcpu")] public double? MaxCpu { get; init; }

    [JsonPropertyName("mem")] public long? Mem { get; init; }

    [JsonPropertyName("maxmem")] public long? MaxMem { get; init; }

    [JsonPropertyName("disk")] public long? Disk { get; init; }

    [JsonPropertyName("maxdisk")] public long? MaxDisk { get; init; }

    [JsonPropertyName("uptime")] public long? Uptime { get; init; }

    [JsonPropertyName("tags")] public string? Tags { get; init; }

    [JsonPropertyName("storage")] public string? Storage { get; init; }

    [JsonPropertyName("content")] public string? Content { get; init; }

    [JsonPropertyName("plugintype")] public string? PluginType { get; init; }

    [JsonPropertyName("pool")] public string? Pool { get; init; }

    [JsonPropertyName("lock")] public string? Lock { get; init; }

    [JsonPropertyName("hastate")] public string? HaState { get; init; }

    public IReadOnlyList<string> TagList => ProxmoxTags.Split(Tags);
}

/// <summary>GET /nodes/{node}/lxc items and GET .../status/current. Memory and disk in bytes, cpu a 0..1 fraction of <see cref="Cpus"/>.</summary>
public sealed record ProxmoxContainerStatus
{
    [JsonPropertyName("vmid")] public int Vmid { get; init; }

    [JsonPropertyName("name")] public string? Name { get; init; }

    /// <summary>`running` or `stopped`.</summary>
    [JsonPropertyName("status")] public required string Status { get; init; }

    [JsonPropertyName("uptime")] public long Uptime { get; init; }

    [JsonPropertyName("cpus")] public double Cpus { get; init; }

    [JsonPropertyName("cpu")] public double Cpu { get; init; }

    [JsonPropertyName("mem")] public long Mem { get; init; }

    [JsonPropertyName("maxmem")] public long MaxMem { get; init; }

    [JsonPropertyName("swap")] public long Swap { get; init; }

    [JsonPropertyName("maxswap")] public long MaxSwap { get; init; }

    [JsonPropertyName("disk")] public long Disk { get; init; }

    [JsonPropertyName("maxdisk")] public long MaxDisk { get; init; }

    [JsonPropertyName("netin")] public long NetIn { get; init; }

    [JsonPropertyName("netout")] public long NetOut { get; init; }

    [JsonPropertyName("diskread")] public long DiskRead { get; init; }

    [JsonPropertyName("diskwrite")] public long DiskWrite { get; init; }

    [JsonPropertyName("tags")] public string? Tags { get; init; }

    [JsonPropertyName("lock")] public string? Lock { get; init; }

    [JsonPropertyName("template")] public bool Template { get; init; }

    public bool IsRunning => Status == "running";

    public IReadOnlyList<string> TagList => ProxmoxTags.Split(Tags);
}

/// <summary>GET .../config: every key as PVE returned it, with typed views of the ones Sajet uses.</summary>
public sealed class ProxmoxContainerConfig
{
    internal ProxmoxContainerConfig(IReadOnlyDictionary<string, string> values) => Values = values;

    /// <summary>All keys, numbers and booleans rendered as invariant strings (booleans as 0/1).</summary>
    public IReadOnlyDictionary<string, string> Values { get; }

    /// <summary>Pass back as `digest` on PUT config to refuse lost updates.</summary>
    public string? Digest => Get("digest");

    public string? Hostname => Get("hostname");

    public int? Cores => Int("cores");

    public double? CpuLimit => Get("cpulimit") is { } v ? double.Parse(v, CultureInfo.InvariantCulture) : null;

    /// <summary>MiB.</summary>
    public int? Memory => Int("memory");

    /// <summary>MiB.</summary>
    public int? Swap => Int("swap");

    public bool Unprivileged => Get("unprivileged") == "1";

    public bool Protection => Get("protection") == "1";

    public string? Lock => Get("lock");

    public string? Description => Get("description");

    public IReadOnlyList<string> Tags => ProxmoxTags.Split(Get("tags"));

    /// <summary>`volume` is the default key: `local-lvm:vm-101-disk-0,size=8G`.</summary>
    public PropertyString? RootFs => Get("rootfs") is { } v ? PropertyString.Parse(v, "volume") : null;

    public PropertyString? Features => Get("features") is { } v ? PropertyString.Parse(v) : null;

    /// <summary>net0..net31 as property strings (`name=eth0,bridge=vmbr0,ip=dhcp,...`).</summary>
    public IReadOnlyDictionary<int, PropertyString> Networks =>
        Values.Where(kv => kv.Key.StartsWith("net", StringComparison.Ordinal) && int.TryParse(kv.Key.AsSpan(3), CultureInfo.InvariantCulture, out _))
            .ToDictionary(kv => int.Parse(kv.Key.AsSpan(3), CultureInfo.InvariantCulture), kv => PropertyString.Parse(kv.Value));

    /// <summary>Size of the root disk from its `size=` key.</summary>
    public long? RootFsBytes => RootFs?["size"] is { } size ? ProxmoxDiskSize.Parse(size) : null;

    public string? Get(string key) => Values.TryGetValue(key, out var v) ? v : null;

    private int? Int(string key) => Get(key) is { } v ? int.Parse(v, CultureInfo.InvariantCulture) : null;

    internal static ProxmoxContainerConfig From(JsonElement data)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var p in data.EnumerateObject())
        {
            values[p.Name] = p.Value.ValueKind switch
            {
                JsonValueKind.String => p.Value.GetString()!,
                JsonValueKind.True => "1",
                JsonValueKind.False => "0",
                _ => p.Value.GetRawText(),
            };
        }

        return new ProxmoxContainerConfig(values);
    }
}

public enum ProxmoxRrdTimeframe
{
    Hour,
    Day,
    Week,
    Month,
    Year,
    Decade,
}

public enum ProxmoxRrdConsolidation
{
    Average,
    Max,
}

/// <summary>One RRD sample. Fields PVE had no data for are absent; counters are bytes per second.</summary>
public sealed record ProxmoxRrdPoint(long Time, IReadOnlyDictionary<string, double> Values)
{
    public DateTimeOffset Timestamp => DateTimeOffset.FromUnixTimeSeconds(Time);

    public double? this[string field] => Values.TryGetValue(field, out var v) ? v : null;

    public double? Cpu => this["cpu"];

    public double? Mem => this["mem"] ?? this["memused"];

    public double? MaxMem => this["maxmem"] ?? this["memtotal"];
}

/// <summary>GET /nodes/{node}/storage items, sizes in bytes.</summary>
public sealed record ProxmoxStorage
{
    [JsonPropertyName("storage")] public required string Storage { get; init; }

    [JsonPropertyName("type")] public required string Type { get; init; }

    /// <summary>Comma-separated content types (`images,rootdir`, `backup,iso,vztmpl`).</summary>
    [JsonPropertyName("content")] public required string Content { get; init; }

    [JsonPropertyName("active")] public bool Active { get; init; }

    [JsonPropertyName("enabled")] public bool Enabled { get; init; }

    [JsonPropertyName("shared")] public bool Shared { get; init; }

    [JsonPropertyName("total")] public long Total { get; init; }

    [JsonPropertyName("used")] public long Used { get; init; }

    [JsonPropertyName("avail")] public long Avail { get; init; }

    [JsonPropertyName("used_fraction")] public double UsedFraction { get; init; }

    public bool Supports(string content) => Content.Split(',').Contains(content);
}

/// <summary>GET /nodes/{node}/storage/{storage}/content items.</summary>
public sealed record ProxmoxStorageVolume
{
    [JsonPropertyName("volid")] public required string VolId { get; init; }

    /// <summary>`vztmpl`, `backup`, `rootdir`, `images`, `iso`.</summary>
    [JsonPropertyName("content")] public required string Content { get; init; }

    [JsonPropertyName("format")] public required string Format { get; init; }

    [JsonPropertyName("size")] public long Size { get; init; }

    [JsonPropertyName("used")] public long? Used { get; init; }

    [JsonPropertyName("ctime")] public long? CTime { get; init; }

    [JsonPropertyName("vmid")] public int? Vmid { get; init; }

    [JsonPropertyName("notes")] public string? Notes { get; init; }
}

/// <summary>One row of GET /nodes/{node}/tasks. Here <c>status</c> is the exit status of a finished task ("OK" or the error).</summary>
public sealed record ProxmoxTaskListEntry
{
    [JsonPropertyName("upid")] public required string Upid { get; init; }

    [JsonPropertyName("type")] public string? Type { get; init; }

    [JsonPropertyName("id")] public string? Id { get; init; }

    [JsonPropertyName("starttime")] public long StartTime { get; init; }

    [JsonPropertyName("endtime")] public long? EndTime { get; init; }

    [JsonPropertyName("status")] public string? Status { get; init; }
}

/// <summary>GET /nodes/{node}/tasks/{upid}/status.</summary>
public sealed record ProxmoxTaskStatus
{
    [JsonPropertyName("upid")] public required string Upid { get; init; }

    [JsonPropertyName("node")] public required string Node { get; init; }

    [JsonPropertyName("type")] public required string Type { get; init; }

    [JsonPropertyName("id")] public string? Id { get; init; }

    /// <summary>The owning user without the token part, which is in <see cref="TokenId"/>.</summary>
    [JsonPropertyName("user")] public required string User { get; init; }

    [JsonPropertyName("tokenid")] public string? TokenId { get; init; }

    /// <summary>`running` or `stopped`.</summary>
    [JsonPropertyName("status")] public required string Status { get; init; }

    /// <summary>Only when stopped: `OK`, `WARNINGS: n`, or the error text.</summary>
    [JsonPropertyName("exitstatus")] public string? ExitStatus { get; init; }

    [JsonPropertyName("starttime")] public long StartTime { get; init; }

    public bool IsRunning => Status == "running";

    public bool IsSuccess => !IsRunning && ExitStatus is { } e && (e == "OK" || e.StartsWith("WARNINGS: ", StringComparison.Ordinal));
}

public sealed record ProxmoxTaskLogLine(
    [property: JsonPropertyName("n")] int N,
    [property: JsonPropertyName("t")] string T);

public sealed record ProxmoxTaskLog(IReadOnlyList<ProxmoxTaskLogLine> Lines, int Total);

/// <summary>PVE tag lists: `;`-separated on output, commas and spaces tolerated on input.</summary>
public static class ProxmoxTags
{
    public static IReadOnlyList<string> Split(string? tags) =>
        string.IsNullOrEmpty(tags) ? [] : tags.Split([';', ',', ' '], StringSplitOptions.RemoveEmptyEntries);

    public static string Join(IEnumerable<string> tags) => string.Join(';', tags);
}

/// <summary>Disk sizes as PVE writes them: `8G`, `512M`, `+2G`.</summary>
public static class ProxmoxDiskSize
{
    public static long Parse(string size)
    {
        var unit = char.ToUpperInvariant(size[^1]);
        var shift = unit switch { 'K' => 10, 'M' => 20, 'G' => 30, 'T' => 40, _ => 0 };
        var number = shift == 0 ? size : size[..^1];
        return (long)(double.Parse(number, CultureInfo.InvariantCulture) * (1L << shift));
    }

    public static string Gibibytes(int gib) => gib.ToString(CultureInfo.InvariantCulture) + "G";
}
