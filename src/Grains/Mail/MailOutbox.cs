using System.Security.Cryptography;
using System.Text;
using Npgsql;
using NpgsqlTypes;

namespace Sajet.Grains.Mail;

/// <summary>A claimed row: the mail to send and the claim that must still hold the lease to finish it.</summary>
public sealed record ClaimedMail(Guid Id, Guid Claim, string MessageId, string[] To, string Subject, string Text, string Html, DateTimeOffset CreatedAt, int Attempts);

/// <summary>
/// The one owner of <c>mail_outbox</c> (sql/0016_mail.sql). Writers enqueue inside the transaction of whatever caused the
/// mail, under an id derived from that cause, so writing the same cause twice (a projection repeated after a crash)
/// enqueues one mail. The silos' <see cref="MailSender"/> claims, finishes and reschedules rows here.
/// </summary>
public static class MailOutbox
{
    /// <summary>The senders LISTEN here; a new row NOTIFYs it on commit, so mail leaves at once and idle silos poll seldom.</summary>
    public const string Channel = Interfaces.Mail.MailSettings.Channel;

    // The NOTIFY only when a row was written: mail is rare next to the transitions that carry it, so the notify queue's
    // lock is taken by few commits.
    private const string InsertSql = $"""
        WITH written AS (
            INSERT INTO mail_outbox (id, template, tenant_id, to_addresses, subject, body_text, body_html)
            VALUES (@id, @template, @tenant, @to, @subject, @text, @html)
            ON CONFLICT (id) DO NOTHING
            RETURNING 1)
        SELECT pg_notify('{Channel}', '') FROM written
        """;

    // Operators are the admin accounts whose login is an address (the first admin's may be a plain name). With none,
    // there is no one to write to and nothing is enqueued.
    private const string InsertToAdminsSql = $"""
        WITH written AS (
            INSERT INTO mail_outbox (id, template, tenant_id, to_addresses, subject, body_text, body_html)
            SELECT @id, @template, @tenant, admins.to, @subject, @text, @html
            FROM (SELECT ARRAY(SELECT email FROM users WHERE role = 'admin' AND email LIKE '_%@_%' ORDER BY id LIMIT 50) AS to) admins
            WHERE cardinality(admins.to) > 0
            ON CONFLICT (id) DO NOTHING
            RETURNING 1)
        SELECT pg_notify('{Channel}', '') FROM written
        """;

    // One statement: the due rows no other silo holds (SKIP LOCKED), leased to this claim by moving run_at forward.
    private const string ClaimSql = """
        UPDATE mail_outbox m SET run_at = now() + @lease, attempts = m.attempts + 1, claim = @claim
        FROM (SELECT id FROM mail_outbox WHERE status = 'pending' AND run_at <= now() ORDER BY run_at, id LIMIT @limit FOR UPDATE SKIP LOCKED) due
        WHERE m.id = due.id
        RETURNING m.id, m.message_id, m.to_addresses, m.subject, m.body_text, m.body_html, m.created_at, m.attempts
        """;

    // Guarded by the claim: a sender whose lease ran out while it waited on the server finishes nothing of another's.
    private const string SentSql = """
        UPDATE mail_outbox SET status = 'sent', sent_at = now(), claim = NULL WHERE id = @id AND claim = @claim
        """;

    // Claimed while no server is configured: handed back as it was, no attempt spent.
    private const string ReleaseSql = """
        UPDATE mail_outbox SET run_at = now() + @delay, attempts = attempts - 1, claim = NULL WHERE id = ANY(@ids) AND claim = @claim
        """;

    private const string FailedSql = """
        UPDATE mail_outbox SET status = CASE WHEN @give_up THEN 'dead' ELSE 'pending' END,
            run_at = now() + @delay, claim = NULL, last_error = @error
        WHERE id = @id AND claim = @claim
        """;

