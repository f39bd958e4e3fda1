using Npgsql;

namespace Sajet.WebFront.Hosting;

/// <summary>
/// A web front's LISTEN connection to PostgreSQL: listens on <see cref="Channels"/>, hands every notification to
/// <see cref="OnNotification"/>, and reconnects with a growing pause when the connection is lost (PostgreSQL restarted,
/// network gone). <see cref="OnListeningAsync"/> runs once listening on every (re)connection, so whatever was missed
/// while disconnected can be read again, and then every <see cref="RefreshPeriod"/> when one is set.
/// </summary>
public abstract class NotificationListener(NpgsqlDataSource db, ILogger logger) : BackgroundService
{
    protected NpgsqlDataSource Db => db;

    /// <summary>The channels to LISTEN on, separated by spaces.</summary>
    protected abstract string Channels { get; }

    /// <summary>What listens, for the log line of a lost connection.</summary>
    protected abstract string Name { get; }

    protected virtual TimeSpan? RefreshPeriod => null;

    /// <summary>Called while the connection is being read, one notification at a time.</summary>
    protected abstract void OnNotification(string channel, string payload);

    protected virtual Task OnListeningAsync(CancellationToken ct) => Task.CompletedTask;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var conn = await db.OpenConnectionAsync(stoppingToken);
                conn.Notification += (_, e) => OnNotification(e.Channel, e.Payload);
                await using (var listen = new NpgsqlCommand(string.Join("; ", Channels.Split(' ').Select(c => $"LISTEN {c}")), conn))
                {
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                }

                failures = 0;
                // Listening first, then reading: what happens between the two is in the read or in a notification.
                await OnListeningAsync(stoppingToken);
                while (!stoppingToken.IsCancellationRequested)
                {
                    if (RefreshPeriod is not { } period)
                    {
                        await conn.WaitAsync(stoppingToken);
                        continue;
                    }

                    // The timeout overload leaves the connection usable; a cancelled wait may not.
                    var until = DateTime.UtcNow + period;
                    for (var left = period; left > TimeSpan.Zero; left = until - DateTime.UtcNow)
                    {
                        await conn.WaitAsync((int)Math.Ceiling(left.TotalMilliseconds), stoppingToken);
                    }

                    await OnListeningAsync(stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                failures++;
                logger.LogWarning("{Listener} lost its LISTEN connection ({Failures} in a row): {Error}", Name, failures, ex.Message);
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(5000, 200 * failures)), stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }
    }
}
