using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Npgsql;
using Sajet.TestSupport;
using Sajet.WebFront.Auth;

namespace Sajet.WebFront.Tests;

/// <summary>
/// The real web front on a test class's own database. Only configuration differs from production: the database,
/// no co-hosted silo, fixed secrets, an audit directory of its own, and optional extra settings.
/// </summary>
public sealed class SajetWebFactory(TestDatabase db, IReadOnlyDictionary<string, string?>? settings = null) : WebApplicationFactory<Program>
{
    public const string AdminLogin = "root-admin";
    public const string AdminPassword = "correct horse battery staple";
    public const string JwtSecretKey = "test-secret-key-test-secret-key-0123456789";

    public TestDatabase Db => db;

    public string AuditDirectory { get; } = Path.Combine(Path.GetTempPath(), "sajet-audit-" + Guid.NewGuid().ToString("N")[..8]);

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("DATABASE_URL", db.ConnectionString);
        builder.UseSetting("Runtime:RunSilo", "false");
        builder.UseSetting("JWT_SECRET_KEY", JwtSecretKey);
        builder.UseSetting("ADMIN_USERNAME", AdminLogin);
        builder.UseSetting("ADMIN_PASSWORD", AdminPassword);
        builder.UseSetting("Audit:Directory", AuditDirectory);
        // Signup needs Stripe configured; these tests never reach it, so it points at a closed port.
        builder.UseSetting("STRIPE_SECRET_KEY", "sk_test_not_used_by_these_tests");
        builder.UseSetting("STRIPE_WEBHOOK_SECRET", "whsec_not_used_by_these_tests");
        builder.UseSetting("Stripe:ApiBase", "http://127.0.0.1:9");
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            builder.UseSetting(key, value);
        }
    }

    /// <summary>A cookie-keeping client that does not follow redirects, seen as coming from <paramref name="ip"/>.</summary>
    public HttpClient Client(string? ip = null, bool https = false)
    {
        var client = CreateClient(new WebApplicationFactoryClientOptions
        {
            AllowAutoRedirect = false,
            HandleCookies = true,
            BaseAddress = new Uri(https ? "https://localhost" : "http://localhost"),
        });
        client.DefaultRequestHeaders.Add("X-Forwarded-For", ip ?? RandomIp());
        return client;
    }

    public static string RandomIp() => $"10.{Random.Shared.Next(256)}.{Random.Shared.Next(256)}.{Random.Shared.Next(1, 255)}";

    public async Task<(string Email, string TenantId)> CreateTenantUserAsync(string password = "tenant-password-1")
    {
        var tenantId = "t-" + Guid.NewGuid().ToString("N")[..10];
        var email = $"{tenantId}@example.com";
        await using var conn = await db.DataSource.OpenConnectionAsync();
        Assert.NotNull(await Users.CreateTenantUserAsync(conn, email, password, tenantId));
        return (email, tenantId);
    }

    public async Task<string> CreateAdminAsync(string password = "admin-password-1")
    {
        var email = $"ops-{Guid.NewGuid().ToString("N")[..8]}@example.com";
        await using var cmd = db.DataSource.CreateCommand("INSERT INTO users (email, role, password_hash) VALUES (@e, 'admin', @h)");
        cmd.Parameters.AddWithValue("e", email);
        cmd.Parameters.AddWithValue("h", Users.HashPassword(password));
        await cmd.ExecuteNonQueryAsync();
        return email;
    }

    public async Task<T> ScalarAsync<T>(string sql, params (string Name, object Value)[] parameters)
    {
        await using var cmd = db.DataSource.CreateCommand(sql);
        foreach (var (name, value) in parameters)
        {
            cmd.Parameters.AddWithValue(name, value);
        }

        return (T)(await cmd.ExecuteScalarAsync())!;
    }
}

public static class TestHttp
{
    public static Task<HttpResponseMessage> LoginAsync(this HttpClient client, string email, string password, string role, string? totpCode = null, string? recoveryCode = null, bool tokenInBody = false) =>
        client.PostAsJsonAsync("/api/auth/login", new { email, password, role, totpCode, recoveryCode, tokenInBody });

    public static async Task<JsonElement> JsonAsync(this HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

    public static string? SetCookie(this HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues("Set-Cookie", out var values) ? values.FirstOrDefault(v => v.StartsWith(name + "=", StringComparison.Ordinal)) : null;

    /// <summary>The antiforgery token of the first form on a page.</summary>
    public static string AntiforgeryToken(string html) =>
        Regex.Match(html, "name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"").Groups[1].Value is { Length: > 0 } token
            ? token : throw new InvalidOperationException("no antiforgery token on the page");

    /// <summary>GETs a page and posts one of its forms with the page's antiforgery token and the given fields.</summary>
    public static async Task<HttpResponseMessage> SubmitFormAsync(this HttpClient client, string pageUrl, string postUrl, Dictionary<string, string> fields)
    {
        using var request = await client.FormRequestAsync(pageUrl, postUrl, fields);
        return await client.SendAsync(request);
    }

    /// <summary>The POST of <see cref="SubmitFormAsync"/>, not yet sent (to add headers, as a page's script does).</summary>
    public static async Task<HttpRequestMessage> FormRequestAsync(this HttpClient client, string pageUrl, string postUrl, Dictionary<string, string> fields)
    {
        var page = await client.GetAsync(pageUrl);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        fields["__RequestVerificationToken"] = AntiforgeryToken(await page.Content.ReadAsStringAsync());
        return new HttpRequestMessage(HttpMethod.Post, postUrl) { Content = new FormUrlEncodedContent(fields) };
    }

    public static byte[] SeedFromOtpauth(string uri) =>
        Base32.Decode(Regex.Match(uri, "[?&]secret=([A-Z2-7]+)").Groups[1].Value);

    /// <summary>A valid code for the step after the current one: the step just used to enable 2FA is spent.</summary>
    public static string NextCode(byte[] seed, int stepsAhead = 1) =>
        Totp.Compute(seed, Totp.StepAt(DateTimeOffset.UtcNow) + stepsAhead);
}

/// <summary>One database (a <see cref="DatabaseFixture"/>) and one running web front per test class.</summary>
public class WebFixture : IAsyncLifetime
{
    private readonly DatabaseFixture _db = new();
    private SajetWebFactory? _factory;

    public SajetWebFactory Factory => _factory ?? throw new InvalidOperationException("fixture not initialised");

    protected virtual IReadOnlyDictionary<string, string?>? Settings => null;

    public virtual async Task InitializeAsync()
    {
        await _db.InitializeAsync();
        _factory = new SajetWebFactory(_db.Db, Settings);
        _ = _factory.Server; // start now: migrations and the first admin exist before any test runs
    }

    public virtual async Task DisposeAsync()
    {
        if (_factory is not null)
        {
            await _factory.DisposeAsync();
            if (Directory.Exists(_factory.AuditDirectory))
            {
                Directory.Delete(_factory.AuditDirectory, recursive: true);
            }
        }

        NpgsqlConnection.ClearAllPools();
        await _db.DisposeAsync();
    }
}
