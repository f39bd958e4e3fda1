extern alias simulators;

using System.Diagnostics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Sajet.Grains.Mail;
using Sajet.TestSupport;
using Sajet.WebFront.Tests.Onboarding;
using simulators::Sajet.Simulators.Mail;

namespace Sajet.WebFront.Tests.Mail;

/// <summary>
/// A test database, the SMTP sink on free loopback ports, and silos (in this process or real processes) whose mail
/// sender points at the sink. Mail is enqueued through <see cref="MailOutbox"/>, as grains enqueue it.
/// </summary>
public sealed class MailHarness : IAsyncDisposable
{
    private readonly List<IHost> _silos = [];
    private readonly List<Process> _processes = [];

    private MailHarness(TestDatabase db, SmtpSink sink)
    {
        Db = db;
        Sink = sink;
    }

    public TestDatabase Db { get; }

    public SmtpSink Sink { get; }

    public static async Task<MailHarness> StartAsync() =>
        new(await TestDatabase.CreateAsync(), await StartSinkAsync());

    public static Task<SmtpSink> StartSinkAsync() => SmtpSink.StartAsync(new SmtpSinkOptions { SmtpPort = 0, HttpPort = 0 });

    /// <summary>Points a silo's mail at <paramref name="sink"/>, with retries and leases in fractions of a second.</summary>
    public static void PointAt(Dictionary<string, string?> settings, SmtpSink sink, int batchSize = 20)
    {
        settings["Mail:Host"] = "127.0.0.1";
        settings["Mail:Port"] = sink.SmtpPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        settings["Mail:Tls"] = "none";
        settings["Mail:From"] = "Sajet <no-reply@sajet.test>";
        settings["MailOutbox:PollInterval"] = "00:00:00.100";
        settings["MailOutbox:Lease"] = "00:00:03";
        settings["MailOutbox:BackoffBase"] = "00:00:00.100";
        settings["MailOutbox:MaxBackoff"] = "00:00:00.500";
        settings["MailOutbox:BatchSize"] = batchSize.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    public Dictionary<string, string?> SiloSettings(int batchSize = 20)
    {
        var settings = TestSilos.Settings(Db.ConnectionString);
        settings["SAJET_SECRET_KEY"] = OnboardingHarness.SecretKey;
        settings["STRIPE_SECRET_KEY"] = "sk_test_not_used_by_these_tests";
        settings["STRIPE_WEBHOOK_SECRET"] = "whsec_not_used_by_these_tests";
        settings["Logging:LogLevel:Default"] = "Warning";
        PointAt(settings, Sink, batchSize);
        return settings;
    }

    public async Task<IHost> StartSiloAsync(int batchSize = 20)
    {
        var silo = await TestSilos.StartAsync(SiloSettings(batchSize), b => b.Logging.SetMinimumLevel(LogLevel.Warning));
        _silos.Add(silo);
        return silo;
    }

    public Process StartSiloProcess(string id, int batchSize = 20)
    {
        var process = TestSilos.StartProcess(SiloSettings(batchSize), Path.Combine(AppContext.BaseDirectory, "silo-logs", $"{Db.Name}-{id}.log"));
        _processes.Add(process);
        return process;
    }

    /// <summary>Enqueues <paramref name="count"/> mails, each in a transaction of its own as a grain turn would; returns their ids.</summary>
    public async Task<List<Guid>> EnqueueAsync(string prefix, int count)
    {
        var ids = new List<Guid>();
        await using var conn = await Db.DataSource.OpenConnectionAsync();
        for (var i = 0; i < count; i++)
        {
            var id = MailOutbox.StableId($"test/{prefix}/{i}");
            await using var tx = await conn.BeginTransactionAsync();
            await MailOutbox.EnqueueAsync(conn, tx, id, MailTemplates.ResumedMail($"Empresa {prefix} {i}", $"https://{prefix}-{i}.tenants.test"),
                [$"owner{i}@{prefix}.example.com"], null, CancellationToken.None);
            await tx.CommitAsync();
            ids.Add(id);
        }

        return ids;
    }

    public Task<long> CountAsync(string where) => Db.ScalarAsync<long>($"SELECT count(*) FROM mail_outbox WHERE {where}");

    public Task WaitForSinkAsync(int count, int seconds = 60) =>
        OnboardingHarness.WaitAsync(() => Task.FromResult(Sink.Messages.Count >= count), $"{count} mails at the sink", seconds);

    public async ValueTask DisposeAsync()
    {
        foreach (var process in _processes.Where(p => !p.HasExited))
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        foreach (var silo in _silos)
        {
            await TestSilos.StopAsync(silo);
        }

        await Sink.DisposeAsync();
        await Db.DisposeAsync();
    }
}
