using System.Text.Json;
using System.Threading.Channels;
using Npgsql;
using Sajet.Grains.Interfaces;
using Sajet.Grains.Interfaces.Nodes;
using Sajet.WebFront.Auth;
using Sajet.WebFront.Hosting;

namespace Sajet.WebFront.Live;

/// <summary>One change pushed to browsers: a grain moved state, or a node alert was raised or cleared.</summary>
public sealed record LiveEvent(string Kind, JsonElement Data);

/// <summary>
/// Fans PostgreSQL notifications out to Server-Sent Event streams. Every web front instance LISTENs on its own
/// connection, so a change made through any instance (or by any silo) reaches the browsers of all of them.
/// </summary>
public sealed class LiveEvents(NpgsqlDataSource db, ILogger<LiveEvents> logger) : NotificationListener(db, logger)
{
    public const string AlertsChannel = "sajet_alerts";
    private readonly Lock _gate = new();
    private readonly List<Channel<LiveEvent>> _subscribers = [];

    public ChannelReader<LiveEvent> Subscribe(out IDisposable subscription)
    {
        var channel = Channel.CreateBounded<LiveEvent>(new BoundedChannelOptions(256) { FullMode = BoundedChannelFullMode.DropOldest });
        lock (_gate)
        {
            _subscribers.Add(channel);
        }

        subscription = new Unsubscriber(this, channel);
        return channel.Reader;
    }

    protected override string Channels => $"{GrainTypes.GrainsChannel} {AlertsChannel}";

    protected override string Name => "Live events";

    protected override void OnNotification(string channel, string payload) => Publish(channel == AlertsChannel ? "alert" : "tenant", payload);

    private void Publish(string kind, string payload)
    {
        JsonElement data;
        try
        {
            data = JsonDocument.Parse(payload).RootElement.Clone();
        }
        catch (JsonException)
        {
            return;
        }

        if (kind == "tenant" && data.TryGetProperty("type", out var type) && type.GetString() != "tenant" && type.GetString() != "node")
        {
            return;
        }

        lock (_gate)
        {
            foreach (var s in _subscribers)
            {
                s.Writer.TryWrite(new LiveEvent(data.TryGetProperty("type", out var t) && t.GetString() == "node" ? "node" : kind, data));
            }
        }
    }

    private void Unsubscribe(Channel<LiveEvent> channel)
    {
        lock (_gate)
        {
            _subscribers.Remove(channel);
        }
    }

    private sealed class Unsubscriber(LiveEvents owner, Channel<LiveEvent> channel) : IDisposable
    {
        public void Dispose() => owner.Unsubscribe(channel);
    }
}

public static class LiveEventsApi
{
    public static IServiceCollection AddSajetLiveEvents(this IServiceCollection services)
    {
        services.AddSingleton<LiveEvents>();
        services.AddHostedService(sp => sp.GetRequiredService<LiveEvents>());
        return services;
    }

    public static IEndpointRouteBuilder MapLiveEvents(this IEndpointRouteBuilder app)
    {
        // Admins see every tenant change and node alert.
        app.MapGet("/api/events", (HttpContext http, LiveEvents live, CancellationToken ct) => StreamAsync(http, live, _ => true, ct))
            .RequireAuthorization(Roles.AdminPolicy).WithTags("Eventos").WithSummary("Eventos en vivo (Server-Sent Events): cambios de estado de los clientes y alertas de los nodos.");

        // /success sees only its own tenant, identified by the Checkout Session it paid.
        app.MapGet("/api/events/onboarding", async (string? session_id, HttpContext http, LiveEvents live, NpgsqlDataSource db, CancellationToken ct) =>
        {
            // The signup's table, not tenants: the page may open before the grain has applied the signup.
            await using var cmd = db.CreateCommand("SELECT tenant_id FROM signups WHERE checkout_session_id = @s");
            cmd.Parameters.AddWithValue("s", session_id ?? "");
            if (await cmd.ExecuteScalarAsync(ct) is not string tenant)
            {
                http.Response.StatusCode = StatusCodes.Status404NotFound;
                return;
            }

            await StreamAsync(http, live, e => e.Kind == "tenant" && e.Data.TryGetProperty("key", out var k) && k.GetString() == tenant, ct);
        }).AllowAnonymous().WithTags("Eventos").WithSummary("Eventos en vivo de un alta, por el identificador de su sesión de pago.");
        return app;
    }

    private static async Task StreamAsync(HttpContext http, LiveEvents live, Func<LiveEvent, bool> filter, CancellationToken ct)
    {
        http.Response.Headers.ContentType = "text/event-stream";
        http.Response.Headers.CacheControl = "no-cache";
        http.Response.Headers["X-Accel-Buffering"] = "no";
        var reader = live.Subscribe(out var subscription);
        using (subscription)
        {
            await http.Response.WriteAsync(": connected\n\n", ct);
            await http.Response.Body.FlushAsync(ct);
            try
            {
                while (!ct.IsCancellationRequested)
                {
                    using var heartbeat = CancellationTokenSource.CreateLinkedTokenSource(ct);
                    heartbeat.CancelAfter(TimeSpan.FromSeconds(20));
                    try
                    {
                        var e = await reader.ReadAsync(heartbeat.Token);
                        if (filter(e))
                        {
                            await http.Response.WriteAsync($"event: {e.Kind}\ndata: {e.Data.GetRawText()}\n\n", ct);
                            await http.Response.Body.FlushAsync(ct);
                        }
                    }
                    catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                    {
                        // Keeps proxies from closing an idle stream.
                        await http.Response.WriteAsync(": ping\n\n", ct);
                        await http.Response.Body.FlushAsync(ct);
                    }
                }
            }
            catch (OperationCanceledException)
            {
                // The browser went away.
            }
        }
    }
}
