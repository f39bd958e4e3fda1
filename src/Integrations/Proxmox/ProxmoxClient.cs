using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Polly.CircuitBreaker;
using Polly.Timeout;
using Sajet.Integrations.Resilience;

namespace Sajet.Integrations.Proxmox;

/// <summary>
/// Typed client for the Proxmox VE 9.1 REST API with API-token auth. Calls go through the node's resilience pipeline
/// (<see cref="ProxmoxOptions.Resilience"/>): GETs are retried after transient failures, writes are sent once (the
/// caller owns their idempotency), and a node that keeps failing is not called until its breaker closes.
/// Task-starting calls return the <see cref="Upid"/> to pass to <see cref="WaitForTaskAsync"/>.
/// </summary>
public sealed class ProxmoxClient : IDisposable
{
    private const int LogTailLines = 20;

    private readonly HttpClient _http;
    private readonly bool _ownsHttp;
    private readonly ProxmoxConnection _connection;
    private readonly ProxmoxOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly PinState? _pin;
    private readonly Uri _apiBase;

    /// <summary>Builds its own handler, which enforces the connection's certificate pin or Insecure switch.</summary>
    public ProxmoxClient(ProxmoxConnection connection, ProxmoxOptions? options = null, ILogger<ProxmoxClient>? logger = null, TimeProvider? timeProvider = null)
        : this(connection, new PinState(connection.Fingerprint), options, logger, timeProvider)
    {
    }

    /// <summary>Uses a caller's HttpClient (e.g. from IHttpClientFactory with <see cref="CreateHandler"/> as primary handler). The connection's Timeout applies per request, so give the HttpClient an infinite or longer one.</summary>
    public ProxmoxClient(ProxmoxConnection connection, HttpClient httpClient, ProxmoxOptions? options = null, ILogger<ProxmoxClient>? logger = null, TimeProvider? timeProvider = null)
    {
        _connection = connection;
        _http = httpClient;
        _ownsHttp = false;
        _options = options ?? new ProxmoxOptions();
        _logger = logger ?? (ILogger)NullLogger.Instance;
        _time = timeProvider ?? TimeProvider.System;
        _apiBase = ApiBase(connection);
    }

    private ProxmoxClient(ProxmoxConnection connection, PinState pin, ProxmoxOptions? options, ILogger<ProxmoxClient>? logger, TimeProvider? timeProvider)
        : this(connection, new HttpClient(CreateHandler(connection, pin), disposeHandler: true) { Timeout = System.Threading.Timeout.InfiniteTimeSpan }, options, logger, timeProvider)
    {
        _ownsHttp = true;
        _pin = pin;
    }

    /// <summary>A handler that applies the connection's TLS policy: pinned fingerprint, else CA validation unless Insecure.</summary>
    public static SocketsHttpHandler CreateHandler(ProxmoxConnection connection) => CreateHandler(connection, new PinState(connection.Fingerprint));

    private static SocketsHttpHandler CreateHandler(ProxmoxConnection connection, PinState pin) => new()
    {
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        ConnectTimeout = connection.Timeout,
        SslOptions = new SslClientAuthenticationOptions
        {
            RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
            {
                if (pin.Expected is not null)
                {
                    // A pin replaces CA trust entirely: PVE nodes usually present a cluster-CA or self-signed certificate.
                    var actual = certificate is null ? "" : Convert.ToHexString(SHA256.HashData(certificate.GetRawCertData()));
                    pin.LastSeen = actual;
                    return CryptographicOperations.FixedTimeEquals(Convert.FromHexString(pin.Expected), certificate is null ? [] : Convert.FromHexString(actual));
                }

                return connection.Insecure || errors == SslPolicyErrors.None;
            },
        },
    };

    public ProxmoxConnection Connection => _connection;

    public void Dispose()
    {
        if (_ownsHttp)
        {
            _http.Dispose();
        }
    }

    // ---- cluster and nodes ----

    public Task<ProxmoxVersion> GetVersionAsync(CancellationToken ct = default) => GetAsync<ProxmoxVersion>("version", null, ct);

    public Task<IReadOnlyList<ProxmoxNode>> GetNodesAsync(CancellationToken ct = default) => GetAsync<IReadOnlyList<ProxmoxNode>>("nodes", null, ct);

