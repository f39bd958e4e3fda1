using Npgsql;
using Sajet.Persistence;
using Sajet.Persistence.Migrations;
using Xunit;

namespace Sajet.TestSupport;

/// <summary>
/// A database of its own for one test class, copied from a template built once from <c>sql/</c>.
/// The server comes from SAJET_TEST_DATABASE_URL, else the local cluster that <c>./sajet</c> starts.
/// When no server answers the tests fail — loudly, with the command that fixes it — never skip.
/// </summary>
public sealed class TestDatabase : IAsyncDisposable
{
    public const string LauncherDefault = "Host=127.0.0.1;Port=5439;Username=sajet;Database=sajet";
    private static readonly SemaphoreSlim TemplateGate = new(1, 1);
    private static string? _templateName;

    private readonly bool _onSharedServer;

    private TestDatabase(string name, string connectionString, bool onSharedServer = true)
    {
        Name = name;
        ConnectionString = connectionString;
        _onSharedServer = onSharedServer;
        DataSource = Database.CreateDataSource(connectionString);
    }

    public string Name { get; }

    public string ConnectionString { get; }

    public NpgsqlDataSource DataSource { get; }

    public static string ServerConnectionString =>
        Database.ToNpgsql(Environment.GetEnvironmentVariable("SAJET_TEST_DATABASE_URL") is { Length: > 0 } url ? url : LauncherDefault);

    public static async Task<TestDatabase> CreateAsync()
    {
        var template = await EnsureTemplateAsync();
        var name = "sajet_t_" + Guid.NewGuid().ToString("N")[..16];
        await using (var admin = await OpenAdminAsync())
        {
            await using var cmd = new NpgsqlCommand($"CREATE DATABASE {name} TEMPLATE {template}", admin);
            await cmd.ExecuteNonQueryAsync();
        }

        return new TestDatabase(name, WithDatabase(name));
    }

    /// <summary>The database of a private server (a test that restarts PostgreSQL), migrated from <c>sql/</c>.</summary>
    public static async Task<TestDatabase> OnPrivateServerAsync(PrivatePostgres server)
    {
        var db = new TestDatabase("postgres", server.ConnectionString, onSharedServer: false);
        await Migrator.ApplyAsync(db.DataSource);
        return db;
    }

    public async ValueTask DisposeAsync()
    {
        await DataSource.DisposeAsync();
        if (!_onSharedServer)
        {
            return; // The private server goes with its directory.
        }

        NpgsqlConnection.ClearAllPools();
        try
        {
            await using var admin = await OpenAdminAsync();
            await using var cmd = new NpgsqlCommand($"DROP DATABASE IF EXISTS {Name} WITH (FORCE)", admin);
            await cmd.ExecuteNonQueryAsync();
        }
        catch (NpgsqlException)
        {
            // A test that restarted the server may leave it briefly unavailable; the database is dropped next run.
        }
    }

    public async Task<T> ScalarAsync<T>(string sql)
    {
        await using var cmd = DataSource.CreateCommand(sql);
        var value = await cmd.ExecuteScalarAsync();
        return value is null or DBNull ? default! : (T)Convert.ChangeType(value, Nullable.GetUnderlyingType(typeof(T)) ?? typeof(T), System.Globalization.CultureInfo.InvariantCulture);
    }

    public async Task ExecAsync(string sql)
    {
        await using var cmd = DataSource.CreateCommand(sql);
        await cmd.ExecuteNonQueryAsync();
    }

    public static string WithDatabase(string name) =>
        new NpgsqlConnectionStringBuilder(ServerConnectionString) { Database = name, NoResetOnClose = true, MaxPoolSize = 200 }.ConnectionString;

    private static async Task<NpgsqlConnection> OpenAdminAsync()
    {
        var cs = new NpgsqlConnectionStringBuilder(ServerConnectionString) { Database = "postgres", Pooling = false }.ConnectionString;
        var conn = new NpgsqlConnection(cs);
        try
        {
            await conn.OpenAsync();
        }
        catch (Exception ex) when (ex is NpgsqlException or System.Net.Sockets.SocketException or TimeoutException)
        {
            await conn.DisposeAsync();
            throw new InvalidOperationException(
                $"PostgreSQL does not answer at '{cs}': {ex.Message}\n" +
                "Run the tests with ./sajet test (it installs and starts PostgreSQL), or start a server and set SAJET_TEST_DATABASE_URL.", ex);
        }

        return conn;
    }

    private static async Task<string> EnsureTemplateAsync()
    {
        await TemplateGate.WaitAsync();
        try
        {
            if (_templateName is not null)
            {
                return _templateName;
            }

            var name = "sajet_tpl_" + Migrator.CombinedChecksum()[..16];
            await using var admin = await OpenAdminAsync();
            // Test projects run in parallel processes: a session lock on the admin connection serialises template builds.
            await using (var lockCmd = new NpgsqlCommand("SELECT pg_advisory_lock(5439001)", admin))
            {
                await lockCmd.ExecuteNonQueryAsync();
            }

            await using (var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = @n", admin))
            {
                exists.Parameters.AddWithValue("n", name);
                if (await exists.ExecuteScalarAsync() is null)
                {
                    var building = name + "_b";
                    await Exec(admin, $"DROP DATABASE IF EXISTS {building} WITH (FORCE)");
                    await Exec(admin, $"CREATE DATABASE {building}");
                    await using (var ds = Database.CreateDataSource(new NpgsqlConnectionStringBuilder(WithDatabase(building)) { Pooling = false }.ConnectionString))
                    {
                        await Migrator.ApplyAsync(ds);
                    }

                    await Exec(admin, $"ALTER DATABASE {building} RENAME TO {name}");
                }
            }

            await Exec(admin, "SELECT pg_advisory_unlock(5439001)");
            _templateName = name;
            return name;
        }
        finally
        {
            TemplateGate.Release();
        }
    }

    private static async Task Exec(NpgsqlConnection conn, string sql)
    {
        await using var cmd = new NpgsqlCommand(sql, conn);
        await cmd.ExecuteNonQueryAsync();
    }
}

/// <summary>xunit class fixture: one database per test class.</summary>
public sealed class DatabaseFixture : IAsyncLifetime
{
    private TestDatabase? _db;

    public TestDatabase Db => _db ?? throw new InvalidOperationException("fixture not initialised");

    public async Task InitializeAsync() => _db = await TestDatabase.CreateAsync();

    public async Task DisposeAsync()
    {
        if (_db is not null)
        {
            await _db.DisposeAsync();
        }
    }
}
