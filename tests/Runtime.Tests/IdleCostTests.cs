using Sajet.TestSupport;

namespace Sajet.Runtime.Tests;

public sealed class IdleCostTests(DatabaseFixture fx) : IClassFixture<DatabaseFixture>
{
    [Fact]
    public async Task IdleSilo_MakesAtMostAboutTwoTransactionsPerSecond()
    {
        // Production poll (1 s) and heartbeat (5 s) intervals.
        var silo = await new InProcessSilo(fx.Db.ConnectionString, "idle", s =>
        {
            s["Runtime:PollInterval"] = "00:00:01";
            s["Runtime:HeartbeatInterval"] = "00:00:05";
        }).StartAsync();
        // Start-up (Npgsql's type loading, LISTEN, the first heartbeat) is not idle cost. PostgreSQL flushes an idle
        // backend's statistics within 10 s, so waiting past that keeps start-up out of the measured window.
        await Task.Delay(TimeSpan.FromSeconds(11));

        var before = await CommitsAsync();
        var window = TimeSpan.FromSeconds(10);
        await Task.Delay(window);
        // Closing the silo's connections flushes their pending statistics; the stop itself costs two statements.
        await silo.DisposeAsync();
        var after = await CommitsAsync();

        var perSecond = (after - before - 2) / window.TotalSeconds;
        Assert.True(perSecond <= 2.0, $"idle silo made {after - before} commits in {window.TotalSeconds} s ({perSecond:F2}/s)");
        Assert.True(after - before >= window.TotalSeconds / 2, "the silo must still poll while idle");
    }

    private async Task<long> CommitsAsync()
    {
        // Read from another database so the measurement adds nothing to the count.
        await using var admin = Database.CreateDataSource(TestDatabase.WithDatabase("postgres"));
        await using var cmd = admin.CreateCommand("SELECT pg_stat_clear_snapshot(); SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = @db");
        cmd.Parameters.AddWithValue("db", fx.Db.Name);
        await using var reader = await cmd.ExecuteReaderAsync();
        await reader.NextResultAsync();
        await reader.ReadAsync();
        return reader.GetInt64(0);
    }
}
