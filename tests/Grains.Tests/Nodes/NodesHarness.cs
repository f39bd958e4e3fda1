using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Http.Json;
using System.Security.Claims;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Microsoft.Extensions.Hosting;
using Sajet.Grains.Interfaces;
using Sajet.Grains.Workflow;
using Sajet.Grains.Placement;
using Sajet.Simulators.Proxmox;
using Sajet.TestSupport;
using Sajet.WebFront.Nodes;

namespace Sajet.Grains.Tests.Nodes;

/// <summary>Every log line of the test's processes (silos and API), formatted, with its arguments and exceptions.</summary>
public sealed class LogCapture : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _lines = new();

    public IReadOnlyCollection<string> Lines => _lines;

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    public bool Contains(string text) => _lines.Any(l => l.Contains(text, StringComparison.OrdinalIgnoreCase));

    private sealed class Logger(LogCapture owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Debug;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var values = state is IEnumerable<KeyValuePair<string, object?>> kv ? string.Join(" ", kv.Select(p => $"{p.Key}={p.Value}")) : "";
            owner._lines.Enqueue($"{logLevel} {category}: {formatter(state, exception)} | {values} | {exception}");
        }
    }
}

/// <summary>An in-process silo running the real grains, with its own connection pool, as a separate process would have.</summary>
public sealed class NodeSilo : IAsyncDisposable
{
    public const string SecretKey = "test-secret-key-for-node-tokens-0123456789";
    private readonly IHost _host;

    private NodeSilo(IHost host) => _host = host;

    public IGrainFactory Grains => _host.Services.GetRequiredService<IGrainFactory>();

    public NpgsqlDataSource DataSource => _host.Services.GetRequiredService<NpgsqlDataSource>();

    /// <summary>The nodes that announced room to the capacity queue, oldest first.</summary>
    public Task<IReadOnlyList<string>> CapacityNoticesAsync() =>
        Grains.GetGrain<ICapacityGrain>(GrainTypes.WaitingQueue).GetRecentNoticesAsync();

    public static async Task<NodeSilo> StartAsync(string connectionString, LogCapture logs)
    {
        var settings = TestSilos.Settings(connectionString);
        settings["SAJET_SECRET_KEY"] = SecretKey;
        settings["Proxmox:RequestTimeout"] = "00:00:10";
        // The silo hosts every grain; these tests never reach Stripe, but its options are validated on start.
        settings["STRIPE_SECRET_KEY"] = "sk_test_nodes";
        settings["STRIPE_WEBHOOK_SECRET"] = "whsec_nodes";
        return new NodeSilo(await TestSilos.StartAsync(settings, b => b.Logging.SetMinimumLevel(LogLevel.Debug).AddProvider(logs)));
    }

    public async ValueTask DisposeAsync() => await TestSilos.StopAsync(_host);
}

/// <summary>The nodes API on a loopback port, as the web front maps it, with a header scheme standing in for the real admin login.</summary>
public sealed class NodesApiHost : IAsyncDisposable
{
    public const string RoleHeader = "X-Test-Role";
    private readonly WebApplication _app;

    private NodesApiHost(WebApplication app, Uri address)
    {
        _app = app;
        Admin = new HttpClient { BaseAddress = address };
        Admin.DefaultRequestHeaders.Add(RoleHeader, "admin");
        Anonymous = new HttpClient { BaseAddress = address };
    }

    public HttpClient Admin { get; }

    public HttpClient Anonymous { get; }

    /// <summary>The node API on its own host; its grain calls (the capacity check) go to <paramref name="grains"/>, as the web front's cluster client's would.</summary>
    public static async Task<NodesApiHost> StartAsync(string connectionString, LogCapture logs, IGrainFactory grains)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["DATABASE_URL"] = connectionString,
            ["SAJET_SECRET_KEY"] = NodeSilo.SecretKey,
        });
        builder.Logging.ClearProviders().SetMinimumLevel(LogLevel.Debug).AddProvider(logs);
        builder.Services.AddProblemDetails();
        builder.Services.AddAuthentication(HeaderAuthentication.SchemeName).AddScheme<AuthenticationSchemeOptions, HeaderAuthentication>(HeaderAuthentication.SchemeName, null);
        builder.Services.AddAuthorizationBuilder().AddPolicy(NodesApi.AdminPolicy, p => p.RequireRole("admin"));
        builder.Services.AddNodes(builder.Configuration);
        builder.Services.AddSingleton(grains);
        // Connected from the start: the grain factory is the silo's own.
        builder.Services.AddSingleton(sp => new Sajet.Cluster.ClusterConnection([], sp.GetRequiredService<ILogger<Sajet.Cluster.ClusterConnection>>()));
        builder.Services.AddHostedService(sp => sp.GetRequiredService<Sajet.Cluster.ClusterConnection>());
        var app = builder.Build();
        app.UseStatusCodePages();
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapNodesApi();
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new NodesApiHost(app, new Uri(address));
    }

    public async ValueTask DisposeAsync()
    {
        Admin.Dispose();
        Anonymous.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private sealed class HeaderAuthentication(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
        : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
    {
        public const string SchemeName = "TestHeader";

        protected override Task<AuthenticateResult> HandleAuthenticateAsync()
        {
            if (!Request.Headers.TryGetValue(RoleHeader, out var role) || role.Count == 0)
            {
                return Task.FromResult(AuthenticateResult.NoResult());
            }

            var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, "test-admin"), new Claim(ClaimTypes.Role, role.ToString())], SchemeName);
            return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
        }
    }
}

