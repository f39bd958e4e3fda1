extern alias simulators;

using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using Microsoft.Extensions.Hosting;
using Sajet.Grains.Interfaces;
using Sajet.Integrations.Proxmox;
using Sajet.Persistence.Secrets;
using Sajet.TestSupport;
using simulators::Sajet.Simulators.Odoo;
using simulators::Sajet.Simulators.Proxmox;
using simulators::Sajet.Simulators.Stripe;

namespace Sajet.WebFront.Tests.Onboarding;

/// <summary>
/// The whole system on one test database: the real web front on Kestrel (so the Stripe simulator can deliver
/// webhooks to it), in-process silos with the real grains, and the three simulators on loopback ports.
/// </summary>
public sealed class OnboardingHarness : IAsyncDisposable
{
    public const string SecretKey = "onboarding-test-secret-key-0123456789abcdef";
    public const string Domain = "tenants.test";

    private readonly List<IHost> _silos = [];
    private readonly List<Process> _processes = [];

    private OnboardingHarness(TestDatabase db, ProxmoxSimulator proxmox, StripeSimulator stripe, OdooSimulator odoo, OnboardingWebFactory web)
    {
        Db = db;
        Proxmox = proxmox;
        Stripe = stripe;
        Odoo = odoo;
        Web = web;
    }

    public TestDatabase Db { get; }

    public ProxmoxSimulator Proxmox { get; }

    public StripeSimulator Stripe { get; }

    public OdooSimulator Odoo { get; }

    public OnboardingWebFactory Web { get; }

    /// <summary>Starts everything on a database of its own (tests in one class must not see each other's nodes).</summary>
    public static async Task<OnboardingHarness> StartAsync(int nodes = 3, double taskScale = 0, PrivatePostgres? server = null)
    {
        var db = server is null ? await TestDatabase.CreateAsync() : await TestDatabase.OnPrivateServerAsync(server);
        var proxmox = await ProxmoxSimulator.StartAsync(new ProxmoxSimulatorOptions
        {
            HttpPort = 0,
            HttpsPort = 0,
            NodeCount = nodes,
            TaskDurationScale = taskScale,
            AuthFailureDelay = TimeSpan.Zero,
            // Room for dozens of tenants per node: these tests are about correctness, not about running out.
            LvmStorageBytes = 4L << 40,
            NodeMemoryBytes = 128L << 30,
            NodeCores = 32,
        });
        var odoo = await OdooSimulator.StartAsync(new OdooSimulatorOptions { Port = 0, MasterPassword = "master-test" });
        var port = FreePort();
        var stripe = await StripeSimulator.StartAsync(new StripeSimulatorOptions
        {
            Port = 0,
            RetryScale = 0.0005,
            WebhookEndpoints = [$"http://127.0.0.1:{port}/webhook/stripe"],
        });
        var web = new OnboardingWebFactory(db, port, stripe);
        web.UseKestrel(port);
        web.StartServer();
        return new OnboardingHarness(db, proxmox, stripe, odoo, web);
    }

    /// <summary>Configuration shared by the web front and the silos.</summary>
    public static Dictionary<string, string?> CommonSettings(TestDatabase db, StripeSimulator stripe) => new()
    {
        ["DATABASE_URL"] = db.ConnectionString,
        ["SAJET_SECRET_KEY"] = SecretKey,
        ["JWT_SECRET_KEY"] = SecretKey,
        ["STRIPE_SECRET_KEY"] = stripe.SecretKey,
        ["STRIPE_WEBHOOK_SECRET"] = stripe.WebhookSecret,
        ["Stripe:ApiBase"] = stripe.BaseUrl,
        ["Stripe:MaxNetworkRetries"] = "3",
        ["Tenants:Domain"] = Domain,
    };

