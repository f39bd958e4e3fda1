using Npgsql;
using NpgsqlTypes;
using Sajet.Grains.Interfaces;
using Sajet.Grains.Interfaces.Outbox;

namespace Sajet.WebFront.Onboarding;

/// <summary>A verified Stripe event as the webhook read it: what is stored, and where it names its tenant.</summary>
public sealed record IncomingStripeEvent(
    string Id, string Type, long Created, bool Livemode, string PayloadJson, string? Reference, string? Customer, string? Subscription);

/// <summary>What storing one event did: whether it was new, and the tenant it was routed to (if any).</summary>
public readonly record struct StoredStripeEvent(bool Stored, string? TenantId);

/// <summary>
/// Stores verified Stripe events and routes each new one to its tenant's grain, in shared transactions (group commit):
/// one write is in flight at a time, and the events that arrive meanwhile go together in the next one, as one round
/// trip and one commit. A lone event is written at once, so nothing waits on a timer; under load the batches grow by
/// themselves, which is what lets the webhook keep up with PostgreSQL's own insert rate (bench/Onboarding). Every
/// caller is answered only after the commit that holds its event. If a batch fails, its events are written one by
/// one, so one event PostgreSQL refuses cannot fail the others.
/// </summary>
public sealed class StripeEventStore(
    [FromKeyedServices(StripeEventStore.DataSourceKey)] NpgsqlDataSource db, OutboxWaker waker, ILogger<StripeEventStore> logger)
{
    /// <summary>The store's own data source: a few connections that plan its one statement once (see below).</summary>
    public const string DataSourceKey = "stripe-events";

    /// <summary>
    /// PostgreSQL re-plans a prepared statement for each call while a plan made for the actual parameters looks
    /// cheaper than the generic one, and for arrays of unknown length it always does: that planning cost more than
    /// the statement itself (0.15 ms of 0.25 ms). These connections run nothing else, so they always use the generic
    /// plan; the pool is small because one write is in flight at a time.
    /// </summary>
    public static void ConfigureConnections(NpgsqlConnectionStringBuilder connection)
    {
        connection.Options = $"{connection.Options} -c plan_cache_mode=force_generic_plan".Trim();
        connection.MaxPoolSize = 4;
    }

    // One statement for the whole batch, so one round trip and one commit: find each event's tenant, store the events
    // not seen before, and write an outbox command for each new one that has a tenant. Duplicates insert nothing. A
    // batch never holds one id twice (the caller folds copies together), so each stored row joins exactly one input.
    private const string StoreAndRouteSql = """
        WITH incoming AS (
            SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::boolean[], $5::text[], $6::text[], $7::text[],
                                 $8::text[], $9::text[], $10::text[])
                AS e(id, type, created, livemode, payload, ref, customer, subscription, command_id, command)
        ), resolved AS (
            -- Our reference first, else the newest tenant with the event's customer, else with its subscription: index
            -- lookups, evaluated only as far as needed, whatever the generic plan. The signup's own table answers for a
            -- tenant whose grain has not applied the signup yet (no tenants row until it does); the subscription is
            -- only ever known to the grain.
            SELECT e.*, coalesce(
                (SELECT t.id FROM tenants t WHERE t.id = e.ref),
                (SELECT s.tenant_id FROM signups s WHERE s.tenant_id = e.ref),
                (SELECT t.id FROM tenants t WHERE t.stripe_customer_id = e.customer ORDER BY t.created_at DESC LIMIT 1),
                (SELECT s.tenant_id FROM signups s WHERE s.stripe_customer_id = e.customer ORDER BY s.created_at DESC LIMIT 1),
                (SELECT t.id FROM tenants t WHERE t.subscription_id = e.subscription ORDER BY t.created_at DESC LIMIT 1)) AS tenant_id
            FROM incoming e
        ), stored AS (
            INSERT INTO stripe_events (id, type, created, livemode, tenant_id, payload)
            SELECT id, type, to_timestamp(created), livemode, tenant_id, payload::jsonb FROM resolved
            ON CONFLICT (id) DO NOTHING
            RETURNING id, tenant_id
        ), routed AS (
            INSERT INTO outbox (id, grain_type, grain_key, kind, payload)
            SELECT r.command_id::uuid, $11, s.tenant_id, $12, r.command::jsonb
            FROM stored s JOIN resolved r ON r.id = s.id
            WHERE s.tenant_id IS NOT NULL
        )
        SELECT id, tenant_id FROM stored
        """;

    private const int MaxBatch = 64;

    private readonly Lock _gate = new();
    private readonly Queue<Pending> _queue = new();

    // One writer: measured on 2 cores, a second concurrent writer halved the batch size and cost more CPU per event
    // (more commits, more round trips) than the overlap won back.
    private bool _writing;
    private long _batches;
    private long _events;

    /// <summary>Transactions written so far (batches, including one-event ones); with <see cref="Events"/>, how well they group.</summary>
    public long Batches => Interlocked.Read(ref _batches);

    /// <summary>Events written so far (stored or found to be duplicates).</summary>
    public long Events => Interlocked.Read(ref _events);

    /// <summary>Stores <paramref name="e"/> once and routes it; completes after the commit that holds it.</summary>
    public Task<StoredStripeEvent> StoreAsync(IncomingStripeEvent e)
    {
        var pending = new Pending(e, new TaskCompletionSource<StoredStripeEvent>(TaskCreationOptions.RunContinuationsAsynchronously));
        bool write;
        lock (_gate)
        {
            _queue.Enqueue(pending);
            write = !_writing;
            _writing = true;
        }

        if (write)
        {
            _ = WriteWhileQueuedAsync();
        }

        return pending.Completion.Task;
    }

    private async Task WriteWhileQueuedAsync()
    {
        while (true)
        {
            List<Pending> batch;
            lock (_gate)
            {
                if (_queue.Count == 0)
                {
                    _writing = false;
                    return;
                }

                batch = new List<Pending>(Math.Min(_queue.Count, MaxBatch));
                while (batch.Count < MaxBatch && _queue.TryDequeue(out var next))
                {
                    batch.Add(next);
                }
            }

            await WriteAsync(batch);
        }
    }

    private async Task WriteAsync(List<Pending> batch)
    {
        try
        {
            Complete(batch, await ExecuteAsync(batch));
        }
        catch (PostgresException ex) when (batch.Count > 1)
        {
            // PostgreSQL refused something in the batch (an event jsonb cannot hold, say): find which, without making
            // the others wait for Stripe's retry. Connection failures are not retried here; every caller gets the error
            // and Stripe delivers again.
            logger.LogWarning("A batch of {Count} Stripe events was refused ({SqlState}: {Error}); writing them one by one",
                batch.Count, ex.SqlState, ex.MessageText);
            foreach (var one in batch)
            {
                try
                {
                    Complete([one], await ExecuteAsync([one]));
                }
                catch (Exception single)
                {
                    one.Completion.TrySetException(single);
                }
            }
        }
        catch (Exception ex)
        {
            foreach (var one in batch)
            {
                one.Completion.TrySetException(ex);
            }
        }
    }

    private async Task<StoredStripeEvent[]> ExecuteAsync(List<Pending> batch)
    {
        // Copies of one event in the same batch (Stripe retrying while the first delivery waits) are written once.
        var events = batch.Select(p => p.Event).DistinctBy(e => e.Id).ToList();
        // The tenant is known only inside the statement: the command's key is filled in there.
        var message = events.Select(e => OutboxCommand.StripeEvent("", new StripeEventReceived(e.Id, e.Type))).ToList();
        await using var command = db.CreateCommand(StoreAndRouteSql);
        command.Parameters.Add(new() { Value = events.Select(e => e.Id).ToArray() });
        command.Parameters.Add(new() { Value = events.Select(e => e.Type).ToArray() });
        command.Parameters.Add(new() { Value = events.Select(e => e.Created).ToArray() });
        command.Parameters.Add(new() { Value = events.Select(e => e.Livemode).ToArray() });
        command.Parameters.Add(new() { Value = events.Select(e => e.PayloadJson).ToArray() });
        command.Parameters.Add(new() { Value = events.Select(e => e.Reference ?? "").ToArray() });
        command.Parameters.Add(new() { Value = events.Select(e => e.Customer).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        command.Parameters.Add(new() { Value = events.Select(e => e.Subscription).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        command.Parameters.Add(new() { Value = message.Select(m => m.Id.ToString()).ToArray() });
        command.Parameters.Add(new() { Value = message.Select(m => m.PayloadJson).ToArray() });
        command.Parameters.Add(new() { Value = GrainTypes.Tenant });
        command.Parameters.Add(new() { Value = OutboxKinds.TenantStripeEvent });

        var stored = new Dictionary<string, string?>(StringComparer.Ordinal);
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                stored[reader.GetString(0)] = reader.IsDBNull(1) ? null : reader.GetString(1);
            }
        }

        Interlocked.Increment(ref _batches);
        Interlocked.Add(ref _events, batch.Count);

        // Each stored event answers its first caller as new; any other copy in the batch is a duplicate.
        var answered = new HashSet<string>(StringComparer.Ordinal);
        return [.. batch.Select(p => stored.TryGetValue(p.Event.Id, out var tenant) && answered.Add(p.Event.Id)
            ? new StoredStripeEvent(true, tenant)
            : new StoredStripeEvent(false, null))];
    }

    private void Complete(List<Pending> batch, StoredStripeEvent[] results)
    {
        // The silos are woken after the commit, coalesced: a NOTIFY inside the transaction would serialise commits on
        // PostgreSQL's notify queue lock, and if a wake-up is lost their poll finds the messages anyway.
        if (results.Any(r => r.TenantId is not null))
        {
            waker.Wake();
        }

        for (var i = 0; i < batch.Count; i++)
        {
            batch[i].Completion.TrySetResult(results[i]);
        }
    }

    private sealed record Pending(IncomingStripeEvent Event, TaskCompletionSource<StoredStripeEvent> Completion);
}
