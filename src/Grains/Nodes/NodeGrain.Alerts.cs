using System.Globalization;
using Npgsql;
using Sajet.Grains.Interfaces.Nodes;

namespace Sajet.Grains.Nodes;

// Alerts with hysteresis: raised above nodes.alert_threshold, cleared only below nodes.alert_clear_below, so a node
// hovering around the threshold does not flap. Each change is NOTIFYed on sajet_alerts (delivered on commit).
public sealed partial class NodeGrain
{
    private const string OpenAlertsSql = "SELECT kind FROM node_alerts WHERE node_id = @id AND cleared_at IS NULL AND kind <> 'drift'";

    private const string RaiseSql = """
        INSERT INTO node_alerts (node_id, kind, message, value) VALUES (@id, @kind, @message, @value)
        ON CONFLICT (node_id, kind) WHERE cleared_at IS NULL AND kind <> 'drift' DO NOTHING
        RETURNING id
        """;

    private const string ClearSql = """
        UPDATE node_alerts SET cleared_at = now() WHERE node_id = @id AND kind = @kind AND cleared_at IS NULL RETURNING id
        """;

    private const string NotifySql = "SELECT pg_notify(@channel, @payload)";

    // Raw samples are averaged per whole hour once they are a day old; hourly ones are kept 30 days.
    private const string RetentionSql = """
        WITH old AS (
            DELETE FROM node_samples
            WHERE node_id = @id AND resolution = 'raw' AND at < date_trunc('hour', now() - interval '24 hours')
            RETURNING at, cpu, memory_used, memory_total, disk_used, disk_total, containers
        )
        INSERT INTO node_samples (node_id, at, resolution, cpu, memory_used, memory_total, disk_used, disk_total, containers)
        SELECT @id, date_trunc('hour', at), '1h', avg(cpu), avg(memory_used)::bigint, avg(memory_total)::bigint,
               avg(disk_used)::bigint, avg(disk_total)::bigint, round(avg(containers))::int
        FROM old GROUP BY date_trunc('hour', at)
        ON CONFLICT (node_id, resolution, at) DO UPDATE SET
            cpu = (node_samples.cpu + EXCLUDED.cpu) / 2,
            memory_used = (node_samples.memory_used + EXCLUDED.memory_used) / 2,
            disk_used = (node_samples.disk_used + EXCLUDED.disk_used) / 2;
        DELETE FROM node_samples WHERE node_id = @id AND resolution = '1h' AND at < now() - interval '30 days';
        """;

    /// <summary>Returns whether a resource alert was cleared (capacity became available again).</summary>
    private static async Task<bool> EvaluateAlertsAsync(NpgsqlConnection conn, NpgsqlTransaction tx, string id, NodeObservation o, NodePollSettings settings, CancellationToken ct)
    {
        var open = new HashSet<string>(StringComparer.Ordinal);
        await using (var cmd = new NpgsqlCommand(OpenAlertsSql, conn, tx))
        {
            cmd.Parameters.AddWithValue("id", id);
            await using var r = await cmd.ExecuteReaderAsync(ct);
            while (await r.ReadAsync(ct))
            {
                open.Add(r.GetString(0));
            }
        }

        if (open.Contains("offline"))
        {
            await ClearAlertAsync(conn, tx, id, "offline", $"El nodo {id} responde de nuevo.", ct);
        }

        var cleared = false;
        var resources = new (string Kind, string Label, double? Value)[]
        {
            ("cpu", "CPU", o.Cpu),
            ("memory", "Memoria", o.MemoryTotal > 0 ? (double)o.MemoryUsed / o.MemoryTotal : null),
            ("disk", "Disco", o.DiskTotal > 0 ? (double)o.DiskUsed / o.DiskTotal : null),
        };
        foreach (var (kind, label, value) in resources)
        {
            if (value is not { } v)
            {
                continue;
            }

            if (!open.Contains(kind) && v > settings.AlertThreshold)
            {
                await RaiseAlertAsync(conn, tx, id, kind, string.Create(CultureInfo.InvariantCulture,
                    $"{label} al {v:P0} en el nodo {id} (umbral {settings.AlertThreshold:P0})."), v, ct);
            }
            else if (open.Contains(kind) && v < settings.AlertClearBelow)
            {
                await ClearAlertAsync(conn, tx, id, kind, string.Create(CultureInfo.InvariantCulture,
                    $"{label} de vuelta al {v:P0} en el nodo {id} (por debajo del {settings.AlertClearBelow:P0})."), ct);
                cleared = true;
            }
        }

        return cleared;
    }

    private static async Task RaiseAlertAsync(NpgsqlConnection conn, NpgsqlTransaction tx, string id, string kind, string message, double? value, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(RaiseSql, conn, tx);
        cmd.Parameters.AddWithValue("id", id);
        cmd.Parameters.AddWithValue("kind", kind);
        cmd.Parameters.AddWithValue("message", message);
        cmd.Parameters.AddWithValue("value", (object?)value ?? DBNull.Value);
        if (await cmd.ExecuteScalarAsync(ct) is { } alertId)
        {
            await NotifyAsync(conn, tx, Notification(id, kind, message, "raised"), ct);
            // In the poll's transaction, named after the alert row: raised once, mailed once.
            await Mail.MailOutbox.EnqueueToAdminsAsync(conn, tx, Mail.MailOutbox.StableId($"node-alert/{alertId}"), Mail.MailTemplates.NodeAlertMail(id, kind, message), null, ct);
        }
    }

    private static async Task ClearAlertAsync(NpgsqlConnection conn, NpgsqlTransaction tx, string id, string kind, string message, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(ClearSql, conn, tx);
        cmd.Parameters.AddWithValue("id", id);
        cmd.Parameters.AddWithValue("kind", kind);
        if (await cmd.ExecuteScalarAsync(ct) is not null)
        {
            await NotifyAsync(conn, tx, Notification(id, kind, message, "cleared"), ct);
        }
    }

    private static async Task NotifyAsync(NpgsqlConnection conn, NpgsqlTransaction tx, string payload, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(NotifySql, conn, tx);
        cmd.Parameters.AddWithValue("channel", NodeConstants.AlertsChannel);
        cmd.Parameters.AddWithValue("payload", payload);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    private static async Task RetainAsync(NpgsqlConnection conn, NpgsqlTransaction tx, string id, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(RetentionSql, conn, tx);
        cmd.Parameters.AddWithValue("id", id);
        await cmd.ExecuteNonQueryAsync(ct);
    }
}