    public Task<ProxmoxNodeStatus> GetNodeStatusAsync(string node, CancellationToken ct = default) =>
        GetAsync<ProxmoxNodeStatus>($"nodes/{Seg(node)}/status", null, ct);

    public Task<IReadOnlyList<ProxmoxClusterStatusEntry>> GetClusterStatusAsync(CancellationToken ct = default) =>
        GetAsync<IReadOnlyList<ProxmoxClusterStatusEntry>>("cluster/status", null, ct);

    public Task<IReadOnlyList<ProxmoxClusterResource>> GetClusterResourcesAsync(ProxmoxResourceType? type = null, CancellationToken ct = default) =>
        GetAsync<IReadOnlyList<ProxmoxClusterResource>>("cluster/resources", Query(("type", type?.ToString().ToLowerInvariant())), ct);

    /// <summary>Lowest free VMID, or <paramref name="vmid"/> back if it is free (a used one gives <see cref="ProxmoxParameterException"/>). Only a hint: creates can still race.</summary>
    public Task<int> GetNextIdAsync(int? vmid = null, CancellationToken ct = default) =>
        GetAsync<int>("cluster/nextid", Query(("vmid", Str(vmid))), ct);

    public Task<IReadOnlyList<ProxmoxRrdPoint>> GetNodeRrdDataAsync(string node, ProxmoxRrdTimeframe timeframe, ProxmoxRrdConsolidation cf = ProxmoxRrdConsolidation.Average, CancellationToken ct = default) =>
        GetRrdAsync($"nodes/{Seg(node)}/rrddata", timeframe, cf, ct);

    // ---- storage ----

    public Task<IReadOnlyList<ProxmoxStorage>> GetStoragesAsync(string node, string? content = null, CancellationToken ct = default) =>
        GetAsync<IReadOnlyList<ProxmoxStorage>>($"nodes/{Seg(node)}/storage", Query(("content", content)), ct);

    public Task<IReadOnlyList<ProxmoxStorageVolume>> GetStorageContentAsync(string node, string storage, string? content = null, int? vmid = null, CancellationToken ct = default) =>
        GetAsync<IReadOnlyList<ProxmoxStorageVolume>>($"nodes/{Seg(node)}/storage/{Seg(storage)}/content", Query(("content", content), ("vmid", Str(vmid))), ct);

    // ---- containers ----

    public Task<IReadOnlyList<ProxmoxContainerStatus>> GetContainersAsync(string node, CancellationToken ct = default) =>
        GetAsync<IReadOnlyList<ProxmoxContainerStatus>>($"nodes/{Seg(node)}/lxc", null, ct);

    /// <summary>The VMID is reserved before this returns: a taken id fails here with <see cref="ProxmoxVmidInUseException"/>.</summary>
    public Task<Upid> CreateContainerAsync(string node, ProxmoxContainerCreate parameters, CancellationToken ct = default) =>
        TaskAsync(HttpMethod.Post, $"nodes/{Seg(node)}/lxc", parameters.ToForm(), ct);

    public Task<Upid> CloneContainerAsync(string node, int vmid, ProxmoxContainerClone parameters, CancellationToken ct = default) =>
        TaskAsync(HttpMethod.Post, $"{Ct(node, vmid)}/clone", parameters.ToForm(), ct);

    public Task<ProxmoxContainerStatus> GetContainerStatusAsync(string node, int vmid, CancellationToken ct = default) =>
        GetAsync<ProxmoxContainerStatus>($"{Ct(node, vmid)}/status/current", null, ct);

    public Task<Upid> StartContainerAsync(string node, int vmid, CancellationToken ct = default) =>
        TaskAsync(HttpMethod.Post, $"{Ct(node, vmid)}/status/start", [], ct);

    /// <summary>Hard stop, like pulling the plug.</summary>
    public Task<Upid> StopContainerAsync(string node, int vmid, CancellationToken ct = default) =>
        TaskAsync(HttpMethod.Post, $"{Ct(node, vmid)}/status/stop", [], ct);

    /// <summary>Clean shutdown; <paramref name="timeout"/> defaults to PVE's 60 s, after which <paramref name="forceStop"/> kills it.</summary>
    public Task<Upid> ShutdownContainerAsync(string node, int vmid, TimeSpan? timeout = null, bool forceStop = false, CancellationToken ct = default)
    {
        var form = new ProxmoxForm();
        form.Add("timeout", timeout is null ? null : (int)timeout.Value.TotalSeconds);
        form.Add("forceStop", forceStop ? true : null);
        return TaskAsync(HttpMethod.Post, $"{Ct(node, vmid)}/status/shutdown", form, ct);
    }

