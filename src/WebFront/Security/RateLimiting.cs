using System.Collections.Concurrent;
using System.ComponentModel.DataAnnotations;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;
using Sajet.WebFront.Audit;
using Sajet.WebFront.Hosting;

namespace Sajet.WebFront.Security;

/// <summary>Limits per client IP (section <c>RateLimits</c>). Request rates are counted per web front process; failed sign-ins in PostgreSQL, across every instance.</summary>
public sealed class RateLimitOptions
{
    public const string Section = "RateLimits";

    /// <summary>Failed sign-ins per IP per <see cref="LoginFailureWindow"/>; the next attempt is answered 429.</summary>
    [Range(1, 10_000)]
    public int LoginFailuresPerIp { get; set; } = 5;

    /// <summary>Failed sign-ins per login name per window, known account or not (the lockout covers known ones for longer).</summary>
    [Range(1, 10_000)]
    public int LoginFailuresPerAccount { get; set; } = 5;

    public TimeSpan LoginFailureWindow { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>All sign-in requests per IP per minute, successful or not.</summary>
    [Range(1, 10_000)]
    public int LoginRequestsPerMinute { get; set; } = 30;

    /// <summary>Other /api/auth requests (refresh, logout, 2FA) per IP per minute.</summary>
    [Range(1, 10_000)]
    public int AuthRequestsPerMinute { get; set; } = 60;

    [Range(1, 10_000)]
    public int SignupsPerHour { get; set; } = 10;

    [Range(1, 10_000)]
    public int CheckoutsPerMinute { get; set; } = 10;

    /// <summary>Reads of <c>/api/onboarding/status</c> per IP per minute. Its own budget: the /success page polls it
    /// every 3 s while its live stream is down, and sharing the checkout limit made the page refuse itself.</summary>
    [Range(1, 10_000)]
    public int OnboardingStatusPerMinute { get; set; } = 120;

    /// <summary>Webhook deliveries per source IP per minute; Stripe retries what we refuse. The endpoint itself takes
    /// several hundred thousand a minute (bench/Onboarding), so the ceiling leaves room to measure it.</summary>
    [Range(1, 10_000_000)]
    public int WebhooksPerMinute { get; set; } = 600;
}

/// <summary>
/// Named rate-limit policies. Attach them to a route group: <c>group.RequireRateLimiting(RateLimitPolicies.Signup)</c>.
/// Rejections are 429 problem+json in Spanish with Retry-After, and audited.
/// </summary>
public static class RateLimitPolicies
{
    public const string Login = "login";
    public const string Auth = "auth";
    public const string Signup = "signup";
    public const string Checkout = "checkout";
    public const string OnboardingStatus = "onboarding-status";
    public const string Webhook = "webhook";

    private static readonly ConcurrentDictionary<string, DateTimeOffset> LastAudited = new();

    public static IServiceCollection AddSajetRateLimiting(this IServiceCollection services)
    {
        services.AddOptions<RateLimitOptions>().BindConfiguration(RateLimitOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<LoginThrottle>();
        services.AddRateLimiter(_ => { });
        services.AddOptions<Microsoft.AspNetCore.RateLimiting.RateLimiterOptions>().Configure<IOptions<RateLimitOptions>>((limiter, settings) =>
        {
            var s = settings.Value;
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            limiter.AddPolicy(Login, http => PerIp(http, s.LoginRequestsPerMinute, TimeSpan.FromMinutes(1)));
            limiter.AddPolicy(Auth, http => PerIp(http, s.AuthRequestsPerMinute, TimeSpan.FromMinutes(1)));
            limiter.AddPolicy(Signup, http => PerIp(http, s.SignupsPerHour, TimeSpan.FromHours(1)));
            limiter.AddPolicy(Checkout, http => PerIp(http, s.CheckoutsPerMinute, TimeSpan.FromMinutes(1)));
            limiter.AddPolicy(OnboardingStatus, http => PerIp(http, s.OnboardingStatusPerMinute, TimeSpan.FromMinutes(1)));
            limiter.AddPolicy(Webhook, http => PerIp(http, s.WebhooksPerMinute, TimeSpan.FromMinutes(1)));
            limiter.OnRejected = async (context, ct) =>
            {
                var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : (TimeSpan?)null;
                await WriteTooManyRequestsAsync(context.HttpContext, retryAfter, "rate_limit");
            };
        });
        return services;
    }

    public static string ClientIp(HttpContext http) => http.Connection.RemoteIpAddress?.ToString() ?? "unknown";

    /// <summary>The 429 answer, shared by the middleware policies and the sign-in failure throttle.</summary>
    public static async Task WriteTooManyRequestsAsync(HttpContext http, TimeSpan? retryAfter, string limit)
    {
        http.Response.StatusCode = StatusCodes.Status429TooManyRequests;
        if (retryAfter is { } wait)
        {
            http.Response.Headers.RetryAfter = ((int)Math.Ceiling(wait.TotalSeconds)).ToString();
        }

        await AuditRejectionAsync(http, limit);
        if (!RequestKinds.IsApi(http.Request))
        {
            // Pages: the empty 429 is rendered by the Spanish error page (status code pages).
            return;
        }

        await http.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = http,
            ProblemDetails =
            {
                Status = StatusCodes.Status429TooManyRequests,
                Title = "Demasiadas solicitudes",
                Detail = "Has hecho demasiados intentos en poco tiempo. Espera un momento y vuelve a intentarlo.",
            },
        });
    }