    /// <summary>Starts an in-process silo running the real grains against the simulators; it joins the test's cluster.</summary>
    public async Task<IHost> StartSiloAsync(string id, Action<Dictionary<string, string?>>? configure = null)
    {
        var silo = await TestSilos.StartAsync(SiloSettings(id, configure), b => b.Logging.SetMinimumLevel(LogLevel.Warning));
        _silos.Add(silo);
        await ClusterConnectedAsync();
        return silo;
    }

    /// <summary>Waits until the web front's cluster client has connected.</summary>
    public Task ClusterConnectedAsync() => TestSilos.ClusterConnectedAsync(Web.Services);

    /// <summary>Starts the real silo executable (src/Silo) with the same settings, for tests that kill or freeze it.</summary>
    public Process StartSiloProcess(string id, Action<Dictionary<string, string?>>? configure = null)
    {
        // Kept for a failing test's post-mortem: silo-logs/<database>-<silo id>.log beside the test binaries.
        var process = TestSilos.StartProcess(SiloSettings(id, configure), Path.Combine(AppContext.BaseDirectory, "silo-logs", $"{Db.Name}-{id}.log"));
        _processes.Add(process);
        return process;
    }

    private Dictionary<string, string?> SiloSettings(string id, Action<Dictionary<string, string?>>? configure)
    {
        var settings = CommonSettings(Db, Stripe);
        foreach (var (key, value) in TestSilos.Settings(Db.ConnectionString))
        {
            settings[key] = value;
        }

        settings["Logging:LogLevel:Default"] = "Warning";
        // The welcome mail's link points at this test's web front, as APP_URL does in production.
        settings["APP_URL"] = Web.BaseUrl;
        settings["Tenants:OdooUrlTemplate"] = Odoo.BaseUrl;
        settings["Tenants:OdooMasterPassword"] = Odoo.MasterPassword;
        settings["Tenants:TaskPollInterval"] = "00:00:00.020";
        settings["Tenants:TaskTimeout"] = "00:00:20";
        settings["Tenants:StepRetryDelay"] = "00:00:00.050";
        settings["Tenants:ReconcileFirstInterval"] = "00:00:01";
        settings["Tenants:WaitingRecheck"] = "00:00:30";
        settings["Proxmox:TaskPollInterval"] = "00:00:00.020";
        settings["Proxmox:MaxTaskPollInterval"] = "00:00:00.100";
        settings["Proxmox:RequestTimeout"] = "00:00:05";
        configure?.Invoke(settings);
        return settings;
    }

    /// <summary>Waits until <paramref name="count"/> silos are active in Orleans' membership table.</summary>
    public Task WaitForSilosAsync(int count, int seconds = 120) => WaitAsync(async () =>
        await Db.ScalarAsync<long>("SELECT count(*) FROM orleans_membership WHERE status = 3") >= count, $"{count} active silos", seconds);

    /// <summary>The tenant's grain, called through the first running silo.</summary>
    public ITenantGrain Tenant(string tenantId) => _silos[0].Services.GetRequiredService<IGrainFactory>().GetGrain<ITenantGrain>(tenantId);

    public async Task StopSiloAsync(IHost silo)
    {
        _silos.Remove(silo);
        await TestSilos.StopAsync(silo);
    }

    /// <summary>Registers simulator nodes through the registry API and waits for their first poll to bring them online.</summary>
    public Task RegisterNodesAsync(params string[] pveNodes) => RegisterNodesAsync(2, pveNodes);

    /// <summary>Registers simulator nodes polled every <paramref name="pollSeconds"/> and waits for their first poll.</summary>
    public async Task RegisterNodesAsync(int pollSeconds, params string[] pveNodes)
    {
        await Db.ExecAsync($"UPDATE settings SET value = '{pollSeconds}' WHERE key = 'nodes.poll_interval_seconds'");
        using var admin = await AdminClientAsync();
        foreach (var node in pveNodes)
        {
            await RegisterNodeViaApiAsync(admin, node);
        }

        await WaitAsync(async () => await Db.ScalarAsync<long>("SELECT count(*) FROM nodes WHERE health = 'online' AND metrics_at IS NOT NULL") >= pveNodes.Length,
            "registered nodes online", 60);
    }