    public async Task<ProxmoxContainerConfig> GetContainerConfigAsync(string node, int vmid, CancellationToken ct = default) =>
        ProxmoxContainerConfig.From(await SendAsync(HttpMethod.Get, $"{Ct(node, vmid)}/config", null, null, ct));

    public async Task UpdateContainerConfigAsync(string node, int vmid, ProxmoxContainerConfigUpdate update, CancellationToken ct = default) =>
        await SendAsync(HttpMethod.Put, $"{Ct(node, vmid)}/config", null, update.ToForm(), ct);

    /// <summary>Grows <paramref name="disk"/> (`rootfs`, `mp0`, ...) to <paramref name="size"/>: `+2G` relative or `16G` absolute. Shrinking fails in the task.</summary>
    public Task<Upid> ResizeContainerDiskAsync(string node, int vmid, string disk, string size, string? digest = null, CancellationToken ct = default)
    {
        var form = new ProxmoxForm();
        form.Add("disk", disk);
        form.Add("size", size);
        form.Add("digest", digest);
        return TaskAsync(HttpMethod.Put, $"{Ct(node, vmid)}/resize", form, ct);
    }

    /// <summary>A running container needs <paramref name="restart"/>; PVE has no LXC live migration.</summary>
    public Task<Upid> MigrateContainerAsync(string node, int vmid, string targetNode, bool restart, CancellationToken ct = default)
    {
        var form = new ProxmoxForm();
        form.Add("target", targetNode);
        form.Add("restart", restart ? true : null);
        return TaskAsync(HttpMethod.Post, $"{Ct(node, vmid)}/migrate", form, ct);
    }

    /// <summary>Destroys the container; a running one needs <paramref name="force"/>.</summary>
    public Task<Upid> DeleteContainerAsync(string node, int vmid, bool purge = true, bool force = false, bool destroyUnreferencedDisks = true, CancellationToken ct = default) =>
        TaskAsync(HttpMethod.Delete, Ct(node, vmid), Query(("purge", Bool(purge)), ("force", Bool(force)), ("destroy-unreferenced-disks", Bool(destroyUnreferencedDisks))), ct);

    public Task<IReadOnlyList<ProxmoxRrdPoint>> GetContainerRrdDataAsync(string node, int vmid, ProxmoxRrdTimeframe timeframe, ProxmoxRrdConsolidation cf = ProxmoxRrdConsolidation.Average, CancellationToken ct = default) =>
        GetRrdAsync($"{Ct(node, vmid)}/rrddata", timeframe, cf, ct);

    public Task<Upid> BackupAsync(string node, ProxmoxBackupRequest request, CancellationToken ct = default) =>
        TaskAsync(HttpMethod.Post, $"nodes/{Seg(node)}/vzdump", request.ToForm(), ct);

    // ---- tasks ----

    /// <summary>A node's tasks, newest first; <paramref name="source"/> is <c>archive</c> (finished, the default), <c>active</c> or <c>all</c>.</summary>
    public Task<IReadOnlyList<ProxmoxTaskListEntry>> GetTasksAsync(string node, int? vmid = null, string? typeFilter = null, string? source = null, CancellationToken ct = default) =>
        GetAsync<IReadOnlyList<ProxmoxTaskListEntry>>($"nodes/{Seg(node)}/tasks", Query(("vmid", Str(vmid)), ("typefilter", typeFilter), ("source", source)), ct);

    public Task<ProxmoxTaskStatus> GetTaskStatusAsync(Upid upid, CancellationToken ct = default) =>
        GetAsync<ProxmoxTaskStatus>($"{TaskPath(upid)}/status", null, ct);

    public async Task<ProxmoxTaskLog> GetTaskLogAsync(Upid upid, int start = 0, int limit = 50, CancellationToken ct = default)
    {
        var (data, total) = await SendWithTotalAsync(HttpMethod.Get, $"{TaskPath(upid)}/log", Query(("start", Str(start)), ("limit", Str(limit))), null, ct);
        var lines = data.Deserialize<List<ProxmoxTaskLogLine>>(ProxmoxJson.Options) ?? [];
        return new ProxmoxTaskLog(lines, total ?? lines.Count);
    }