    /// <summary>Audits a refused request; an attacker hammering us must not turn each refusal into a database write.</summary>
    public static async Task AuditRejectionAsync(HttpContext http, string limit)
    {
        // One audit per IP and limit per minute.
        var key = $"{limit}|{ClientIp(http)}";
        var now = DateTimeOffset.UtcNow;
        if (LastAudited.Count > 10_000)
        {
            LastAudited.Clear();
        }

        if (!LastAudited.TryGetValue(key, out var last) || now - last > TimeSpan.FromMinutes(1))
        {
            LastAudited[key] = now;
            await http.RequestServices.GetRequiredService<AuditLog>().WriteAsync(http, "security.rate_limited",
                new { limit, path = http.Request.Path.Value, method = http.Request.Method }, AuditSeverity.Warning);
        }
    }

    private static RateLimitPartition<string> PerIp(HttpContext http, int permits, TimeSpan window) =>
        RateLimitPartition.GetFixedWindowLimiter(ClientIp(http), _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = permits,
            Window = window,
            QueueLimit = 0,
        });
}

/// <summary>
/// Counts failed sign-ins (not requests) per IP and per login name: after N failures within the window the next
/// attempt is refused with 429 before the password is even checked. The counts live in PostgreSQL (sql/0015), so a
/// limit reached through one web front holds on every other: an attacker cannot spread guesses over the instances.
/// One statement per check and per failure; sign-ins are rare enough that this costs nothing measurable next to the
/// password hash.
/// </summary>
public sealed class LoginThrottle(NpgsqlDataSource db, IOptions<RateLimitOptions> options, TimeProvider time)
{
    // For each key: its failures within the window, and when the oldest of them leaves it.
    private const string CountSql = """
        SELECT count(*) FILTER (WHERE scope = 'ip' AND key = @ip) AS ByIp,
               count(*) FILTER (WHERE scope = 'account' AND key = @account) AS ByAccount,
               min(at) FILTER (WHERE scope = 'ip' AND key = @ip) AS IpOldest,
               min(at) FILTER (WHERE scope = 'account' AND key = @account) AS AccountOldest
        FROM login_failures
        WHERE at > @since AND ((scope = 'ip' AND key = @ip) OR (scope = 'account' AND key = @account))
        """;

    // Expired rows go with the next failure, so the table holds at most one window of failures.
    private const string RecordSql = """
        INSERT INTO login_failures (scope, key, at) VALUES ('ip', @ip, @now), ('account', @account, @now);
        DELETE FROM login_failures WHERE at <= @since;
        """;

    /// <summary>When blocked, how long until the oldest counted failure leaves the window (or null when not blocked).</summary>
    public async Task<TimeSpan?> BlockedAsync(string ip, string account, CancellationToken ct = default)
    {
        var s = options.Value;
        var now = time.GetUtcNow();
        await using var conn = await db.OpenConnectionAsync(ct);
        var c = await conn.QuerySingleAsync<Counts>(new CommandDefinition(CountSql, new { ip, account, since = now - s.LoginFailureWindow }, cancellationToken: ct));
        var oldest = (c.ByIp >= s.LoginFailuresPerIp ? c.IpOldest : null) ?? (c.ByAccount >= s.LoginFailuresPerAccount ? c.AccountOldest : null);
        return oldest is { } at ? new DateTimeOffset(DateTime.SpecifyKind(at, DateTimeKind.Utc)) + s.LoginFailureWindow - now : null;
    }

    public async Task RecordFailureAsync(string ip, string account, CancellationToken ct = default)
    {
        var now = time.GetUtcNow();
        await using var conn = await db.OpenConnectionAsync(ct);
        await conn.ExecuteAsync(new CommandDefinition(RecordSql, new { ip, account, now, since = now - options.Value.LoginFailureWindow }, cancellationToken: ct));
    }

    private sealed record Counts(long ByIp, long ByAccount, DateTime? IpOldest, DateTime? AccountOldest);
}
