using Sajet.Grains.Placement;

namespace Sajet.Grains.Tests.Nodes;

public class PlacementConcurrencyTests(NodesFixture f) : IClassFixture<NodesFixture>
{
    private static PlacementRequest Request(int i) => (i % 3) switch
    {
        0 => new PlacementRequest($"cc-tenant-{i}", 1, 2048, 10),
        1 => new PlacementRequest($"cc-tenant-{i}", 2, 4096, 50),
        _ => new PlacementRequest($"cc-tenant-{i}", 4, 8192, 100),
    };

    [Fact]
    public async Task TwoHundredParallelPlacementsFromTwoSilos_NeverOvercommit_LastOnesRefusedWithReasons()
    {
        await using var sim = await NodesFixture.StartSimulatorAsync();
        foreach (var (id, pve) in new[] { ("pl-1", "pve1"), ("pl-2", "pve2"), ("pl-3", "pve3") })
        {
            await f.RegisterAsync(sim, id, pve);
        }

        // A second silo: its own runtime and connection pool, as another process would have.
        await using var other = await NodeSilo.StartAsync(f.Db.ConnectionString, f.Logs);
        var silos = new[] { f.Silo.Grains, other.Grains };

        var decisions = await Task.WhenAll(Enumerable.Range(0, 200).Select(i => Task.Run(() =>
            silos[i % 2].GetGrain<IPlacementGrain>(0).PlaceAsync(Request(i)))));

        var placed = decisions.Count(d => d.Placed);
        Assert.InRange(placed, 3, 199);
        Assert.Equal(placed, await f.ScalarAsync<long>("SELECT count(*) FROM reservations WHERE key LIKE 'cc-tenant-%' AND released_at IS NULL"));
        foreach (var refused in decisions.Where(d => !d.Placed))
        {
            Assert.StartsWith("Sin capacidad", refused.Summary, StringComparison.Ordinal);
            Assert.Equal(3, refused.Nodes.Count);
            Assert.All(refused.Nodes, v => Assert.False(v.Eligible));
            Assert.All(refused.Nodes, v => Assert.False(string.IsNullOrWhiteSpace(v.Reason)));
        }

        // The reservation sums, read back from SQL, against each node's capacity under the headroom.
        await using (var cmd = f.Data.CreateCommand("""
            SELECT n.id, n.reserved_cores, n.reserved_memory_mb, n.reserved_disk_gb, n.reserved_containers,
                   coalesce(sum(r.cores), 0), coalesce(sum(r.memory_mb), 0), coalesce(sum(r.disk_gb), 0), count(r.key),
                   n.cores * n.cpu_overcommit::float8 * 0.8, n.memory_bytes / 1048576.0 * 0.8, n.disk_bytes / 1073741824.0 * 0.8, n.max_containers
            FROM nodes n LEFT JOIN reservations r ON r.node_id = n.id AND r.released_at IS NULL
            WHERE n.id LIKE 'pl-%'
            GROUP BY n.id
            """))
        {
            await using var r = await cmd.ExecuteReaderAsync();
            var rows = 0;
            while (await r.ReadAsync())
            {
                rows++;
                var node = r.GetString(0);
                Assert.Equal(r.GetInt32(1), Convert.ToInt32(r.GetValue(5), System.Globalization.CultureInfo.InvariantCulture));
                Assert.Equal(r.GetInt64(2), Convert.ToInt64(r.GetValue(6), System.Globalization.CultureInfo.InvariantCulture));
                Assert.Equal(r.GetInt64(3), Convert.ToInt64(r.GetValue(7), System.Globalization.CultureInfo.InvariantCulture));
                Assert.Equal(r.GetInt32(4), (int)r.GetInt64(8));
                Assert.True(r.GetInt32(1) <= r.GetDouble(9), $"{node}: cores {r.GetInt32(1)} > {r.GetDouble(9)}");
                Assert.True(r.GetInt64(2) <= Convert.ToDouble(r.GetValue(10), System.Globalization.CultureInfo.InvariantCulture), $"{node}: memory {r.GetInt64(2)} MB over the headroom");
                Assert.True(r.GetInt64(3) <= Convert.ToDouble(r.GetValue(11), System.Globalization.CultureInfo.InvariantCulture), $"{node}: disk {r.GetInt64(3)} GB over the headroom");
                Assert.True(r.GetInt32(4) <= r.GetInt32(12));
                Assert.True(r.GetInt32(4) > 0, $"{node} got nothing: placement spreads");
            }

            Assert.Equal(3, rows);
        }

        // Full: one more small request is refused, with a reason for every node.
        var last = await f.Silo.Grains.GetGrain<IPlacementGrain>(0).PlaceAsync(new PlacementRequest("cc-tenant-last", 4, 8192, 100));
        Assert.False(last.Placed);
        Assert.Equal(3, last.Nodes.Count(v => !v.Eligible && v.Reason.Length > 0));

        // The same key again gets its node back without reserving twice.
        var first = decisions.Select((d, i) => (d, i)).First(x => x.d.Placed);
        var again = await other.Grains.GetGrain<IPlacementGrain>(0).PlaceAsync(Request(first.i));
        Assert.Equal(first.d.NodeId, again.NodeId);
        Assert.Equal(placed, await f.ScalarAsync<long>("SELECT count(*) FROM reservations WHERE key LIKE 'cc-tenant-%' AND released_at IS NULL"));
    }
}
