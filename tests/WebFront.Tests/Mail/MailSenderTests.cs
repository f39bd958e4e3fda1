namespace Sajet.WebFront.Tests.Mail;

/// <summary>
/// The mail outbox's sender in real silos, over real SMTP to the sink: faults make a mail retried with its Message-Id
/// unchanged, and silos sending side by side never send a row twice.
/// </summary>
public sealed class MailSenderTests
{
    [Fact]
    public async Task SendBatch_ServerRefusesTwiceWith451_DeliveredLaterWithTheSameMessageId()
    {
        await using var h = await MailHarness.StartAsync();
        h.Sink.RejectNext(2, 451);
        var id = Assert.Single(await h.EnqueueAsync("refused", 1));
        await h.StartSiloAsync();

        await h.WaitForSinkAsync(1);
        await Task.Delay(300); // Room for a (wrong) second delivery.
        var received = Assert.Single(h.Sink.Messages);
        Assert.Equal($"<{id}@sajet.mail>", received.MessageId);
        Assert.Equal("Tu servicio vuelve a estar activo", received.Subject);
        await WaitForRowsAsync(h, $"id = '{id}' AND status = 'sent'");
        Assert.Equal(3, await h.Db.ScalarAsync<int>($"SELECT attempts FROM mail_outbox WHERE id = '{id}'"));
        Assert.StartsWith("451", await h.Db.ScalarAsync<string>($"SELECT last_error FROM mail_outbox WHERE id = '{id}'"));
    }

    [Fact]
    public async Task SendBatch_ConnectionDroppedAfterData_ResentWithTheSameMessageId()
    {
        await using var h = await MailHarness.StartAsync();
        h.Sink.DropNext(1);
        var id = Assert.Single(await h.EnqueueAsync("dropped", 1));
        await h.StartSiloAsync();

        await h.WaitForSinkAsync(1);
        var received = Assert.Single(h.Sink.Messages);
        Assert.Equal($"<{id}@sajet.mail>", received.MessageId);
        await WaitForRowsAsync(h, $"id = '{id}' AND status = 'sent'");
        Assert.Equal(2, await h.Db.ScalarAsync<int>($"SELECT attempts FROM mail_outbox WHERE id = '{id}'"));
        Assert.Contains("Conexión perdida", await h.Db.ScalarAsync<string>($"SELECT last_error FROM mail_outbox WHERE id = '{id}'"));
    }

    [Fact]
    public async Task SendBatch_TwoSilosSendingConcurrently_NeverSendARowTwice()
    {
        await using var h = await MailHarness.StartAsync();
        h.Sink.Delay(TimeSpan.FromMilliseconds(5)); // Long enough for both silos to hold claims at once.
        var ids = await h.EnqueueAsync("concurrent", 120);
        await Task.WhenAll(h.StartSiloAsync(batchSize: 4), h.StartSiloAsync(batchSize: 4));

        await h.WaitForSinkAsync(ids.Count, 120);
        await WaitForRowsAsync(h, "status = 'sent'", ids.Count);
        await Task.Delay(500);
        var received = h.Sink.Messages;
        Assert.Equal(ids.Count, received.Count);
        Assert.Equal(ids.Select(i => $"<{i}@sajet.mail>").Order(), received.Select(m => m.MessageId).Order());
        Assert.Equal(ids.Count, await h.CountAsync("attempts = 1"));
    }

    [Fact]
    public async Task SendBatch_StoredPasswordUndecryptable_MailKeepsTheReasonAndNothingIsSent()
    {
        await using var h = await MailHarness.StartAsync();
        // Saved under another SAJET_SECRET_KEY than the silo's.
        var foreign = new Sajet.Persistence.Secrets.SecretProtector("another-secret-key-another-secret-key-0123").Protect("pw", Grains.Interfaces.Mail.MailSettings.PasswordPurpose);
        await h.Db.ExecAsync($"INSERT INTO settings (key, value) VALUES ('mail.user', '\"envios\"'), ('mail.password_protected', to_jsonb('{foreign}'::text))");
        var id = Assert.Single(await h.EnqueueAsync("undecryptable", 1));
        await h.StartSiloAsync();

        await WaitForRowsAsync(h, $"id = '{id}' AND last_error LIKE '%no se puede descifrar%'");
        Assert.Empty(h.Sink.Messages);
        Assert.Equal("pending", await h.Db.ScalarAsync<string>($"SELECT status FROM mail_outbox WHERE id = '{id}'"));
    }

    [Fact]
    public async Task Enqueue_SameCauseTwice_OneMail()
    {
        await using var h = await MailHarness.StartAsync();
        await h.EnqueueAsync("repeated", 3);
        await h.EnqueueAsync("repeated", 3); // A projection repeated after a crash writes the same ids.
        Assert.Equal(3, await h.CountAsync("true"));
    }

    private static Task WaitForRowsAsync(MailHarness h, string where, int count = 1) =>
        Onboarding.OnboardingHarness.WaitAsync(async () => await h.CountAsync(where) >= count, where, 30);
}
