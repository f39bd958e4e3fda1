using System.Globalization;
using System.Text.RegularExpressions;

namespace Sajet.Simulators.Proxmox;

/// <summary>What the error-rate switch answers with, for requests whose API path matches the glob (`*` within a segment, `**` across).</summary>
/// <summary>Answers matching requests with an error; with <paramref name="Count"/>, only that many times (a blip, then healthy).</summary>
public sealed record ErrorFault(string PathPattern, double Rate, int Status, string Message, string? Method = null, int? Count = null);

public sealed record LatencyFault(string PathPattern, TimeSpan Delay, string? Method = null);

public enum AfterWorkFailure
{
    /// <summary>The response never comes; the client times out.</summary>
    Hang,

    /// <summary>The connection is reset before any response byte.</summary>
    Abort,
}

/// <summary>The request's effect happens, then the answer is lost; <paramref name="Count"/> null means every match.</summary>
public sealed record TimeoutAfterWorkFault(string PathPattern, AfterWorkFailure Mode = AfterWorkFailure.Hang, string? Method = null, int? Count = null);

public enum TaskFaultOutcome
{
    /// <summary>The task stops with the given error exit status and has no effect.</summary>
    Fail,

    /// <summary>The task stays `running` until aborted with DELETE .../tasks/{upid}.</summary>
    Stuck,
}

public sealed record TaskFault(TaskFaultOutcome Outcome, string? TaskType = null, int? Vmid = null, string Message = "simulated failure", int? Count = null);

/// <summary>A container made outside the API, the way someone at the Proxmox console would.</summary>
public sealed record ExternalContainerSpec(string Node, string Hostname)
{
    public int? Vmid { get; init; }

    /// <summary>`;`-separated tags.</summary>
    public string Tags { get; init; } = "";

    public bool Running { get; init; } = true;

    public int Cores { get; init; } = 1;

    public int MemoryMiB { get; init; } = 512;

    public int DiskGiB { get; init; } = 4;
}

public sealed record ContainerInfo(int Vmid, string Node, string Status, string? Lock, IReadOnlyDictionary<string, string> Config);

public sealed record TaskInfo(string Upid, string Node, string Type, string Id, bool Running, string? ExitStatus, IReadOnlyList<string> Log);

/// <summary>
/// The simulated cluster's state, shared by the REST API, the `/_sim` control API and in-process tests.
/// One lock guards everything: PVE serialises config changes per guest with file locks, and a single lock
/// is the simplest way to keep VMID uniqueness and storage accounting exact under concurrent requests.
/// </summary>
public sealed partial class ProxmoxCluster
{
    private readonly Lock _sync = new();
    private readonly ProxmoxSimulatorOptions _options;
    private readonly Random _rng;
    private readonly List<SimNode> _nodes = [];
    private readonly SortedDictionary<int, SimContainer> _containers = [];
    private readonly Dictionary<string, SimTask> _tasks = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<ErrorRule> _errorFaults = [];
    private readonly Dictionary<string, int> _requests = new(StringComparer.Ordinal);
    private readonly List<LatencyFault> _latencyFaults = [];
    private readonly List<(TimeoutAfterWorkFault Fault, int[] Left)> _afterWorkFaults = [];
    private readonly List<(TaskFault Fault, int[] Left)> _taskFaults = [];
    private int _faultCounter;

