using System.Collections.Concurrent;
using System.Text;
using Microsoft.Extensions.Logging;
using Npgsql;
using Sajet.Integrations.Proxmox;
using Sajet.Runtime.Secrets;

namespace Sajet.Grains.Provisioning;

/// <summary>A registered node as provisioning needs it: its API client and where to put containers.</summary>
public sealed record NodeTarget(string Id, string PveNode, string Storage, string Template, ProxmoxClient Client);

/// <summary>
/// Proxmox clients per registered node, built from the nodes row (token secret decrypted here only) and rebuilt when
/// the row changes (token rotation).
/// </summary>
public sealed class NodeConnections(NpgsqlDataSource db, SecretProtector secrets, ProxmoxOptions proxmoxOptions, ILoggerFactory loggers)
{
    public const string TokenPurpose = "proxmox-token";

    private const string NodeSql = """
        SELECT pve_node, api_url, token_id, token_secret_enc, fingerprint, insecure_tls, storage, template, updated_at
        FROM nodes WHERE id = @id
        """;

    private readonly ConcurrentDictionary<string, (DateTime Version, NodeTarget Target)> _cache = new();

    public async Task<NodeTarget> GetAsync(string nodeId, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand(NodeSql);
        cmd.Parameters.AddWithValue("id", nodeId);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        if (!await r.ReadAsync(ct))
        {
            throw new InvalidOperationException($"Node {nodeId} is not registered");
        }

        var version = r.GetDateTime(8);
        if (_cache.TryGetValue(nodeId, out var cached) && cached.Version == version)
        {
            return cached.Target;
        }

        var secret = secrets.Unprotect(Encoding.UTF8.GetString(r.GetFieldValue<byte[]>(3)), TokenPurpose)
            ?? throw new InvalidOperationException($"The token of node {nodeId} cannot be decrypted with the configured secret key");
        var connection = new ProxmoxConnection(new Uri(r.GetString(1)), r.GetString(2), secret)
        {
            Fingerprint = r.IsDBNull(4) ? null : r.GetString(4),
            Insecure = r.GetBoolean(5),
        };
        var target = new NodeTarget(nodeId, r.GetString(0), r.GetString(6), r.GetString(7),
            new ProxmoxClient(connection, proxmoxOptions, loggers.CreateLogger<ProxmoxClient>()));
        _cache[nodeId] = (version, target);
        return target;
    }

    /// <summary>Encodes a token secret for the nodes.token_secret_enc column.</summary>
    public static byte[] Protect(SecretProtector secrets, string tokenSecret) => Encoding.UTF8.GetBytes(secrets.Protect(tokenSecret, TokenPurpose));
}
