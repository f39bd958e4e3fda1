using Microsoft.Extensions.Logging;
using Npgsql;
using Orleans.Messaging;
using Orleans.Runtime.Membership;

namespace Sajet.Cluster;

/// <summary>
/// A client's gateway list: Orleans' ADO.NET read of the active gateways, repeated as soon as the membership table
/// notifies a silo status change (sql/0009), and otherwise every <see cref="FallbackPeriod"/>. Orleans asks for the
/// list every <c>GatewayListRefreshPeriod</c> (set to <see cref="PollPeriod"/>); between notifications the answer
/// is the cached list, so a frequent ask costs no database round trip.
/// </summary>
/// <remarks>
/// Why: a frozen silo keeps its TCP connections open, and a client drops a gateway only when its list no longer has it.
/// With the list read every 30 s, calls routed through the frozen gateway kept timing out for up to 30 s after the
/// cluster had declared it dead (28 s measured in <c>./sajet bench engine</c>, about half the failover time). One idle
/// LISTEN connection per client replaces a shorter read period, which would have cost a transaction per read (0.1/s at
/// 10 s, a third of the idle budget).
/// </remarks>
internal sealed class NotifiedGatewayListProvider(
    AdoNetGatewayListProvider inner, string connectionString, string clusterId, TimeProvider clock,
    ILogger<NotifiedGatewayListProvider> log) : IGatewayListProvider, IAsyncDisposable
{
    /// <summary>The channel sql/0009's trigger notifies on; the payload is the cluster id.</summary>
    public const string Channel = "orleans_membership";

    /// <summary>How often Orleans asks for the list: the delay between a notification and the client acting on it.</summary>
    public static readonly TimeSpan PollPeriod = TimeSpan.FromSeconds(1);

    /// <summary>
    /// The list is read at least this often, notification or not (a missed one, a LISTEN connection that is down).
    /// Orleans also uses it as the list's staleness bound: a gateway a client failed to reach stays excluded this long.
    /// </summary>
    public static readonly TimeSpan FallbackPeriod = TimeSpan.FromSeconds(30);

    private readonly CancellationTokenSource _stop = new();
    private Task? _listening;
    private IList<Uri>? _cached;
    private DateTimeOffset _readAt;
    // Set by a notification (or a reconnected listener, which may have missed some); cleared before each read, so a
    // notification arriving during the read causes one more.
    private volatile bool _changed = true;

    public TimeSpan MaxStaleness => FallbackPeriod;

    [Obsolete("Orleans no longer reads it; every provider is updatable.")]
    public bool IsUpdatable => true;

    public async Task InitializeGatewayListProvider()
    {
        await inner.InitializeGatewayListProvider();
        _listening ??= ListenAsync(_stop.Token);
    }

    public async Task<IList<Uri>> GetGateways()
    {
        var now = clock.GetUtcNow();
        // An empty list is never served from the cache: a client started before any silo asks again on every
        // connection attempt, as it did before this cache existed.
        if (_cached is { Count: > 0 } cached && !_changed && now - _readAt < FallbackPeriod)
        {
            return cached;
        }

        _changed = false;
        try
        {
            _cached = await inner.GetGateways();
            _readAt = now;
        }
        catch
        {
            _changed = true; // read again at the next ask
            throw;
        }

        return _cached;
    }

    private async Task ListenAsync(CancellationToken ct)
    {
        await Task.Yield();
        var failures = 0;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                // TCP keepalive: a listener whose server went away would otherwise wait forever for a notification.
                // Not Npgsql's KeepAlive, which sends the server a query every interval (seen in pg_stat_activity during
                // the idle-cost test): an idle client should cost PostgreSQL nothing.
                var cs = new NpgsqlConnectionStringBuilder(connectionString) { TcpKeepAlive = true, MaxAutoPrepare = 0 }.ConnectionString;
                await using var conn = new NpgsqlConnection(cs);
                await conn.OpenAsync(ct);
                conn.Notification += (_, e) =>
                {
                    if (e.Payload == clusterId)
                    {
                        _changed = true;
                    }
                };
                await using (var listen = new NpgsqlCommand($"LISTEN {Channel}", conn))
                {
                    await listen.ExecuteNonQueryAsync(ct);
                }

                _changed = true; // whatever changed while nobody listened
                failures = 0;
                while (true)
                {
                    await conn.WaitAsync(ct);
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                failures++;
                var delay = TimeSpan.FromMilliseconds(Math.Min(5000, 200 * failures) + Random.Shared.Next(200));
                log.Log(failures == 1 ? LogLevel.Information : LogLevel.Warning,
                    "Membership notifications unavailable ({Error}); gateways are re-read every {Fallback} until they are back, retrying in {Delay}",
                    ex.Message, FallbackPeriod, delay);
                try
                {
                    await Task.Delay(delay, clock, ct);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_listening is { } listening)
        {
            await listening;
        }

        _stop.Dispose();
    }
}
