using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Sajet.Persistence.Migrations;

/// <summary>
/// Applies the numbered plain-SQL files in <c>sql/</c> (embedded in this assembly) in order, each in its own
/// transaction under a transaction-scoped advisory lock, and records each with its checksum.
/// </summary>
public static class Migrator
{
    // Arbitrary constant shared by every Sajet process; a transaction-scoped lock cannot outlive a crashed migrator.
    private const long LockKey = 0x5A1E7_0001;

    private const string CreateTable = """
        CREATE TABLE IF NOT EXISTS schema_migrations (
            version    integer     PRIMARY KEY,
            name       text        NOT NULL,
            checksum   text        NOT NULL,
            applied_at timestamptz NOT NULL DEFAULT now()
        )
        """;

    public sealed record Migration(int Version, string Name, string Sql, string Checksum);

    public static IReadOnlyList<Migration> Embedded()
    {
        var assembly = typeof(Migrator).Assembly;
        var list = new List<Migration>();
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith("sql/", StringComparison.Ordinal)))
        {
            var file = resource["sql/".Length..];
            var dash = file.IndexOf('_', StringComparison.Ordinal);
            if (dash <= 0 || !int.TryParse(file[..dash], out var version))
            {
                throw new InvalidOperationException($"Migration file name '{file}' must look like NNNN_name.sql");
            }

            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var reader = new StreamReader(stream, Encoding.UTF8);
            var sql = reader.ReadToEnd();
            list.Add(new Migration(version, file, sql, Checksum(sql)));
        }

        var duplicate = list.GroupBy(m => m.Version).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new InvalidOperationException($"Two migrations share number {duplicate.Key}: {string.Join(", ", duplicate.Select(m => m.Name))}");
        }

        return [.. list.OrderBy(m => m.Version)];
    }

    /// <summary>A checksum of all migrations together; test fixtures name template databases after it.</summary>
    public static string CombinedChecksum() => Checksum(string.Join("\n", Embedded().Select(m => m.Name + ":" + m.Checksum)));

    public static async Task<int> ApplyAsync(NpgsqlDataSource dataSource, ILogger? logger = null, CancellationToken ct = default)
    {
        var applied = 0;
        foreach (var migration in Embedded())
        {
            await using var conn = await dataSource.OpenConnectionAsync(ct);
            await using var tx = await conn.BeginTransactionAsync(ct);
            await using (var lockCmd = new NpgsqlCommand("SELECT pg_advisory_xact_lock(@key)", conn, tx))
            {
                lockCmd.Parameters.AddWithValue("key", LockKey);
                await lockCmd.ExecuteNonQueryAsync(ct);
            }

            await using (var create = new NpgsqlCommand(CreateTable, conn, tx))
            {
                await create.ExecuteNonQueryAsync(ct);
            }

            string? existing;
            await using (var check = new NpgsqlCommand("SELECT checksum FROM schema_migrations WHERE version = @v", conn, tx))
            {
                check.Parameters.AddWithValue("v", migration.Version);
                existing = (string?)await check.ExecuteScalarAsync(ct);
            }

            if (existing is not null)
            {
                if (existing != migration.Checksum)
                {
                    throw new InvalidOperationException(
                        $"Migration sql/{migration.Name} was edited after it was applied (checksum {existing[..12]} in the database, " +
                        $"{migration.Checksum[..12]} in the file). Applied migrations are immutable: add a new numbered file instead.");
                }

                await tx.RollbackAsync(ct);
                continue;
            }

            await using (var run = new NpgsqlCommand(migration.Sql, conn, tx))
            {
                await run.ExecuteNonQueryAsync(ct);
            }

            await using (var record = new NpgsqlCommand(
                "INSERT INTO schema_migrations (version, name, checksum) VALUES (@v, @n, @c)", conn, tx))
            {
                record.Parameters.AddWithValue("v", migration.Version);
                record.Parameters.AddWithValue("n", migration.Name);
                record.Parameters.AddWithValue("c", migration.Checksum);
                await record.ExecuteNonQueryAsync(ct);
            }

            await tx.CommitAsync(ct);
            applied++;
            logger?.LogInformation("Applied migration {Migration}", migration.Name);
        }

        return applied;
    }

    private static string Checksum(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
}
