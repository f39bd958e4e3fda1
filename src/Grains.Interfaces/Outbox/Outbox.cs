using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Sajet.Grains.Interfaces.Outbox;

/// <summary>
/// A command for a grain, in the durable form the web front commits with whatever caused it. Orleans calls are
/// at-most-once; a row in <c>outbox</c> is not: the silos' dispatcher calls the grain with the row's id as the command
/// id (the grain keeps recent ids, so a repeat changes nothing) and deletes the row only once the grain has applied it.
/// </summary>
public sealed record OutboxCommand(Guid Id, string GrainType, string GrainKey, string Kind, string PayloadJson)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static OutboxCommand SignedUp(TenantSignedUp m) => Create(GrainTypes.Tenant, m.TenantId, OutboxKinds.TenantSignedUp, m);

    public static OutboxCommand StripeEvent(string tenantId, StripeEventReceived m) => Create(GrainTypes.Tenant, tenantId, OutboxKinds.TenantStripeEvent, m);

    public static OutboxCommand CheckoutReturned(string tenantId, CheckoutReturned m) => Create(GrainTypes.Tenant, tenantId, OutboxKinds.TenantCheckoutReturned, m);

    public static OutboxCommand Resolve(string tenantId, ResolveTenant m) => Create(GrainTypes.Tenant, tenantId, OutboxKinds.TenantResolve, m);

    public static OutboxCommand Suspend(string tenantId, SuspendTenant m) => Create(GrainTypes.Tenant, tenantId, OutboxKinds.TenantSuspend, m);

    public static OutboxCommand Resume(string tenantId, ResumeTenant m) => Create(GrainTypes.Tenant, tenantId, OutboxKinds.TenantResume, m);

    public static OutboxCommand SetOdooPassword(string tenantId, SetOdooPassword m) => Create(GrainTypes.Tenant, tenantId, OutboxKinds.TenantSetOdooPassword, m);

    public static OutboxCommand NodeRegistered(string nodeId) => Create(GrainTypes.Node, nodeId, OutboxKinds.NodeRegistered, new { });

    public static OutboxCommand NodeChanged(string nodeId) => Create(GrainTypes.Node, nodeId, OutboxKinds.NodeChanged, new { });

    public static OutboxCommand NodeRemoved(string nodeId) => Create(GrainTypes.Node, nodeId, OutboxKinds.NodeRemoved, new { });

    public static OutboxCommand ContainerMoved(int vmid, string fromNode, string toNode) =>
        Create(GrainTypes.Container, Vmid(vmid), OutboxKinds.ContainerMoved, new ContainerMoved(fromNode, toNode));

    public static OutboxCommand ContainerMissing(int vmid, string nodeId) =>
        Create(GrainTypes.Container, Vmid(vmid), OutboxKinds.ContainerMissing, new ContainerSeen(nodeId));

    public static OutboxCommand ContainerFound(int vmid, string nodeId) =>
        Create(GrainTypes.Container, Vmid(vmid), OutboxKinds.ContainerFound, new ContainerSeen(nodeId));

    private static string Vmid(int vmid) => vmid.ToString(System.Globalization.CultureInfo.InvariantCulture);

    public T Payload<T>() => JsonSerializer.Deserialize<T>(PayloadJson, Json)
        ?? throw new InvalidOperationException($"Outbox command {Id} ({Kind}) has no payload");

    private static OutboxCommand Create<T>(string type, string key, string kind, T payload) =>
        new(Guid.CreateVersion7(), type, key, kind, JsonSerializer.Serialize(payload, Json));
}

/// <summary>Stable names of the commands in <c>outbox.kind</c>: stored rows outlive a deploy, so they never change.</summary>
public static class OutboxKinds
{
    public const string TenantSignedUp = "tenant.signed-up";
    public const string TenantStripeEvent = "tenant.stripe-event";
    public const string TenantCheckoutReturned = "tenant.checkout-returned";
    public const string TenantResolve = "tenant.resolve";
    public const string TenantSuspend = "tenant.suspend";
    public const string TenantResume = "tenant.resume";
    public const string TenantSetOdooPassword = "tenant.set-odoo-password";
    public const string NodeRegistered = "node.registered";
    public const string NodeChanged = "node.changed";
    public const string NodeRemoved = "node.removed";
    public const string ContainerMoved = "container.moved";
    public const string ContainerMissing = "container.missing";
    public const string ContainerFound = "container.found";
}

