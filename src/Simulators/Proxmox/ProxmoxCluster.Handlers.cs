using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Sajet.Simulators.Proxmox;

internal readonly record struct PveResult(JsonNode? Data, int? Total = null);

// One method per PVE endpoint. Checks that PVE makes before forking a worker answer synchronously
// (HTTP 500 with PVE's text); everything PVE does inside the worker happens inside a simulated task.
public sealed partial class ProxmoxCluster
{
    private static readonly HashSet<string> HotKeys = ["memory", "swap", "cpulimit", "cpuunits", "description", "tags", "onboot", "protection", "startup", "hookscript"];

    // Create parameters that steer the create itself and are not written to the container's config.
    private static readonly HashSet<string> CreateOnlyKeys = ["node", "vmid", "ostemplate", "password", "ssh-public-keys", "start", "storage", "pool", "restore", "force", "unique", "ignore-unpack-errors", "bwlimit", "ha-managed"];

    private static readonly string[] ContainerSubdirs =
    [
        "config", "pending", "status", "vncproxy", "termproxy", "vncwebsocket", "spiceproxy", "remote_migrate", "migrate", "clone",
        "rrd", "rrddata", "firewall", "snapshot", "resize", "move_volume", "feature", "interfaces", "mtunnel", "mtunnelwebsocket",
    ];

    private static readonly string[] Privileges =
    [
        "Datastore.Allocate", "Datastore.AllocateSpace", "Datastore.AllocateTemplate", "Datastore.Audit", "Pool.Allocate", "Pool.Audit",
        "SDN.Use", "Sys.Audit", "Sys.Console", "Sys.Modify", "Sys.PowerMgmt", "VM.Allocate", "VM.Audit", "VM.Backup", "VM.Clone",
        "VM.Config.CPU", "VM.Config.Disk", "VM.Config.Memory", "VM.Config.Network", "VM.Config.Options", "VM.Console", "VM.Migrate", "VM.PowerMgmt",
    ];

    private static readonly (string Template, string Os, string Headline)[] Appliances =
    [
        ("debian-12-standard_12.7-1_amd64.tar.zst", "debian-12", "Debian 12 Bookworm (standard)"),
        ("debian-13-standard_13.1-2_amd64.tar.zst", "debian-13", "Debian 13 Trixie (standard)"),
        ("ubuntu-24.04-standard_24.04-2_amd64.tar.zst", "ubuntu-24.04", "Ubuntu 24.04 Noble (standard)"),
    ];

    internal bool IsNodeKnown(string node, out bool online)
    {
        lock (_sync)
        {
            var n = _nodes.FirstOrDefault(x => x.Name == node);
            online = n?.Online ?? false;
            return n is not null;
        }
    }

    internal PveResult Handle(PveEndpoint endpoint, Dictionary<string, string> p) => (endpoint.Method + " " + endpoint.Path) switch
    {
        "GET /version" => new(new JsonObject { ["version"] = "9.1.4", ["release"] = "9.1", ["repoid"] = RepoId(), ["console"] = "html5" }),
        "GET /nodes" => Nodes(),
        "GET /nodes/{node}/status" => NodeStatus(p),
        "GET /nodes/{node}/lxc" => ListContainers(p),
        "POST /nodes/{node}/lxc" => CreateContainer(p),
        "GET /nodes/{node}/lxc/{vmid}" => ContainerIndex(p),
        "GET /nodes/{node}/lxc/{vmid}/status/current" => ContainerCurrent(p),
        "POST /nodes/{node}/lxc/{vmid}/status/start" => Start(p),
        "POST /nodes/{node}/lxc/{vmid}/status/stop" => Stop(p, "vzstop", 0.3),
        "POST /nodes/{node}/lxc/{vmid}/status/shutdown" => Stop(p, "vzshutdown", 1.5),
        "POST /nodes/{node}/lxc/{vmid}/status/reboot" => Reboot(p),
        "POST /nodes/{node}/lxc/{vmid}/status/suspend" => RunningOnlyTask(p, "vzsuspend"),
        "POST /nodes/{node}/lxc/{vmid}/status/resume" => RunningOnlyTask(p, "vzresume"),
        "GET /nodes/{node}/lxc/{vmid}/config" => GetConfig(p),
        "PUT /nodes/{node}/lxc/{vmid}/config" => SetConfig(p),
        "GET /nodes/{node}/lxc/{vmid}/pending" => Pending(p),
        "PUT /nodes/{node}/lxc/{vmid}/resize" => Resize(p),
        "GET /nodes/{node}/lxc/{vmid}/migrate" => MigratePreconditions(p),
        "POST /nodes/{node}/lxc/{vmid}/migrate" => Migrate(p),
        "DELETE /nodes/{node}/lxc/{vmid}" => Destroy(p),
        "POST /nodes/{node}/lxc/{vmid}/clone" => Clone(p),
        "GET /nodes/{node}/lxc/{vmid}/rrddata" => ContainerRrdData(p),
        "GET /nodes/{node}/rrddata" => NodeRrdData(p),
        "GET /nodes/{node}/tasks" => ListTasks(p),
        "GET /nodes/{node}/tasks/{upid}/status" => TaskStatus(p),
        "GET /nodes/{node}/tasks/{upid}/log" => TaskLog(p),
        "DELETE /nodes/{node}/tasks/{upid}" => StopTask(p),
        "GET /nodes/{node}/lxc/{vmid}/interfaces" => Interfaces(p),
        "GET /cluster/resources" => Resources(p),
        "GET /cluster/nextid" => NextId(p),
        "GET /cluster/status" => ClusterStatus(),
        "POST /nodes/{node}/vzdump" => Vzdump(p),
        "GET /nodes/{node}/storage" => Storages(p),
        "GET /nodes/{node}/storage/{storage}/content" => StorageContent(p),
        "GET /nodes/{node}/aplinfo" => AplInfo(),
        "POST /nodes/{node}/aplinfo" => DownloadTemplate(p),
        "GET /access/permissions" => Permissions(p),
        "POST /access/ticket" => throw new PveException(401, "authentication failure"),
        _ => throw new PveException(501, $"Method '{endpoint.Method} {endpoint.Path}' not implemented"),
    };

    private string RepoId() => ((int)(Noise(1, 2, 3) * int.MaxValue)).ToString("x8", CultureInfo.InvariantCulture);

    private static int Int(Dictionary<string, string> p, string name) => int.Parse(p[name], CultureInfo.InvariantCulture);

    private static bool Bool(Dictionary<string, string> p, string name) => p.TryGetValue(name, out var v) && v == "1";

    private static string? Str(Dictionary<string, string> p, string name) => p.TryGetValue(name, out var v) ? v : null;

    private SimNode NodeOf(Dictionary<string, string> p) => NodeOrThrow(p["node"]);

