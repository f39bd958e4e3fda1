using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Sajet.Simulators.Shared;

namespace Sajet.Simulators.Odoo;

/// <summary>
/// An Odoo 18 server as far as Sajet's provisioning sees it: the JSON-RPC db and common services at
/// POST /jsonrpc, plus loopback-only control endpoints under /_sim/ for faults and outages.
/// </summary>
public sealed class OdooSimulator : IAsyncDisposable
{
    private readonly OdooSimulatorOptions _options;
    private readonly OdooSimulatorState _state;
    private readonly SemaphoreSlim _hostGate = new(1, 1);
    private WebApplication? _app;
    private int _port;

    private OdooSimulator(OdooSimulatorOptions options)
    {
        _options = options;
        _state = new OdooSimulatorState(options);
        Control = new OdooSimulatorControl(this, _state);
    }

    /// <summary>e.g. http://127.0.0.1:8069 (the real port when started with port 0).</summary>
    public string BaseUrl { get; private set; } = "";

    public string MasterPassword => _state.MasterPassword;

    public OdooSimulatorControl Control { get; }

    public static async Task<OdooSimulator> StartAsync(OdooSimulatorOptions options, CancellationToken ct = default)
    {
        var simulator = new OdooSimulator(options);
        simulator._port = options.Port;
        await simulator.OpenAsync(ct);
        return simulator;
    }

    internal async Task OpenAsync(CancellationToken ct)
    {
        await _hostGate.WaitAsync(ct);
        try
        {
            if (_app is not null)
            {
                return;
            }

            var app = SimulatorHost.Create(IPAddress.Loopback, _port, _options.LogToConsole);
            var rpc = new OdooRpcHandler(_state, _options);
            app.MapPost("/jsonrpc", rpc.HandleAsync);
            MapControl(app);
            await app.StartAsync(ct);
            BaseUrl = SimulatorHost.ListeningUrl(app);
            // Keep the port so that coming back after a "connection refused" outage reuses it.
            _port = SimulatorHost.Port(BaseUrl);
            _app = app;
        }
        finally
        {
            _hostGate.Release();
        }
    }