/// <summary>Per test class: a database, a silo running the node grains, the API, and the captured logs of all of them.</summary>
public sealed class NodesFixture : IAsyncLifetime
{
    public TestDatabase Db { get; private set; } = null!;

    public LogCapture Logs { get; } = new();

    public NodeSilo Silo { get; private set; } = null!;

    public NodesApiHost Api { get; private set; } = null!;

    public NpgsqlDataSource Data => Db.DataSource;

    public async Task InitializeAsync()
    {
        Db = await TestDatabase.CreateAsync();
        // Fast polls and a short offline threshold: the tests wait for what polls produce.
        await ExecAsync("""
            UPDATE settings SET value = '0.25' WHERE key = 'nodes.poll_interval_seconds';
            UPDATE settings SET value = '2' WHERE key = 'nodes.offline_after_failures';
            """);
        Silo = await NodeSilo.StartAsync(Db.ConnectionString, Logs);
        Api = await NodesApiHost.StartAsync(Db.ConnectionString, Logs, Silo.Grains);
    }

    public async Task DisposeAsync()
    {
        await Api.DisposeAsync();
        await Silo.DisposeAsync();
        await Db.DisposeAsync();
    }

    public async Task ExecAsync(string sql, params (string Name, object Value)[] parameters)
    {
        await using var cmd = Data.CreateCommand(sql);
        foreach (var (name, value) in parameters)
        {
            cmd.Parameters.AddWithValue(name, value);
        }

        await cmd.ExecuteNonQueryAsync();
    }

    public async Task<T> ScalarAsync<T>(string sql, params (string Name, object Value)[] parameters)
    {
        await using var cmd = Data.CreateCommand(sql);
        foreach (var (name, value) in parameters)
        {
            cmd.Parameters.AddWithValue(name, value);
        }

        var value2 = await cmd.ExecuteScalarAsync();
        return value2 is null or DBNull ? default! : (T)Convert.ChangeType(value2, Nullable.GetUnderlyingType(typeof(T)) ?? typeof(T), CultureInfo.InvariantCulture);
    }

    /// <summary>Registers simulator node <paramref name="pveNode"/> as <paramref name="id"/> through the API and waits for its first poll.</summary>
    public async Task RegisterAsync(ProxmoxSimulator sim, string id, string pveNode, object? extra = null)
    {
        var body = new Dictionary<string, object?>
        {
            ["id"] = id,
            ["apiUrl"] = sim.HttpsUrl.ToString(),
            ["tokenId"] = sim.TokenId,
            ["tokenSecret"] = sim.TokenSecret,
            ["fingerprint"] = sim.CertificateFingerprint,
            ["pveNode"] = pveNode,
        };
        if (extra is not null)
        {
            foreach (var p in JsonSerializer.SerializeToElement(extra, JsonSerializerOptions.Web).EnumerateObject())
            {
                body[p.Name] = p.Value;
            }
        }

        var response = await Api.Admin.PostAsJsonAsync("/api/nodes", body);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        await UntilAsync(async () => await ScalarAsync<string>("SELECT health FROM nodes WHERE id = @id", ("id", id)) == "online", $"{id} online");
    }

    /// <summary>Waits until <paramref name="count"/> more samples of the node exist: that many polls were applied after now.</summary>
    public async Task PollsAsync(string id, int count = 2)
    {
        var start = await ScalarAsync<long>("SELECT count(*) FROM node_samples WHERE node_id = @id", ("id", id));
        await UntilAsync(async () => await ScalarAsync<long>("SELECT count(*) FROM node_samples WHERE node_id = @id", ("id", id)) >= start + count, $"{count} polls of {id}");
    }

    /// <summary>Waits for a condition with a generous deadline; the deadline guards against hangs, it asserts no speed.</summary>
    public static async Task UntilAsync(Func<Task<bool>> condition, string what, int seconds = 120)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Gave up waiting for: {what}");
            }

            await Task.Delay(50);
        }
    }

    public static Task<ProxmoxSimulator> StartSimulatorAsync(int nodes = 3) => ProxmoxSimulator.StartAsync(new ProxmoxSimulatorOptions
    {
        HttpPort = 0,
        HttpsPort = 0,
        TaskDurationScale = 0,
        AuthFailureDelay = TimeSpan.Zero,
        NodeCount = nodes,
        Seed = 11,
    });
}