    /// <summary>
    /// A UUID (version 8, RFC 9562) derived from <paramref name="cause"/>: the same cause always names the same mail,
    /// and the Message-Id is derived from it in turn.
    /// </summary>
    public static Guid StableId(string cause)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes("sajet-mail/" + cause), hash);
        var bytes = hash[..16];
        bytes[6] = (byte)((bytes[6] & 0x0F) | 0x80);
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
        return new Guid(bytes, bigEndian: true);
    }

    /// <summary>Enqueues a mail to <paramref name="to"/> in the caller's transaction; nothing when this id exists already.</summary>
    public static async Task EnqueueAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid id, MailContent mail, IReadOnlyList<string> to, string? tenantId, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(InsertSql, conn, tx);
        Fill(cmd, id, mail, tenantId);
        cmd.Parameters.Add(new NpgsqlParameter("to", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = to.ToArray() });
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Enqueues a mail to every operator in the caller's transaction.</summary>
    public static async Task EnqueueToAdminsAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid id, MailContent mail, string? tenantId, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(InsertToAdminsSql, conn, tx);
        Fill(cmd, id, mail, tenantId);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    private static void Fill(NpgsqlCommand cmd, Guid id, MailContent mail, string? tenantId)
    {
        cmd.Parameters.AddWithValue("id", id);
        cmd.Parameters.AddWithValue("template", mail.Template);
        cmd.Parameters.Add(new NpgsqlParameter("tenant", NpgsqlDbType.Text) { Value = (object?)tenantId ?? DBNull.Value });
        cmd.Parameters.AddWithValue("subject", mail.Subject);
        cmd.Parameters.AddWithValue("text", mail.Text);
        cmd.Parameters.AddWithValue("html", mail.Html);
    }

    public static async Task<List<ClaimedMail>> ClaimAsync(NpgsqlDataSource db, int limit, TimeSpan lease, CancellationToken ct)
    {
        var claim = Guid.NewGuid();
        await using var cmd = db.CreateCommand(ClaimSql);
        cmd.Parameters.AddWithValue("lease", lease);
        cmd.Parameters.AddWithValue("limit", limit);
        cmd.Parameters.AddWithValue("claim", claim);
        var claimed = new List<ClaimedMail>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            claimed.Add(new ClaimedMail(r.GetGuid(0), claim, r.GetString(1), r.GetFieldValue<string[]>(2), r.GetString(3), r.GetString(4), r.GetString(5),
                r.GetFieldValue<DateTimeOffset>(6), r.GetInt32(7)));
        }

        return claimed;
    }

    /// <summary>Marks the mail sent; false when this claim had lost its lease (another silo has the row now).</summary>
    public static async Task<bool> SentAsync(NpgsqlDataSource db, ClaimedMail mail, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand(SentSql);
        cmd.Parameters.AddWithValue("id", mail.Id);
        cmd.Parameters.AddWithValue("claim", mail.Claim);
        return await cmd.ExecuteNonQueryAsync(ct) == 1;
    }

    public static async Task ReleaseAsync(NpgsqlDataSource db, IReadOnlyList<ClaimedMail> mails, TimeSpan delay, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand(ReleaseSql);
        cmd.Parameters.AddWithValue("ids", mails.Select(m => m.Id).ToArray());
        cmd.Parameters.AddWithValue("claim", mails[0].Claim);
        cmd.Parameters.AddWithValue("delay", delay);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Records a failed attempt: due again after <paramref name="delay"/>, or given up for good.</summary>
    public static async Task FailedAsync(NpgsqlDataSource db, ClaimedMail mail, string error, TimeSpan delay, bool giveUp, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand(FailedSql);
        cmd.Parameters.AddWithValue("id", mail.Id);
        cmd.Parameters.AddWithValue("claim", mail.Claim);
        cmd.Parameters.AddWithValue("delay", delay);
        cmd.Parameters.AddWithValue("give_up", giveUp);
        cmd.Parameters.AddWithValue("error", error.Length > 1000 ? error[..1000] : error);
        await cmd.ExecuteNonQueryAsync(ct);
    }
}