    internal ProxmoxCluster(ProxmoxSimulatorOptions options, string tokenUser)
    {
        _options = options;
        _rng = new Random(options.Seed);
        TokenUser = tokenUser;
        var now = Now;
        var specs = options.Nodes.Count > 0
            ? options.Nodes.ToList()
            : Enumerable.Range(1, options.NodeCount).Select(i => new ProxmoxSimulatorNode($"pve{i}", options.NodeCores, options.NodeMemoryBytes, options.LocalStorageBytes, options.LvmStorageBytes)).ToList();
        for (var i = 0; i < specs.Count; i++)
        {
            var spec = specs[i];
            var node = new SimNode
            {
                Name = spec.Name,
                Index = i + 1,
                Cores = spec.Cores,
                MemoryBytes = spec.MemoryBytes,
                BootTime = now - TimeSpan.FromSeconds(86_400 * (3 + _rng.Next(40)) + _rng.Next(86_400)),
            };
            var local = new SimStorage { Id = "local", Type = "dir", Content = "backup,iso,vztmpl", TotalBytes = spec.LocalStorageBytes };
            foreach (var (file, size) in Templates)
            {
                local.Volumes.Add(new SimVolume { VolId = "local:vztmpl/" + file, Content = "vztmpl", Format = "tzst", SizeBytes = size, CTime = now.AddDays(-20).ToUnixTimeSeconds() });
            }

            node.Storages["local"] = local;
            node.Storages["local-lvm"] = new SimStorage { Id = "local-lvm", Type = "lvmthin", Content = "images,rootdir", TotalBytes = spec.LvmStorageBytes };
            _nodes.Add(node);
        }
    }

    internal static readonly (string File, long Size)[] Templates =
    [
        ("debian-12-standard_12.7-1_amd64.tar.zst", 126_474_529),
        ("ubuntu-24.04-standard_24.04-2_amd64.tar.zst", 141_795_347),
    ];

    internal string TokenUser { get; }

    internal string ClusterName => _options.ClusterName;

    internal DateTimeOffset Now => _options.TimeProvider.GetUtcNow();

    internal TimeProvider Time => _options.TimeProvider;

    internal double TaskDurationScale => _options.TaskDurationScale;

    internal string CertificateFingerprint { get; set; } = "";

    public IReadOnlyList<string> NodeNames
    {
        get
        {
            lock (_sync)
            {
                return _nodes.Select(n => n.Name).ToList();
            }
        }
    }

    public IReadOnlyList<ContainerInfo> Containers
    {
        get
        {
            lock (_sync)
            {
                return _containers.Values.Select(Info).ToList();
            }
        }
    }

    public ContainerInfo? GetContainer(int vmid)
    {
        lock (_sync)
        {
            return _containers.TryGetValue(vmid, out var ct) ? Info(ct) : null;
        }
    }

    public TaskInfo? GetTask(string upid)
    {
        lock (_sync)
        {
            return _tasks.TryGetValue(upid, out var t) ? new TaskInfo(t.Upid, t.Node, t.Type, t.Id, t.Running, t.ExitStatus, t.Log.ToList()) : null;
        }
    }

    private static ContainerInfo Info(SimContainer ct) => new(ct.Vmid, ct.Node, ct.Status, ct.Lock, new Dictionary<string, string>(ct.Config));

    public void AddErrorFault(ErrorFault fault)
    {
        lock (_sync)
        {
            // Each rule draws from its own seeded stream so adding a rule does not shift another's sequence.
            _errorFaults.Add(new ErrorRule(fault, new Random(_options.Seed + (++_faultCounter * 7919))) { Remaining = fault.Count });
        }
    }

    public void AddLatency(LatencyFault fault)
    {
        lock (_sync)
        {
            _latencyFaults.Add(fault);
        }
    }

    public void AddTimeoutAfterWork(TimeoutAfterWorkFault fault)
    {
        lock (_sync)
        {
            _afterWorkFaults.Add((fault, [fault.Count ?? int.MaxValue]));
        }
    }

    public void AddTaskFault(TaskFault fault)
    {
        lock (_sync)
        {
            _taskFaults.Add((fault, [fault.Count ?? int.MaxValue]));
        }
    }

    /// <summary>Takes a node off the network: its proxied endpoints answer 595 and it shows offline.</summary>
    public void SetNodeOnline(string node, bool online)
    {
        lock (_sync)
        {
            NodeOrThrow(node).Online = online;
        }
    }

