using Npgsql;

namespace Sajet.Grains.Placement;

/*
 One shared placement, in this grain's turn (one at a time):

   the tenant already holds a slot (an earlier request was cut off after its commit) ─► that slot (resumed)
   not pinned, and no reservation under the new container's key yet ─► a container with a free slot? ─► join it
   otherwise ─► placement grain reserves a node for a new container ─► none fits: not placed, a verdict per node
                                                  └─► fits: the container opens with the tenant in its first slot
*/

/// <summary>Joins a shared container or opens a new one, one tenant at a time; the slot SQL commits before it answers.</summary>
public sealed class SharedPlacementGrain(NpgsqlDataSource db) : Grain, ISharedPlacementGrain
{
    public async Task<SharedPlacement> PlaceAsync(SharedPlacementRequest request)
    {
        await using var conn = await db.OpenConnectionAsync();
        await using var tx = await conn.BeginTransactionAsync();
        // One activation takes the turns; the lock covers the moment a failover runs two of them.
        await SharedSlots.TakeTurnAsync(conn, tx, CancellationToken.None);

        if (await SharedSlots.CurrentAsync(conn, tx, request.TenantId, CancellationToken.None) is { } held)
        {
            return new SharedPlacement(true, held.Hostname, held.NodeId, held.Vmid, held.Status, held.Creator, Resumed: true,
                $"Se retoma la plaza ya tomada en el contenedor compartido {held.Hostname} (nodo {held.NodeId}).", null);
        }

        var placement = GrainFactory.GetGrain<IPlacementGrain>(0);
        string? why = null;
        // A pinned placement is the operator's choice of node: it opens a container there rather than joining one. So
        // does a repeated request whose new container was already reserved: that reservation is used, not left behind.
        if (request.NewContainer.PinnedNode is null && await placement.FindAsync(request.NewContainer.ReservationKey) is null)
        {
            var join = await SharedSlots.DecideAsync(conn, tx, CancellationToken.None);
            if (join.Container is { } c && await SharedSlots.JoinAsync(conn, tx, request.TenantId, c.Hostname, CancellationToken.None))
            {
                await tx.CommitAsync();
                return new SharedPlacement(true, c.Hostname, c.NodeId, c.Vmid, c.Status, Creator: false, Resumed: false, join.Reason, null);
            }

            why = join.Reason;
        }

        var decision = await placement.PlaceAsync(request.NewContainer);
        var summary = why is null ? decision.Summary : $"{why} {decision.Summary}";
        if (!decision.Placed)
        {
            return new SharedPlacement(false, null, null, null, null, Creator: false, Resumed: false, summary, decision);
        }

        await SharedSlots.CreateAsync(conn, tx, request.NewHostname, decision.NodeId!, request.Slots, request.TenantId, CancellationToken.None);
        await tx.CommitAsync();
        return new SharedPlacement(true, request.NewHostname, decision.NodeId, null, "creating", Creator: true, Resumed: false,
            $"{summary} Nuevo contenedor compartido {request.NewHostname}.", decision);
    }
}