    /// <summary>An HTTP client signed in as the first admin (bearer token).</summary>
    public async Task<HttpClient> AdminClientAsync()
    {
        var client = Web.Client();
        var login = await client.PostAsJsonAsync("/api/auth/login", new
        {
            email = SajetWebFactory.AdminLogin,
            password = SajetWebFactory.AdminPassword,
            role = "admin",
            tokenInBody = true,
        });
        var body = await login.Content.ReadAsStringAsync();
        Assert.True(login.IsSuccessStatusCode, body);
        client.DefaultRequestHeaders.Authorization = new("Bearer", JsonDocument.Parse(body).RootElement.GetProperty("accessToken").GetString());
        return client;
    }

    /// <summary>Registers a simulator node through the node registry API, as an operator would.</summary>
    public async Task RegisterNodeViaApiAsync(HttpClient admin, string pveNode)
    {
        var response = await admin.PostAsJsonAsync("/api/nodes", new
        {
            id = pveNode,
            apiUrl = Proxmox.HttpsUrl.ToString().TrimEnd('/'),
            tokenId = Proxmox.TokenId,
            tokenSecret = Proxmox.TokenSecret,
            fingerprint = Proxmox.CertificateFingerprint,
            pveNode,
        });
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
    }

    public sealed record Signed(string TenantId, string CheckoutUrl, string SessionId);