    /// <summary>Pins a node's CPU fraction (0..1) and/or used memory; null keeps the computed figure.</summary>
    public void SetNodeLoad(string node, double? cpu, long? memoryUsedBytes)
    {
        lock (_sync)
        {
            var n = NodeOrThrow(node);
            n.CpuOverride = cpu;
            n.MemoryUsedOverride = memoryUsedBytes;
        }
    }

    public void SetContainerLoad(int vmid, double? cpu, long? memoryBytes, long? diskBytes)
    {
        lock (_sync)
        {
            var ct = ContainerOrThrow(vmid);
            ct.CpuOverride = cpu;
            ct.MemoryOverride = memoryBytes;
            ct.DiskOverride = diskBytes;
        }
    }

    public void SetStorageSize(string node, string storage, long totalBytes)
    {
        lock (_sync)
        {
            NodeOrThrow(node).Storages.TryGetValue(storage, out var s);
            (s ?? throw new ArgumentException($"storage '{storage}' does not exist on node '{node}'", nameof(storage))).TotalBytes = totalBytes;
        }
    }

    /// <summary>Relocates a container the way the HA manager does after a fence or rebalance: no API task, disks follow.</summary>
    public void MoveContainer(int vmid, string targetNode)
    {
        lock (_sync)
        {
            var ct = ContainerOrThrow(vmid);
            var target = NodeOrThrow(targetNode);
            MoveVolumes(ct, NodeOrThrow(ct.Node), target);
            ct.Node = target.Name;
            if (ct.Status == "running")
            {
                ct.StartedAt = Now;
            }
        }
    }

    /// <summary>Creates a container without a task, as if made at the console behind Sajet's back.</summary>
    public int CreateExternalContainer(ExternalContainerSpec spec)
    {
        lock (_sync)
        {
            var node = NodeOrThrow(spec.Node);
            var vmid = spec.Vmid ?? NextFreeVmid();
            if (_containers.ContainsKey(vmid))
            {
                throw new ArgumentException($"CT {vmid} already exists", nameof(spec));
            }

            var ct = new SimContainer { Vmid = vmid, Node = node.Name, CreatedAt = Now };
            ct.Config["arch"] = "amd64";
            ct.Config["cores"] = spec.Cores.ToString(CultureInfo.InvariantCulture);
            ct.Config["hostname"] = spec.Hostname;
            ct.Config["memory"] = spec.MemoryMiB.ToString(CultureInfo.InvariantCulture);
            ct.Config["swap"] = "512";
            ct.Config["net0"] = $"name=eth0,bridge=vmbr0,hwaddr={MacFor(vmid)},ip=dhcp,type=veth";
            ct.Config["ostype"] = "debian";
            ct.Config["unprivileged"] = "1";
            if (spec.Tags.Length > 0)
            {
                ct.Config["tags"] = NormaliseTags(spec.Tags);
            }

            ct.Config["rootfs"] = AllocateVolume(node.Storages["local-lvm"], vmid, (long)spec.DiskGiB << 30, []);
            if (spec.Running)
            {
                ct.Status = "running";
                ct.StartedAt = Now;
            }

            _containers[vmid] = ct;
            return vmid;
        }
    }

    /// <summary>Clears every fault switch and load override and brings all nodes back online.</summary>
    public void ResetFaults()
    {
        lock (_sync)
        {
            _errorFaults.Clear();
            _requests.Clear();
            _latencyFaults.Clear();
            _afterWorkFaults.Clear();
            _taskFaults.Clear();
            foreach (var n in _nodes)
            {
                n.Online = true;
                n.CpuOverride = null;
                n.MemoryUsedOverride = null;
            }

            foreach (var ct in _containers.Values)
            {
                ct.CpuOverride = null;
                ct.MemoryOverride = null;
                ct.DiskOverride = null;
            }
        }
    }

