using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Sajet.Grains.Interfaces;
using Sajet.Grains.Interfaces.Outbox;

namespace Sajet.Grains.Outbox;

/// <summary>How the silos deliver the outbox. Section "Outbox".</summary>
public sealed class OutboxOptions
{
    public const string Section = "Outbox";

    /// <summary>Safety-net poll when no wake-up arrives (a lost NOTIFY, a silo that was down): rows are found within this.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a claimed batch is this silo's; a silo that dies mid-delivery loses its claim after this.</summary>
    public TimeSpan Lease { get; set; } = TimeSpan.FromSeconds(60);

    public int BatchSize { get; set; } = 256;

    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromMinutes(5);
}

/// <summary>
/// Delivers outbox rows to their grains from any number of silos: claims a batch in one statement (SKIP LOCKED, so silos
/// never wait on each other), calls each grain with the row's id as the command id, in row order per grain, and deletes
/// a row only after its grain answered — so a command the web front committed reaches its grain even if a silo dies
/// mid-delivery (another claims it when the lease ends; the grain recognises the id if it had applied it).
/// </summary>
public sealed class OutboxDispatcher(NpgsqlDataSource db, IGrainFactory grains, IOptions<OutboxOptions> options, ILogger<OutboxDispatcher> logger)
    : BackgroundService
{
    private const string ClaimSql = """
        UPDATE outbox o SET run_at = now() + @lease, attempts = o.attempts + 1
        FROM (SELECT id FROM outbox WHERE run_at <= now() ORDER BY run_at, id LIMIT @limit FOR UPDATE SKIP LOCKED) due
        WHERE o.id = due.id
        RETURNING o.id, o.grain_type, o.grain_key, o.kind, o.payload::text, o.attempts
        """;

    private const string DeleteSql = "DELETE FROM outbox WHERE id = ANY(@ids)";

    private const string FailSql = "UPDATE outbox SET run_at = now() + @delay, last_error = @error WHERE id = @id";

    private readonly SemaphoreSlim _wake = new(0);
    private OutboxOptions Options => options.Value;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _ = ListenAsync(stoppingToken);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                while (await DeliverBatchAsync(stoppingToken) == Options.BatchSize)
                {
                    // A full batch: more may be waiting.
                }
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning("Outbox delivery pass failed: {Error}", ex.Message);
            }

            try
            {
                await _wake.WaitAsync(Jitter(Options.PollInterval), stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            // Coalesce a burst of wake-ups into one pass.
            while (_wake.CurrentCount > 0)
            {
                await _wake.WaitAsync(stoppingToken);
            }
        }
    }

    /// <summary>One pass: claim, deliver, finish. Returns how many rows were claimed.</summary>
    public async Task<int> DeliverBatchAsync(CancellationToken ct)
    {
        var claimed = new List<(OutboxCommand Command, int Attempts)>();
        await using (var cmd = db.CreateCommand(ClaimSql))
        {
            cmd.Parameters.AddWithValue("lease", Options.Lease);
            cmd.Parameters.AddWithValue("limit", Options.BatchSize);
            await using var r = await cmd.ExecuteReaderAsync(ct);
            while (await r.ReadAsync(ct))
            {
                claimed.Add((new OutboxCommand(r.GetGuid(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4)), r.GetInt32(5)));
            }
        }

        if (claimed.Count == 0)
        {
            return 0;
        }

        // Grains in parallel; one grain's commands in the order they were written.
        var delivered = new System.Collections.Concurrent.ConcurrentBag<Guid>();
        await Task.WhenAll(claimed.GroupBy(c => (c.Command.GrainType, c.Command.GrainKey)).Select(async group =>
        {
            foreach (var (command, attempts) in group)
            {
                try
                {
                    await DeliverAsync(command);
                    delivered.Add(command.Id);
                }
                catch (Exception ex)
                {
                    var delay = TimeSpan.FromSeconds(Math.Min(Options.MaxBackoff.TotalSeconds, Math.Pow(2, Math.Min(attempts, 16))));
                    logger.LogWarning("Outbox command {CommandId} ({Kind}) for {GrainType} {GrainKey} failed (attempt {Attempt}), retry in {Delay}: {Error}",
                        command.Id, command.Kind, command.GrainType, command.GrainKey, attempts, delay, ex.Message);
                    await FailAsync(command.Id, delay, ex.Message);
                    return; // The rest of this grain's commands wait for the next pass, in order.
                }
            }
        }));

        if (!delivered.IsEmpty)
        {
            await using var done = db.CreateCommand(DeleteSql);
            done.Parameters.AddWithValue("ids", delivered.ToArray());
            await done.ExecuteNonQueryAsync(ct);
        }

        return claimed.Count;
    }

    /// <summary>The typed call each kind of command becomes.</summary>
    private Task DeliverAsync(OutboxCommand c) => c.Kind switch
    {
        OutboxKinds.TenantSignedUp => Tenant(c).SignedUpAsync(c.Id, c.Payload<TenantSignedUp>()),
        OutboxKinds.TenantStripeEvent => Tenant(c).StripeEventAsync(c.Id, c.Payload<StripeEventReceived>()),
        OutboxKinds.TenantCheckoutReturned => Tenant(c).CheckoutReturnedAsync(c.Id, c.Payload<CheckoutReturned>()),
        OutboxKinds.TenantResolve => Tenant(c).ResolveAsync(c.Id, c.Payload<ResolveTenant>()),
        OutboxKinds.TenantSuspend => Tenant(c).SuspendAsync(c.Id, c.Payload<SuspendTenant>()),
        OutboxKinds.TenantResume => Tenant(c).ResumeAsync(c.Id, c.Payload<ResumeTenant>()),
        OutboxKinds.TenantSetOdooPassword => Tenant(c).SetOdooPasswordAsync(c.Id, c.Payload<SetOdooPassword>()),
        OutboxKinds.NodeRegistered => grains.GetGrain<Interfaces.Nodes.INodeGrain>(c.GrainKey).RegisteredAsync(c.Id),
        OutboxKinds.NodeChanged => grains.GetGrain<Interfaces.Nodes.INodeGrain>(c.GrainKey).ChangedAsync(c.Id),
        OutboxKinds.NodeRemoved => grains.GetGrain<Interfaces.Nodes.INodeGrain>(c.GrainKey).RemovedAsync(c.Id),
        OutboxKinds.ContainerMoved => Container(c).MovedAsync(c.Id, c.Payload<ContainerMoved>().FromNode, c.Payload<ContainerMoved>().ToNode),
        OutboxKinds.ContainerMissing => Container(c).MissingAsync(c.Id, c.Payload<ContainerSeen>().NodeId),
        OutboxKinds.ContainerFound => Container(c).FoundAsync(c.Id, c.Payload<ContainerSeen>().NodeId),
        _ => throw new InvalidOperationException($"Unknown outbox command kind '{c.Kind}'"),
    };

    private ITenantGrain Tenant(OutboxCommand c) => grains.GetGrain<ITenantGrain>(c.GrainKey);

    private Interfaces.Nodes.IContainerGrain Container(OutboxCommand c) => grains.GetGrain<Interfaces.Nodes.IContainerGrain>(c.GrainKey);

    private async Task FailAsync(Guid id, TimeSpan delay, string error)
    {
        try
        {
            await using var cmd = db.CreateCommand(FailSql);
            cmd.Parameters.AddWithValue("id", id);
            cmd.Parameters.AddWithValue("delay", delay);
            cmd.Parameters.AddWithValue("error", error.Length > 500 ? error[..500] : error);
            await cmd.ExecuteNonQueryAsync();
        }
        catch (Exception ex)
        {
            // The lease runs out anyway and the row is claimed again.
            logger.LogDebug("Could not record an outbox failure: {Error}", ex.Message);
        }
    }

    private async Task ListenAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await using var conn = await db.OpenConnectionAsync(ct);
                conn.Notification += (_, _) => _wake.Release();
                await using (var listen = new NpgsqlCommand($"LISTEN {OutboxWaker.Channel}", conn))
                {
                    await listen.ExecuteNonQueryAsync(ct);
                }

                _wake.Release(); // Rows written while not listening.
                while (!ct.IsCancellationRequested)
                {
                    await conn.WaitAsync(ct);
                }
            }
            catch (Exception ex) when (!ct.IsCancellationRequested)
            {
                logger.LogInformation("Outbox listener lost its connection ({Error}); reconnecting", ex.Message);
                try
                {
                    await Task.Delay(Jitter(TimeSpan.FromSeconds(2)), ct);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private static TimeSpan Jitter(TimeSpan t) => t * (0.8 + (Random.Shared.NextDouble() * 0.4));
}