    private SimContainer ContainerOf(Dictionary<string, string> p, SimNode node)
    {
        var vmid = Int(p, "vmid");
        if (!_containers.TryGetValue(vmid, out var ct) || ct.Node != node.Name)
        {
            throw new PveException(500, $"Configuration file 'nodes/{node.Name}/lxc/{vmid}.conf' does not exist");
        }

        return ct;
    }

    private static void CheckLock(SimContainer ct, Dictionary<string, string>? p = null)
    {
        if (ct.Lock is not null && !(p is not null && Bool(p, "skiplock")))
        {
            throw new PveException(500, $"CT is locked ({ct.Lock})");
        }
    }

    private PveResult Nodes()
    {
        lock (_sync)
        {
            var list = new JsonArray();
            foreach (var n in _nodes)
            {
                var o = new JsonObject { ["node"] = n.Name, ["id"] = $"node/{n.Name}", ["type"] = "node", ["status"] = n.Online ? "online" : "offline", ["level"] = "" };
                if (n.Online)
                {
                    AddNodeUsage(o, n);
                    o["ssl_fingerprint"] = CertificateFingerprint;
                }

                list.Add(o);
            }

            return new(list);
        }
    }

    private PveResult NodeStatus(Dictionary<string, string> p)
    {
        lock (_sync)
        {
            var n = NodeOf(p);
            var cpu = NodeCpu(n);
            var used = Math.Min(n.MemoryBytes, NodeMemUsed(n));
            var root = n.Storages["local"];
            string Load(double f) => (cpu * n.Cores * f).ToString("0.00", CultureInfo.InvariantCulture);
            return new(new JsonObject
            {
                ["cpu"] = Math.Round(cpu, 4),
                ["wait"] = 0.0012,
                ["uptime"] = Uptime(n.BootTime),
                ["loadavg"] = new JsonArray(Load(1.0), Load(0.95), Load(0.9)),
                ["cpuinfo"] = new JsonObject { ["cpus"] = n.Cores, ["cores"] = n.Cores / 2, ["sockets"] = 1, ["model"] = "AMD EPYC 7302P 16-Core Processor", ["mhz"] = "3000.000", ["hvm"] = "1", ["flags"] = "fpu vme de pse tsc msr pae" },
                ["memory"] = new JsonObject { ["total"] = n.MemoryBytes, ["used"] = used, ["free"] = n.MemoryBytes - used, ["available"] = n.MemoryBytes - used },
                ["swap"] = new JsonObject { ["total"] = 8 * GiB, ["used"] = 0, ["free"] = 8 * GiB },
                ["rootfs"] = new JsonObject { ["total"] = root.TotalBytes, ["used"] = root.UsedBytes, ["free"] = root.AvailBytes, ["avail"] = root.AvailBytes },
                ["ksm"] = new JsonObject { ["shared"] = 0 },
                ["pveversion"] = "pve-manager/9.1.4/" + RepoId(),
                ["kversion"] = "Linux 6.17.2-1-pve #1 SMP PREEMPT_DYNAMIC PMX 6.17.2-1 (2025-11-04T09:12Z) x86_64",
                ["current-kernel"] = new JsonObject { ["sysname"] = "Linux", ["release"] = "6.17.2-1-pve", ["version"] = "#1 SMP PREEMPT_DYNAMIC PMX 6.17.2-1 (2025-11-04T09:12Z)", ["machine"] = "x86_64" },
                ["boot-info"] = new JsonObject { ["mode"] = "efi", ["secureboot"] = 0 },
            });
        }
    }

    private PveResult ListContainers(Dictionary<string, string> p)
    {
        lock (_sync)
        {
            var n = NodeOf(p);
            return new(new JsonArray(_containers.Values.Where(c => c.Node == n.Name).Select(c => (JsonNode)ContainerStatusJson(c, n, current: false)).ToArray()));
        }
    }

    private PveResult ContainerIndex(Dictionary<string, string> p)
    {
        lock (_sync)
        {
            ContainerOf(p, NodeOf(p));
            return new(new JsonArray(ContainerSubdirs.Select(s => (JsonNode)new JsonObject { ["subdir"] = s }).ToArray()));
        }
    }

    private PveResult ContainerCurrent(Dictionary<string, string> p)
    {
        lock (_sync)
        {
            var n = NodeOf(p);
            return new(ContainerStatusJson(ContainerOf(p, n), n, current: true));
        }
    }

    private PveResult CreateContainer(Dictionary<string, string> p)
    {
        var vmid = Int(p, "vmid");
        var allocated = new List<SimVolume>();
        SimNode node;
        SimContainer ct;
        SortedDictionary<string, string> config;
        string templateFile;
        lock (_sync)
        {
            node = NodeOf(p);
            if (_containers.TryGetValue(vmid, out var existing))
            {
                throw new PveException(500, $"CT {vmid} already exists on node '{existing.Node}'");
            }

            var ostemplate = p["ostemplate"];
            var colon = ostemplate.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                throw new PveException(500, $"unable to parse volume ID '{ostemplate}'");
            }

            var templateStorage = ostemplate[..colon];
            if (!node.Storages.ContainsKey(templateStorage))
            {
                throw new PveException(500, $"storage '{templateStorage}' does not exist");
            }

            if (FindVolume(node, ostemplate) is null)
            {
                throw new PveException(500, $"volume '{ostemplate}' does not exist");
            }

            templateFile = ostemplate[(ostemplate.LastIndexOf('/') + 1)..];
            config = new SortedDictionary<string, string>(StringComparer.Ordinal);
            foreach (var (key, value) in p)
            {
                if (!CreateOnlyKeys.Contains(key))
                {
                    config[key] = value;
                }
            }

            config.TryAdd("arch", "amd64");
            config.TryAdd("ostype", templateFile.StartsWith("ubuntu", StringComparison.Ordinal) ? "ubuntu" : "debian");
            // PVE 9 creates unprivileged containers unless told otherwise, despite the schema's documented default.
            config.TryAdd("unprivileged", "1");
            config.TryAdd("rootfs", $"{Str(p, "storage") ?? "local"}:4");
            try
            {
                NormaliseConfig(node, vmid, config, allocated);
            }
            catch (PveException ex) when (ex.Status == 500)
            {
                ReleaseVolumes(node, allocated);
                throw new PveException(500, $"unable to create CT {vmid} - {ex.Message}");
            }

            ct = new SimContainer { Vmid = vmid, Node = node.Name, Lock = "create", CreatedAt = Now, Pool = Str(p, "pool"), HaManaged = Bool(p, "ha-managed") };
            _containers[vmid] = ct;
        }

