using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Unicode;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using MimeKit;
using Sajet.Simulators.Shared;

namespace Sajet.Simulators.Mail;

public sealed class SmtpSinkOptions
{
    /// <summary>Where SMTP is accepted (loopback only); 0 picks a free port (read it from <see cref="SmtpSink.SmtpPort"/>).</summary>
    public int SmtpPort { get; set; } = 2525;

    /// <summary>The page and the /_sim/mail endpoints; 0 picks a free port.</summary>
    public int HttpPort { get; set; } = 8025;

    public bool LogToConsole { get; set; }
}

/// <summary>A message the sink accepted, as /_sim/mail shows it.</summary>
public sealed record ReceivedMail(string From, IReadOnlyList<string> To, string Subject, string? MessageId, string? Text, string? Html, DateTimeOffset ReceivedAt);

/// <summary>
/// An SMTP server that keeps what it receives in memory, for development and tests: it speaks enough of RFC 5321 for a
/// real client (MailKit) — EHLO/HELO, AUTH PLAIN and LOGIN (any credentials), MAIL, RCPT, DATA with dot-stuffing, RSET,
/// NOOP, QUIT — and lists mail on a page and as JSON. A message counts as received only once its 250 reply was written,
/// as a real server takes responsibility only then. Fault switches (loopback only): refuse the next N messages with a
/// 4xx or 5xx reply, drop the connection after the next N DATA (no reply: the client cannot know), answer DATA late.
/// </summary>
public sealed class SmtpSink : IAsyncDisposable
{
    private readonly SmtpSinkOptions _options;
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<ReceivedMail> _messages = [];
    private readonly Lock _gate = new();
    private WebApplication? _app;
    private Task? _accepting;
    private int _rejectNext;
    private int _rejectCode = 451;
    private int _dropNext;
    private TimeSpan _delay;

    private SmtpSink(SmtpSinkOptions options)
    {
        _options = options;
        _listener = new TcpListener(IPAddress.Loopback, options.SmtpPort);
    }

    public int SmtpPort { get; private set; }

    /// <summary>Messages whose DATA has arrived and whose reply is not written yet (a test kills a client in that moment).</summary>
    public int AwaitingReply => Volatile.Read(ref _awaitingReply);

    private int _awaitingReply;

    /// <summary>e.g. http://127.0.0.1:8025: the page listing mail; JSON at /_sim/mail.</summary>
    public string BaseUrl { get; private set; } = "";

    public static async Task<SmtpSink> StartAsync(SmtpSinkOptions options, CancellationToken ct = default)
    {
        var sink = new SmtpSink(options);
        sink._listener.Start();
        sink.SmtpPort = ((IPEndPoint)sink._listener.LocalEndpoint).Port;
        sink._accepting = sink.AcceptLoopAsync();
        var app = SimulatorHost.Create(IPAddress.Loopback, options.HttpPort, options.LogToConsole);
        sink.Map(app);
        await app.StartAsync(ct);
        sink.BaseUrl = SimulatorHost.ListeningUrl(app);
        sink._app = app;
        return sink;
    }

    public IReadOnlyList<ReceivedMail> Messages
    {
        get
        {
            lock (_gate)
            {
                return [.. _messages];
            }
        }
    }

    public void Clear()
    {
        lock (_gate)
        {
            _messages.Clear();
        }
    }

    /// <summary>Refuses the next <paramref name="count"/> messages after their DATA with <paramref name="code"/> (4xx: try later, 5xx: refused).</summary>
    public void RejectNext(int count, int code = 451)
    {
        if (code is < 400 or > 599)
        {
            throw new ArgumentOutOfRangeException(nameof(code), "A refusal is a 4xx or 5xx reply.");
        }

        lock (_gate)
        {
            _rejectNext = count;
            _rejectCode = code;
        }
    }

    /// <summary>Closes the connection after the next <paramref name="count"/> messages' DATA, without replying.</summary>
    public void DropNext(int count)
    {
        lock (_gate)
        {
            _dropNext = count;
        }
    }

    /// <summary>Waits this long before answering each DATA (a slow server).</summary>
    public void Delay(TimeSpan delay)
    {
        lock (_gate)
        {
            _delay = delay;
        }
    }