    public async Task<Signed> SignUpAsync(string subdomain, string plan = "pro", HttpClient? client = null)
    {
        client ??= Web.Client();
        var response = await client.PostAsJsonAsync("/api/checkout", new
        {
            companyName = $"Empresa {subdomain}",
            email = $"owner@{subdomain}.example.com",
            subdomain,
            plan,
            country = "ES",
        });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"signup {subdomain}: {(int)response.StatusCode} {body}");
        var json = JsonDocument.Parse(body).RootElement;
        var url = json.GetProperty("checkoutUrl").GetString()!;
        return new Signed(json.GetProperty("tenantId").GetString()!, url, url[(url.LastIndexOf('/') + 1)..]);
    }

    /// <summary>A customer signs up and pays; returns once the tenant reaches <paramref name="status"/> (active unless told).</summary>
    public async Task<Signed> SignUpAndPayAsync(string subdomain, string plan = "pro", HttpClient? client = null, string status = TenantStatus.Active, int seconds = 120)
    {
        var signed = await SignUpAsync(subdomain, plan, client);
        Stripe.Control.PayCheckoutSession(signed.SessionId);
        await WaitForStatusAsync(signed.TenantId, status, seconds);
        return signed;
    }

    /// <summary>
    /// The tenant's status as the customer sees it: its grain's tenants row, or "pending" while only the signup's claim
    /// exists (the outbox has not delivered the signup to the grain yet), as /success shows it.
    /// </summary>
    public async Task<string> StatusAsync(string tenantId) => await Db.ScalarAsync<string>($"""
        SELECT coalesce((SELECT status FROM tenants WHERE id = '{tenantId}'),
                        (SELECT '{TenantStatus.Pending}' FROM signups WHERE tenant_id = '{tenantId}'))
        """);

    /// <summary>Waits until the tenant's grain has applied the signup: only then does the tenants row exist.</summary>
    public Task WaitForSignupAppliedAsync(string tenantId, int seconds = 60) => WaitAsync(async () =>
        await Db.ScalarAsync<long>($"SELECT count(*) FROM tenants WHERE id = '{tenantId}'") == 1, $"{tenantId} applied by its grain", seconds);

    public async Task WaitForStatusAsync(string tenantId, string status, int seconds = 120)
    {
        try
        {
            await WaitAsync(async () => await StatusAsync(tenantId) == status, $"{tenantId} reaches {status}", seconds);
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"{ex.Message}\n{await DescribeAsync(tenantId)}", ex);
        }
    }

    /// <summary>The tenant's history and undelivered commands, for a failure message.</summary>
    public async Task<string> DescribeAsync(string tenantId)
    {
        var events = await Db.ScalarAsync<string>($"""
            SELECT string_agg(coalesce(from_state, '-') || ' -> ' || coalesce(to_state, '-') || ' | ' || reason || ' | ' || coalesce(correlation_id, ''), E'\n' ORDER BY id)
            FROM grain_events WHERE grain_key = '{tenantId}'
            """);
        var outbox = await Db.ScalarAsync<string>($"""
            SELECT string_agg(kind || ' attempt ' || attempts || ' due ' || run_at || ' error ' || coalesce(last_error, ''), E'\n')
            FROM outbox WHERE grain_key = '{tenantId}'
            """);
        return $"status {await StatusAsync(tenantId)}\nhistory:\n{events}\noutbox:\n{outbox}";
    }

    public static async Task WaitAsync(Func<Task<bool>> condition, string what, int seconds = 120)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!await Holds(condition))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Gave up waiting for: {what}");
            }

            await Task.Delay(100);
        }
    }

    // A condition that cannot be read yet (PostgreSQL restarting, a pooled connection it cut) does not hold yet.
    private static async Task<bool> Holds(Func<Task<bool>> condition)
    {
        try
        {
            return await condition();
        }
        catch (NpgsqlException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var process in _processes.Where(p => !p.HasExited))
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        foreach (var silo in _silos.ToList())
        {
            await StopSiloAsync(silo);
        }

        await Web.DisposeAsync();
        await Stripe.DisposeAsync();
        await Odoo.DisposeAsync();
        await Proxmox.DisposeAsync();
        await Db.DisposeAsync();
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>The web front on a real loopback port, configured for the simulators.</summary>
public sealed class OnboardingWebFactory(TestDatabase db, int port, StripeSimulator stripe) : WebApplicationFactory<Program>
{
    public string BaseUrl => $"http://127.0.0.1:{port}";

    /// <summary>The web front's clock; a test moves it forward to see what a customer sees later.</summary>
    public MovableClock Clock { get; } = new();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.ConfigureServices(services => services.AddSingleton<TimeProvider>(Clock));
        foreach (var (key, value) in OnboardingHarness.CommonSettings(db, stripe))
        {
            builder.UseSetting(key, value);
        }

        builder.UseSetting("urls", BaseUrl);
        builder.UseSetting("APP_URL", BaseUrl);
        builder.UseSetting("ADMIN_USERNAME", SajetWebFactory.AdminLogin);
        builder.UseSetting("ADMIN_PASSWORD", SajetWebFactory.AdminPassword);
        builder.UseSetting("Audit:Directory", Path.Combine(Path.GetTempPath(), "sajet-audit-" + Guid.NewGuid().ToString("N")[..8]));
        builder.UseSetting("SecurityHeaders:FormActionOrigins:0", stripe.BaseUrl);
        builder.UseSetting("RateLimits:CheckoutsPerMinute", "10000");
        builder.UseSetting("RateLimits:WebhooksPerMinute", "100000");
        builder.UseSetting("RateLimits:SignupsPerHour", "10000");
    }

    /// <summary>A real HTTP client to the Kestrel server, with its own client IP for the rate limiter.</summary>
    public HttpClient Client()
    {
        var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = true, CookieContainer = new CookieContainer() })
        {
            BaseAddress = new Uri(BaseUrl),
        };
        return client;
    }
}

/// <summary>System time plus an offset that only grows: later, never earlier.</summary>
public sealed class MovableClock : TimeProvider
{
    private long _offsetTicks;

    public void Advance(TimeSpan by) => Interlocked.Add(ref _offsetTicks, by.Ticks);

    public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + TimeSpan.FromTicks(Interlocked.Read(ref _offsetTicks));
}
