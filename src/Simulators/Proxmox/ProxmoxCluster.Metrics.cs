using System.Globalization;
using System.Text.Json.Nodes;

namespace Sajet.Simulators.Proxmox;

// Figures that move with load: baselines come from the seed, a 10-second jitter bucket keeps
// consecutive polls close together, and control-API overrides win over both.
public sealed partial class ProxmoxCluster
{
    private const long GiB = 1L << 30;

    private long JitterBucket => Now.ToUnixTimeSeconds() / 10;

    private static long RootfsBytes(SimContainer ct)
    {
        if (ct.Config.TryGetValue("rootfs", out var rootfs))
        {
            var size = rootfs.Split(',').FirstOrDefault(kv => kv.StartsWith("size=", StringComparison.Ordinal));
            if (size is not null)
            {
                return DiskSize.Parse(size[5..]);
            }
        }

        return 4 * GiB;
    }

    private (double Cpu, long Mem, long Disk) ContainerLoad(SimContainer ct)
    {
        if (ct.Status != "running")
        {
            return (0, 0, 0);
        }

        var bucket = JitterBucket;
        var cpu = ct.CpuOverride ?? Math.Clamp(0.02 + (0.18 * Noise(ct.Vmid, 1, 0)) + ((Noise(ct.Vmid, 2, bucket) - 0.5) * 0.04), 0, 1);
        var maxmem = ct.MemoryMiB << 20;
        var mem = ct.MemoryOverride ?? (long)(maxmem * (0.15 + (0.3 * Noise(ct.Vmid, 3, 0)) + (0.02 * Noise(ct.Vmid, 4, bucket))));
        var disk = ct.DiskOverride ?? (long)(RootfsBytes(ct) * (0.1 + (0.25 * Noise(ct.Vmid, 5, 0))));
        return (cpu, mem, disk);
    }

    private long Uptime(DateTimeOffset? since) => since is { } s ? (long)(Now - s).TotalSeconds : 0;

    private double NodeCpu(SimNode node)
    {
        if (node.CpuOverride is { } pinned)
        {
            return pinned;
        }

        var busyCores = 0.3 + _containers.Values.Where(c => c.Node == node.Name).Sum(c => ContainerLoad(c).Cpu * c.Cores(node.Cores));
        return Math.Clamp((busyCores / node.Cores) + ((Noise(node.Index, 10, JitterBucket) - 0.5) * 0.01), 0, 1);
    }

    private long NodeMemUsed(SimNode node) =>
        node.MemoryUsedOverride ?? ((2 * GiB) + (long)(Noise(node.Index, 11, 0) * GiB) + _containers.Values.Where(c => c.Node == node.Name).Sum(c => ContainerLoad(c).Mem));

    private JsonObject ContainerStatusJson(SimContainer ct, SimNode node, bool current)
    {
        var (cpu, mem, disk) = ContainerLoad(ct);
        var uptime = ct.Status == "running" ? Uptime(ct.StartedAt) : 0;
        var rate = 2_000 + (int)(50_000 * Noise(ct.Vmid, 6, 0));
        var o = new JsonObject
        {
            ["vmid"] = ct.Vmid,
            ["name"] = ct.Config.TryGetValue("hostname", out var h) ? h : $"CT{ct.Vmid}",
            ["type"] = "lxc",
            ["status"] = ct.Status,
            ["uptime"] = uptime,
            ["cpus"] = ct.Cores(node.Cores),
            ["cpu"] = Math.Round(cpu, 4),
            ["mem"] = mem,
            ["maxmem"] = ct.MemoryMiB << 20,
            ["swap"] = 0,
            ["maxswap"] = ct.SwapMiB << 20,
            ["disk"] = disk,
            ["maxdisk"] = RootfsBytes(ct),
            ["netin"] = uptime * rate,
            ["netout"] = uptime * rate / 4,
            ["diskread"] = uptime * rate / 8,
            ["diskwrite"] = uptime * rate / 3,
            ["pressurecpusome"] = ct.Status == "running" ? Math.Round(cpu * 2, 2) : 0,
            ["pressurecpufull"] = 0,
            ["pressurememorysome"] = 0,
            ["pressurememoryfull"] = 0,
            ["pressureiosome"] = ct.Status == "running" ? Math.Round(Noise(ct.Vmid, 7, JitterBucket) * 0.3, 2) : 0,
            ["pressureiofull"] = 0,
        };
        if (ct.Config.TryGetValue("tags", out var tags))
        {
            o["tags"] = tags;
        }

        if (ct.Lock is not null)
        {
            o["lock"] = ct.Lock;
        }

        if (ct.Config.TryGetValue("template", out var t) && t == "1")
        {
            o["template"] = 1;
        }

        if (current)
        {
            o.Remove("type");
            o["ha"] = new JsonObject { ["managed"] = ct.HaManaged ? 1 : 0 };
        }

        return o;
    }

