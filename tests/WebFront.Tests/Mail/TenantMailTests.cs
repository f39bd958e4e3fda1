extern alias simulators;

using Sajet.Grains.Interfaces;
using Sajet.Grains.Mail;
using Sajet.WebFront.Tests.Onboarding;
using simulators::Sajet.Simulators.Proxmox;

namespace Sajet.WebFront.Tests.Mail;

/// <summary>
/// The whole system (web front, a silo, the Proxmox, Stripe and Odoo simulators) with the silo's mail pointed at the
/// SMTP sink: a tenant's transitions each produce exactly one mail, in Spanish, with a Message-Id derived from its row.
/// </summary>
public sealed class TenantMailTests
{
    [Fact]
    public async Task TenantLifecycle_ActiveSuspendedResumed_OneSpanishMailEach()
    {
        await using var h = await OnboardingHarness.StartAsync(nodes: 1);
        await using var sink = await MailHarness.StartSinkAsync();
        await h.StartSiloAsync("mail-1", s => MailHarness.PointAt(s, sink));
        await h.RegisterNodesAsync("pve1");

        var signed = await h.SignUpAndPayAsync("bienvenida", "pro");
        var owner = "owner@bienvenida.example.com";
        await OnboardingHarness.WaitAsync(() => Task.FromResult(sink.Messages.Count >= 1), "the welcome mail", 60);

        var welcome = Assert.Single(sink.Messages);
        Assert.Equal([owner], welcome.To);
        Assert.Equal($"Tu Odoo ya está listo: https://bienvenida.{OnboardingHarness.Domain}", welcome.Subject);
        Assert.Contains("Hola, Empresa bienvenida:", welcome.Text);
        Assert.Contains($"https://bienvenida.{OnboardingHarness.Domain}", welcome.Text);
        Assert.Contains($"<a href=\"https://bienvenida.{OnboardingHarness.Domain}\">", welcome.Html);
        Assert.Contains("Sajet <no-reply@sajet.test>", welcome.From);
        Assert.Equal(await h.Db.ScalarAsync<string>($"SELECT message_id FROM mail_outbox WHERE tenant_id = '{signed.TenantId}' AND template = '{MailTemplates.Welcome}'"),
            welcome.MessageId);

        Assert.Equal(TenantActionResult.Done("Cliente suspendido.", TenantStatus.Suspended).Outcome,
            (await h.Tenant(signed.TenantId).SuspendAsync(Guid.NewGuid(), new SuspendTenant("admin@sajet.test"))).Outcome);
        await h.Tenant(signed.TenantId).ResumeAsync(Guid.NewGuid(), new ResumeTenant("admin@sajet.test"));
        await OnboardingHarness.WaitAsync(() => Task.FromResult(sink.Messages.Count >= 3), "the suspended and resumed mails", 60);
        await Task.Delay(500); // Room for a (wrong) repeat.

        var all = sink.Messages;
        Assert.Equal(["Tu Odoo ya está listo: https://bienvenida.tenants.test", "Tu servicio está suspendido", "Tu servicio vuelve a estar activo"],
            all.Select(m => m.Subject));
        Assert.Contains("Motivo: Suspendido por admin@sajet.test.", all[1].Text);
        Assert.Equal(3, all.Select(m => m.MessageId).Distinct().Count());
        Assert.Equal(3, await h.Db.ScalarAsync<long>($"SELECT count(*) FROM mail_outbox WHERE tenant_id = '{signed.TenantId}' AND status = 'sent'"));
    }

