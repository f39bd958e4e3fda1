using System.Text.Json;
using Npgsql;

namespace Sajet.Grains.Placement;

/// <summary>
/// The size of a new shared Odoo container and how many Basic tenant databases it holds: the <c>shared.*</c> keys of the
/// settings table (sql/0013), which the operator edits on the admin settings page. The one owner of that SQL: the tenant
/// grain (placing and creating), the placement grain (the capacity check) and the page all read and write it here, once
/// per decision, so a saved value applies to the next decision without restarting a silo.
/// </summary>
public sealed record SharedContainerSize(int Cores, int MemoryMb, int DiskGb, int Slots)
{
    public const string CoresKey = "shared.cores";
    public const string MemoryMbKey = "shared.memory_mb";
    public const string DiskGbKey = "shared.disk_gb";
    public const string SlotsKey = "shared.slots";

    /// <summary>The migration's seed and TenantOptions' defaults: one set of numbers for both.</summary>
    public static readonly SharedContainerSize Default = new(4, 8192, 100, 10);

    // A key deleted by hand falls back to the caller's defaults (the silo's TenantOptions), as the settings did before
    // they were editable.
    private const string ReadSql = """
        SELECT coalesce((SELECT (value #>> '{}')::int FROM settings WHERE key = 'shared.cores'), @cores),
               coalesce((SELECT (value #>> '{}')::int FROM settings WHERE key = 'shared.memory_mb'), @memory),
               coalesce((SELECT (value #>> '{}')::int FROM settings WHERE key = 'shared.disk_gb'), @disk),
               coalesce((SELECT (value #>> '{}')::int FROM settings WHERE key = 'shared.slots'), @slots)
        """;

    private const string UpsertSql = """
        INSERT INTO settings (key, value) VALUES (@key, @value::jsonb)
        ON CONFLICT (key) DO UPDATE SET value = excluded.value
        """;

    public static async Task<SharedContainerSize> ReadAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, SharedContainerSize fallback, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(ReadSql, conn, tx);
        cmd.Parameters.AddWithValue("cores", fallback.Cores);
        cmd.Parameters.AddWithValue("memory", fallback.MemoryMb);
        cmd.Parameters.AddWithValue("disk", fallback.DiskGb);
        cmd.Parameters.AddWithValue("slots", fallback.Slots);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        await r.ReadAsync(ct);
        return new SharedContainerSize(r.GetInt32(0), r.GetInt32(1), r.GetInt32(2), r.GetInt32(3));
    }

    public async Task WriteAsync(NpgsqlConnection conn, NpgsqlTransaction tx, CancellationToken ct)
    {
        foreach (var (key, value) in new[] { (CoresKey, Cores), (MemoryMbKey, MemoryMb), (DiskGbKey, DiskGb), (SlotsKey, Slots) })
        {
            await using var cmd = new NpgsqlCommand(UpsertSql, conn, tx);
            cmd.Parameters.AddWithValue("key", key);
            cmd.Parameters.AddWithValue("value", JsonSerializer.Serialize(value));
            await cmd.ExecuteNonQueryAsync(ct);
        }
    }
}
