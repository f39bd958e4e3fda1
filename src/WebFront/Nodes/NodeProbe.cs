using Microsoft.Extensions.Options;
using Sajet.Integrations.Proxmox;

namespace Sajet.WebFront.Nodes;

/// <summary>What registration learned from the node: its PVE name and version, and whether storage and template are there.</summary>
public sealed record ProbeResult(string PveNode, string PveVersion, bool StoragePresent, bool TemplatePresent, IReadOnlyList<string> Warnings);

/// <summary>Why a node could not be checked: a stable code for clients and a Spanish message for people.</summary>
public sealed record ProbeFailure(string Code, string Message);

/// <summary>
/// "Does this node answer, with this token?" — version, node status, storages and the template, before anything is
/// stored. Calls the node's API directly with the Proxmox client (the web front does not run grain code).
/// </summary>
public sealed class NodeProbe(IOptions<ProxmoxOptions> options, ILogger<NodeProbe> logger)
{
    public async Task<(ProbeResult? Result, ProbeFailure? Failure)> ProbeAsync(ProxmoxConnection connection, string? pveNode, string storage, string template, CancellationToken ct)
    {
        using var client = new ProxmoxClient(connection with { Timeout = TimeSpan.FromSeconds(10) }, options.Value);
        try
        {
            var version = await client.GetVersionAsync(ct);
            var name = pveNode;
            if (name is null)
            {
                // The API URL names one node: the cluster's "local" row is the node that answered.
                var rows = await client.GetClusterStatusAsync(ct);
                name = rows.FirstOrDefault(r => r.Type == "node" && r.Local == true)?.Name;
                if (name is null)
                {
                    var nodes = await client.GetNodesAsync(ct);
                    name = nodes.Count == 1 ? nodes[0].Node : null;
                }

                if (name is null)
                {
                    return (null, new ProbeFailure("pve_node_ambiguous", "No se pudo deducir el nombre del nodo en Proxmox: indique pveNode."));
                }
            }

            try
            {
                await client.GetNodeStatusAsync(name, ct);
            }
            catch (ProxmoxApiException ex) when (ex is not ProxmoxAuthenticationException and not ProxmoxPermissionException)
            {
                return (null, new ProbeFailure("pve_node_unknown", $"El nodo '{name}' no existe o no responde en ese clúster: {ex.ProxmoxMessage}"));
            }

            var storages = await client.GetStoragesAsync(name, null, ct);
            var warnings = new List<string>();
            var target = storages.FirstOrDefault(s => s.Storage == storage);
            var storagePresent = target is { Active: true, Enabled: true } && target.Supports("rootdir");
            if (!storagePresent)
            {
                warnings.Add($"El almacenamiento '{storage}' no existe en el nodo o no admite contenedores: no se colocarán inquilinos hasta que exista.");
            }

            var templatePresent = false;
            var templateStorage = template.Split(':')[0];
            if (storages.Any(s => s.Storage == templateStorage && s.Active))
            {
                var volumes = await client.GetStorageContentAsync(name, templateStorage, "vztmpl", null, ct);
                templatePresent = volumes.Any(v => v.VolId == template);
            }

            if (!templatePresent)
            {
                warnings.Add($"La plantilla '{template}' no está en el nodo: descárguela antes de colocar inquilinos.");
            }

            return (new ProbeResult(name, version.Version, storagePresent, templatePresent, warnings), null);
        }
        catch (Exception ex) when (ex is ProxmoxApiException or ProxmoxUnreachableException)
        {
            logger.LogInformation("Node check of {ApiUrl} failed: {Error}", connection.BaseUrl, ex.Message);
            return (null, Describe(ex, connection));
        }
    }

    private static ProbeFailure Describe(Exception ex, ProxmoxConnection connection) => ex switch
    {
        ProxmoxAuthenticationException => new("token_rejected", $"Proxmox rechazó el token {connection.TokenId} (401): token rechazado. Compruebe el id y el secreto del token."),
        ProxmoxPermissionException p => new("permission_denied", $"El token no tiene permisos suficientes (403): {p.ProxmoxMessage}"),
        ProxmoxCertificatePinMismatchException pin => new("fingerprint_mismatch",
            $"La huella del certificado no coincide: el servidor presenta {pin.ActualFingerprint} y se esperaba {pin.ExpectedFingerprint}."),
        ProxmoxUnreachableException { Reason: ProxmoxUnreachableReason.Tls } => new("tls_untrusted",
            $"El nodo en {connection.BaseUrl} no responde con un certificado de confianza: indique su huella (fingerprint) o marque insecure."),
        ProxmoxUnreachableException { Reason: ProxmoxUnreachableReason.Timeout } => new("unreachable", $"El nodo en {connection.BaseUrl} no responde: tiempo de espera agotado."),
        ProxmoxUnreachableException => new("unreachable", $"El nodo en {connection.BaseUrl} no responde: no se pudo conectar."),
        ProxmoxApiException a => new("proxmox_error", $"Proxmox respondió {a.StatusCode}: {a.ProxmoxMessage}"),
        _ => new("proxmox_error", ex.Message),
    };
}
