using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;
using Sajet.WebFront.Hosting;

namespace Sajet.WebFront.Auth;

/// <summary>
/// The sessions ended while their access tokens could still be valid, known to every web front instance: an ended
/// session's access token is refused at once everywhere, not when it expires (up to 15 minutes later). Each instance
/// keeps the set in memory, filled from refresh_tokens when it (re)connects and kept current by the notification
/// Sessions sends in the transaction that revokes. Notifications are not lost while the LISTEN connection lives, and a
/// new connection reads the set again, so the slow re-read only forgets sessions whose tokens have all expired: an
/// idle instance costs PostgreSQL one read per ten minutes (IdleCostTests counts every transaction).
/// </summary>
public sealed class RevokedSessions(NpgsqlDataSource db, IOptions<AuthOptions> options, ILogger<RevokedSessions> logger)
    : NotificationListener(db, logger)
{
    public const string Channel = "sajet_sessions";

    // Families revoked recently enough that one of their access tokens may still be unexpired.
    private const string RecentSql = """
        SELECT DISTINCT family_id FROM refresh_tokens
        WHERE revoked_at > now() - make_interval(secs => @seconds)
        """;

    private volatile HashSet<Guid> _revoked = [];
    private readonly Lock _gate = new();

    public bool IsRevoked(Guid sessionId) => _revoked.Contains(sessionId);

    protected override string Channels => Channel;

    protected override string Name => "Session revocations";

    protected override TimeSpan? RefreshPeriod => TimeSpan.FromMinutes(10);

    protected override void OnNotification(string channel, string payload)
    {
        if (Guid.TryParse(payload, out var id))
        {
            Add(id);
        }
    }

    // On every (re)connection and then every ten minutes (which also forgets sessions whose tokens have all expired).
    protected override Task OnListeningAsync(CancellationToken ct) => ReloadAsync(ct);

    private async Task ReloadAsync(CancellationToken ct)
    {
        await using var conn = await Db.OpenConnectionAsync(ct);
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
