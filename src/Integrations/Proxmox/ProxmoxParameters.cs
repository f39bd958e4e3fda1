using System.Globalization;

namespace Sajet.Integrations.Proxmox;

/// <summary>POST /nodes/{node}/lxc. Only <see cref="Vmid"/> and <see cref="OsTemplate"/> are required; memory and swap in MiB.</summary>
public sealed record ProxmoxContainerCreate(int Vmid, string OsTemplate)
{
    public string? Hostname { get; init; }

    public int? Cores { get; init; }

    /// <summary>CPU time cap in cores' worth; 0 = unlimited.</summary>
    public double? CpuLimit { get; init; }

    public int? CpuUnits { get; init; }

    public int? Memory { get; init; }

    public int? Swap { get; init; }

    /// <summary>E.g. `PropertyString.Parse("local-lvm:8", "volume")` for a new 8 GiB volume.</summary>
    public PropertyString? RootFs { get; init; }

    /// <summary>netN by index, e.g. 0 → `name=eth0,bridge=vmbr0,ip=dhcp,firewall=1`.</summary>
    public IReadOnlyDictionary<int, PropertyString>? Networks { get; init; }

    /// <summary>E.g. `nesting=1,keyctl=1`.</summary>
    public PropertyString? Features { get; init; }

    public IReadOnlyList<string>? Tags { get; init; }

    /// <summary>PVE 9 creates unprivileged containers when omitted.</summary>
    public bool? Unprivileged { get; init; }

    public bool Start { get; init; }

    public bool? OnBoot { get; init; }

    /// <summary>Root password inside the guest (min 5 chars). Never logged.</summary>
    public string? Password { get; init; }

    /// <summary>OpenSSH public keys, one per line.</summary>
    public string? SshPublicKeys { get; init; }

    public string? Pool { get; init; }

    public string? Description { get; init; }

    /// <summary>Default storage for an omitted rootfs.</summary>
    public string? Storage { get; init; }

    public IEnumerable<KeyValuePair<string, string>> ToForm()
    {
        var form = new ProxmoxForm();
        form.Add("vmid", Vmid);
        form.Add("ostemplate", OsTemplate);
        form.Add("hostname", Hostname);
        form.Add("cores", Cores);
        form.Add("cpulimit", CpuLimit);
        form.Add("cpuunits", CpuUnits);
        form.Add("memory", Memory);
        form.Add("swap", Swap);
        form.Add("rootfs", RootFs?.ToString());
        foreach (var (index, net) in Networks ?? new Dictionary<int, PropertyString>())
        {
            form.Add($"net{index.ToString(CultureInfo.InvariantCulture)}", net.ToString());
        }

        form.Add("features", Features?.ToString());
        form.Add("tags", Tags is null ? null : ProxmoxTags.Join(Tags));
        form.Add("unprivileged", Unprivileged);
        form.Add("start", Start ? true : null);
        form.Add("onboot", OnBoot);
        form.Add("password", Password);
        form.Add("ssh-public-keys", SshPublicKeys);
        form.Add("pool", Pool);
        form.Add("description", Description);
        form.Add("storage", Storage);
        return form;
    }
}

/// <summary>POST /nodes/{node}/lxc/{vmid}/clone.</summary>
public sealed record ProxmoxContainerClone(int NewId)
{
    public string? Hostname { get; init; }

    public string? Description { get; init; }

    /// <summary>Independent copy; required unless the source is a template.</summary>
    public bool? Full { get; init; }

    public string? TargetNode { get; init; }

    public string? Storage { get; init; }

    public string? Pool { get; init; }

    public IEnumerable<KeyValuePair<string, string>> ToForm()
    {
        var form = new ProxmoxForm();
        form.Add("newid", NewId);
        form.Add("hostname", Hostname);
        form.Add("description", Description);
        form.Add("full", Full);
        form.Add("target", TargetNode);
        form.Add("storage", Storage);
        form.Add("pool", Pool);
        return form;
    }
}

/// <summary>PUT .../config. Keys a running container cannot hot-apply become pending until the next start.</summary>
public sealed record ProxmoxContainerConfigUpdate
{
    public string? Hostname { get; init; }

    public int? Cores { get; init; }

    public double? CpuLimit { get; init; }

    public int? Memory { get; init; }

    public int? Swap { get; init; }

    public IReadOnlyList<string>? Tags { get; init; }

    public string? Description { get; init; }

    public PropertyString? Features { get; init; }

    public IReadOnlyDictionary<int, PropertyString>? Networks { get; init; }

    public bool? OnBoot { get; init; }

    public bool? Protection { get; init; }

    /// <summary>Any other schema key, already in PVE's wire form.</summary>
    public IReadOnlyDictionary<string, string>? Other { get; init; }

    /// <summary>Keys to remove (sent as `delete=a,b`).</summary>
    public IReadOnlyList<string>? Delete { get; init; }

    /// <summary>From <see cref="ProxmoxContainerConfig.Digest"/>; the update fails if the config changed since.</summary>
    public string? Digest { get; init; }

    public IEnumerable<KeyValuePair<string, string>> ToForm()
    {
        var form = new ProxmoxForm();
        form.Add("hostname", Hostname);
        form.Add("cores", Cores);
        form.Add("cpulimit", CpuLimit);
        form.Add("memory", Memory);
        form.Add("swap", Swap);
        form.Add("tags", Tags is null ? null : ProxmoxTags.Join(Tags));
        form.Add("description", Description);
        form.Add("features", Features?.ToString());
        foreach (var (index, net) in Networks ?? new Dictionary<int, PropertyString>())
        {
            form.Add($"net{index.ToString(CultureInfo.InvariantCulture)}", net.ToString());
        }

        form.Add("onboot", OnBoot);
        form.Add("protection", Protection);
        foreach (var (key, value) in Other ?? new Dictionary<string, string>())
        {
            form.Add(key, value);
        }

        form.Add("delete", Delete is { Count: > 0 } ? string.Join(',', Delete) : null);
        form.Add("digest", Digest);
        return form;
    }
}

/// <summary>POST /nodes/{node}/vzdump for containers on that node.</summary>
public sealed record ProxmoxBackupRequest(IReadOnlyList<int> Vmids)
{
    public string? Storage { get; init; }

    /// <summary>`snapshot` (default), `suspend` or `stop`.</summary>
    public string Mode { get; init; } = "snapshot";

    /// <summary>`zstd`, `gzip`, `lzo` or `0`.</summary>
    public string Compress { get; init; } = "zstd";

    public string? NotesTemplate { get; init; }

    public IEnumerable<KeyValuePair<string, string>> ToForm()
    {
        var form = new ProxmoxForm();
        form.Add("vmid", string.Join(',', Vmids.Select(v => v.ToString(CultureInfo.InvariantCulture))));
        form.Add("storage", Storage);
        form.Add("mode", Mode);
        form.Add("compress", Compress);
        form.Add("notes-template", NotesTemplate);
        return form;
    }
}

/// <summary>Form fields in PVE's wire forms: invariant numbers, booleans as 0/1, absent when null.</summary>
internal sealed class ProxmoxForm : List<KeyValuePair<string, string>>
{
    public void Add(string key, string? value)
    {
        if (value is not null)
        {
            Add(new KeyValuePair<string, string>(key, value));
        }
    }

    public void Add(string key, int? value) => Add(key, value?.ToString(CultureInfo.InvariantCulture));

    public void Add(string key, double? value) => Add(key, value?.ToString("R", CultureInfo.InvariantCulture));

    public void Add(string key, bool? value) => Add(key, value is null ? null : value.Value ? "1" : "0");
}
