using Microsoft.Extensions.Logging;
using Npgsql;

namespace Sajet.Runtime;

/// <summary>
/// Wakes silos after high-volume senders commit (the Stripe webhook), coalescing wake-ups into at most one NOTIFY per
/// short window. A NOTIFY inside the sender's own transaction would serialise every commit on PostgreSQL's notify
/// queue lock; sent afterwards and coalesced, it costs one small transaction per burst. If it is ever lost, the silos'
/// poll finds the work anyway.
/// </summary>
public sealed class SiloWaker(NpgsqlDataSource db, ILogger<SiloWaker> logger)
{
    private static readonly TimeSpan Window = TimeSpan.FromMilliseconds(10);
    private int _scheduled;

    public void Wake()
    {
        if (Interlocked.Exchange(ref _scheduled, 1) == 0)
        {
            _ = Task.Run(SendAsync);
        }
    }

    private async Task SendAsync()
    {
        await Task.Delay(Window);
        Interlocked.Exchange(ref _scheduled, 0);
        try
        {
            await using var cmd = db.CreateCommand($"SELECT pg_notify('{GrainRuntime.RemindersChannel}', '')");
            await cmd.ExecuteNonQueryAsync();
        }
        catch (Exception ex)
        {
            logger.LogDebug("Could not wake the silos ({Error}); their poll will find the work", ex.Message);
        }
    }
}
