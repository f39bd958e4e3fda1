using Microsoft.Extensions.Logging;
using Npgsql;
using NpgsqlTypes;
using Sajet.Grains.Interfaces.Nodes;
using Sajet.Grains.Interfaces.Outbox;

namespace Sajet.Grains.Nodes;

// Reconciliation: the containers table is what Sajet believes; the cluster is what is. Differences become drift
// rows for an operator. Nothing in the cluster is ever changed or deleted from here.
public sealed partial class NodeGrain
{
    private const string KnownSql = "SELECT vmid, node_id, reservation_key FROM containers WHERE vmid = ANY(@vmids)";

    // A reservation follows its container: the node it now runs on takes it over (reading its figures from the
    // reservations row of the node it left), then tells that node to drop it. Over-counting for a moment is the safe
    // side; the node left behind also drops, on its own poll, any key whose row another node has taken over.
    private const string LiveReservationsSql = "SELECT key, node_id, cores, memory_mb, disk_gb FROM reservations WHERE key = ANY(@keys) AND released_at IS NULL";

    private const string MoveSql = """
        UPDATE containers SET node_id = @to WHERE vmid = @vmid;
        INSERT INTO container_drift (node_id, vmid, kind, detail, resolved_at) VALUES (@to, @vmid, 'moved', @detail, now());
        """;

    private const string UnknownTaggedSql = """
        INSERT INTO container_drift (node_id, vmid, kind, detail)
        SELECT @id, u.vmid, 'unknown_tagged', u.detail FROM unnest(@vmids, @details) AS u(vmid, detail)
        ON CONFLICT (vmid, kind) WHERE resolved_at IS NULL DO NOTHING;
        UPDATE container_drift SET resolved_at = now()
        WHERE node_id = @id AND kind = 'unknown_tagged' AND resolved_at IS NULL AND NOT (vmid = ANY(@vmids));
        """;

    // Containers still being created or already being deleted are expected to be absent.
    private const string MissingSql = """
        INSERT INTO container_drift (node_id, vmid, kind, detail)
        SELECT @id, c.vmid, 'missing', format('El contenedor %s (%s) ya no aparece en el clúster.', c.vmid, c.hostname)
        FROM containers c
        WHERE c.node_id = @id AND c.status NOT IN ('creating', 'deleting', 'deleted') AND NOT (c.vmid = ANY(@cluster))
        ON CONFLICT (vmid, kind) WHERE resolved_at IS NULL DO NOTHING
        RETURNING vmid
        """;

    private const string FoundSql = """
        UPDATE container_drift SET resolved_at = now()
        WHERE kind = 'missing' AND resolved_at IS NULL AND vmid = ANY(@here)
        RETURNING vmid
        """;

    private const string ContainerMetricsSql = """
        UPDATE containers c SET cpu = u.cpu, memory_used = u.mem, disk_used = u.disk, observed_status = u.status, seen_at = now()
        FROM unnest(@vmids, @cpus, @mems, @disks, @statuses) AS u(vmid, cpu, mem, disk, status)
        WHERE c.vmid = u.vmid AND c.node_id = @id
        """;

    /// <summary>
    /// Keeps this node's reservations with its containers: takes over the reservation of each container here that it
    /// does not hold (moved here, or a crash cut off an earlier take-over), and drops those another node took over.
    /// </summary>
    private async Task FollowReservationsAsync(NpgsqlConnection conn, NpgsqlTransaction tx, List<string> keysHere, CancellationToken ct)
    {
        var id = Context.Key;
        var wanted = keysHere.Where(k => !State.Reservations.ContainsKey(k)).ToList();
        var held = State.Reservations.Keys.ToList();
        if (wanted.Count == 0 && held.Count == 0)
        {
            return;
        }

        await using var cmd = new NpgsqlCommand(LiveReservationsSql, conn, tx);
        cmd.Parameters.AddWithValue("keys", wanted.Concat(held).ToArray());
        await using var r = await cmd.ExecuteReaderAsync(ct);
        var moves = new List<(string Key, string From)>();
        while (await r.ReadAsync(ct))
        {
            var (key, node) = (r.GetString(0), r.GetString(1));
            if (State.Reservations.ContainsKey(key))
            {
                if (node != id && !keysHere.Contains(key))
                {
                    State.Reservations.Remove(key); // Taken over by the node its container runs on.
                    Context.Project();
                }

                continue;
            }

            State.Reservations[key] = new NodeReservation { Cores = r.GetInt32(2), MemoryMb = r.GetInt32(3), DiskGb = r.GetInt32(4), At = Context.Now };
            Context.Project();
            if (node != id)
            {
                moves.Add((key, node));
            }
        }

        foreach (var (key, from) in moves)
        {
            Context.After(grains => grains.GetGrain<INodeGrain>(from).ReservationMovedAsync(key, id));
            Log.LogInformation("Reservation {Key} follows its container from node {From} to node {Node}", key, from, id);
        }
    }

