using Npgsql;
using Orleans.Concurrency;
using Sajet.Grains.Interfaces.Mail;

namespace Sajet.Grains.Mail;

/// <summary>Enqueues account mail in its own transaction; stateless, so any silo answers at once.</summary>
[StatelessWorker]
public sealed class AccountMailGrain(NpgsqlDataSource db) : Grain, IAccountMailGrain
{
    public async Task SendPasswordResetAsync(Guid mailId, string email, string link, int validMinutes)
    {
        await using var conn = await db.OpenConnectionAsync();
        await using var tx = await conn.BeginTransactionAsync();
        await MailOutbox.EnqueueAsync(conn, tx, mailId, MailTemplates.PasswordResetMail(link, validMinutes), [email], null, CancellationToken.None);
        await tx.CommitAsync();
    }
}