    public void ResetFaults()
    {
        lock (_gate)
        {
            _rejectNext = 0;
            _dropNext = 0;
            _delay = TimeSpan.Zero;
        }
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            _ = Task.Run(() => SessionAsync(client));
        }
    }

    private async Task SessionAsync(TcpClient client)
    {
        using var _ = client;
        var stream = client.GetStream();
        var reader = new LineReader(stream);
        var ct = _stop.Token;
        async Task Reply(string line) => await stream.WriteAsync(Encoding.ASCII.GetBytes(line + "\r\n"), ct);

        try
        {
            await Reply("220 sajet-sim ESMTP sink");
            while (await reader.ReadLineAsync(ct) is { } line)
            {
                var verb = (line.Length >= 4 ? line[..4] : line).ToUpperInvariant();
                switch (verb)
                {
                    case "EHLO":
                        await Reply("250-sajet-sim\r\n250-SIZE 10485760\r\n250-AUTH PLAIN LOGIN\r\n250 HELP");
                        break;
                    case "HELO":
                        await Reply("250 sajet-sim");
                        break;
                    case "AUTH":
                        if (line.Contains("LOGIN", StringComparison.OrdinalIgnoreCase))
                        {
                            await Reply("334 VXNlcm5hbWU6");
                            await reader.ReadLineAsync(ct);
                            await Reply("334 UGFzc3dvcmQ6");
                            await reader.ReadLineAsync(ct);
                        }
                        else if (line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length < 3)
                        {
                            await Reply("334 ");
                            await reader.ReadLineAsync(ct);
                        }

                        await Reply("235 2.7.0 Authentication successful");
                        break;
                    case "MAIL":
                    case "RCPT":
                    case "RSET":
                    case "NOOP":
                        await Reply("250 2.0.0 OK");
                        break;
                    case "DATA":
                        await Reply("354 End data with <CR><LF>.<CR><LF>");
                        var data = await reader.ReadDataAsync(ct);
                        if (data is null)
                        {
                            return;
                        }

                        if (!await FinishMessageAsync(client.Client, data, Reply, ct))
                        {
                            return; // Dropped on purpose.
                        }

                        break;
                    case "QUIT":
                        await Reply("221 2.0.0 Bye");
                        return;
                    default:
                        await Reply("502 5.5.2 Command not implemented");
                        break;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The client went away; nothing it had not been told was accepted is kept.
        }
    }

    /// <summary>Applies the fault switches to one message; false when the connection is to be dropped.</summary>
    private async Task<bool> FinishMessageAsync(Socket socket, byte[] data, Func<string, Task> reply, CancellationToken ct)
    {
        TimeSpan delay;
        int? reject = null;
        bool drop;
        lock (_gate)
        {
            delay = _delay;
            drop = _dropNext > 0;
            if (drop)
            {
                _dropNext--;
            }
            else if (_rejectNext > 0)
            {
                _rejectNext--;
                reject = _rejectCode;
            }
        }

        Interlocked.Increment(ref _awaitingReply);
        try
        {
            if (delay > TimeSpan.Zero)
            {
                await Task.Delay(delay, ct);
            }
        }
        finally
        {
            Interlocked.Decrement(ref _awaitingReply);
        }

        // A client that went away before the reply (killed while the server was slow) was never told the message was
        // accepted: it will send it again, so this copy is not kept.
        if (drop || PeerClosed(socket))
        {
            return false;
        }

        if (reject is { } code)
        {
            await reply(code < 500 ? $"{code} 4.3.0 Simulated temporary failure, try again later" : $"{code} 5.7.1 Simulated rejection");
            return true;
        }

        ReceivedMail received;
        try
        {
            received = Parse(data);
        }
        catch (FormatException ex)
        {
            await reply($"554 5.6.0 Message not parsable: {ex.Message.ReplaceLineEndings(" ")}");
            return true;
        }

        await reply("250 2.0.0 OK: queued");
        lock (_gate)
        {
            _messages.Add(received);
        }

        return true;
    }

    private static bool PeerClosed(Socket socket)
    {
        try
        {
            return socket.Poll(0, SelectMode.SelectRead) && socket.Available == 0;
        }
        catch (SocketException)
        {
            return true;
        }
    }

    private static ReceivedMail Parse(byte[] data)
    {
        using var input = new MemoryStream(data);
        var message = MimeMessage.Load(input);
        return new ReceivedMail(
            string.Join(", ", message.From.Mailboxes.Select(m => string.IsNullOrEmpty(m.Name) ? m.Address : $"{m.Name} <{m.Address}>")),
            [.. message.To.Mailboxes.Select(m => m.Address)],
            message.Subject ?? "",
            message.MessageId is { } id ? $"<{id}>" : null,
            message.TextBody,
            message.HtmlBody,
            DateTimeOffset.UtcNow);
    }

    private void Map(WebApplication app)
    {
        app.MapGet("/", () => Results.Content(Page(Messages), "text/html; charset=utf-8"));
        var sim = app.MapGroup("/_sim").AddEndpointFilter(async (ctx, next) =>
            SimulatorHost.IsLoopback(ctx.HttpContext) ? await next(ctx) : Results.StatusCode(StatusCodes.Status403Forbidden));
        sim.MapGet("/mail", () => Results.Json(Messages, Json));
        sim.MapDelete("/mail", () =>
        {
            Clear();
            return Results.NoContent();
        });
        sim.MapGet("/mail/{index:int}/html", (int index) => Messages is var all && index >= 0 && index < all.Count && all[index].Html is { } html
            ? Results.Content(html, "text/html; charset=utf-8")
            : Results.NotFound());
        sim.MapPost("/mail/reject", async (HttpContext ctx) =>
        {
            var body = await ReadAsync(ctx);
            if (Int(body, "code") is { } code and (< 400 or > 599))
            {
                return Results.BadRequest(new { error = "code must be a 4xx or 5xx reply" });
            }

            RejectNext(Int(body, "count") ?? 1, Int(body, "code") ?? 451);
            return Results.NoContent();
        });
        sim.MapPost("/mail/drop", async (HttpContext ctx) =>
        {
            DropNext(Int(await ReadAsync(ctx), "count") ?? 1);
            return Results.NoContent();
        });
        sim.MapPost("/mail/delay", async (HttpContext ctx) =>
        {
            Delay(TimeSpan.FromMilliseconds(Int(await ReadAsync(ctx), "ms") ?? 0));
            return Results.NoContent();
        });
        sim.MapPost("/mail/reset", () =>
        {
            ResetFaults();
            return Results.NoContent();
        });
    }

    // Readable accents in the JSON and on the page: both are for a developer's eyes, served with their charset.
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static readonly HtmlEncoder Html = HtmlEncoder.Create(UnicodeRanges.All);

    private static async Task<JsonElement> ReadAsync(HttpContext ctx) =>
        ctx.Request.ContentLength is 0 or null && !ctx.Request.Headers.ContainsKey("Transfer-Encoding")
            ? default
            : await JsonSerializer.DeserializeAsync<JsonElement>(ctx.Request.Body, cancellationToken: ctx.RequestAborted);

    private static int? Int(JsonElement body, string name) =>
        body.ValueKind == JsonValueKind.Object && body.TryGetProperty(name, out var v) && v.TryGetInt32(out var i) ? i : null;

    private static string Page(IReadOnlyList<ReceivedMail> messages)
    {
        static string E(string? s) => Html.Encode(s ?? "");
        var html = new StringBuilder("""
            <!DOCTYPE html><html lang="es"><head><meta charset="utf-8"><title>Correo recibido (simulador)</title>
            <style>body{font-family:sans-serif;margin:2rem;max-width:60rem}article{border:1px solid #ccc;border-radius:6px;padding:1rem;margin:1rem 0}
            pre{white-space:pre-wrap;background:#f6f6f6;padding:.5rem}small{color:#555}</style></head><body>
            <h1>Correo recibido</h1><p><small>El simulador SMTP guarda en memoria lo que recibe. JSON en <code>/_sim/mail</code>;
            <code>DELETE /_sim/mail</code> lo vacía.</small></p>
            """);
        if (messages.Count == 0)
        {
            html.Append("<p>Aún no ha llegado ningún correo.</p>");
        }

        for (var i = messages.Count - 1; i >= 0; i--)
        {
            var m = messages[i];
            html.Append("<article><h2>").Append(E(m.Subject)).Append("</h2><p><small>")
                .Append("De ").Append(E(m.From)).Append(" para ").Append(E(string.Join(", ", m.To)))
                .Append(" · ").Append(E(m.ReceivedAt.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", System.Globalization.CultureInfo.InvariantCulture)))
                .Append(" · ").Append(E(m.MessageId)).Append("</small></p><pre>").Append(E(m.Text)).Append("</pre>");
            if (m.Html is not null)
            {
                html.Append("<p><a href=\"/_sim/mail/").Append(i).Append("/html\">Ver la versión HTML</a></p>");
            }

            html.Append("</article>");
        }

        return html.Append("</body></html>").ToString();
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        if (_accepting is not null)
        {
            await _accepting;
        }

        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        _stop.Dispose();
    }

    /// <summary>Reads CRLF lines and a DATA section (dot-unstuffed) from the raw stream, as bytes.</summary>
    private sealed class LineReader(Stream stream)
    {
        private readonly byte[] _buffer = new byte[8192];
        private int _start;
        private int _end;

        public async Task<string?> ReadLineAsync(CancellationToken ct) =>
            await ReadRawLineAsync(ct) is { } bytes ? Encoding.UTF8.GetString(bytes) : null;

        public async Task<byte[]?> ReadDataAsync(CancellationToken ct)
        {
            using var data = new MemoryStream();
            while (await ReadRawLineAsync(ct) is { } line)
            {
                if (line is [(byte)'.'])
                {
                    return data.ToArray();
                }

                var start = line is [(byte)'.', ..] ? 1 : 0;
                data.Write(line, start, line.Length - start);
                data.Write("\r\n"u8);
                if (data.Length > 10 << 20)
                {
                    return null;
                }
            }

            return null;
        }

        private async Task<byte[]?> ReadRawLineAsync(CancellationToken ct)
        {
            using var line = new MemoryStream();
            while (true)
            {
                if (_start == _end)
                {
                    _start = 0;
                    _end = await stream.ReadAsync(_buffer, ct);
                    if (_end == 0)
                    {
                        return null;
                    }
                }

                var newline = Array.IndexOf(_buffer, (byte)'\n', _start, _end - _start);
                if (newline < 0)
                {
                    line.Write(_buffer, _start, _end - _start);
                    _start = _end;
                    continue;
                }

                line.Write(_buffer, _start, newline - _start);
                _start = newline + 1;
                var bytes = line.ToArray();
                return bytes is [.., (byte)'\r'] ? bytes[..^1] : bytes;
            }
        }
    }
}