    /// <summary>Aborts a running task (DELETE .../tasks/{upid}); PVE ends it with `interrupted by signal`.</summary>
    public async Task StopTaskAsync(Upid upid, CancellationToken ct = default) =>
        await SendAsync(HttpMethod.Delete, TaskPath(upid), null, null, ct);

    /// <summary>
    /// Polls the task on the node named in its UPID, backing off from <paramref name="pollInterval"/> to
    /// <paramref name="maxPollInterval"/> (defaults from <see cref="ProxmoxOptions"/>). Returns on `OK` or `WARNINGS: n`;
    /// throws <see cref="ProxmoxTaskFailedException"/> with the log tail otherwise, and
    /// <see cref="ProxmoxTaskTimeoutException"/> when still running at <paramref name="timeout"/>.
    /// </summary>
    public async Task<ProxmoxTaskStatus> WaitForTaskAsync(Upid upid, TimeSpan? timeout = null, TimeSpan? pollInterval = null, TimeSpan? maxPollInterval = null, CancellationToken ct = default)
    {
        var deadline = timeout ?? _options.TaskDeadline;
        var delay = pollInterval ?? _options.TaskPollInterval;
        var ceiling = maxPollInterval ?? (delay > _options.MaxTaskPollInterval ? delay : _options.MaxTaskPollInterval);
        var started = _time.GetTimestamp();
        while (true)
        {
            var status = await GetTaskStatusAsync(upid, ct);
            if (!status.IsRunning)
            {
                if (status.IsSuccess)
                {
                    return status;
                }

                var exit = status.ExitStatus ?? "unexpected status";
                var tail = await LogTailAsync(upid, ct);
                _logger.LogWarning("Proxmox task {Upid} failed on {Node}: {ExitStatus}", upid, upid.Node, exit);
                throw new ProxmoxTaskFailedException(upid, exit, tail);
            }

            var elapsed = _time.GetElapsedTime(started);
            if (elapsed >= deadline)
            {
                _logger.LogWarning("Proxmox task {Upid} still running after {Elapsed}", upid, elapsed);
                throw new ProxmoxTaskTimeoutException(upid, elapsed);
            }

            await Task.Delay(delay < deadline - elapsed ? delay : deadline - elapsed, _time, ct);
            delay = TimeSpan.FromTicks(Math.Min(ceiling.Ticks, (long)(delay.Ticks * 1.5)));
        }
    }

    private async Task<IReadOnlyList<string>> LogTailAsync(Upid upid, CancellationToken ct)
    {
        try
        {
            var first = await GetTaskLogAsync(upid, 0, 50, ct);
            var lines = first.Total > first.Lines.Count
                ? (await GetTaskLogAsync(upid, Math.Max(0, first.Total - LogTailLines), LogTailLines, ct)).Lines
                : first.Lines;
            return lines.Select(l => l.T).TakeLast(LogTailLines).ToList();
        }
        catch (Exception ex) when (ex is ProxmoxApiException or ProxmoxUnreachableException)
        {
            // The failure itself is what matters; a missing log must not replace it.
            _logger.LogWarning(ex, "Could not read the log of failed Proxmox task {Upid}", upid);
            return [];
        }
    }

    // ---- transport ----

    private static Uri ApiBase(ProxmoxConnection connection)
    {
        var b = new UriBuilder(connection.BaseUrl) { Path = connection.BaseUrl.AbsolutePath.TrimEnd('/') + "/api2/json/", Query = "" };
        return b.Uri;
    }

    private static string Seg(string value) => Uri.EscapeDataString(value);

    private static string Ct(string node, int vmid) => $"nodes/{Seg(node)}/lxc/{vmid.ToString(CultureInfo.InvariantCulture)}";

    private static string TaskPath(Upid upid) => $"nodes/{Seg(upid.Node)}/tasks/{Seg(upid.ToString())}";

    private static string? Str(int? value) => value?.ToString(CultureInfo.InvariantCulture);

    private static string Bool(bool value) => value ? "1" : "0";

    private static List<KeyValuePair<string, string>> Query(params (string Key, string? Value)[] items) =>
        items.Where(i => i.Value is not null).Select(i => new KeyValuePair<string, string>(i.Key, i.Value!)).ToList();