    /// <summary>API requests received for a method and path (after authentication), so tests can see a client's retries.</summary>
    public int RequestCount(string method, string path)
    {
        lock (_sync)
        {
            return _requests.GetValueOrDefault($"{method} {path}");
        }
    }

    internal void CountRequest(string method, string path)
    {
        lock (_sync)
        {
            _requests[$"{method} {path}"] = _requests.GetValueOrDefault($"{method} {path}") + 1;
        }
    }

    private sealed class ErrorRule(ErrorFault fault, Random draw)
    {
        public ErrorFault Fault { get; } = fault;

        public Random Draw { get; } = draw;

        /// <summary>Null: no limit.</summary>
        public int? Remaining { get; set; }
    }

    internal ErrorFault? DrawErrorFault(string method, string path)
    {
        lock (_sync)
        {
            foreach (var rule in _errorFaults)
            {
                if (rule.Remaining != 0 && Matches(rule.Fault.PathPattern, rule.Fault.Method, method, path) && rule.Draw.NextDouble() < rule.Fault.Rate)
                {
                    rule.Remaining--;
                    return rule.Fault;
                }
            }

            return null;
        }
    }

    internal TimeSpan LatencyFor(string method, string path)
    {
        lock (_sync)
        {
            return _latencyFaults.Where(f => Matches(f.PathPattern, f.Method, method, path)).Aggregate(TimeSpan.Zero, (sum, f) => sum + f.Delay);
        }
    }

    internal AfterWorkFailure? TakeAfterWorkFault(string method, string path)
    {
        lock (_sync)
        {
            foreach (var (fault, left) in _afterWorkFaults)
            {
                if (left[0] > 0 && Matches(fault.PathPattern, fault.Method, method, path))
                {
                    left[0]--;
                    return fault.Mode;
                }
            }

            return null;
        }
    }

    private TaskFault? TakeTaskFault(string type, string id)
    {
        foreach (var (fault, left) in _taskFaults)
        {
            if (left[0] > 0 && (fault.TaskType is null || fault.TaskType == type) && (fault.Vmid is null || fault.Vmid.Value.ToString(CultureInfo.InvariantCulture) == id))
            {
                left[0]--;
                return fault;
            }
        }

        return null;
    }

