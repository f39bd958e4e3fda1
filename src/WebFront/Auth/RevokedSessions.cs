using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Sajet.WebFront.Auth;

/// <summary>
/// The sessions ended while their access tokens could still be valid, known to every web front instance: an ended
/// session's access token is refused at once everywhere, not when it expires (up to 15 minutes later). Each instance
/// keeps the set in memory, filled from refresh_tokens when it (re)connects and kept current by the notification
/// Sessions sends in the transaction that revokes. Notifications are not lost while the LISTEN connection lives, and a
/// new connection reads the set again, so the slow re-read only forgets sessions whose tokens have all expired: an
/// idle instance costs PostgreSQL one read per ten minutes (IdleCostTests counts every transaction).
/// </summary>
public sealed class RevokedSessions(NpgsqlDataSource db, IOptions<AuthOptions> options, ILogger<RevokedSessions> logger) : BackgroundService
{
    public const string Channel = "sajet_sessions";

    private static readonly TimeSpan Poll = TimeSpan.FromMinutes(10);

    // Families revoked recently enough that one of their access tokens may still be unexpired.
    private const string RecentSql = """
        SELECT DISTINCT family_id FROM refresh_tokens
        WHERE revoked_at > now() - make_interval(secs => @seconds)
        """;

    private volatile HashSet<Guid> _revoked = [];
    private readonly Lock _gate = new();

    public bool IsRevoked(Guid sessionId) => _revoked.Contains(sessionId);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var conn = await db.OpenConnectionAsync(stoppingToken);
                conn.Notification += (_, e) =>
                {
                    if (Guid.TryParse(e.Payload, out var id))
                    {
                        Add(id);
                    }
                };
                await using (var listen = new NpgsqlCommand($"LISTEN {Channel}", conn))
                {
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                }

                failures = 0;
                while (!stoppingToken.IsCancellationRequested)
                {
                    // Listening first, then reading: a revocation between the two is in the read or in a notification.
                    await ReloadAsync(stoppingToken);
                    // Notifications until the re-read's turn. The timeout overload leaves the connection usable; a
                    // cancelled wait may not.
                    var until = DateTime.UtcNow + Poll;
                    for (var left = Poll; left > TimeSpan.Zero; left = until - DateTime.UtcNow)
                    {
                        await conn.WaitAsync((int)Math.Ceiling(left.TotalMilliseconds), stoppingToken);
                    }
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                failures++;
                logger.LogWarning("Session revocations lost their LISTEN connection ({Failures} in a row): {Error}", failures, ex.Message);
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(5000, 200 * failures)), stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }
    }

    private async Task ReloadAsync(CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        // One access-token lifetime and a minute for clock skew between the database and the token's issuer.
        var seconds = (options.Value.AccessTokenLifetime + TimeSpan.FromMinutes(1)).TotalSeconds;
        var ids = (await conn.QueryAsync<Guid>(new CommandDefinition(RecentSql, new { seconds }, cancellationToken: ct))).ToHashSet();
        // Notifications are handled only while the listening connection waits, after this read: none is overwritten.
        lock (_gate)
        {
            _revoked = ids;
        }
    }

    private void Add(Guid id)
    {
        lock (_gate)
        {
            _revoked = [.. _revoked, id];
        }
    }
}
