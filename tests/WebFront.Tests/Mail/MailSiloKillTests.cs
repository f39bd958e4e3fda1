using Sajet.WebFront.Tests.Cluster;
using Sajet.WebFront.Tests.Onboarding;
using Xunit.Abstractions;

namespace Sajet.WebFront.Tests.Mail;

/// <summary>
/// Two real silo processes send the mail outbox; one is SIGKILLed while mail is going out. The survivor takes over the
/// dead silo's claimed rows once their lease runs out: every mail arrives, and none arrives twice.
/// </summary>
[Collection(FaultCollection.Name)]
[Trait("Category", FaultCollection.Category)]
public sealed class MailSiloKillTests(ITestOutputHelper output)
{
    [Fact]
    public async Task TwoSiloProcesses_OneKilledWhileSending_EveryMailDeliveredOnce()
    {
        await using var h = await MailHarness.StartAsync();
        // A slow server: most of a send is spent waiting for the DATA reply. The kill lands while both silos wait for
        // one: mid-send, not in the instant between the server's 250 and the row marked sent, where at-least-once
        // delivery would resend (with the same Message-Id) by design.
        h.Sink.Delay(TimeSpan.FromMilliseconds(300));
        var ids = await h.EnqueueAsync("killed", 60);
        var silos = new[] { h.StartSiloProcess("mail-kill-1", batchSize: 5), h.StartSiloProcess("mail-kill-2", batchSize: 5) };
        await OnboardingHarness.WaitAsync(() => Task.FromResult(h.Sink.Messages.Count >= 6 && h.Sink.AwaitingReply == 2), "both silos mid-send", 120);

        var victim = silos[0];
        victim.Kill(entireProcessTree: true);
        await victim.WaitForExitAsync();
        var at = DateTime.UtcNow;
        output.WriteLine($"killed silo {victim.Id} with {h.Sink.Messages.Count} mails received");

        await h.WaitForSinkAsync(ids.Count, 180);
        await OnboardingHarness.WaitAsync(async () => await h.CountAsync("status = 'sent'") == ids.Count, "every row sent", 30);
        output.WriteLine($"all {ids.Count} delivered {(DateTime.UtcNow - at).TotalSeconds:F1} s after the kill; "
            + $"{await h.CountAsync("attempts > 1")} rows needed a second claim");
        await Task.Delay(500);

        var received = h.Sink.Messages.Select(m => m.MessageId).ToList();
        Assert.Equal(ids.Count, received.Count);
        Assert.Equal(ids.Select(i => $"<{i}@sajet.mail>").Order(), received.Order());
    }
}
