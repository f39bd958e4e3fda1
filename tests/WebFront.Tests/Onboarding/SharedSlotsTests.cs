using System.Net.Http.Json;
using System.Text.Json;
using Sajet.Grains.Placement;

namespace Sajet.WebFront.Tests.Onboarding;

/// <summary>The capacity check and a Basic signup give the same answer about shared containers.</summary>
public sealed class SharedSlotsTests
{
    // A shared container as a past placement left it, with its slots held by member rows.
    private static async Task SeedSharedAsync(OnboardingHarness h, string hostname, string node, int total, int used)
    {
        await h.Db.ExecAsync($"""
            INSERT INTO shared_containers (hostname, node_id, vmid, status, slots_total, slots_used, creator_tenant)
            VALUES ('{hostname}', '{node}', NULL, 'running', {total}, {used}, '{hostname}-m0');
            INSERT INTO shared_container_members (tenant_id, hostname) SELECT '{hostname}-m' || i, '{hostname}' FROM generate_series(0, {used - 1}) i;
            """);
    }

    private static async Task<JsonElement> CheckBasicAsync(HttpClient admin) =>
        JsonDocument.Parse(await admin.GetStringAsync("/api/provision/check-capacity?plan=basic")).RootElement;

    private static async Task<string?> MembershipAsync(OnboardingHarness h, string tenantId) =>
        await h.Db.ScalarAsync<string?>($"SELECT hostname FROM shared_container_members WHERE tenant_id = '{tenantId}'");

    [Fact]
    public async Task CheckCapacity_AllSharedFull_SaysNewNeeded_AndBasicSignupOpensNewContainer()
    {
        await using var h = await OnboardingHarness.StartAsync();
        await h.StartSiloAsync("full");
        await h.RegisterNodesAsync("pve1", "pve2");
        await SeedSharedAsync(h, "s-full", "pve1", 10, 10);
        using var admin = await h.AdminClientAsync();

        var check = await CheckBasicAsync(admin);
        Assert.StartsWith("Todos los contenedores compartidos están llenos: hace falta uno nuevo.", check.GetProperty("summary").GetString(), StringComparison.Ordinal);
        Assert.Equal(JsonValueKind.Null, check.GetProperty("shared").ValueKind);
        Assert.True(check.GetProperty("fits").GetBoolean());
        var nodes = check.GetProperty("nodes").EnumerateArray().ToList();
        Assert.Equal(2, nodes.Count);
        Assert.All(nodes, v => Assert.False(string.IsNullOrEmpty(v.GetProperty("reason").GetString())));

        var signed = await h.SignUpAndPayAsync("lleno", "basic", seconds: 180);
        var hostname = await MembershipAsync(h, signed.TenantId);
        Assert.NotNull(hostname);
        Assert.NotEqual("s-full", hostname);
        Assert.Equal(10, await h.Db.ScalarAsync<int>("SELECT slots_used FROM shared_containers WHERE hostname = 's-full'"));
        Assert.Equal(signed.TenantId, await h.Db.ScalarAsync<string>($"SELECT creator_tenant FROM shared_containers WHERE hostname = '{hostname}'"));
        Assert.Equal(1, await h.Db.ScalarAsync<long>(
            $"SELECT count(*) FROM grain_events WHERE grain_key = '{signed.TenantId}' AND reason LIKE 'Todos los contenedores compartidos están llenos%Nuevo contenedor compartido {hostname}.'"));

        // Now the new container has room: the check names it, as the next Basic signup would join it.
        check = await CheckBasicAsync(admin);
        Assert.Equal(hostname, check.GetProperty("shared").GetProperty("hostname").GetString());
        Assert.Contains($"Cabe en el contenedor compartido {hostname} del nodo", check.GetProperty("summary").GetString(), StringComparison.Ordinal);
        Assert.Contains("1 de 10 plazas usadas", check.GetProperty("summary").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SharedContainerOnNodeInMaintenance_NotOfferedByCheck_NotJoined()
    {
        await using var h = await OnboardingHarness.StartAsync();
        await h.StartSiloAsync("maint");
        await h.RegisterNodesAsync("pve1", "pve2");
        await SeedSharedAsync(h, "s-maint", "pve1", 10, 1);
        using var admin = await h.AdminClientAsync();
        Assert.True((await admin.PatchAsJsonAsync("/api/nodes/pve1", new { maintenance = true })).IsSuccessStatusCode);

        var check = await CheckBasicAsync(admin);
        var summary = check.GetProperty("summary").GetString()!;
        Assert.Equal(JsonValueKind.Null, check.GetProperty("shared").ValueKind);
        Assert.Contains("s-maint en pve1: en mantenimiento", summary, StringComparison.Ordinal);
        Assert.Contains("hace falta uno nuevo", summary, StringComparison.Ordinal);
        Assert.Equal("pve2", check.GetProperty("node").GetString());
        var verdicts = check.GetProperty("nodes").EnumerateArray().ToDictionary(v => v.GetProperty("nodeId").GetString()!);
        Assert.Equal("En mantenimiento.", verdicts["pve1"].GetProperty("reason").GetString());

        var signed = await h.SignUpAndPayAsync("mantenido", "basic", seconds: 180);
        var hostname = await MembershipAsync(h, signed.TenantId);
        Assert.NotEqual("s-maint", hostname);
        Assert.Equal("pve2", await h.Db.ScalarAsync<string>($"SELECT node_id FROM shared_containers WHERE hostname = '{hostname}'"));
        Assert.Equal(1, await h.Db.ScalarAsync<int>("SELECT slots_used FROM shared_containers WHERE hostname = 's-maint'"));
    }

    [Fact]
    public async Task JoinAndLeave_Twice_TakeAndFreeOneSlot()
    {
        await using var h = await OnboardingHarness.StartAsync(nodes: 1);
        await SeedSharedAsync(h, "s-twice", "pve1", 3, 1);
        await using var conn = await h.Db.DataSource.OpenConnectionAsync();
        await using (var tx = await conn.BeginTransactionAsync())
        {
            Assert.True(await SharedSlots.JoinAsync(conn, tx, "tenant-x", "s-twice", CancellationToken.None));
            // A re-run of the same join finds the member row and takes nothing more.
            Assert.False(await SharedSlots.JoinAsync(conn, tx, "tenant-x", "s-twice", CancellationToken.None));
            Assert.Equal("s-twice", (await SharedSlots.CurrentAsync(conn, tx, "tenant-x", CancellationToken.None))?.Hostname);
            await tx.CommitAsync();
        }

        Assert.Equal(2, await h.Db.ScalarAsync<int>("SELECT slots_used FROM shared_containers WHERE hostname = 's-twice'"));
        await using (var tx = await conn.BeginTransactionAsync())
        {
            Assert.Equal("s-twice", await SharedSlots.LeaveAsync(conn, tx, "tenant-x", CancellationToken.None));
            Assert.Null(await SharedSlots.LeaveAsync(conn, tx, "tenant-x", CancellationToken.None));
            await tx.CommitAsync();
        }

        Assert.Equal(1, await h.Db.ScalarAsync<int>("SELECT slots_used FROM shared_containers WHERE hostname = 's-twice'"));
    }
}
