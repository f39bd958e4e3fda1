using Npgsql;
using Sajet.Persistence.Migrations;
using Sajet.TestSupport;

namespace Sajet.Persistence.Tests;

public sealed class MigratorTests(DatabaseFixture fx) : IClassFixture<DatabaseFixture>
{
    [Fact]
    public async Task TwoMigratorsAtOnce_OnEmptyDatabase_ApplyEachFileOnce()
    {
        await using var empty = await EmptyDatabaseAsync();
        var results = await Task.WhenAll(Migrator.ApplyAsync(empty.DataSource), Migrator.ApplyAsync(empty.DataSource));

        Assert.Equal(Migrator.Embedded().Count, results.Sum());
        Assert.Equal(Migrator.Embedded().Count, await Db.ScalarAsync<long>(empty.DataSource, "SELECT count(*) FROM schema_migrations"));
        Assert.Equal(0, await Migrator.ApplyAsync(empty.DataSource));
    }

    [Fact]
    public async Task EditedAppliedMigration_IsAnError_NamingTheFile()
    {
        await Db.ExecAsync(fx.Db.DataSource, "UPDATE schema_migrations SET checksum = repeat('0', 64) WHERE version = 1");
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => Migrator.ApplyAsync(fx.Db.DataSource));
        Assert.Contains("sql/0001_runtime.sql", error.Message);
    }

    private sealed class Empty(string name, NpgsqlDataSource ds) : IAsyncDisposable
    {
        public NpgsqlDataSource DataSource => ds;

        public async ValueTask DisposeAsync()
        {
            await ds.DisposeAsync();
            await using var admin = Database.CreateDataSource(TestDatabase.WithDatabase("postgres"));
            await Db.ExecAsync(admin, $"DROP DATABASE IF EXISTS {name} WITH (FORCE)");
        }
    }

    private static async Task<Empty> EmptyDatabaseAsync()
    {
        var name = "sajet_empty_" + Guid.NewGuid().ToString("N")[..12];
        await using (var admin = Database.CreateDataSource(TestDatabase.WithDatabase("postgres")))
        {
            await Db.ExecAsync(admin, $"CREATE DATABASE {name}");
        }

        return new Empty(name, Database.CreateDataSource(TestDatabase.WithDatabase(name)));
    }
}