    private static bool Matches(string pattern, string? faultMethod, string method, string path)
    {
        if (faultMethod is not null && !faultMethod.Equals(method, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var regex = "^" + Regex.Escape(pattern).Replace(@"\*\*", ".*", StringComparison.Ordinal).Replace(@"\*", "[^/]*", StringComparison.Ordinal) + "$";
        return Regex.IsMatch(path, regex, RegexOptions.CultureInvariant);
    }

    private SimNode NodeOrThrow(string name) =>
        _nodes.FirstOrDefault(n => n.Name == name) ?? throw new ArgumentException($"no such cluster node '{name}'", nameof(name));

    private SimContainer ContainerOrThrow(int vmid) =>
        _containers.TryGetValue(vmid, out var ct) ? ct : throw new ArgumentException($"CT {vmid} does not exist", nameof(vmid));

    private int NextFreeVmid()
    {
        var id = 100;
        while (_containers.ContainsKey(id))
        {
            id++;
        }

        return id;
    }

    private string MacFor(int vmid)
    {
        var x = (int)(Noise(vmid, 77, 0) * 0xFFFFFF);
        return string.Create(CultureInfo.InvariantCulture, $"BC:24:11:{(x >> 16) & 0xFF:X2}:{(x >> 8) & 0xFF:X2}:{x & 0xFF:X2}");
    }

    internal static string NormaliseTags(string tags) => string.Join(';', PveSchema.SplitTags(tags).Distinct(StringComparer.OrdinalIgnoreCase));

    /// <summary>Allocates `vm-N-disk-K` on the storage and returns the config value PVE stores back.</summary>
    private string AllocateVolume(SimStorage storage, int vmid, long bytes, List<SimVolume> allocated)
    {
        var disk = 0;
        while (storage.Volumes.Any(v => v.VolId.EndsWith($"vm-{vmid}-disk-{disk}", StringComparison.Ordinal) || v.VolId.EndsWith($"vm-{vmid}-disk-{disk}.raw", StringComparison.Ordinal)))
        {
            disk++;
        }

        if (storage.AvailBytes < bytes)
        {
            throw new PveException(500, InsufficientSpace(storage, vmid, disk, bytes));
        }

        var volid = storage.Type == "dir" ? $"{storage.Id}:{vmid}/vm-{vmid}-disk-{disk}.raw" : $"{storage.Id}:vm-{vmid}-disk-{disk}";
        var volume = new SimVolume { VolId = volid, Content = "rootdir", Format = "raw", SizeBytes = bytes, Vmid = vmid, CTime = Now.ToUnixTimeSeconds() };
        storage.Volumes.Add(volume);
        allocated.Add(volume);
        return $"{volid},size={DiskSize.Format(bytes)}";
    }

    // LVM's own wording (4 MiB extents), which is what PVE passes through from lvcreate; dir storages fail on the filesystem.
    private static string InsufficientSpace(SimStorage storage, int vmid, int disk, long bytes) => storage.Type == "lvmthin"
        ? $"lvcreate 'pve/vm-{vmid}-disk-{disk}' error:   Insufficient free space: {bytes >> 22} extents needed, but only {storage.AvailBytes >> 22} available"
        : $"unable to create image: qemu-img: /var/lib/vz/images/{vmid}/vm-{vmid}-disk-{disk}.raw: Could not resize file: No space left on device";

    private static void MoveVolumes(SimContainer ct, SimNode from, SimNode to)
    {
        foreach (var key in ct.DiskKeys.ToList())
        {
            var volid = ct.Config[key].Split(',')[0];
            foreach (var storage in from.Storages.Values)
            {
                var vol = storage.Volumes.FirstOrDefault(v => v.VolId == volid);
                if (vol is not null)
                {
                    storage.Volumes.Remove(vol);
                    to.Storages[storage.Id].Volumes.Add(vol);
                }
            }
        }
    }

    private static SimVolume? FindVolume(SimNode node, string volid) =>
        node.Storages.Values.SelectMany(s => s.Volumes).FirstOrDefault(v => v.VolId == volid);

    internal static string ConfigDigest(SimContainer ct)
    {
        var text = string.Concat(ct.Config.Select(kv => $"{kv.Key}: {kv.Value}\n")) + (ct.Lock is null ? "" : $"lock: {ct.Lock}\n")
            + (ct.Pending.Count == 0 ? "" : "[pve:pending]\n" + string.Concat(ct.Pending.Select(kv => $"{kv.Key}: {kv.Value ?? "<delete>"}\n")));
        // PVE's config digest is the SHA-1 of the config file; clients compare 40-hex strings. Not a security use.
#pragma warning disable CA5350
        return Convert.ToHexStringLower(System.Security.Cryptography.SHA1.HashData(System.Text.Encoding.UTF8.GetBytes(text)));
#pragma warning restore CA5350
    }

    /// <summary>Deterministic noise in [0,1) from the seed and a few integers (splitmix64).</summary>
    internal double Noise(long a, long b, long c)
    {
        unchecked
        {
            var x = ((ulong)_options.Seed * 0x9E3779B97F4A7C15UL) ^ ((ulong)a * 0xBF58476D1CE4E5B9UL) ^ ((ulong)b * 0x94D049BB133111EBUL) ^ ((ulong)c * 0xD6E8FEB86659FD93UL);
            x ^= x >> 30;
            x *= 0xBF58476D1CE4E5B9UL;
            x ^= x >> 27;
            x *= 0x94D049BB133111EBUL;
            x ^= x >> 31;
            return (x >> 11) * (1.0 / (1UL << 53));
        }
    }
}