    private static (int Step, int Count) RrdLayout(string timeframe) => timeframe switch
    {
        "hour" => (60, 60),
        "day" => (60, 1440),
        "week" => (1800, 336),
        "month" => (1800, 1440),
        "year" => (21600, 1440),
        _ => (604800, 570),
    };

    private JsonArray NodeRrd(SimNode node, string timeframe, string cf)
    {
        var (step, count) = RrdLayout(timeframe);
        var last = Now.ToUnixTimeSeconds() / step * step;
        var cpuNow = NodeCpu(node);
        var memNow = NodeMemUsed(node);
        var root = node.Storages["local"];
        var peak = cf == "MAX" ? 1.2 : 1.0;
        var items = new JsonArray();
        for (var i = count - 1; i >= 0; i--)
        {
            var time = last - ((long)i * step);
            var f = (0.7 + (0.6 * Noise(node.Index, 20, time / step))) * peak;
            items.Add(new JsonObject
            {
                ["time"] = time,
                ["cpu"] = Math.Round(Math.Min(1, cpuNow * f), 5),
                ["maxcpu"] = node.Cores,
                ["loadavg"] = Math.Round(cpuNow * f * node.Cores, 2),
                ["iowait"] = Math.Round(0.002 * f, 5),
                ["memtotal"] = node.MemoryBytes,
                ["memused"] = Math.Min(node.MemoryBytes, (long)(memNow * (0.9 + (0.1 * f)))),
                ["swaptotal"] = 8 * GiB,
                ["swapused"] = 0,
                ["roottotal"] = root.TotalBytes,
                ["rootused"] = root.UsedBytes,
                ["netin"] = Math.Round(150_000 * f, 1),
                ["netout"] = Math.Round(90_000 * f, 1),
            });
        }

        return items;
    }

    private JsonArray ContainerRrd(SimContainer ct, string timeframe, string cf)
    {
        var (step, count) = RrdLayout(timeframe);
        var last = Now.ToUnixTimeSeconds() / step * step;
        var created = ct.CreatedAt.ToUnixTimeSeconds();
        var node = _nodes.First(n => n.Name == ct.Node);
        var (cpu, mem, disk) = ContainerLoad(ct);
        var peak = cf == "MAX" ? 1.2 : 1.0;
        var rate = 2_000 + (int)(50_000 * Noise(ct.Vmid, 6, 0));
        var items = new JsonArray();
        for (var i = count - 1; i >= 0; i--)
        {
            var time = last - ((long)i * step);
            if (time + step <= created)
            {
                // RRD has no samples for steps that ended before the guest existed; PVE omits unknown values and keeps the timestamp.
                items.Add(new JsonObject { ["time"] = time });
                continue;
            }

            var f = (0.7 + (0.6 * Noise(ct.Vmid, 21, time / step))) * peak;
            items.Add(new JsonObject
            {
                ["time"] = time,
                ["cpu"] = Math.Round(Math.Min(1, cpu * f), 5),
                ["maxcpu"] = ct.Cores(node.Cores),
                ["mem"] = (long)(mem * Math.Min(f, 1.0)),
                ["maxmem"] = ct.MemoryMiB << 20,
                ["disk"] = disk,
                ["maxdisk"] = RootfsBytes(ct),
                ["netin"] = ct.Status == "running" ? Math.Round(rate * f, 1) : 0,
                ["netout"] = ct.Status == "running" ? Math.Round(rate * f / 4, 1) : 0,
                ["diskread"] = ct.Status == "running" ? Math.Round(rate * f / 8, 1) : 0,
                ["diskwrite"] = ct.Status == "running" ? Math.Round(rate * f / 3, 1) : 0,
            });
        }

        return items;
    }

    private static JsonNode? ConfigValue(string key, string value) => key switch
    {
        "cores" or "memory" or "swap" or "cpuunits" or "tty" when long.TryParse(value, CultureInfo.InvariantCulture, out var l) => l,
        "cpulimit" when double.TryParse(value, CultureInfo.InvariantCulture, out var d) => d,
        "console" or "debug" or "onboot" or "protection" or "template" or "unprivileged" when int.TryParse(value, CultureInfo.InvariantCulture, out var b) => b,
        _ => value,
    };
}
