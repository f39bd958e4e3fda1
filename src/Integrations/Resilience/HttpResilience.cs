using System.Collections.Concurrent;
using System.ComponentModel.DataAnnotations;
using System.Net;
using Microsoft.Extensions.Http.Resilience;
using Polly;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace Sajet.Integrations.Resilience;

/// <summary>
/// How one integration's HTTP calls bear a sick endpoint. Each integration's options class carries one, with
/// values (and the reasons for them) that fit that system; see ProxmoxOptions.Resilience and OdooClientOptions.Resilience.
/// </summary>
public sealed record HttpResilienceOptions : IValidatableObject
{
    /// <summary>All attempts of one call together, backoff included.</summary>
    public TimeSpan TotalTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>One attempt of a read. A write's single attempt gets the whole <see cref="TotalTimeout"/>.</summary>
    public TimeSpan ReadAttemptTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Retries of an idempotent read after a transient failure; writes are never retried here.</summary>
    public int MaxReadRetries { get; set; } = 2;

    /// <summary>First retry delay; doubles per retry, with jitter so many callers do not retry in step.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>The breaker opens when at least this share of the calls in <see cref="BreakerSamplingDuration"/> failed...</summary>
    public double BreakerFailureRatio { get; set; } = 0.5;

    /// <summary>...and at least this many calls were made in it.</summary>
    public int BreakerMinimumThroughput { get; set; } = 6;

    public TimeSpan BreakerSamplingDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long an open breaker answers at once before it lets one trial call through.</summary>
    public TimeSpan BreakerBreakDuration { get; set; } = TimeSpan.FromSeconds(15);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        // Polly's own limits: timeouts 10 ms..1 day, breaker windows at least 0.5 s, throughput at least 2.
        if (TotalTimeout < TimeSpan.FromMilliseconds(10) || TotalTimeout > TimeSpan.FromDays(1))
        {
            yield return new ValidationResult("Resilience:TotalTimeout must be between 10 ms and 1 day.", [nameof(TotalTimeout)]);
        }

        if (ReadAttemptTimeout < TimeSpan.FromMilliseconds(10) || ReadAttemptTimeout > TotalTimeout)
        {
            yield return new ValidationResult("Resilience:ReadAttemptTimeout must be at least 10 ms and not longer than TotalTimeout.", [nameof(ReadAttemptTimeout)]);
        }

        if (MaxReadRetries is < 0 or > 10)
        {
            yield return new ValidationResult("Resilience:MaxReadRetries must be between 0 and 10.", [nameof(MaxReadRetries)]);
        }

        if (RetryBaseDelay < TimeSpan.Zero || RetryBaseDelay > TimeSpan.FromMinutes(1))
        {
            yield return new ValidationResult("Resilience:RetryBaseDelay must be between 0 and 1 minute.", [nameof(RetryBaseDelay)]);
        }

        if (BreakerFailureRatio is <= 0 or > 1)
        {
            yield return new ValidationResult("Resilience:BreakerFailureRatio must be above 0 and at most 1.", [nameof(BreakerFailureRatio)]);
        }

        if (BreakerMinimumThroughput < 2)
        {
            yield return new ValidationResult("Resilience:BreakerMinimumThroughput must be at least 2.", [nameof(BreakerMinimumThroughput)]);
        }

        if (BreakerSamplingDuration < TimeSpan.FromMilliseconds(500) || BreakerBreakDuration < TimeSpan.FromMilliseconds(500))
        {
            yield return new ValidationResult("Resilience:BreakerSamplingDuration and BreakerBreakDuration must be at least 0.5 s.", [nameof(BreakerSamplingDuration)]);
        }
    }
}

/// <summary>
/// Polly pipelines (through Microsoft.Extensions.Http.Resilience's strategy options) for the Proxmox and Odoo clients:
/// total timeout → retry (reads only) → circuit breaker → attempt timeout, the order of the library's standard handler.
/// There is one pipeline per endpoint authority and options, shared by every client in the process, so the breaker of
/// a Proxmox node sees all calls to that node (the poller's, a probe's, a provisioning step's) and no other node's.
/// </summary>
public static class HttpResilience
{
    /// <summary>Set on the ResilienceContext of a call that only reads, which may therefore be sent again.</summary>
    public static readonly ResiliencePropertyKey<bool> IdempotentRead = new("sajet.idempotent-read");

    private static readonly ConcurrentDictionary<(string Authority, HttpResilienceOptions Options), ResiliencePipeline<HttpResponseMessage>> Pipelines = new();

    public static ResiliencePipeline<HttpResponseMessage> For(Uri endpoint, HttpResilienceOptions options) =>
        Pipelines.GetOrAdd((endpoint.GetLeftPart(UriPartial.Authority), options), static key => Build(key.Authority, key.Options));

    /// <summary>
    /// A failure that says the endpoint itself is unwell: no connection, no answer in time, or a gateway/overload status.
    /// Application errors (PVE's 500 for a lock or a taken VMID, its 595 for another node) are answers, not sickness.
    /// </summary>
    public static bool IsTransient(Outcome<HttpResponseMessage> outcome) => outcome switch
    {
        { Exception: HttpRequestException or TimeoutRejectedException } => true,
        { Result: { } response } => response.StatusCode is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests
            or HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout,
        _ => false,
    };

    /// <summary>Runs one call through the endpoint's pipeline; <paramref name="send"/> builds a fresh request per attempt.</summary>
    public static async Task<HttpResponseMessage> SendAsync(Uri endpoint, HttpResilienceOptions options, bool idempotentRead,
        Func<CancellationToken, Task<HttpResponseMessage>> send, CancellationToken ct)
    {
        var context = ResilienceContextPool.Shared.Get(ct);
        context.Properties.Set(IdempotentRead, idempotentRead);
        try
        {
            return await For(endpoint, options).ExecuteAsync(static async (ctx, send) => await send(ctx.CancellationToken), context, send);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    private static bool IsRead(ResilienceContext context) => context.Properties.GetValue(IdempotentRead, false);

    private static ResiliencePipeline<HttpResponseMessage> Build(string authority, HttpResilienceOptions o)
    {
        var builder = new ResiliencePipelineBuilder<HttpResponseMessage> { Name = authority }
            .AddTimeout(o.TotalTimeout);
        if (o.MaxReadRetries > 0)
        {
            builder.AddRetry(new HttpRetryStrategyOptions
            {
                MaxRetryAttempts = o.MaxReadRetries,
                Delay = o.RetryBaseDelay,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                // A write that failed may still have taken effect (a task started, a database half made): its caller,
                // which knows how to find what an earlier attempt made, decides; a read can simply be asked again.
                ShouldHandle = args => ValueTask.FromResult(IsRead(args.Context) && IsTransient(args.Outcome)),
            });
        }

        return builder
            .AddCircuitBreaker(new HttpCircuitBreakerStrategyOptions
            {
                FailureRatio = o.BreakerFailureRatio,
                MinimumThroughput = o.BreakerMinimumThroughput,
                SamplingDuration = o.BreakerSamplingDuration,
                BreakDuration = o.BreakerBreakDuration,
                ShouldHandle = args => ValueTask.FromResult(IsTransient(args.Outcome)),
            })
            .AddTimeout(new TimeoutStrategyOptions
            {
                TimeoutGenerator = args => ValueTask.FromResult(IsRead(args.Context) ? o.ReadAttemptTimeout : o.TotalTimeout),
            })
            .Build();
    }

    /// <summary>True for the exception an open (or half-open, trial running) breaker answers with.</summary>
    public static bool IsCircuitOpen(Exception ex) => ex is BrokenCircuitException;
}