    private async Task<IReadOnlyList<ProxmoxRrdPoint>> GetRrdAsync(string path, ProxmoxRrdTimeframe timeframe, ProxmoxRrdConsolidation cf, CancellationToken ct)
    {
        var data = await SendAsync(HttpMethod.Get, path, Query(("timeframe", timeframe.ToString().ToLowerInvariant()), ("cf", cf.ToString().ToUpperInvariant())), null, ct);
        var points = new List<ProxmoxRrdPoint>();
        foreach (var item in data.EnumerateArray())
        {
            long time = 0;
            var values = new Dictionary<string, double>(StringComparer.Ordinal);
            foreach (var p in item.EnumerateObject())
            {
                var number = p.Value.ValueKind switch
                {
                    JsonValueKind.Number => p.Value.GetDouble(),
                    JsonValueKind.String when double.TryParse(p.Value.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) => d,
                    _ => (double?)null,
                };
                if (p.Name == "time" && number is { } t)
                {
                    time = (long)t;
                }
                else if (number is { } v)
                {
                    values[p.Name] = v;
                }
            }

            points.Add(new ProxmoxRrdPoint(time, values));
        }

        return points;
    }

    private async Task<T> GetAsync<T>(string path, List<KeyValuePair<string, string>>? query, CancellationToken ct)
    {
        var data = await SendAsync(HttpMethod.Get, path, query, null, ct);
        return data.Deserialize<T>(ProxmoxJson.Options) ?? throw new JsonException($"Proxmox GET {path} returned null data");
    }

    private async Task<Upid> TaskAsync(HttpMethod method, string path, IEnumerable<KeyValuePair<string, string>> parameters, CancellationToken ct)
    {
        var isBodyless = method == HttpMethod.Delete;
        var data = await SendAsync(method, path, isBodyless ? parameters.ToList() : null, isBodyless ? null : parameters, ct);
        var text = data.ValueKind == JsonValueKind.String ? data.GetString() : null;
        var upid = Upid.TryParse(text, out var parsed) ? parsed : throw new JsonException($"Proxmox {method} {path} returned '{data}' instead of a UPID");
        _logger.LogInformation("Proxmox {Method} {Path} started task {Upid}", method, path, upid);
        return upid;
    }

    private async Task<JsonElement> SendAsync(HttpMethod method, string path, List<KeyValuePair<string, string>>? query, IEnumerable<KeyValuePair<string, string>>? form, CancellationToken ct) =>
        (await SendWithTotalAsync(method, path, query, form, ct)).Data;

    private async Task<(JsonElement Data, int? Total)> SendWithTotalAsync(HttpMethod method, string path, List<KeyValuePair<string, string>>? query, IEnumerable<KeyValuePair<string, string>>? form, CancellationToken ct)
    {
        var queryString = query is { Count: > 0 } ? "?" + string.Join('&', query.Select(kv => $"{Uri.EscapeDataString(kv.Key)}={Uri.EscapeDataString(kv.Value)}")) : "";
        var uri = new Uri(_apiBase, path + queryString);
        var formItems = form?.ToList();

        // A new message per attempt: HttpClient sends a message only once.
        async Task<HttpResponseMessage> SendOnceAsync(CancellationToken token)
        {
            using var request = new HttpRequestMessage(method, uri);
            request.Headers.TryAddWithoutValidation("Authorization", $"PVEAPIToken={_connection.TokenId}={_connection.TokenSecret}");
            if (formItems is not null)
            {
                request.Content = new FormUrlEncodedContent(formItems);
            }

            return await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, token);
        }