    [Fact]
    public async Task RenewalPaymentFails_OnePaymentFailedMailToTheCustomer()
    {
        await using var h = await OnboardingHarness.StartAsync(nodes: 1);
        await using var sink = await MailHarness.StartSinkAsync();
        await h.StartSiloAsync("mail-1", s => MailHarness.PointAt(s, sink));
        await h.RegisterNodesAsync("pve1");
        var signed = await h.SignUpAndPayAsync("impago", "pro");
        await OnboardingHarness.WaitAsync(() => Task.FromResult(sink.Messages.Count >= 1), "the welcome mail", 60);

        h.Stripe.Control.FailSubscriptionRenewal(await h.Db.ScalarAsync<string>($"SELECT subscription_id FROM tenants WHERE id = '{signed.TenantId}'"));
        await h.WaitForStatusAsync(signed.TenantId, TenantStatus.PastDue, 60);
        await OnboardingHarness.WaitAsync(() => Task.FromResult(sink.Messages.Count >= 2), "the payment failed mail", 60);
        await Task.Delay(500);

        var failed = Assert.Single(sink.Messages, m => m.Subject == "No hemos podido cobrar tu suscripción");
        Assert.Equal(["owner@impago.example.com"], failed.To);
        Assert.Contains("Revisa tu método de pago", failed.Text);
        Assert.Equal(2, sink.Messages.Count);
    }

    [Fact]
    public async Task SubscriptionCancelledInStripe_OneCancelledMailWithTheRetentionDate()
    {
        await using var h = await OnboardingHarness.StartAsync(nodes: 1);
        await using var sink = await MailHarness.StartSinkAsync();
        await h.StartSiloAsync("mail-1", s => MailHarness.PointAt(s, sink));
        await h.RegisterNodesAsync("pve1");
        var signed = await h.SignUpAndPayAsync("baja", "pro");
        await OnboardingHarness.WaitAsync(() => Task.FromResult(sink.Messages.Count >= 1), "the welcome mail", 60);

        // The customer cancels through Stripe (the billing portal does this call): customer.subscription.deleted.
        using var stripe = new HttpClient { BaseAddress = new Uri(h.Stripe.BaseUrl) };
        stripe.DefaultRequestHeaders.Authorization = new("Bearer", h.Stripe.SecretKey);
        var subscription = await h.Db.ScalarAsync<string>($"SELECT subscription_id FROM tenants WHERE id = '{signed.TenantId}'");
        Assert.True((await stripe.DeleteAsync($"/v1/subscriptions/{subscription}")).IsSuccessStatusCode);
        await h.WaitForStatusAsync(signed.TenantId, TenantStatus.Cancelled, 60);
        await OnboardingHarness.WaitAsync(() => Task.FromResult(sink.Messages.Count >= 2), "the cancelled mail", 60);
        await Task.Delay(500);

        var cancelled = Assert.Single(sink.Messages, m => m.Subject == "Tu suscripción está cancelada");
        var at = await h.Db.ScalarAsync<DateTime>($"SELECT at FROM grain_events WHERE grain_key = '{signed.TenantId}' AND to_state = 'cancelled'");
        Assert.Contains($"Conservaremos tus datos hasta el {MailTemplates.Day(new DateTimeOffset(at, TimeSpan.Zero).AddDays(30))}", cancelled.Text);
        Assert.Equal(2, sink.Messages.Count);
    }

    [Fact]
    public async Task NoNodeFits_OneWaitingForCapacityMailToEveryAdminWithAnAddress()
    {
        await using var h = await OnboardingHarness.StartAsync(nodes: 1);
        await using var sink = await MailHarness.StartSinkAsync();
        // The first admin's login is a plain name: only the admins with an address get mail.
        await h.Db.ExecAsync("INSERT INTO users (email, role, password_hash) VALUES ('ops@sajet.test', 'admin', 'x'), ('guardia@sajet.test', 'admin', 'x')");
        await h.StartSiloAsync("mail-1", s => MailHarness.PointAt(s, sink));

        var signed = await h.SignUpAndPayAsync("sin-sitio", "pro", status: TenantStatus.WaitingForCapacity);
        await OnboardingHarness.WaitAsync(() => Task.FromResult(sink.Messages.Count >= 1), "the operators' mail", 60);
        await Task.Delay(500);

        var waiting = Assert.Single(sink.Messages);
        Assert.Equal("[Sajet] Cliente esperando capacidad: sin-sitio", waiting.Subject);
        Assert.Equal(["ops@sajet.test", "guardia@sajet.test"], waiting.To);
        Assert.Contains("El cliente Empresa sin-sitio (sin-sitio, plan Pro) espera a que haya sitio en algún nodo.", waiting.Text);
        Assert.Equal(1, await h.Db.ScalarAsync<long>($"SELECT count(*) FROM mail_outbox WHERE tenant_id = '{signed.TenantId}' AND template = '{MailTemplates.AdminWaiting}'"));
    }

