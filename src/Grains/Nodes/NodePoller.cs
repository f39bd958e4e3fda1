using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Sajet.Integrations.Proxmox;
using Sajet.Grains.Interfaces.Nodes;
using Sajet.Persistence.Secrets;

namespace Sajet.Grains.Nodes;

/// <summary>How to reach a node and what to look for on it, read from its <c>nodes</c> row.</summary>
public sealed record NodeTarget(
    string Id,
    string PveNode,
    string ApiUrl,
    string TokenId,
    byte[] TokenSecretEnc,
    string? Fingerprint,
    bool Insecure,
    string Storage,
    string Template);

/// <summary>The operator settings a poll obeys, read with the target so a change applies at the next poll.</summary>
public sealed record NodePollSettings(TimeSpan PollInterval, int OfflineAfterFailures, double AlertThreshold, double AlertClearBelow)
{
    public static readonly NodePollSettings Default = new(TimeSpan.FromSeconds(60), 3, 0.8, 0.7);
}

/// <summary>One container as the node lists it (<c>/nodes/{node}/lxc</c>); cpu is a fraction of its own allotment, sizes in bytes.</summary>
public sealed record ObservedContainer(int Vmid, string Status, double Cpu, long MemoryUsed, long DiskUsed);

/// <summary>One LXC guest anywhere in the cluster (<c>/cluster/resources?type=vm</c>), with the PVE node it runs on.</summary>
public sealed record ClusterContainer(int Vmid, string PveNode, string? Name, string? Status, IReadOnlyList<string> Tags);

/// <summary>What one successful poll saw. Memory and disk in bytes; cpu a 0..1 fraction of all the node's cores.</summary>
public sealed record NodeObservation(
    int Cores,
    double Cpu,
    long MemoryTotal,
    long MemoryUsed,
    long DiskTotal,
    long DiskUsed,
    bool StoragePresent,
    bool TemplatePresent,
    string? PveVersion,
    IReadOnlyList<ObservedContainer> Containers,
    IReadOnlyList<ClusterContainer> Cluster);

/// <summary>A poll's outcome: an observation, or a failure described in Spanish for operators.</summary>
public sealed record NodePoll(NodeObservation? Observation, string? Error)
{
    public static NodePoll Ok(NodeObservation observation) => new(observation, null);

    public static NodePoll Failed(string error) => new(null, error);
}

/// <summary>
/// Reads a node's target and settings, and observes the node over its API. Runs outside any grain lock: the HTTP
/// calls may be slow. One client per node is kept (TLS sessions and connections are reused across polls) and
/// replaced when the node's connection (URL, token, pin) changes.
/// </summary>
public sealed class NodePoller(NpgsqlDataSource db, SecretProtector secrets, IOptions<ProxmoxOptions> options, ILoggerFactory loggers) : IDisposable
{
    public const string TokenPurpose = NodeConstants.TokenSecretPurpose;

    /// <summary>The tag Sajet puts on every container it creates; untagged unknown guests are not Sajet's business.</summary>
    public const string SajetTag = "sajet";

    private const string TargetSql = """
        SELECT n.id, n.pve_node, n.api_url, n.token_id, n.token_secret_enc, n.fingerprint, n.insecure_tls, n.storage, n.template,
               coalesce((SELECT (value #>> '{}')::float8 FROM settings WHERE key = 'nodes.poll_interval_seconds'), 60),
               coalesce((SELECT (value #>> '{}')::float8 FROM settings WHERE key = 'nodes.offline_after_failures'), 3)::int,
               coalesce((SELECT (value #>> '{}')::float8 FROM settings WHERE key = 'nodes.alert_threshold'), 0.8),
               coalesce((SELECT (value #>> '{}')::float8 FROM settings WHERE key = 'nodes.alert_clear_below'), 0.7)
        FROM nodes n WHERE n.id = @id
        """;

    private readonly ConcurrentDictionary<string, ProxmoxClient> _clients = new(StringComparer.Ordinal);

    /// <summary>The node's target and the poll settings, or null when the node is no longer registered.</summary>
    public async Task<(NodeTarget Target, NodePollSettings Settings)?> ReadTargetAsync(string nodeId, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand(TargetSql);
        cmd.Parameters.AddWithValue("id", nodeId);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        if (!await r.ReadAsync(ct))
        {
            return null;
        }

        var target = new NodeTarget(r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetFieldValue<byte[]>(4),
            r.IsDBNull(5) ? null : r.GetString(5), r.GetBoolean(6), r.GetString(7), r.GetString(8));
        var settings = new NodePollSettings(TimeSpan.FromSeconds(Math.Max(0.05, r.GetDouble(9))), Math.Max(1, r.GetInt32(10)), r.GetDouble(11), r.GetDouble(12));
        return (target, settings);
    }

