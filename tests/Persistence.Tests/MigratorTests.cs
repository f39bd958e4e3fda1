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

    [Fact]
    public async Task Signups_FromTenantsSignedUpBefore0008_EachGetsItsClaim_ReleasedWhereTheGrainReleased()
    {
        await using var empty = await EmptyDatabaseAsync();
        foreach (var m in Migrator.Embedded().Where(m => m.Version < 8))
        {
            await Db.ExecAsync(empty.DataSource, m.Sql);
        }

        // As the web front wrote them then: an abandoned name taken again, and a signup whose checkout never started.
        await Db.ExecAsync(empty.DataSource, """
            INSERT INTO tenants (id, subdomain, company_name, email, country, plan_id, subdomain_released, stripe_customer_id, checkout_session_id, checkout_url)
            VALUES ('tn_old', 'alpha', 'A', 'a@a.example.com', 'ES', 'pro', true, 'cus_old', 'cs_old', 'https://pay/old'),
                   ('tn_new', 'alpha', 'B', 'b@a.example.com', 'ES', 'pro', false, 'cus_new', 'cs_new', 'https://pay/new'),
                   ('tn_bare', 'gamma', 'C', 'c@a.example.com', 'MX', 'basic', false, NULL, NULL, NULL)
            """);
        await Db.ExecAsync(empty.DataSource, Migrator.Embedded().Single(m => m.Version == 8).Sql);

        Assert.Equal("tn_old:alpha:True:cs_old:https://pay/old tn_new:alpha:False:cs_new:https://pay/new tn_bare:gamma:False::", await Db.ScalarAsync<string>(empty.DataSource, """
            SELECT string_agg(concat_ws(':', tenant_id, subdomain, CASE WHEN released THEN 'True' ELSE 'False' END, coalesce(checkout_session_id, ''), coalesce(checkout_url, '')), ' '
                              ORDER BY created_at, CASE tenant_id WHEN 'tn_old' THEN 0 WHEN 'tn_new' THEN 1 ELSE 2 END)
            FROM signups
            """));
        // The live claims are what the tenants' index allowed: 'alpha' is held (by tn_new) and cannot be claimed twice.
        var error = await Assert.ThrowsAsync<PostgresException>(() => Db.ExecAsync(empty.DataSource, "INSERT INTO signups (tenant_id, subdomain) VALUES ('tn_x', 'alpha')"));
        Assert.Equal(PostgresErrorCodes.UniqueViolation, error.SqlState);
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
