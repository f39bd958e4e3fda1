using System.Net;
using System.Text.RegularExpressions;

namespace Sajet.Integrations.Proxmox;

/// <summary>
/// Proxmox answered with an error status. <see cref="ProxmoxMessage"/> is PVE's text (body `message`, else the
/// status line's reason phrase) without the trailing newline; <see cref="Errors"/> maps parameters to messages on 400.
/// </summary>
public class ProxmoxApiException : Exception
{
    public ProxmoxApiException(int statusCode, string proxmoxMessage, IReadOnlyDictionary<string, string>? errors, string method, string path)
        : base(Describe(statusCode, proxmoxMessage, errors, method, path))
    {
        StatusCode = statusCode;
        ProxmoxMessage = proxmoxMessage;
        Errors = errors ?? new Dictionary<string, string>();
        Method = method;
        Path = path;
    }

    /// <summary>The numeric status; PVE uses non-standard ones such as 595 for an unreachable node.</summary>
    public int StatusCode { get; }

    public string ProxmoxMessage { get; }

    public IReadOnlyDictionary<string, string> Errors { get; }

    public string Method { get; }

    /// <summary>The API path after `/api2/json`.</summary>
    public string Path { get; }

    private static string Describe(int status, string message, IReadOnlyDictionary<string, string>? errors, string method, string path) =>
        $"Proxmox {method} {path} failed with {status}: {message}"
        + (errors is { Count: > 0 } ? " (" + string.Join("; ", errors.Select(kv => $"{kv.Key}: {kv.Value}")) + ")" : "");
}

/// <summary>401: unknown, wrong or expired token (`Authentication failed!`) or no credentials (`No ticket`).</summary>
public sealed class ProxmoxAuthenticationException(int statusCode, string message, IReadOnlyDictionary<string, string>? errors, string method, string path)
    : ProxmoxApiException(statusCode, message, errors, method, path);

/// <summary>403: the token lacks a privilege (`Permission check failed (/vms/101, VM.PowerMgmt)`).</summary>
public sealed class ProxmoxPermissionException(int statusCode, string message, IReadOnlyDictionary<string, string>? errors, string method, string path)
    : ProxmoxApiException(statusCode, message, errors, method, path);

/// <summary>400: `Parameter verification failed.` with the per-parameter reasons in <see cref="ProxmoxApiException.Errors"/>.</summary>
public sealed class ProxmoxParameterException(int statusCode, string message, IReadOnlyDictionary<string, string>? errors, string method, string path)
    : ProxmoxApiException(statusCode, message, errors, method, path);

/// <summary>500: the handler died (business errors, locks, storage). See <see cref="ProxmoxVmidInUseException"/>.</summary>
public class ProxmoxServerException(int statusCode, string message, IReadOnlyDictionary<string, string>? errors, string method, string path)
    : ProxmoxApiException(statusCode, message, errors, method, path);

/// <summary>500 `CT 101 already exists on node 'pve1'` (or `VM 101 ...`): the VMID is taken cluster-wide; take another from nextid.</summary>
public sealed partial class ProxmoxVmidInUseException(int statusCode, string message, IReadOnlyDictionary<string, string>? errors, string method, string path, int vmid, string ownerNode)
    : ProxmoxServerException(statusCode, message, errors, method, path)
{
    public int Vmid { get; } = vmid;

    /// <summary>The node that holds the guest, which may differ from the one called.</summary>
    public string OwnerNode { get; } = ownerNode;

    internal static bool TryMatch(string message, out int vmid, out string node)
    {
        var m = AlreadyExists().Match(message);
        vmid = m.Success ? int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : 0;
        node = m.Success ? m.Groups[2].Value : "";
        return m.Success;
    }

    [GeneratedRegex(@"^(?:CT|VM) (\d+) already exists on node '([^']+)'")]
    private static partial Regex AlreadyExists();
}

/// <summary>501 `Method 'GET /foo' not implemented`: the path or method does not exist in this PVE version.</summary>
public sealed class ProxmoxNotImplementedException(int statusCode, string message, IReadOnlyDictionary<string, string>? errors, string method, string path)
    : ProxmoxApiException(statusCode, message, errors, method, path);