    [Fact]
    public async Task NodeCpuAboveTheThreshold_OneNodeAlertMailToTheAdmins()
    {
        await using var h = await OnboardingHarness.StartAsync(nodes: 1);
        await using var sink = await MailHarness.StartSinkAsync();
        await h.Db.ExecAsync("INSERT INTO users (email, role, password_hash) VALUES ('ops@sajet.test', 'admin', 'x')");
        await h.StartSiloAsync("mail-1", s => MailHarness.PointAt(s, sink));
        await h.RegisterNodesAsync(1, "pve1");

        h.Proxmox.Cluster.SetNodeLoad("pve1", 0.97, null);
        await OnboardingHarness.WaitAsync(() => Task.FromResult(sink.Messages.Count >= 1), "the node alert mail", 60);
        await Task.Delay(2500); // More polls above the threshold: the alert is open, so no second mail.

        var alert = Assert.Single(sink.Messages);
        Assert.Equal("[Sajet] Alerta en el nodo pve1: CPU alta", alert.Subject);
        Assert.Equal(["ops@sajet.test"], alert.To);
        Assert.Contains("en el nodo pve1 (umbral 80", alert.Text);
    }

    [Fact]
    public async Task ProvisioningSpendsItsAttempts_OneProvisioningFailedMailToTheAdmins()
    {
        await using var h = await OnboardingHarness.StartAsync(nodes: 1);
        await using var sink = await MailHarness.StartSinkAsync();
        await h.Db.ExecAsync("INSERT INTO users (email, role, password_hash) VALUES ('ops@sajet.test', 'admin', 'x')");
        await h.StartSiloAsync("mail-1", s =>
        {
            MailHarness.PointAt(s, sink);
            s["Tenants:StepMaxAttempts"] = "2";
        });
        await h.RegisterNodesAsync("pve1");
        h.Proxmox.Cluster.AddTaskFault(new TaskFault(TaskFaultOutcome.Fail, "vzcreate", Message: "simulated: unable to create CT", Count: 100));

        var signed = await h.SignUpAndPayAsync("roto", "pro", status: TenantStatus.Failed);
        await OnboardingHarness.WaitAsync(() => Task.FromResult(sink.Messages.Count >= 1), "the operators' mail", 60);
        await Task.Delay(500);

        var failed = Assert.Single(sink.Messages);
        Assert.Equal("[Sajet] Aprovisionamiento fallido: roto", failed.Subject);
        Assert.Equal(["ops@sajet.test"], failed.To);
        Assert.Contains("Motivo: Aprovisionamiento fallido tras 2 intentos", failed.Text);
        Assert.Equal(0, await h.Db.ScalarAsync<long>($"SELECT count(*) FROM mail_outbox WHERE tenant_id = '{signed.TenantId}' AND template = '{MailTemplates.Welcome}'"));
    }

    [Fact]
    public void Templates_CustomerValuesInHtml_AreEncoded()
    {
        var mail = MailTemplates.WaitingForCapacityMail("acme", "<script>alert(1)</script> & Cía", "pro", "Ningún nodo tiene 4 GiB libres");
        Assert.Contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; Cía", mail.Html);
        Assert.DoesNotContain("<script>", mail.Html);
        Assert.Contains("<script>alert(1)</script> & Cía", mail.Text);
        Assert.Equal("[Sajet] Cliente esperando capacidad: acme", mail.Subject);

        var cancelled = MailTemplates.CancelledMail("Acme", new DateTimeOffset(2027, 1, 2, 10, 0, 0, TimeSpan.Zero));
        Assert.Contains("Conservaremos tus datos hasta el 2 de enero de 2027", cancelled.Text);
    }
}
