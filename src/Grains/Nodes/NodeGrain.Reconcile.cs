using Microsoft.Extensions.Logging;
using Npgsql;
using NpgsqlTypes;
using Sajet.Grains.Interfaces.Nodes;

namespace Sajet.Grains.Nodes;

// Reconciliation: the containers table is what Sajet believes; the cluster is what is. Differences become drift
// rows for an operator. Nothing in the cluster is ever changed or deleted from here.
public sealed partial class NodeGrain
{
    private const string KnownSql = "SELECT vmid, node_id, reservation_key FROM containers WHERE vmid = ANY(@vmids)";

    // Both nodes' rows in one order for every poll, so two nodes trading containers at once cannot deadlock.
    private const string LockNodesSql = "SELECT id FROM nodes WHERE id = ANY(@ids) ORDER BY id FOR UPDATE";

    // The reserved capacity follows the container, or the old node would look full and the new one empty.
    private const string MoveReservationSql = """
        WITH r AS (
            UPDATE reservations SET node_id = @to WHERE key = @key AND released_at IS NULL AND node_id = @from
            RETURNING cores, memory_mb, disk_gb
        ), off AS (
            UPDATE nodes n SET reserved_cores = n.reserved_cores - r.cores, reserved_memory_mb = n.reserved_memory_mb - r.memory_mb,
                reserved_disk_gb = n.reserved_disk_gb - r.disk_gb, reserved_containers = n.reserved_containers - 1, updated_at = now()
            FROM r WHERE n.id = @from
            RETURNING 1
        )
        UPDATE nodes n SET reserved_cores = n.reserved_cores + r.cores, reserved_memory_mb = n.reserved_memory_mb + r.memory_mb,
            reserved_disk_gb = n.reserved_disk_gb + r.disk_gb, reserved_containers = n.reserved_containers + 1, updated_at = now()
        FROM r WHERE n.id = @to
        """;

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

    private static IContainerGrain ContainerGrainOf(IGrainFactory grains, int vmid) =>
        grains.GetGrain<IContainerGrain>(vmid.ToString(System.Globalization.CultureInfo.InvariantCulture));

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

        var moved = known.Where(k => k.Value.NodeId != id).ToList();
        if (moved.Count > 0)
        {
            await using (var lockCmd = new NpgsqlCommand(LockNodesSql, conn, tx))
            {
                lockCmd.Parameters.AddWithValue("ids", moved.Select(m => m.Value.NodeId).Append(id).Distinct().ToArray());
                await lockCmd.ExecuteNonQueryAsync(ct);
            }

            foreach (var (vmid, (from, reservation)) in moved)
            {
                if (reservation is not null)
                {
                    await using var res = new NpgsqlCommand(MoveReservationSql, conn, tx);
                    res.Parameters.AddWithValue("key", reservation);
                    res.Parameters.AddWithValue("from", from);
                    res.Parameters.AddWithValue("to", id);
                    await res.ExecuteNonQueryAsync(ct);
                }

                await using (var move = new NpgsqlCommand(MoveSql, conn, tx))
                {
                    move.Parameters.AddWithValue("vmid", vmid);
                    move.Parameters.AddWithValue("to", id);
                    move.Parameters.AddWithValue("detail", $"Movido de {from} a {id} fuera de Sajet (p. ej. por HA).");
                    await move.ExecuteNonQueryAsync(ct);
                }

                var (movedVmid, movedFrom) = (vmid, from);
                Context.After(grains => ContainerGrainOf(grains, movedVmid).MovedAsync(movedFrom, id));
                Log.LogInformation("Container {Vmid} moved from node {From} to node {Node} outside Sajet", vmid, from, id);
            }
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
                var missingVmid = vmid;
                Context.After(grains => ContainerGrainOf(grains, missingVmid).MissingAsync(id));
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
                var foundVmid = vmid;
                Context.After(grains => ContainerGrainOf(grains, foundVmid).FoundAsync(id));
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