/// <summary>A node's poll found the container on another node (HA or an operator moved it).</summary>
[GenerateSerializer, Immutable, Alias("sajet.ContainerMoved")]
public sealed record ContainerMoved([property: Id(0)] string FromNode, [property: Id(1)] string ToNode);

/// <summary>A node's poll no longer finds the container in the cluster, or finds it again (on <see cref="NodeId"/>).</summary>
[GenerateSerializer, Immutable, Alias("sajet.ContainerSeen")]
public sealed record ContainerSeen([property: Id(0)] string NodeId);

/// <summary>The web front's side of the outbox: writes commands (in the caller's transaction when given) and wakes the silos.</summary>
public sealed class GrainOutbox(NpgsqlDataSource db, OutboxWaker waker)
{
    private const string InsertSql = """
        INSERT INTO outbox (id, grain_type, grain_key, kind, payload) VALUES (@id, @type, @key, @kind, @payload::jsonb)
        """;

    /// <summary>Writes <paramref name="command"/>; inside <paramref name="tx"/> when given, and then the caller calls <see cref="Wake"/> after its commit.</summary>
    public async Task SendAsync(OutboxCommand command, NpgsqlTransaction? tx = null, CancellationToken ct = default)
    {
        await using var cmd = tx is null ? db.CreateCommand() : new NpgsqlCommand(null, tx.Connection, tx);
        await InsertAsync(cmd, command, ct);
        if (tx is null)
        {
            waker.Wake();
        }
    }

    /// <summary>
    /// The one insert of a command, run on <paramref name="cmd"/>'s connection and transaction: the web front's sends and
    /// a grain turn's sends (which commit with the turn's domain SQL) write the same row.
    /// </summary>
    public static async Task InsertAsync(NpgsqlCommand cmd, OutboxCommand command, CancellationToken ct)
    {
        cmd.CommandText = InsertSql;
        cmd.Parameters.AddWithValue("id", command.Id);
        cmd.Parameters.AddWithValue("type", command.GrainType);
        cmd.Parameters.AddWithValue("key", command.GrainKey);
        cmd.Parameters.AddWithValue("kind", command.Kind);
        cmd.Parameters.AddWithValue("payload", command.PayloadJson);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Wakes the silos; callers that sent inside their own transaction call it after the commit.</summary>
    public void Wake() => waker.Wake();
}

/// <summary>
/// Wakes the silos' outbox dispatchers after a sender commits, coalescing wake-ups into at most one NOTIFY per short
/// window. A NOTIFY inside the sender's own transaction would serialise every commit on PostgreSQL's notify queue lock;
/// sent afterwards and coalesced, it costs one small transaction per burst. If one is lost, the dispatchers' poll finds
/// the rows anyway.
/// </summary>
public sealed class OutboxWaker(NpgsqlDataSource db, ILogger<OutboxWaker> logger)
{
    public const string Channel = "sajet_outbox";
    private static readonly TimeSpan Window = TimeSpan.FromMilliseconds(10);
    private int _scheduled;

    public void Wake()
    {
        if (Interlocked.Exchange(ref _scheduled, 1) == 0)
        {
            _ = Task.Run(SendAsync);
        }
    }

    private async Task SendAsync()
    {
        await Task.Delay(Window);
        Interlocked.Exchange(ref _scheduled, 0);
        try
        {
            await using var cmd = db.CreateCommand($"SELECT pg_notify('{Channel}', '')");
            await cmd.ExecuteNonQueryAsync();
        }
        catch (Exception ex)
        {
            logger.LogDebug("Could not wake the silos ({Error}); their poll will find the outbox rows", ex.Message);
        }
    }
}

public static class OutboxServiceCollectionExtensions
{
    /// <summary>The outbox writer and its waker, for a process that sends commands to grains (needs an NpgsqlDataSource).</summary>
    public static IServiceCollection AddSajetOutbox(this IServiceCollection services)
    {
        services.TryAddSingleton<OutboxWaker>();
        services.TryAddSingleton<GrainOutbox>();
        return services;
    }
}
