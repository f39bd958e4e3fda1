using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;
using Sajet.Grains.Interfaces.Nodes;
using Sajet.Grains.Placement;

namespace Sajet.Grains.Tests.Nodes;

public class NodeHealthTests(NodesFixture f) : IClassFixture<NodesFixture>
{
    private async Task<string?> OpenAlertAsync(string node, string kind) =>
        await f.ScalarAsync<string?>("SELECT message FROM node_alerts WHERE node_id = @n AND kind = @k AND cleared_at IS NULL", ("n", node), ("k", kind));

    [Fact]
    public async Task NodeStopsAnswering_OfflineWithAlertAndSkipped_BackOnlineClearsAndAnnouncesCapacity()
    {
        await using var sim = await NodesFixture.StartSimulatorAsync();
        await f.RegisterAsync(sim, "hl-1", "pve1");
        await f.RegisterAsync(sim, "hl-2", "pve2");
        await NodesFixture.UntilAsync(async () => (await f.Silo.CapacityNoticesAsync()).Contains("hl-1"), "new node announced");

        // Listen for live alert notifications the way the web front will.
        var notifications = new List<AlertNotification>();
        await using var listen = await f.Data.OpenConnectionAsync();
        listen.Notification += (_, e) =>
        {
            lock (notifications)
            {
                notifications.Add(JsonSerializer.Deserialize<AlertNotification>(e.Payload, JsonSerializerOptions.Web)!);
            }
        };
        await using (var cmd = new NpgsqlCommand($"LISTEN {NodeConstants.AlertsChannel}", listen))
        {
            await cmd.ExecuteNonQueryAsync();
        }

        // Npgsql raises notifications only while the connection reads: keep it waiting in the background.
        using var stopListening = new CancellationTokenSource();
        var listening = Task.Run(async () =>
        {
            try
            {
                while (true)
                {
                    await listen.WaitAsync(stopListening.Token);
                }
            }
            catch (OperationCanceledException)
            {
            }
        });

        sim.Cluster.SetNodeOnline("pve1", false);
        await NodesFixture.UntilAsync(async () => await f.ScalarAsync<string>("SELECT health FROM nodes WHERE id = 'hl-1'") == "offline", "hl-1 offline");
        Assert.True((await f.Silo.Grains.GetGrain<INodeGrain>("hl-1").GetHealthAsync()).ConsecutiveFailures >= 2);
        var alert = await OpenAlertAsync("hl-1", "offline");
        Assert.NotNull(alert);
        Assert.Contains("no responde tras 2 intentos", alert, StringComparison.Ordinal);
        Assert.Equal(1, await f.ScalarAsync<long>("SELECT count(*) FROM grain_events WHERE grain_type = 'node' AND grain_key = 'hl-1' AND from_state = 'online' AND to_state = 'offline'"));
        Assert.Equal("offline", (await f.Silo.Grains.GetGrain<INodeGrain>("hl-1").GetHealthAsync()).Health);

        var check = await f.Silo.Grains.GetGrain<IPlacementGrain>(0).CheckAsync(new PlacementRequest("probe", 1, 1024, 10));
        Assert.Contains(check.Nodes, v => v.NodeId == "hl-1" && !v.Eligible && v.Reason == "Nodo fuera de línea.");
        for (var i = 0; i < 4; i++)
        {
            var placed = await f.Silo.Grains.GetGrain<IPlacementGrain>(0).PlaceAsync(new PlacementRequest($"hl-t{i}", 1, 1024, 10));
            Assert.True(placed.Placed);
            Assert.NotEqual("hl-1", placed.NodeId);
        }

        // Polling goes on while offline; the node is seen again as soon as it answers.
        sim.Cluster.SetNodeOnline("pve1", true);
        await NodesFixture.UntilAsync(async () => await f.ScalarAsync<string>("SELECT health FROM nodes WHERE id = 'hl-1'") == "online", "hl-1 back online");
        Assert.Null(await OpenAlertAsync("hl-1", "offline"));
        Assert.Equal(1, await f.ScalarAsync<long>("SELECT count(*) FROM grain_events WHERE grain_type = 'node' AND grain_key = 'hl-1' AND from_state = 'offline' AND to_state = 'online'"));
        await NodesFixture.UntilAsync(async () => (await f.Silo.CapacityNoticesAsync()).Count(n => n == "hl-1") >= 2, "return announced");

        await NodesFixture.UntilAsync(() => Task.FromResult(Count(notifications, "hl-1", "offline", "cleared") == 1), "cleared notification");
        Assert.Equal(1, Count(notifications, "hl-1", "offline", "raised"));
        Assert.Contains(notifications, n => n.State == "cleared" && n.Message.Contains("responde de nuevo", StringComparison.Ordinal));
        await stopListening.CancelAsync();
        await listening;
    }