/// <summary>
/// 595 (`No route to host`, `Connection refused`, ...): the API node we called is fine but could not reach
/// the node named in the path, typically because that node is offline.
/// </summary>
public sealed class ProxmoxNodeUnreachableException(int statusCode, string message, IReadOnlyDictionary<string, string>? errors, string method, string path)
    : ProxmoxApiException(statusCode, message, errors, method, path);

public enum ProxmoxUnreachableReason
{
    /// <summary>DNS failure, connection refused or reset, or a non-HTTP answer.</summary>
    Connection,

    /// <summary>No complete answer within the request timeout; the request may or may not have taken effect.</summary>
    Timeout,

    /// <summary>The TLS handshake failed (untrusted certificate without a pin, protocol error).</summary>
    Tls,

    /// <summary>The server certificate does not match the pinned fingerprint.</summary>
    CertificatePinMismatch,

    /// <summary>Recent calls to this node kept failing, so this one was not sent (the circuit breaker is open).</summary>
    CircuitOpen,
}

/// <summary>No usable HTTP answer from the API endpoint itself.</summary>
public class ProxmoxUnreachableException(ProxmoxUnreachableReason reason, string message, Exception? inner)
    : Exception(message, inner)
{
    public ProxmoxUnreachableReason Reason { get; } = reason;
}

/// <summary>
/// The node's circuit breaker is open: enough recent calls to this base address failed that this one was refused
/// without being sent. Transient like any unreachable node: try again after the break (ProxmoxOptions.Resilience).
/// </summary>
public sealed class ProxmoxCircuitOpenException(Uri baseUrl, string method, string path, Exception inner)
    : ProxmoxUnreachableException(ProxmoxUnreachableReason.CircuitOpen, $"Proxmox {method} {path} not sent: {baseUrl} failed repeatedly and its circuit is open", inner)
{
    public Uri BaseUrl { get; } = baseUrl;
}

/// <summary>The server presented a certificate other than the pinned one: treat as a possible interception, never retry insecurely.</summary>
public sealed class ProxmoxCertificatePinMismatchException(string expected, string actual, Exception? inner)
    : ProxmoxUnreachableException(ProxmoxUnreachableReason.CertificatePinMismatch, $"Proxmox server certificate fingerprint {actual} does not match the pinned {expected}", inner)
{
    public string ExpectedFingerprint { get; } = expected;

    public string ActualFingerprint { get; } = actual;
}

/// <summary>A task stopped with an exit status other than `OK` or `WARNINGS: n`.</summary>
public sealed class ProxmoxTaskFailedException(Upid upid, string exitStatus, IReadOnlyList<string> logTail)
    : Exception($"Proxmox task {upid} failed: {exitStatus}")
{
    public Upid Upid { get; } = upid;

    public string ExitStatus { get; } = exitStatus;

    /// <summary>The last lines of the task log, oldest first.</summary>
    public IReadOnlyList<string> LogTail { get; } = logTail;
}

/// <summary>The task was still running at the wait deadline. It may still finish; it was not aborted.</summary>
public sealed class ProxmoxTaskTimeoutException(Upid upid, TimeSpan waited)
    : Exception($"Proxmox task {upid} still running after {waited}")
{
    public Upid Upid { get; } = upid;

    public TimeSpan Waited { get; } = waited;
}

internal static class ProxmoxErrors
{
    public static ProxmoxApiException Create(HttpStatusCode status, string message, IReadOnlyDictionary<string, string>? errors, string method, string path)
    {
        var code = (int)status;
        return code switch
        {
            400 => new ProxmoxParameterException(code, message, errors, method, path),
            401 => new ProxmoxAuthenticationException(code, message, errors, method, path),
            403 => new ProxmoxPermissionException(code, message, errors, method, path),
            500 when ProxmoxVmidInUseException.TryMatch(message, out var vmid, out var node) => new ProxmoxVmidInUseException(code, message, errors, method, path, vmid, node),
            500 => new ProxmoxServerException(code, message, errors, method, path),
            501 => new ProxmoxNotImplementedException(code, message, errors, method, path),
            >= 595 and <= 599 => new ProxmoxNodeUnreachableException(code, message, errors, method, path),
            _ => new ProxmoxApiException(code, message, errors, method, path),
        };
    }
}