    public ProxmoxClient ClientFor(NodeTarget target)
    {
        var connection = new ProxmoxConnection(new Uri(target.ApiUrl), target.TokenId, secrets.Unprotect(target.TokenSecretEnc, TokenPurpose)
            ?? throw new InvalidOperationException($"The token of node {target.Id} cannot be decrypted with the configured secret key"))
        {
            Fingerprint = target.Fingerprint,
            Insecure = target.Insecure,
            Timeout = options.Value.RequestTimeout,
        };
        while (true)
        {
            if (_clients.TryGetValue(target.Id, out var existing))
            {
                if (existing.Connection == connection)
                {
                    return existing;
                }

                if (_clients.TryRemove(new KeyValuePair<string, ProxmoxClient>(target.Id, existing)))
                {
                    existing.Dispose();
                }

                continue;
            }

            var created = new ProxmoxClient(connection, options.Value, loggers.CreateLogger<ProxmoxClient>());
            if (_clients.TryAdd(target.Id, created))
            {
                return created;
            }

            created.Dispose();
        }
    }

    /// <summary>Status, storages, template, the node's containers and the cluster's guests, fetched side by side.</summary>
    public async Task<NodeObservation> ObserveAsync(NodeTarget target, CancellationToken ct)
    {
        var client = ClientFor(target);
        var pve = target.PveNode;
        var statusTask = client.GetNodeStatusAsync(pve, ct);
        var storagesTask = client.GetStoragesAsync(pve, null, ct);
        var containersTask = client.GetContainersAsync(pve, ct);
        var clusterTask = client.GetClusterResourcesAsync(ProxmoxResourceType.Vm, ct);
        await Task.WhenAll(statusTask, storagesTask, containersTask, clusterTask);
        var status = await statusTask;
        var storages = await storagesTask;

        var storage = storages.FirstOrDefault(s => s.Storage == target.Storage);
        var storagePresent = storage is { Active: true, Enabled: true } && storage.Supports("rootdir");
        var templateStorage = TemplateStorage(target.Template);
        var templatePresent = false;
        if (templateStorage is not null && storages.Any(s => s.Storage == templateStorage && s.Active))
        {
            var volumes = await client.GetStorageContentAsync(pve, templateStorage, "vztmpl", null, ct);
            templatePresent = volumes.Any(v => v.VolId == target.Template);
        }

        var containers = (await containersTask)
            .Where(c => !c.Template)
            .Select(c => new ObservedContainer(c.Vmid, c.Status, c.Cpu, c.Mem, c.Disk))
            .ToList();
        var cluster = (await clusterTask)
            .Where(r => r.Type == "lxc" && r.Vmid is not null && r.Node is not null)
            .Select(r => new ClusterContainer(r.Vmid!.Value, r.Node!, r.Name, r.Status, r.TagList))
            .ToList();
        return new NodeObservation(
            status.CpuInfo.Cpus,
            status.Cpu,
            status.Memory.Total,
            status.Memory.Used,
            storage?.Total ?? 0,
            storage?.Used ?? 0,
            storagePresent,
            templatePresent,
            PveVersion(status.PveVersion),
            containers,
            cluster);
    }

    /// <summary>`local:vztmpl/debian-12...` → `local`.</summary>
    public static string? TemplateStorage(string template)
    {
        var colon = template.IndexOf(':', StringComparison.Ordinal);
        return colon > 0 ? template[..colon] : null;
    }

    /// <summary>`pve-manager/9.1.4/abcdef` → `9.1.4`.</summary>
    public static string? PveVersion(string? pveversion) =>
        pveversion?.Split('/') is [_, var version, ..] ? version : pveversion;

    /// <summary>Why a poll failed, in Spanish for the operator; never includes the token.</summary>
    public static string Describe(Exception ex) => ex switch
    {
        ProxmoxAuthenticationException => "Token rechazado por Proxmox (401).",
        ProxmoxPermissionException p => $"Permiso denegado por Proxmox (403): {p.ProxmoxMessage}",
        ProxmoxNodeUnreachableException u => $"El nodo no responde dentro del clúster ({u.StatusCode}): {u.ProxmoxMessage}",
        ProxmoxCertificatePinMismatchException => "La huella del certificado no coincide con la registrada.",
        ProxmoxUnreachableException { Reason: ProxmoxUnreachableReason.Timeout } => "No responde: tiempo de espera agotado.",
        ProxmoxUnreachableException { Reason: ProxmoxUnreachableReason.Tls } => "No responde: falló la negociación TLS.",
        ProxmoxUnreachableException => "No responde: conexión imposible.",
        ProxmoxApiException a => string.Create(CultureInfo.InvariantCulture, $"Proxmox respondió {a.StatusCode}: {a.ProxmoxMessage}"),
        _ => $"Error al consultar el nodo: {ex.Message}",
    };

    public void Dispose()
    {
        foreach (var client in _clients.Values)
        {
            client.Dispose();
        }

        _clients.Clear();
    }
}