    private static int Count(List<AlertNotification> list, string node, string kind, string state)
    {
        lock (list)
        {
            return list.Count(n => n.NodeId == node && n.Kind == kind && n.State == state);
        }
    }

    [Fact]
    public async Task CpuAlert_RaisedAboveThreshold_KeptBetween_ClearedBelow()
    {
        await using var sim = await NodesFixture.StartSimulatorAsync();
        sim.Cluster.SetNodeLoad("pve3", 0.1, null);
        await f.RegisterAsync(sim, "th-1", "pve3");
        Assert.Null(await OpenAlertAsync("th-1", "cpu"));

        sim.Cluster.SetNodeLoad("pve3", 0.9, null);
        await NodesFixture.UntilAsync(async () => await OpenAlertAsync("th-1", "cpu") is not null, "cpu alert raised");
        Assert.Contains("CPU al 90 %", await OpenAlertAsync("th-1", "cpu"), StringComparison.Ordinal);

        // Between the clear level (0.7) and the threshold (0.8): hysteresis keeps the alert open.
        sim.Cluster.SetNodeLoad("pve3", 0.75, null);
        await f.PollsAsync("th-1", 3);
        Assert.Equal(0.75, await f.ScalarAsync<double>("SELECT cpu_used FROM nodes WHERE id = 'th-1'"), 3);
        Assert.NotNull(await OpenAlertAsync("th-1", "cpu"));
        Assert.Equal(1, await f.ScalarAsync<long>("SELECT count(*) FROM node_alerts WHERE node_id = 'th-1' AND kind = 'cpu'"));

        sim.Cluster.SetNodeLoad("pve3", 0.5, null);
        await NodesFixture.UntilAsync(async () => await OpenAlertAsync("th-1", "cpu") is null, "cpu alert cleared");
        Assert.Equal(1, await f.ScalarAsync<long>("SELECT count(*) FROM node_alerts WHERE node_id = 'th-1' AND kind = 'cpu' AND cleared_at IS NOT NULL"));
    }

    [Fact]
    public async Task CheckCapacity_PerNodeReasons_PlansAndExplicitSizes()
    {
        await using var sim = await NodesFixture.StartSimulatorAsync();
        await f.RegisterAsync(sim, "cc-1", "pve1");
        await f.RegisterAsync(sim, "cc-2", "pve2", new { maintenance = false });
        var patched = await f.Api.Admin.PatchAsJsonAsync("/api/nodes/cc-2", new { maintenance = true });
        Assert.Equal(HttpStatusCode.OK, patched.StatusCode);

        var pro = JsonDocument.Parse(await f.Api.Admin.GetStringAsync("/api/provision/check-capacity?plan=pro")).RootElement;
        Assert.True(pro.GetProperty("fits").GetBoolean());
        Assert.NotEqual("cc-2", pro.GetProperty("node").GetString());
        Assert.Equal(50, pro.GetProperty("request").GetProperty("diskGb").GetInt32());
        var verdicts = pro.GetProperty("nodes").EnumerateArray().ToDictionary(v => v.GetProperty("nodeId").GetString()!);
        Assert.Equal("En mantenimiento.", verdicts["cc-2"].GetProperty("reason").GetString());
        Assert.False(verdicts["cc-2"].GetProperty("eligible").GetBoolean());
        Assert.All(verdicts.Values, v => Assert.False(string.IsNullOrEmpty(v.GetProperty("reason").GetString())));

        var basic = JsonDocument.Parse(await f.Api.Admin.GetStringAsync("/api/provision/check-capacity?plan=basic")).RootElement;
        Assert.True(basic.GetProperty("request").GetProperty("shared").GetBoolean());
        Assert.Equal(8192, basic.GetProperty("request").GetProperty("memoryMb").GetInt32());

        var huge = JsonDocument.Parse(await f.Api.Admin.GetStringAsync("/api/provision/check-capacity?cores=4&memoryMb=200000&diskGb=10")).RootElement;
        Assert.False(huge.GetProperty("fits").GetBoolean());
        Assert.StartsWith("Sin capacidad", huge.GetProperty("summary").GetString(), StringComparison.Ordinal);
        Assert.Contains(huge.GetProperty("nodes").EnumerateArray(), v => v.GetProperty("reason").GetString()!.StartsWith("Memoria insuficiente", StringComparison.Ordinal));

        var unknown = await f.Api.Admin.GetAsync("/api/provision/check-capacity?plan=platinum");
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        Assert.Contains("Plan desconocido", JsonDocument.Parse(await unknown.Content.ReadAsStringAsync()).RootElement.GetProperty("errors").GetProperty("plan")[0].GetString(), StringComparison.Ordinal);
        var badSize = await f.Api.Admin.GetAsync("/api/provision/check-capacity?cores=dos&memoryMb=1024&diskGb=10");
        Assert.Equal(HttpStatusCode.BadRequest, badSize.StatusCode);
    }
}
