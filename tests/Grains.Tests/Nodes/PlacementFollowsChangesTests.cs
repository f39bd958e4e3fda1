using System.Net;
using System.Net.Http.Json;
using Sajet.Grains.Placement;

namespace Sajet.Grains.Tests.Nodes;

/// <summary>
/// The placement grain decides on what it keeps in memory: an operator's change and a released reservation must reach
/// it, or it would place on a node in maintenance (the node grain judges with the registration placement hands it).
/// </summary>
public class PlacementFollowsChangesTests(NodesFixture f) : IClassFixture<NodesFixture>
{
    [Fact]
    public async Task MaintenanceSetAfterAPlacement_NextPlacementAvoidsTheNode_HeldKeyKeepsItsNode_ReleasedKeyIsPlacedAgain()
    {
        await using var sim = await NodesFixture.StartSimulatorAsync();
        await f.RegisterAsync(sim, "fc-1", "pve1");
        await f.RegisterAsync(sim, "fc-2", "pve2");
        var placement = f.Silo.Grains.GetGrain<IPlacementGrain>(0);

        var first = await placement.PlaceAsync(new PlacementRequest("fc-t1", 1, 1024, 10));
        Assert.True(first.Placed, first.Summary);
        var busy = first.NodeId!;
        var other = busy == "fc-1" ? "fc-2" : "fc-1";

        var patch = await f.Api.Admin.PatchAsJsonAsync($"/api/nodes/{busy}", new { maintenance = true });
        Assert.Equal(HttpStatusCode.OK, patch.StatusCode);
        // The change reaches the node grain through the outbox; the node grain tells placement when it has it.
        await NodesFixture.UntilAsync(async () => await f.ScalarAsync<long>("SELECT count(*) FROM outbox") == 0, "the node change delivered");

        for (var i = 2; i <= 5; i++)
        {
            var next = await placement.PlaceAsync(new PlacementRequest($"fc-t{i}", 1, 1024, 10));
            Assert.True(next.Placed, next.Summary);
            Assert.Equal(other, next.NodeId);
        }

        // A retried placement of the first key is answered by the node that holds it, maintenance or not.
        var again = await placement.PlaceAsync(new PlacementRequest("fc-t1", 1, 1024, 10));
        Assert.Equal(busy, again.NodeId);
        Assert.Equal($"Reserva existente en {busy}.", again.Summary);
        Assert.Equal(1, await f.ScalarAsync<long>("SELECT count(*) FROM reservations WHERE key = 'fc-t1' AND released_at IS NULL"));

        // Released, the key is placed afresh and the node in maintenance is not chosen.
        Assert.Equal(busy, await placement.ReleaseAsync("fc-t1", busy));
        var replaced = await placement.PlaceAsync(new PlacementRequest("fc-t1", 1, 1024, 10));
        Assert.Equal(other, replaced.NodeId);
        Assert.Equal(1, await f.ScalarAsync<long>("SELECT count(*) FROM reservations WHERE key = 'fc-t1' AND released_at IS NULL"));
    }
}