        var apiPath = "/" + path;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(_connection.Timeout);
        string body;
        HttpResponseMessage response;
        try
        {
            response = await HttpResilience.SendAsync(_apiBase, _options.Resilience, idempotentRead: method == HttpMethod.Get, SendOnceAsync, timeout.Token);
            body = await response.Content.ReadAsStringAsync(timeout.Token);
        }
        catch (BrokenCircuitException ex)
        {
            _logger.LogWarning("Proxmox {Method} {Path} not sent: the circuit of {BaseUrl} is open", method, apiPath, _connection.BaseUrl);
            throw new ProxmoxCircuitOpenException(_connection.BaseUrl, method.Method, apiPath, ex);
        }
        catch (TimeoutRejectedException ex)
        {
            _logger.LogWarning("Proxmox {Method} {Path} timed out after {Timeout}", method, apiPath, ex.Timeout);
            throw new ProxmoxUnreachableException(ProxmoxUnreachableReason.Timeout, $"Proxmox {method} {apiPath} got no answer within {ex.Timeout}; it may or may not have taken effect", ex);
        }
        catch (OperationCanceledException ex) when (!ct.IsCancellationRequested)
        {
            _logger.LogWarning("Proxmox {Method} {Path} timed out after {Timeout}", method, apiPath, _connection.Timeout);
            throw new ProxmoxUnreachableException(ProxmoxUnreachableReason.Timeout, $"Proxmox {method} {apiPath} got no answer within {_connection.Timeout}; it may or may not have taken effect", ex);
        }
        catch (HttpRequestException ex)
        {
            throw Unreachable(method, apiPath, ex);
        }

        using (response)
        {
            using var document = TryParse(body);
            var root = document?.RootElement ?? default;
            var isJson = root.ValueKind == JsonValueKind.Object;

            if (!response.IsSuccessStatusCode)
            {
                var message = isJson && root.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String
                    ? m.GetString()!.TrimEnd('\n')
                    : response.ReasonPhrase ?? ((int)response.StatusCode).ToString(CultureInfo.InvariantCulture);
                Dictionary<string, string>? errors = null;
                if (isJson && root.TryGetProperty("errors", out var e) && e.ValueKind == JsonValueKind.Object)
                {
                    errors = e.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()!.TrimEnd('\n') : p.Value.GetRawText());
                }

                _logger.LogWarning("Proxmox {Method} {Path} failed with {Status}: {ProxmoxMessage}", method, apiPath, (int)response.StatusCode, message);
                throw ProxmoxErrors.Create(response.StatusCode, message, errors, method.Method, apiPath);
            }

            if (!isJson || !root.TryGetProperty("data", out var data))
            {
                throw new ProxmoxUnreachableException(ProxmoxUnreachableReason.Connection, $"Proxmox {method} {apiPath} answered {(int)response.StatusCode} without a JSON data envelope", null);
            }

            int? total = root.TryGetProperty("total", out var t) && t.TryGetInt32(out var n) ? n : null;
            _logger.LogDebug("Proxmox {Method} {Path} answered {Status}", method, apiPath, (int)response.StatusCode);
            return (data.Clone(), total);
        }
    }

    private static JsonDocument? TryParse(string body)
    {
        try
        {
            return body.Length > 0 ? JsonDocument.Parse(body) : null;
        }
        catch (JsonException)
        {
            // 595 answers and proxies in front of PVE may send an empty or HTML body; the status line still tells.
            return null;
        }
    }

    private ProxmoxUnreachableException Unreachable(HttpMethod method, string apiPath, HttpRequestException ex)
    {
        var tls = FindInner<AuthenticationException>(ex);
        if (tls is not null && _connection.Fingerprint is { } expected)
        {
            var actual = _pin?.LastSeen ?? "unknown";
            _logger.LogError("Proxmox server {BaseUrl} presented certificate {Actual}, pinned {Expected}", _connection.BaseUrl, actual, expected);
            return new ProxmoxCertificatePinMismatchException(expected, actual, ex);
        }

        var reason = tls is not null ? ProxmoxUnreachableReason.Tls : ProxmoxUnreachableReason.Connection;
        _logger.LogWarning(ex, "Proxmox {Method} {Path} unreachable ({Reason})", method, apiPath, reason);
        return new ProxmoxUnreachableException(reason, $"Proxmox {method} {apiPath} at {_connection.BaseUrl} unreachable: {ex.Message}", ex);
    }

    private static T? FindInner<T>(Exception ex)
        where T : Exception
    {
        for (Exception? e = ex; e is not null; e = e.InnerException)
        {
            if (e is T match)
            {
                return match;
            }
        }

        return null;
    }

    private sealed class PinState(string? expected)
    {
        private string? _lastSeen;

        public string? Expected { get; } = expected;

        /// <summary>The fingerprint of the last certificate checked, for the mismatch report; handshakes run on pool threads.</summary>
        public string? LastSeen
        {
            get => Volatile.Read(ref _lastSeen);
            set => Volatile.Write(ref _lastSeen, value);
        }
    }
}
