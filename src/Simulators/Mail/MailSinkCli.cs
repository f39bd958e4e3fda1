using System.Globalization;

namespace Sajet.Simulators.Mail;

/// <summary>How `Simulators mail` starts the SMTP sink: defaults, overridable through the environment.</summary>
public static class MailSinkCli
{
    public static async Task<IAsyncDisposable> StartAsync(TextWriter output, CancellationToken ct)
    {
        var options = new SmtpSinkOptions { LogToConsole = true };
        if (int.TryParse(Environment.GetEnvironmentVariable("SIM_SMTP_PORT"), NumberStyles.None, CultureInfo.InvariantCulture, out var smtp))
        {
            options.SmtpPort = smtp;
        }

        if (int.TryParse(Environment.GetEnvironmentVariable("SIM_MAIL_HTTP_PORT"), NumberStyles.None, CultureInfo.InvariantCulture, out var http))
        {
            options.HttpPort = http;
        }

        var sink = await SmtpSink.StartAsync(options, ct);
        await output.WriteLineAsync($"mail    smtp://127.0.0.1:{sink.SmtpPort}  page: {sink.BaseUrl}/  json: {sink.BaseUrl}/_sim/mail");
        return sink;
    }
}