    private async Task ReconcileAsync(NpgsqlConnection conn, NpgsqlTransaction tx, NodeTarget target, NodeObservation o, CancellationToken ct)
    {
        var id = Context.Key;
        var here = o.Cluster.Where(c => c.PveNode == target.PveNode).ToList();
        var hereIds = here.Select(c => c.Vmid).ToArray();

        var known = new Dictionary<int, (string NodeId, string? ReservationKey)>();
        await using (var cmd = new NpgsqlCommand(KnownSql, conn, tx))
        {
            cmd.Parameters.AddWithValue("vmids", hereIds);
            await using var r = await cmd.ExecuteReaderAsync(ct);
            while (await r.ReadAsync(ct))
            {
                known[r.GetInt32(0)] = (r.GetString(1), r.IsDBNull(2) ? null : r.GetString(2));
            }
        }

        await FollowReservationsAsync(conn, tx, known.Values.Select(k => k.ReservationKey).OfType<string>().ToList(), ct);

        foreach (var (vmid, (from, _)) in known.Where(k => k.Value.NodeId != id))
        {
            await using (var move = new NpgsqlCommand(MoveSql, conn, tx))
            {
                move.Parameters.AddWithValue("vmid", vmid);
                move.Parameters.AddWithValue("to", id);
                move.Parameters.AddWithValue("detail", $"Movido de {from} a {id} fuera de Sajet (p. ej. por HA).");
                await move.ExecuteNonQueryAsync(ct);
            }

            await Context.SendAsync(OutboxCommand.ContainerMoved(vmid, from, id));
            Log.LogInformation("Container {Vmid} moved from node {From} to node {Node} outside Sajet", vmid, from, id);
        }

        var unknownTagged = here
            .Where(c => !known.ContainsKey(c.Vmid) && c.Tags.Contains(NodePoller.SajetTag, StringComparer.OrdinalIgnoreCase))
            .ToList();
        await using (var cmd = new NpgsqlCommand(UnknownTaggedSql, conn, tx))
        {
            cmd.Parameters.AddWithValue("id", id);
            cmd.Parameters.AddWithValue("vmids", unknownTagged.Select(c => c.Vmid).ToArray());
            cmd.Parameters.AddWithValue("details", NpgsqlDbType.Array | NpgsqlDbType.Text, unknownTagged
                .Select(c => $"Contenedor {c.Vmid} ({c.Name ?? "sin nombre"}) con la etiqueta '{NodePoller.SajetTag}' que Sajet no conoce; no se toca.")
                .ToArray());
            await cmd.ExecuteNonQueryAsync(ct);
        }

        await using (var cmd = new NpgsqlCommand(MissingSql, conn, tx))
        {
            cmd.Parameters.AddWithValue("id", id);
            cmd.Parameters.AddWithValue("cluster", o.Cluster.Select(c => c.Vmid).ToArray());
            await using var r = await cmd.ExecuteReaderAsync(ct);
            var missing = new List<int>();
            while (await r.ReadAsync(ct))
            {
                missing.Add(r.GetInt32(0));
            }

            await r.CloseAsync();
            foreach (var vmid in missing)
            {
                await Context.SendAsync(OutboxCommand.ContainerMissing(vmid, id));
                Log.LogWarning("Container {Vmid} of node {Node} is missing from the cluster", vmid, id);
            }
        }

        await using (var cmd = new NpgsqlCommand(FoundSql, conn, tx))
        {
            cmd.Parameters.AddWithValue("here", hereIds);
            await using var r = await cmd.ExecuteReaderAsync(ct);
            var found = new List<int>();
            while (await r.ReadAsync(ct))
            {
                found.Add(r.GetInt32(0));
            }

            await r.CloseAsync();
            foreach (var vmid in found)
            {
                await Context.SendAsync(OutboxCommand.ContainerFound(vmid, id));
            }
        }

        if (o.Containers.Count > 0)
        {
            await using var cmd = new NpgsqlCommand(ContainerMetricsSql, conn, tx);
            cmd.Parameters.AddWithValue("id", id);
            cmd.Parameters.AddWithValue("vmids", o.Containers.Select(c => c.Vmid).ToArray());
            cmd.Parameters.AddWithValue("cpus", o.Containers.Select(c => c.Cpu).ToArray());
            cmd.Parameters.AddWithValue("mems", o.Containers.Select(c => c.MemoryUsed).ToArray());
            cmd.Parameters.AddWithValue("disks", o.Containers.Select(c => c.DiskUsed).ToArray());
            cmd.Parameters.AddWithValue("statuses", NpgsqlDbType.Array | NpgsqlDbType.Text, o.Containers.Select(c => c.Status).ToArray());
            await cmd.ExecuteNonQueryAsync(ct);
        }
    }
}