        var start = Bool(p, "start");
        var task = StartTask(node, "vzcreate", vmid.ToString(CultureInfo.InvariantCulture), async run =>
        {
            foreach (var v in allocated.Where(v => !v.VolId.Contains('/', StringComparison.Ordinal)))
            {
                run.Log($"  Logical volume \"{v.VolId[(v.VolId.IndexOf(':', StringComparison.Ordinal) + 1)..]}\" created.");
            }

            await run.Step(0.3);
            run.Log($"extracting archive '/var/lib/vz/template/cache/{templateFile}'");
            await run.Step(1.5);
            run.Log("Total bytes read: 524288000 (500MiB, 312MiB/s)");
            run.Log($"Detected container architecture: {config["arch"]}");
            run.Log("Creating SSH host key 'ssh_host_ed25519_key' - this may take some time ...");
            await run.Step(0.5);
            run.Log($"done: SHA256:{Convert.ToBase64String(BitConverter.GetBytes(Noise(vmid, 30, 0)))[..11]} root@{(config.TryGetValue("hostname", out var h) ? h : "CT" + vmid)}");
            lock (_sync)
            {
                ct.Config = config;
                ct.Lock = null;
            }

            if (start)
            {
                await run.Step(1.0);
                lock (_sync)
                {
                    ct.Status = "running";
                    ct.StartedAt = Now;
                }
            }
        }, $"unable to create CT {vmid} - ", () =>
        {
            // PVE destroys what a failed create left behind, including the reserved config.
            _containers.Remove(vmid);
            ReleaseVolumes(node, allocated);
        });
        return new(task.Upid);
    }

    private static void ReleaseVolumes(SimNode node, List<SimVolume> volumes)
    {
        foreach (var s in node.Storages.Values)
        {
            s.Volumes.RemoveAll(volumes.Contains);
        }
    }

    /// <summary>Brings keys into PVE's stored form: new volumes allocated, tags `;`-joined, a MAC on each NIC.</summary>
    private void NormaliseConfig(SimNode node, int vmid, IDictionary<string, string> config, List<SimVolume> allocated)
    {
        foreach (var key in config.Keys.ToList())
        {
            var value = config[key];
            if (key == "tags")
            {
                config[key] = NormaliseTags(value);
            }
            else if (key.StartsWith("net", StringComparison.Ordinal))
            {
                var net = PveSchema.ParsePropertyString(value, null);
                net.TryAdd("hwaddr", MacFor(vmid + (100_000 * int.Parse(key[3..], CultureInfo.InvariantCulture))));
                net.TryAdd("type", "veth");
                config[key] = PrintPropertyString(net, "name", withKey: true);
            }
            else if (key == "rootfs" || Regex.IsMatch(key, @"^mp\d+$"))
            {
                config[key] = AllocateIfNew(node, vmid, value, allocated);
            }
        }
    }

    private string AllocateIfNew(SimNode node, int vmid, string value, List<SimVolume> allocated)
    {
        var parts = PveSchema.ParsePropertyString(value, "volume");
        var volume = parts["volume"];
        var m = Regex.Match(volume, @"^([a-zA-Z][a-zA-Z0-9\-_.]*[a-zA-Z0-9]):(\d+(?:\.\d+)?)$");
        if (m.Success)
        {
            if (!node.Storages.TryGetValue(m.Groups[1].Value, out var storage))
            {
                throw new PveException(500, $"storage '{m.Groups[1].Value}' does not exist");
            }

            if (!storage.Supports("rootdir"))
            {
                throw new PveException(500, $"storage '{storage.Id}' does not support container directories");
            }

            var bytes = (long)(double.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture) * GiB);
            var stored = AllocateVolume(storage, vmid, bytes, allocated);
            parts.Remove("size");
            parts.Remove("volume");
            return stored + string.Concat(parts.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $",{kv.Key}={kv.Value}"));
        }

        if (!volume.StartsWith('/') && FindVolume(node, volume) is null)
        {
            throw new PveException(500, $"volume '{volume}' does not exist");
        }

        return value;
    }

    private static string PrintPropertyString(Dictionary<string, string> parts, string first, bool withKey)
    {
        var head = parts.TryGetValue(first, out var v) ? (withKey ? $"{first}={v}" : v) : null;
        var rest = parts.Where(kv => kv.Key != first).OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}={kv.Value}");
        return string.Join(',', head is null ? rest : rest.Prepend(head));
    }

    private PveResult Start(Dictionary<string, string> p)
    {
        var (node, ct) = Target(p, c =>
        {
            CheckLock(c, p);
            if (c.Status == "running")
            {
                throw new PveException(500, $"CT {c.Vmid} already running");
            }
        });

        return new(StartTask(node, ct.HaManaged ? "hastart" : "vzstart", ct.Vmid.ToString(CultureInfo.InvariantCulture), async run =>
        {
            await run.Step(0.8);
            lock (_sync)
            {
                ApplyPending(ct);
                ct.Status = "running";
                ct.StartedAt = Now;
            }
        }).Upid);
    }

    private PveResult Stop(Dictionary<string, string> p, string type, double seconds)
    {
        var (node, ct) = Target(p, c =>
        {
            CheckLock(c, p);
            RequireRunning(c);
        });

        return new(StartTask(node, ct.HaManaged ? "hastop" : type, ct.Vmid.ToString(CultureInfo.InvariantCulture), async run =>
        {
            await run.Step(seconds);
            lock (_sync)
            {
                ct.Status = "stopped";
                ct.StartedAt = null;
            }
        }).Upid);
    }

    private PveResult Reboot(Dictionary<string, string> p)
    {
        var (node, ct) = Target(p, c =>
        {
            CheckLock(c);
            RequireRunning(c);
        });

        return new(StartTask(node, "vzreboot", ct.Vmid.ToString(CultureInfo.InvariantCulture), async run =>
        {
            await run.Step(2.0);
            lock (_sync)
            {
                ApplyPending(ct);
                ct.StartedAt = Now;
            }
        }).Upid);
    }

    private PveResult RunningOnlyTask(Dictionary<string, string> p, string type)
    {
        var (node, ct) = Target(p, c =>
        {
            CheckLock(c);
            RequireRunning(c);
        });

        return new(StartTask(node, type, ct.Vmid.ToString(CultureInfo.InvariantCulture), run => run.Step(0.5)).Upid);
    }

    /// <summary>
    /// The node and container a request names, looked up under the lock with the request's checks (and claims, such
    /// as a lock) run under it too, so a request is accepted or refused against one consistent view of the cluster.
    /// </summary>
    private (SimNode Node, SimContainer Container) Target(Dictionary<string, string> p, Action<SimContainer> check)
    {
        lock (_sync)
        {
            var node = NodeOf(p);
            var ct = ContainerOf(p, node);
            check(ct);
            return (node, ct);
        }
    }

    /// <summary>An online node's usage, as both GET /nodes and GET /cluster/resources list it.</summary>
    private void AddNodeUsage(JsonObject o, SimNode n)
    {
        o["cpu"] = Math.Round(NodeCpu(n), 4);
        o["maxcpu"] = n.Cores;
        o["mem"] = NodeMemUsed(n);
        o["maxmem"] = n.MemoryBytes;
        o["disk"] = n.Storages["local"].UsedBytes;
        o["maxdisk"] = n.Storages["local"].TotalBytes;
        o["uptime"] = Uptime(n.BootTime);
    }

    private static void RequireRunning(SimContainer ct)
    {
        if (ct.Status != "running")
        {
            throw new PveException(500, $"CT {ct.Vmid} not running");
        }
    }

    private static void ApplyPending(SimContainer ct)
    {
        foreach (var (key, value) in ct.Pending)
        {
            if (value is null)
            {
                ct.Config.Remove(key);
            }
            else
            {
                ct.Config[key] = value;
            }
        }

        ct.Pending.Clear();
    }

    private PveResult GetConfig(Dictionary<string, string> p)
    {
        lock (_sync)
        {
            var ct = ContainerOf(p, NodeOf(p));
            if (Str(p, "snapshot") is { } snap)
            {
                throw new PveException(500, $"snapshot '{snap}' does not exist");
            }

            var view = new SortedDictionary<string, string>(ct.Config, StringComparer.Ordinal);
            if (!Bool(p, "current"))
            {
                // Without current=1 PVE shows the config as it will be after pending changes apply.
                foreach (var (key, value) in ct.Pending)
                {
                    if (value is null)
                    {
                        view.Remove(key);
                    }
                    else
                    {
                        view[key] = value;
                    }
                }
            }

            var o = new JsonObject();
            foreach (var (key, value) in view)
            {
                o[key] = ConfigValue(key, value);
            }

            if (ct.Lock is not null)
            {
                o["lock"] = ct.Lock;
            }

            o["digest"] = ConfigDigest(ct);
            return new(o);
        }
    }

    private PveResult SetConfig(Dictionary<string, string> p)
    {
        lock (_sync)
        {
            var node = NodeOf(p);
            var ct = ContainerOf(p, node);
            CheckLock(ct);
            if (Str(p, "digest") is { } digest && digest != ConfigDigest(ct))
            {
                throw new PveException(500, "detected modified configuration - file changed by other user? Try again.");
            }

            var deletes = (Str(p, "delete") ?? "").Split([',', ';', ' '], StringSplitOptions.RemoveEmptyEntries);
            var sets = p.Where(kv => kv.Key is not ("node" or "vmid" or "delete" or "digest" or "revert")).ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
            foreach (var key in deletes)
            {
                if (sets.ContainsKey(key))
                {
                    throw PveException.Param(key, $"you can't use '-delete' and '-{key}' at the same time");
                }

                if (key == "rootfs")
                {
                    throw new PveException(500, "unable to delete required option 'rootfs'");
                }
            }

            foreach (var key in (Str(p, "revert") ?? "").Split([',', ';', ' '], StringSplitOptions.RemoveEmptyEntries))
            {
                ct.Pending.Remove(key);
            }

            var running = ct.Status == "running";
            var allocated = new List<SimVolume>();
            try
            {
                NormaliseConfig(node, ct.Vmid, sets, allocated);
            }
            catch (PveException)
            {
                ReleaseVolumes(node, allocated);
                throw;
            }

            foreach (var key in deletes)
            {
                if (running && !IsHot(key, ct))
                {
                    ct.Pending[key] = null;
                }
                else if (ct.Config.Remove(key, out var old) && Regex.IsMatch(key, @"^mp\d+$"))
                {
                    // A removed mount point's volume is kept as unusedN, as PVE does, until deleted explicitly.
                    var n = 0;
                    while (ct.Config.ContainsKey($"unused{n}"))
                    {
                        n++;
                    }

                    ct.Config[$"unused{n}"] = old.Split(',')[0];
                }
            }

            foreach (var (key, value) in sets)
            {
                if (running && !IsHot(key, ct))
                {
                    ct.Pending[key] = value;
                }
                else
                {
                    ct.Config[key] = value;
                }
            }

            return new(null);
        }
    }

    private static bool IsHot(string key, SimContainer ct) =>
        HotKeys.Contains(key) || key.StartsWith("net", StringComparison.Ordinal) || (Regex.IsMatch(key, @"^mp\d+$") && !ct.Config.ContainsKey(key));

    private PveResult Pending(Dictionary<string, string> p)
    {
        lock (_sync)
        {
            var ct = ContainerOf(p, NodeOf(p));
            var items = new JsonArray();
            foreach (var key in ct.Config.Keys.Union(ct.Pending.Keys).Order(StringComparer.Ordinal))
            {
                var o = new JsonObject { ["key"] = key };
                if (ct.Config.TryGetValue(key, out var value))
                {
                    o["value"] = ConfigValue(key, value);
                }

                if (ct.Pending.TryGetValue(key, out var pending))
                {
                    if (pending is null)
                    {
                        o["delete"] = 1;
                    }
                    else
                    {
                        o["pending"] = ConfigValue(key, pending);
                    }
                }

                items.Add(o);
            }

            return new(items);
        }
    }

    private PveResult Resize(Dictionary<string, string> p)
    {
        var disk = p["disk"];
        var size = p["size"];
        var (node, ct) = Target(p, c =>
        {
            if (!c.Config.ContainsKey(disk))
            {
                throw new PveException(500, $"disk '{disk}' does not exist");
            }

            CheckLock(c);
            if (Str(p, "digest") is { } digest && digest != ConfigDigest(c))
            {
                throw new PveException(500, "detected modified configuration - file changed by other user? Try again.");
            }
        });

        return new(StartTask(node, "resize", ct.Vmid.ToString(CultureInfo.InvariantCulture), async run =>
        {
            await run.Step(0.5);
            lock (_sync)
            {
                var volid = ct.Config[disk].Split(',')[0];
                var vol = FindVolume(node, volid) ?? throw new PveException(500, $"volume '{volid}' does not exist");
                var storage = node.Storages.Values.First(s => s.Volumes.Contains(vol));
                var relative = size.StartsWith('+');
                var newSize = relative ? vol.SizeBytes + DiskSize.Parse(size[1..]) : DiskSize.Parse(size);
                if (newSize < vol.SizeBytes)
                {
                    throw new PveException(500, "unable to shrink disk size");
                }

                if (newSize - vol.SizeBytes > storage.AvailBytes)
                {
                    throw new PveException(500, InsufficientSpace(storage, ct.Vmid, 0, newSize - vol.SizeBytes));
                }

                var name = volid[(volid.IndexOf(':', StringComparison.Ordinal) + 1)..];
                run.Log(string.Create(CultureInfo.InvariantCulture, $"  Size of logical volume pve/{name} changed from {vol.SizeBytes / (double)GiB:0.00} GiB ({vol.SizeBytes >> 22} extents) to {newSize / (double)GiB:0.00} GiB ({newSize >> 22} extents)."));
                run.Log($"  Logical volume pve/{name} successfully resized.");
                vol.SizeBytes = newSize;
                var parts = PveSchema.ParsePropertyString(ct.Config[disk], "volume");
                parts["size"] = DiskSize.Format(newSize);
                ct.Config[disk] = PrintPropertyString(parts, "volume", withKey: false);
            }

            if (ct.Status == "running")
            {
                run.Log("resize2fs 1.47.2 (1-Jan-2025)");
            }
        }).Upid);
    }

    private PveResult MigratePreconditions(Dictionary<string, string> p)
    {
        lock (_sync)
        {
            var node = NodeOf(p);
            var ct = ContainerOf(p, node);
            return new(new JsonObject
            {
                ["running"] = ct.Status == "running" ? 1 : 0,
                ["allowed-nodes"] = new JsonArray(_nodes.Where(n => n.Name != node.Name && n.Online).Select(n => (JsonNode)n.Name).ToArray()),
                ["not-allowed-nodes"] = new JsonObject(),
            });
        }
    }

    private PveResult Migrate(Dictionary<string, string> p)
    {
        SimNode node;
        SimNode target;
        SimContainer ct;
        bool wasRunning;
        lock (_sync)
        {
            node = NodeOf(p);
            ct = ContainerOf(p, node);
            target = _nodes.FirstOrDefault(n => n.Name == p["target"]) ?? throw new PveException(500, $"no such cluster node '{p["target"]}'");
            if (target == node)
            {
                throw new PveException(500, "target is local node.");
            }

            CheckLock(ct);
            wasRunning = ct.Status == "running";
            if (wasRunning && !Bool(p, "online") && !Bool(p, "restart"))
            {
                throw new PveException(500, "can't migrate running container without --online or --restart");
            }

            ct.Lock = "migrate";
        }

        var restart = Bool(p, "restart");
        var started = Now;
        return new(StartTask(node, ct.HaManaged ? "hamigrate" : "vzmigrate", ct.Vmid.ToString(CultureInfo.InvariantCulture), async run =>
        {
            run.Log($"{Now:yyyy-MM-dd HH:mm:ss} starting migration of CT {ct.Vmid} to node '{target.Name}' ({target.Ip})");
            if (wasRunning && !restart)
            {
                throw new PveException(500, "lxc live migration is currently not implemented");
            }

            if (wasRunning)
            {
                run.Log($"{Now:yyyy-MM-dd HH:mm:ss} shutdown CT {ct.Vmid}");
                await run.Step(1.0);
                lock (_sync)
                {
                    ct.Status = "stopped";
                    ct.StartedAt = null;
                }
            }

            await run.Step(2.0);
            lock (_sync)
            {
                if (!target.Online)
                {
                    throw new PveException(500, $"migration aborted (duration 00:00:03): ssh: connect to host {target.Ip} port 22: No route to host");
                }

                foreach (var key in ct.DiskKeys)
                {
                    var volid = ct.Config[key].Split(',')[0];
                    var vol = FindVolume(node, volid);
                    var storage = vol is null ? null : node.Storages.Values.First(s => s.Volumes.Contains(vol));
                    if (vol is not null && storage is not null && target.Storages[storage.Id].AvailBytes < vol.SizeBytes)
                    {
                        throw new PveException(500, "migration aborted (duration 00:00:03): " + InsufficientSpace(target.Storages[storage.Id], ct.Vmid, 0, vol.SizeBytes));
                    }

                    run.Log($"{Now:yyyy-MM-dd HH:mm:ss} found local volume '{volid}' (in current VM config)");
                }

                MoveVolumes(ct, node, target);
                ct.Node = target.Name;
            }

            if (wasRunning)
            {
                run.Log($"{Now:yyyy-MM-dd HH:mm:ss} start container on target node");
                await run.Step(0.8);
                lock (_sync)
                {
                    ct.Status = "running";
                    ct.StartedAt = Now;
                }
            }

            lock (_sync)
            {
                ct.Lock = null;
            }

            run.Log($"{Now:yyyy-MM-dd HH:mm:ss} migration finished successfully (duration {Now - started:hh\\:mm\\:ss})");
        }, onFailure: () =>
        {
            ct.Lock = null;
            if (wasRunning && ct.Status != "running")
            {
                // The restart mode brings the container back up on the source when the move fails.
                ct.Status = "running";
                ct.StartedAt = Now;
            }
        }).Upid);
    }

    private PveResult Destroy(Dictionary<string, string> p)
    {
        var (node, ct) = Target(p, c =>
        {
            if (c.Config.TryGetValue("protection", out var prot) && prot == "1")
            {
                throw new PveException(500, $"can't remove CT {c.Vmid} - protection mode enabled");
            }

            CheckLock(c);
            if (c.Status == "running" && !Bool(p, "force"))
            {
                throw new PveException(500, $"unable to destroy CT {c.Vmid} - container is running");
            }

            c.Lock = "destroyed";
        });

        var unreferenced = Bool(p, "destroy-unreferenced-disks");
        return new(StartTask(node, "vzdestroy", ct.Vmid.ToString(CultureInfo.InvariantCulture), async run =>
        {
            if (ct.Status == "running")
            {
                await run.Step(0.3);
            }

            await run.Step(0.5);
            lock (_sync)
            {
                var referenced = ct.Config.Where(kv => kv.Key == "rootfs" || Regex.IsMatch(kv.Key, @"^(mp|unused)\d+$")).Select(kv => kv.Value.Split(',')[0]).ToHashSet();
                foreach (var storage in node.Storages.Values)
                {
                    foreach (var vol in storage.Volumes.Where(v => referenced.Contains(v.VolId) || (unreferenced && v.Vmid == ct.Vmid && v.Content is "rootdir" or "images")).ToList())
                    {
                        storage.Volumes.Remove(vol);
                        run.Log($"  Logical volume \"{vol.VolId[(vol.VolId.IndexOf(':', StringComparison.Ordinal) + 1)..]}\" successfully removed.");
                    }
                }

                ct.Status = "stopped";
                _containers.Remove(ct.Vmid);
            }
        }, onFailure: () => ct.Lock = null).Upid);
    }

    private PveResult Clone(Dictionary<string, string> p)
    {
        var newid = Int(p, "newid");
        var allocated = new List<SimVolume>();
        SimNode node;
        SimNode target;
        SimContainer clone;
        SortedDictionary<string, string> config;
        lock (_sync)
        {
            node = NodeOf(p);
            var source = ContainerOf(p, node);
            if (_containers.TryGetValue(newid, out var existing))
            {
                throw new PveException(500, $"CT {newid} already exists on node '{existing.Node}'");
            }

            target = Str(p, "target") is { } t ? _nodes.FirstOrDefault(n => n.Name == t) ?? throw new PveException(500, $"no such cluster node '{t}'") : node;
            CheckLock(source);
            config = new SortedDictionary<string, string>(source.Config.Where(kv => !kv.Key.StartsWith("unused", StringComparison.Ordinal)).ToDictionary(), StringComparer.Ordinal);
            if (Str(p, "hostname") is { } hostname)
            {
                config["hostname"] = hostname;
            }

            if (Str(p, "description") is { } description)
            {
                config["description"] = description;
            }

            try
            {
                foreach (var key in source.DiskKeys)
                {
                    var parts = PveSchema.ParsePropertyString(source.Config[key], "volume");
                    var storageId = Str(p, "storage") ?? parts["volume"][..parts["volume"].IndexOf(':', StringComparison.Ordinal)];
                    var bytes = FindVolume(node, parts["volume"])?.SizeBytes ?? RootfsBytes(source);
                    parts.Remove("size");
                    parts["volume"] = string.Create(CultureInfo.InvariantCulture, $"{storageId}:{bytes / (double)GiB}");
                    config[key] = AllocateIfNew(target, newid, PrintPropertyString(parts, "volume", withKey: false), allocated);
                }

                foreach (var key in config.Keys.Where(k => k.StartsWith("net", StringComparison.Ordinal)).ToList())
                {
                    var net = PveSchema.ParsePropertyString(config[key], null);
                    net["hwaddr"] = MacFor(newid + (100_000 * int.Parse(key[3..], CultureInfo.InvariantCulture)));
                    config[key] = PrintPropertyString(net, "name", withKey: true);
                }
            }
            catch (PveException)
            {
                ReleaseVolumes(target, allocated);
                throw;
            }

            clone = new SimContainer { Vmid = newid, Node = target.Name, Lock = "create", CreatedAt = Now, Pool = Str(p, "pool") };
            _containers[newid] = clone;
        }

        return new(StartTask(node, "vzclone", p["vmid"], async run =>
        {
            foreach (var v in allocated)
            {
                run.Log($"create full clone of mountpoint ({v.VolId})");
                await run.Step(2.5);
            }

            lock (_sync)
            {
                clone.Config = config;
                clone.Lock = null;
            }
        }, onFailure: () =>
        {
            _containers.Remove(newid);
            ReleaseVolumes(target, allocated);
        }).Upid);
    }

    private PveResult ContainerRrdData(Dictionary<string, string> p)
    {
        lock (_sync)
        {
            // RRD files are cluster-wide; an unknown guest simply has none.
            return _containers.TryGetValue(Int(p, "vmid"), out var ct)
                ? new(ContainerRrd(ct, p["timeframe"], Str(p, "cf") ?? "AVERAGE"))
                : new(new JsonArray());
        }
    }

    private PveResult NodeRrdData(Dictionary<string, string> p)
    {
        lock (_sync)
        {
            var node = _nodes.FirstOrDefault(n => n.Name == p["node"]);
            return new(node is null ? new JsonArray() : NodeRrd(node, p["timeframe"], Str(p, "cf") ?? "AVERAGE"));
        }
    }

    private SimTask TaskOf(Dictionary<string, string> p)
    {
        var upid = p["upid"];
        if (!Regex.IsMatch(upid, @"^UPID:([a-zA-Z0-9]([a-zA-Z0-9\-]*[a-zA-Z0-9])?):([0-9A-Fa-f]{8}):([0-9A-Fa-f]{8,9}):([0-9A-Fa-f]{8}):([^:\s/]+):([^:\s/]*):([^:\s/]+):$"))
        {
            throw PveException.Param("upid", "unable to parse worker upid");
        }

        return _tasks.TryGetValue(upid, out var t) && t.Node == p["node"] ? t : throw new PveException(500, "no such task");
    }

    private static JsonObject TaskJson(SimTask t)
    {
        var bang = t.User.IndexOf('!', StringComparison.Ordinal);
        var o = new JsonObject
        {
            ["upid"] = t.Upid,
            ["node"] = t.Node,
            ["pid"] = t.Pid,
            ["pstart"] = t.PStart,
            ["starttime"] = t.StartTime,
            ["type"] = t.Type,
            ["id"] = t.Id,
            ["user"] = bang < 0 ? t.User : t.User[..bang],
        };
        if (bang >= 0)
        {
            o["tokenid"] = t.User[(bang + 1)..];
        }

        return o;
    }

    private PveResult TaskStatus(Dictionary<string, string> p)
    {
        lock (_sync)
        {
            var t = TaskOf(p);
            var o = TaskJson(t);
            o["status"] = t.Running ? "running" : "stopped";
            if (!t.Running)
            {
                o["exitstatus"] = t.ExitStatus;
            }

            return new(o);
        }
    }

    private PveResult TaskLog(Dictionary<string, string> p)
    {
        lock (_sync)
        {
            var t = TaskOf(p);
            var start = p.TryGetValue("start", out var s) ? int.Parse(s, CultureInfo.InvariantCulture) : 0;
            var limit = p.TryGetValue("limit", out var l) ? int.Parse(l, CultureInfo.InvariantCulture) : 50;
            var lines = t.Log.Count == 0 ? ["no content"] : t.Log;
            var items = new JsonArray();
            for (var i = start; i < lines.Count && (limit == 0 || i < start + limit); i++)
            {
                items.Add(new JsonObject { ["n"] = i + 1, ["t"] = lines[i] });
            }

            return new(items, lines.Count);
        }
    }

    private PveResult StopTask(Dictionary<string, string> p)
    {
        lock (_sync)
        {
            var t = TaskOf(p);
            if (t.Running)
            {
                t.Abort.Cancel();
            }

            return new(null);
        }
    }

    private PveResult ListTasks(Dictionary<string, string> p)
    {
        lock (_sync)
        {
            var node = NodeOf(p);
            var source = Str(p, "source") ?? "archive";
            IEnumerable<SimTask> tasks = _tasks.Values.Where(t => t.Node == node.Name).OrderByDescending(t => t.StartTime).ThenByDescending(t => t.Pid);
            tasks = source switch { "active" => tasks.Where(t => t.Running), "archive" => tasks.Where(t => !t.Running), _ => tasks };
            if (Str(p, "vmid") is { } vmid)
            {
                tasks = tasks.Where(t => t.Id == vmid);
            }

            if (Str(p, "typefilter") is { } type)
            {
                tasks = tasks.Where(t => t.Type == type);
            }

            if (Bool(p, "errors"))
            {
                tasks = tasks.Where(t => t.ExitStatus is not null and not "OK");
            }

            var all = tasks.ToList();
            var start = p.TryGetValue("start", out var s) ? int.Parse(s, CultureInfo.InvariantCulture) : 0;
            var limit = p.TryGetValue("limit", out var l) ? int.Parse(l, CultureInfo.InvariantCulture) : 50;
            var items = new JsonArray();
            foreach (var t in all.Skip(start).Take(limit))
            {
                var o = TaskJson(t);
                if (!t.Running)
                {
                    o["status"] = t.ExitStatus;
                    o["endtime"] = t.EndTime;
                }

                items.Add(o);
            }

            return new(items, all.Count);
        }
    }

    private PveResult Interfaces(Dictionary<string, string> p)
    {
        lock (_sync)
        {
            var node = NodeOf(p);
            var ct = ContainerOf(p, node);
            RequireRunning(ct);

            var items = new JsonArray
            {
                Iface("lo", "00:00:00:00:00:00", "127.0.0.1/8", "::1/128"),
            };
            foreach (var key in ct.Config.Keys.Where(k => Regex.IsMatch(k, @"^net\d+$")))
            {
                var net = PveSchema.ParsePropertyString(ct.Config[key], null);
                var ip = net.TryGetValue("ip", out var configured) && configured.Contains('/', StringComparison.Ordinal)
                    ? configured
                    : $"10.{node.Index}.{ct.Vmid / 250 % 250}.{(ct.Vmid % 250) + 2}/16";
                items.Add(Iface(net.GetValueOrDefault("name", "eth0"), net.GetValueOrDefault("hwaddr", "00:00:00:00:00:00").ToLowerInvariant(), ip, null));
            }

            return new(items);
        }

        static JsonObject Iface(string name, string mac, string inet, string? inet6)
        {
            var addresses = new JsonArray { new JsonObject { ["ip-address"] = inet.Split('/')[0], ["ip-address-type"] = "inet", ["prefix"] = int.Parse(inet.Split('/')[1], CultureInfo.InvariantCulture) } };
            var o = new JsonObject { ["name"] = name, ["hwaddr"] = mac, ["hardware-address"] = mac, ["inet"] = inet, ["ip-addresses"] = addresses };
            if (inet6 is not null)
            {
                o["inet6"] = inet6;
            }

            return o;
        }
    }

    private PveResult Resources(Dictionary<string, string> p)
    {
        lock (_sync)
        {
            var type = Str(p, "type");
            var items = new JsonArray();
            if (type is null or "node")
            {
                foreach (var n in _nodes)
                {
                    var o = new JsonObject { ["id"] = $"node/{n.Name}", ["type"] = "node", ["node"] = n.Name, ["status"] = n.Online ? "online" : "offline", ["level"] = "", ["cgroup-mode"] = 2 };
                    if (n.Online)
                    {
                        AddNodeUsage(o, n);
                    }

                    items.Add(o);
                }
            }

            if (type is null or "vm")
            {
                foreach (var ct in _containers.Values)
                {
                    var n = _nodes.First(x => x.Name == ct.Node);
                    var s = ContainerStatusJson(ct, n, current: false);
                    var o = new JsonObject { ["id"] = $"lxc/{ct.Vmid}", ["type"] = "lxc", ["vmid"] = ct.Vmid, ["node"] = ct.Node, ["name"] = s["name"]!.DeepClone() };
                    // Guests of an unreachable node keep their last config but their state is unknown.
                    o["status"] = n.Online ? ct.Status : "unknown";
                    foreach (var key in new[] { "cpu", "mem", "maxmem", "disk", "maxdisk", "uptime", "netin", "netout", "diskread", "diskwrite", "tags", "lock" })
                    {
                        if (s[key] is { } v)
                        {
                            o[key] = n.Online ? v.DeepClone() : key is "maxmem" or "maxdisk" or "tags" or "lock" ? v.DeepClone() : 0;
                        }
                    }

                    o["maxcpu"] = ct.Cores(n.Cores);
                    o["template"] = 0;
                    if (ct.Pool is not null)
                    {
                        o["pool"] = ct.Pool;
                    }

                    if (ct.HaManaged)
                    {
                        o["hastate"] = "started";
                    }

                    items.Add(o);
                }
            }

            if (type is null or "storage")
            {
                foreach (var n in _nodes)
                {
                    foreach (var s in n.Storages.Values)
                    {
                        items.Add(new JsonObject
                        {
                            ["id"] = $"storage/{n.Name}/{s.Id}", ["type"] = "storage", ["storage"] = s.Id, ["node"] = n.Name,
                            ["status"] = n.Online ? "available" : "unknown", ["plugintype"] = s.Type, ["content"] = s.Content, ["shared"] = 0,
                            ["disk"] = s.UsedBytes, ["maxdisk"] = s.TotalBytes,
                        });
                    }
                }
            }

            return new(items);
        }
    }

    private PveResult NextId(Dictionary<string, string> p)
    {
        lock (_sync)
        {
            if (Str(p, "vmid") is { } v)
            {
                var vmid = int.Parse(v, CultureInfo.InvariantCulture);
                if (_containers.ContainsKey(vmid))
                {
                    throw PveException.Param("vmid", $"VM {vmid} already exists");
                }

                return new(v);
            }

            // PVE hands the id back as a string; clients must cope with either form.
            return new(NextFreeVmid().ToString(CultureInfo.InvariantCulture));
        }
    }

    private PveResult ClusterStatus()
    {
        lock (_sync)
        {
            var online = _nodes.Count(n => n.Online);
            var items = new JsonArray
            {
                new JsonObject { ["type"] = "cluster", ["id"] = "cluster", ["name"] = ClusterName, ["nodes"] = _nodes.Count, ["quorate"] = online * 2 > _nodes.Count ? 1 : 0, ["version"] = _nodes.Count + 2 },
            };
            foreach (var n in _nodes)
            {
                items.Add(new JsonObject
                {
                    ["type"] = "node", ["id"] = $"node/{n.Name}", ["name"] = n.Name, ["nodeid"] = n.Index, ["ip"] = n.Ip,
                    ["online"] = n.Online ? 1 : 0, ["local"] = n.Index == 1 ? 1 : 0, ["level"] = "",
                });
            }

            return new(items);
        }
    }

    private PveResult Vzdump(Dictionary<string, string> p)
    {
        SimNode node;
        List<int> vmids;
        string storageId;
        lock (_sync)
        {
            node = NodeOf(p);
            storageId = Str(p, "storage") ?? "local";
            if (!node.Storages.TryGetValue(storageId, out var storage))
            {
                throw new PveException(500, $"storage '{storageId}' does not exist");
            }

            if (!storage.Supports("backup"))
            {
                throw new PveException(500, $"storage '{storageId}' does not support backups");
            }

            vmids = Bool(p, "all")
                ? _containers.Values.Where(c => c.Node == node.Name).Select(c => c.Vmid).ToList()
                : (Str(p, "vmid") ?? "").Split([',', ';', ' '], StringSplitOptions.RemoveEmptyEntries).Select(v => int.Parse(v, CultureInfo.InvariantCulture)).ToList();
            if (vmids.Count == 0)
            {
                throw PveException.Param("vmid", "property is missing and it is not optional");
            }
        }

        var extension = (Str(p, "compress") ?? "0") switch { "zstd" => ".tar.zst", "gzip" or "1" => ".tar.gz", "lzo" => ".tar.lzo", _ => ".tar" };
        var mode = Str(p, "mode") ?? "snapshot";
        var locked = new List<SimContainer>();
        return new(StartTask(node, "vzdump", vmids.Count == 1 ? vmids[0].ToString(CultureInfo.InvariantCulture) : "", async run =>
        {
            var failed = false;
            foreach (var vmid in vmids)
            {
                SimContainer? ct;
                lock (_sync)
                {
                    ct = _containers.TryGetValue(vmid, out var c) && c.Node == node.Name ? c : null;
                    if (ct is not null)
                    {
                        ct.Lock = "backup";
                        locked.Add(ct);
                    }
                }

                if (ct is null)
                {
                    run.Log($"ERROR: Backup of VM {vmid} failed - unable to find configuration file for VM {vmid} on node '{node.Name}'");
                    failed = true;
                    continue;
                }

                var stamp = Now;
                run.Log($"INFO: Starting Backup of VM {vmid} (lxc)");
                run.Log($"INFO: Backup started at {stamp:yyyy-MM-dd HH:mm:ss}");
                run.Log($"INFO: status = {ct.Status}");
                run.Log($"INFO: backup mode: {mode}");
                await run.Step(3.0);
                lock (_sync)
                {
                    var storage = node.Storages[storageId];
                    var size = Math.Max(64L << 20, (long)(RootfsBytes(ct) * (0.1 + (0.25 * Noise(ct.Vmid, 5, 0))) * 0.45));
                    var volid = $"{storageId}:backup/vzdump-lxc-{vmid}-{stamp:yyyy_MM_dd-HH_mm_ss}{extension}";
                    if (storage.AvailBytes < size)
                    {
                        run.Log($"ERROR: Backup of VM {vmid} failed - vzdump archive: write error: No space left on device");
                        failed = true;
                    }
                    else
                    {
                        storage.Volumes.Add(new SimVolume { VolId = volid, Content = "backup", Format = extension.TrimStart('.'), SizeBytes = size, Vmid = vmid, CTime = stamp.ToUnixTimeSeconds(), Notes = ct.Config.GetValueOrDefault("hostname") });
                        run.Log($"INFO: creating vzdump archive '/var/lib/vz/dump/{volid[(volid.IndexOf('/', StringComparison.Ordinal) + 1)..]}'");
                        run.Log($"INFO: Finished Backup of VM {vmid} (00:00:03)");
                    }

                    ct.Lock = null;
                    locked.Remove(ct);
                }
            }

            if (failed)
            {
                throw new PveException(500, "job errors");
            }

            run.Log("INFO: Backup job finished successfully");
        }, onFailure: () => locked.ForEach(c => c.Lock = null)).Upid);
    }

    private PveResult Storages(Dictionary<string, string> p)
    {
        lock (_sync)
        {
            var node = NodeOf(p);
            var wanted = Str(p, "content")?.Split([',', ';', ' '], StringSplitOptions.RemoveEmptyEntries);
            var items = new JsonArray();
            foreach (var s in node.Storages.Values)
            {
                if ((wanted is not null && !wanted.Any(s.Supports)) || (Str(p, "storage") is { } only && only != s.Id))
                {
                    continue;
                }

                items.Add(new JsonObject
                {
                    ["storage"] = s.Id, ["type"] = s.Type, ["content"] = s.Content, ["active"] = 1, ["enabled"] = 1, ["shared"] = 0,
                    ["total"] = s.TotalBytes, ["used"] = s.UsedBytes, ["avail"] = s.AvailBytes,
                    ["used_fraction"] = s.TotalBytes == 0 ? 0 : Math.Round(s.UsedBytes / (double)s.TotalBytes, 6),
                });
            }

            return new(items);
        }
    }

    private PveResult StorageContent(Dictionary<string, string> p)
    {
        lock (_sync)
        {
            var node = NodeOf(p);
            if (!node.Storages.TryGetValue(p["storage"], out var storage))
            {
                throw new PveException(500, $"storage '{p["storage"]}' does not exist");
            }

            var items = new JsonArray();
            foreach (var v in storage.Volumes.OrderBy(v => v.VolId, StringComparer.Ordinal))
            {
                if ((Str(p, "content") is { } content && content != v.Content) || (Str(p, "vmid") is { } vmid && v.Vmid?.ToString(CultureInfo.InvariantCulture) != vmid))
                {
                    continue;
                }

                var o = new JsonObject { ["volid"] = v.VolId, ["content"] = v.Content, ["format"] = v.Format, ["size"] = v.SizeBytes, ["ctime"] = v.CTime };
                if (v.Vmid is { } id)
                {
                    o["vmid"] = id;
                }

                if (v.Content == "backup")
                {
                    o["subtype"] = "lxc";
                    o["notes"] = v.Notes;
                }

                if (v.Content == "rootdir")
                {
                    o["used"] = v.SizeBytes / 5;
                }

                items.Add(o);
            }

            return new(items);
        }
    }

    private static PveResult AplInfo() => new(new JsonArray(Appliances.Select(a => (JsonNode)new JsonObject
    {
        ["template"] = a.Template, ["package"] = a.Template[..a.Template.IndexOf('_', StringComparison.Ordinal)], ["type"] = "lxc", ["os"] = a.Os,
        ["section"] = "system", ["headline"] = a.Headline, ["description"] = a.Headline, ["architecture"] = "amd64",
        ["version"] = a.Template.Split('_')[1], ["location"] = "http://download.proxmox.com/images/system/" + a.Template,
        ["source"] = "http://download.proxmox.com/images/aplinfo-pve-9.dat", ["infopage"] = "https://pve.proxmox.com/wiki/Linux_Container#pct_supported_distributions",
        ["maintainer"] = "Proxmox Support Team <support@proxmox.com>",
    }).ToArray()));

    private PveResult DownloadTemplate(Dictionary<string, string> p)
    {
        SimNode node;
        SimStorage storage;
        var template = p["template"];
        lock (_sync)
        {
            node = NodeOf(p);
            if (!node.Storages.TryGetValue(p["storage"], out storage!))
            {
                throw new PveException(500, $"storage '{p["storage"]}' does not exist");
            }

            if (!storage.Supports("vztmpl"))
            {
                throw new PveException(500, $"storage '{storage.Id}' does not support templates");
            }

            if (Appliances.All(a => a.Template != template))
            {
                throw new PveException(500, "no such template");
            }
        }

        return new(StartTask(node, "download", template, async run =>
        {
            run.Log($"starting template download from: http://download.proxmox.com/images/system/{template}");
            run.Log($"target file: /var/lib/vz/template/cache/{template}");
            await run.Step(2.0);
            lock (_sync)
            {
                var volid = $"{storage.Id}:vztmpl/{template}";
                if (FindVolume(node, volid) is null)
                {
                    storage.Volumes.Add(new SimVolume { VolId = volid, Content = "vztmpl", Format = "tzst", SizeBytes = 130_000_000, CTime = Now.ToUnixTimeSeconds() });
                }
            }

            run.Log("download of 'http://download.proxmox.com/images/system/" + template + "' to '/var/lib/vz/template/cache/" + template + "' finished");
        }).Upid);
    }

    private static PveResult Permissions(Dictionary<string, string> p)
    {
        // The simulator's token is a full-privilege token (privsep=0 on root@pam's level).
        var privs = new JsonObject();
        foreach (var priv in Privileges)
        {
            privs[priv] = 1;
        }

        return new(new JsonObject { [Str(p, "path") ?? "/"] = privs });
    }
}