    internal async Task CloseAsync()
    {
        await _hostGate.WaitAsync();
        try
        {
            if (_app is { } app)
            {
                _app = null;
                await app.StopAsync();
                await app.DisposeAsync();
            }
        }
        finally
        {
            _hostGate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await CloseAsync();
        _hostGate.Dispose();
    }

    private void MapControl(WebApplication app)
    {
        var sim = app.MapGroup("/_sim").AddEndpointFilter(async (ctx, next) =>
            SimulatorHost.IsLoopback(ctx.HttpContext) ? await next(ctx) : Results.StatusCode(StatusCodes.Status403Forbidden));

        sim.MapGet("/state", () => Results.Text(Control.StateJson().ToJsonString(), "application/json"));
        sim.MapGet("/requests", () => Results.Json(new { count = Control.HttpRequests }));
        sim.MapPost("/bad_gateway", async (HttpContext ctx) =>
        {
            Control.BadGatewayForNext((int)Num(await ReadJsonAsync(ctx), "count"));
            return Results.NoContent();
        });
        sim.MapPost("/reset", () =>
        {
            Control.Reset();
            return Results.NoContent();
        });
        sim.MapPost("/databases", async (HttpContext ctx) =>
        {
            var body = await ReadJsonAsync(ctx);
            Control.AddDatabase(Str(body, "name") ?? "", Str(body, "login") ?? "admin", Str(body, "password") ?? "admin");
            return Results.NoContent();
        });
        sim.MapPost("/create_delay", async (HttpContext ctx) =>
        {
            Control.CreateDelay = TimeSpan.FromMilliseconds(Num(await ReadJsonAsync(ctx), "ms"));
            return Results.NoContent();
        });
        sim.MapPost("/error_rate", async (HttpContext ctx) =>
        {
            var body = await ReadJsonAsync(ctx);
            Control.SetErrorRate(Str(body, "method") ?? "", Num(body, "rate"));
            return Results.NoContent();
        });
        sim.MapPost("/init_failed", async (HttpContext ctx) =>
        {
            var body = await ReadJsonAsync(ctx);
            if (body?["all"] is JsonValue all)
            {
                Control.AllCreatesFailInit = all.GetValue<bool>();
            }
            else
            {
                Control.FailNextCreateInit();
            }

            return Results.NoContent();
        });
        sim.MapPost("/list_db", async (HttpContext ctx) =>
        {
            Control.ListDb = (await ReadJsonAsync(ctx))?["enabled"]?.GetValue<bool>() ?? true;
            return Results.NoContent();
        });
        sim.MapPost("/down", async (HttpContext ctx) =>
        {
            var body = await ReadJsonAsync(ctx);
            if (Str(body, "mode") == "refused")
            {
                // The listener this request arrived on is closed after the response; only a timer can reopen it.
                var outage = TimeSpan.FromMilliseconds(Num(body, "for_ms") is > 0 and var ms ? ms : 5000);
                ctx.Response.OnCompleted(() =>
                {
                    _ = Task.Run(async () =>
                    {
                        await Control.GoDownAsync(OdooDownMode.ConnectionRefused);
                        await Task.Delay(outage);
                        await Control.ComeUpAsync();
                    });
                    return Task.CompletedTask;
                });
            }
            else
            {
                await Control.GoDownAsync(OdooDownMode.BadGateway);
            }

            return Results.NoContent();
        });
        sim.MapPost("/up", async () =>
        {
            await Control.ComeUpAsync();
            return Results.NoContent();
        });
    }

    private static async Task<JsonNode?> ReadJsonAsync(HttpContext ctx)
    {
        try
        {
            return ctx.Request.ContentLength == 0 ? null : await JsonNode.ParseAsync(ctx.Request.Body, cancellationToken: ctx.RequestAborted);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string? Str(JsonNode? node, string name) =>
        node?[name]?.GetValueKind() == JsonValueKind.String ? node[name]!.GetValue<string>() : null;

    private static double Num(JsonNode? node, string name) =>
        node?[name]?.GetValueKind() == JsonValueKind.Number ? node[name]!.GetValue<double>() : 0;
}

/// <summary>In-process switches, the same as the /_sim/ endpoints.</summary>
public sealed class OdooSimulatorControl
{
    private readonly OdooSimulator _simulator;
    private readonly OdooSimulatorState _state;

    internal OdooSimulatorControl(OdooSimulator simulator, OdooSimulatorState state)
    {
        _simulator = simulator;
        _state = state;
    }

    public IReadOnlyList<OdooDatabase> Databases
    {
        get
        {
            lock (_state.Gate)
            {
                return [.. _state.Databases.Values.OrderBy(d => d.Name, StringComparer.Ordinal)];
            }
        }
    }

    /// <summary>Every service.method received, in order (after JSON parsing succeeded).</summary>
    public IReadOnlyList<string> Calls
    {
        get
        {
            lock (_state.Gate)
            {
                return [.. _state.CallLog];
            }
        }
    }

    /// <summary>HTTP requests to /jsonrpc since start or reset, including those refused with 502 while down.</summary>
    public int HttpRequests => Volatile.Read(ref _state.HttpRequests);

    /// <summary>The next <paramref name="count"/> requests get 502 Bad Gateway; later ones are served.</summary>
    public void BadGatewayForNext(int count) => Volatile.Write(ref _state.BadGatewayNext, count);

    public TimeSpan CreateDelay
    {
        get => _state.CreateDelay;
        set => _state.CreateDelay = value;
    }

    public bool ListDb
    {
        get => _state.ListDb;
        set => _state.ListDb = value;
    }

    /// <summary>Every later create_database returns true but leaves a database nobody can log into.</summary>
    public bool AllCreatesFailInit
    {
        get => _state.AllCreatesInitFail;
        set => _state.AllCreatesInitFail = value;
    }

    public OdooDownMode Down => _state.Down;

    /// <summary>The next create_database returns true but its initialisation "failed": authenticate will return false.</summary>
    public void FailNextCreateInit()
    {
        lock (_state.Gate)
        {
            _state.NextCreateInitFails = true;
        }
    }

    /// <summary>Fraction (0..1) of calls to a db/common method that fail with a PostgreSQL error; drawn from the seeded generator.</summary>
    public void SetErrorRate(string method, double rate)
    {
        lock (_state.Gate)
        {
            if (rate <= 0)
            {
                _state.ErrorRates.Remove(method);
            }
            else
            {
                _state.ErrorRates[method] = Math.Min(1, rate);
            }
        }
    }

    public void AddDatabase(string name, string login = "admin", string password = "admin")
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        lock (_state.Gate)
        {
            _state.Databases[name] = new OdooDatabase(name, login, password, InitFailed: false, Demo: false, "en_US", null, null);
        }
    }

    public async Task GoDownAsync(OdooDownMode mode)
    {
        _state.Down = mode;
        if (mode == OdooDownMode.ConnectionRefused)
        {
            await _simulator.CloseAsync();
        }
    }

    public async Task ComeUpAsync()
    {
        _state.Down = OdooDownMode.Up;
        await _simulator.OpenAsync(CancellationToken.None);
    }

    /// <summary>Back to the start options: no databases, no faults, listener open.</summary>
    public void Reset()
    {
        _state.Reset();
        _ = _simulator.OpenAsync(CancellationToken.None);
    }

    internal JsonObject StateJson()
    {
        lock (_state.Gate)
        {
            return new JsonObject
            {
                ["databases"] = new JsonArray([.. _state.Databases.Values.OrderBy(d => d.Name, StringComparer.Ordinal)
                    .Select(d => (JsonNode)new JsonObject { ["name"] = d.Name, ["login"] = d.Login, ["init_failed"] = d.InitFailed })]),
                ["list_db"] = _state.ListDb,
                ["create_delay_ms"] = _state.CreateDelay.TotalMilliseconds,
                ["error_rates"] = new JsonObject([.. _state.ErrorRates.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value))]),
                ["down"] = _state.Down.ToString(),
            };
        }
    }
}
