extern alias simulators;

using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Sajet.WebFront.Tests.Onboarding;
using simulators::Sajet.Simulators.Proxmox;

namespace Sajet.WebFront.Tests.Admin;

/// <summary>The settings page's shared-container and plan-resource forms: what they refuse, and that a refusal stores nothing.</summary>
public sealed class SharedContainerSettingsFormTests(WebFixture fx) : IClassFixture<WebFixture>
{
    private const string AllSettings = "SELECT string_agg(key || '=' || value::text, ';' ORDER BY key) FROM settings";

    private SajetWebFactory App => fx.Factory;

    private static Dictionary<string, string> SharedForm(string cores, string memory, string disk, string slots, bool apply = false)
    {
        var form = new Dictionary<string, string>
        {
            ["Shared.Cores"] = cores,
            ["Shared.MemoryMb"] = memory,
            ["Shared.DiskGb"] = disk,
            ["Shared.Slots"] = slots,
        };
        if (apply)
        {
            form["Shared.ApplyToExisting"] = "true";
        }

        return form;
    }

    private Task<long> AuditCountAsync(string kind) => App.ScalarAsync<long>($"SELECT count(*) FROM audit_log WHERE kind = '{kind}'");

    [Fact]
    public async Task Settings_ShowsTheSeededSharedSizeAndPlanResources()
    {
        var html = await (await App.AdminClientAsync()).GetStringAsync("/admin/settings");
        Assert.Contains("value=\"4\" data-testid=\"shared-cores\"", html, StringComparison.Ordinal);
        Assert.Contains("value=\"8192\" data-testid=\"shared-memory\"", html, StringComparison.Ordinal);
        Assert.Contains("value=\"100\" data-testid=\"shared-disk\"", html, StringComparison.Ordinal);
        Assert.Contains("value=\"10\" data-testid=\"shared-slots\"", html, StringComparison.Ordinal);
        Assert.Contains("value=\"4096\" data-testid=\"plan-memory-pro\"", html, StringComparison.Ordinal);
        Assert.Contains("se aplican a los inquilinos nuevos", html, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("cuatro", "8192", "100", "10", "sharedCores", "Los núcleos deben ser un número entero entre 1 y 64.")]
    [InlineData("0", "8192", "100", "10", "sharedCores", "Los núcleos deben ser un número entero entre 1 y 64.")]
    [InlineData("4", "999999", "100", "10", "sharedMemoryMb", "La memoria debe ser un número entero de MB entre 512 y 262.144.")]
    [InlineData("4", "8192", "2,5", "10", "sharedDiskGb", "El disco debe ser un número entero de GB entre 8 y 4096.")]
    [InlineData("4", "8192", "100", "0", "sharedSlots", "Las plazas deben ser un número entero entre 1 y 200.")]
    [InlineData("4", "8192", "100", "201", "sharedSlots", "Las plazas deben ser un número entero entre 1 y 200.")]
    public async Task Shared_InvalidField_IsRefusedInSpanish_AndNothingIsStored(string cores, string memory, string disk, string slots, string field, string message)
    {
        var before = await App.ScalarAsync<string>(AllSettings);
        var audited = await AuditCountAsync("settings.change");
        var response = await (await App.AdminClientAsync()).SubmitFormAsync("/admin/settings", "/admin/settings?handler=Shared", SharedForm(cores, memory, disk, slots, apply: true));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var html = WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync());
        Assert.Contains($"data-testid=\"error-{field}\">{message}<", html, StringComparison.Ordinal);
        Assert.Contains("data-testid=\"shared-error\"", html, StringComparison.Ordinal);
        // The placement form is not the one refused.
        Assert.DoesNotContain("data-testid=\"settings-error\"", html, StringComparison.Ordinal);
        Assert.Equal(before, await App.ScalarAsync<string>(AllSettings));
        Assert.Equal(audited, await AuditCountAsync("settings.change"));
    }

    [Fact]
    public async Task Shared_SlotsBelowWhatAContainerUses_AreRefusedNamingIt_AndNothingChanges()
    {
        var hostname = "s-busy-" + Guid.NewGuid().ToString("N")[..6];
        var roomy = "s-roomy-" + Guid.NewGuid().ToString("N")[..6];
        await App.Db.ExecAsync($"""
            INSERT INTO shared_containers (hostname, node_id, status, slots_total, slots_used, creator_tenant) VALUES
                ('{hostname}', 'pve-busy', 'running', 10, 3, '{hostname}-t'),
                ('{roomy}', 'pve-roomy', 'running', 10, 1, '{roomy}-t');
            """);
        var before = await App.ScalarAsync<string>(AllSettings);
        var audited = await AuditCountAsync("settings.change");
        var client = await App.AdminClientAsync();

        var response = await client.SubmitFormAsync("/admin/settings", "/admin/settings?handler=Shared", SharedForm("2", "4096", "40", "2", apply: true));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var html = WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync());
        var error = Regex.Match(html, "data-testid=\"error-sharedSlots\">([^<]*)<").Groups[1].Value;
        Assert.StartsWith($"No se puede bajar a 2 plazas en los contenedores existentes: {hostname} (nodo pve-busy) ya usa 3.", error, StringComparison.Ordinal);
        Assert.DoesNotContain(roomy, error, StringComparison.Ordinal);
        // Neither the size nor the other container's slots were stored: the save is one transaction.
        Assert.Equal(before, await App.ScalarAsync<string>(AllSettings));
        Assert.Equal(10, await App.ScalarAsync<int>($"SELECT slots_total FROM shared_containers WHERE hostname = '{roomy}'"));
        Assert.Equal(10, await App.ScalarAsync<int>($"SELECT slots_total FROM shared_containers WHERE hostname = '{hostname}'"));
        Assert.Equal(audited, await AuditCountAsync("settings.change"));

        // Exactly what it uses is allowed: the container is then full, and the audit says what each had before.
        response = await client.SubmitFormAsync("/admin/settings", "/admin/settings?handler=Shared", SharedForm("4", "8192", "100", "3", apply: true));
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal(3, await App.ScalarAsync<int>($"SELECT slots_total FROM shared_containers WHERE hostname = '{hostname}'"));
        Assert.Equal(3, await App.ScalarAsync<int>($"SELECT slots_total FROM shared_containers WHERE hostname = '{roomy}'"));
        Assert.Equal(10, await App.ScalarAsync<int>("""
            SELECT (detail->'before'->'shared'->>'slots')::int FROM audit_log WHERE kind = 'settings.change' ORDER BY id DESC LIMIT 1
            """));
        Assert.Equal(10, await App.ScalarAsync<int>($"""
            SELECT (c->>'before')::int FROM audit_log, jsonb_array_elements(detail->'containers') c
            WHERE kind = 'settings.change' AND c->>'hostname' = '{hostname}' ORDER BY id DESC LIMIT 1
            """));
        Assert.Contains("Contenedor compartido guardado", WebUtility.HtmlDecode(await client.GetStringAsync("/admin/settings")), StringComparison.Ordinal);
        await App.Db.ExecAsync($"""
            UPDATE settings SET value = '10' WHERE key = 'shared.slots';
            UPDATE shared_containers SET status = 'deleted' WHERE hostname IN ('{hostname}', '{roomy}');
            """);
    }

    [Fact]
    public async Task Plan_InvalidResources_AreRefusedPerFieldInSpanish_AndNothingIsStored()
    {
        const string PlanRow = "SELECT concat_ws(',', price_cents, active, cores, memory_mb, disk_gb) FROM plans WHERE id = 'pro'";
        var before = await App.ScalarAsync<string>(PlanRow);
        var audited = await AuditCountAsync("plan.change");
        var response = await (await App.AdminClientAsync()).SubmitFormAsync("/admin/settings", "/admin/settings?handler=Plan", new Dictionary<string, string>
        {
            ["id"] = "pro", ["price"] = "59.00", ["cores"] = "dos", ["memoryMb"] = "256", ["diskGb"] = "5000", ["active"] = "true",
        });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var html = WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync());
        Assert.Contains("data-testid=\"error-plan-pro-cores\">Los núcleos deben ser un número entero entre 1 y 64.<", html, StringComparison.Ordinal);
        Assert.Contains("data-testid=\"error-plan-pro-memory\">La memoria debe ser un número entero de MB entre 512 y 262.144.<", html, StringComparison.Ordinal);
        Assert.Contains("data-testid=\"error-plan-pro-disk\">El disco debe ser un número entero de GB entre 8 y 4096.<", html, StringComparison.Ordinal);
        Assert.Contains("data-testid=\"plan-error\"", html, StringComparison.Ordinal);
        // The refused values are shown back for correcting; the price too, though it was valid, was not stored.
        Assert.Contains("value=\"dos\" data-testid=\"plan-cores-pro\"", html, StringComparison.Ordinal);
        Assert.Equal(before, await App.ScalarAsync<string>(PlanRow));
        Assert.Equal(audited, await AuditCountAsync("plan.change"));
    }

    [Fact]
    public async Task Plan_Resources_AreSavedAndAuditedWithBeforeAndAfter()
    {
        var id = "res-" + Guid.NewGuid().ToString("N")[..6];
        await App.Db.ExecAsync($"INSERT INTO plans (id, name, price_cents, cores, memory_mb, disk_gb, backup, sla, shared) VALUES ('{id}', 'Recursos', 1000, 1, 1024, 10, 'Semanal', '99%', false)");
        var client = await App.AdminClientAsync();
        var response = await client.SubmitFormAsync("/admin/settings", "/admin/settings?handler=Plan", new Dictionary<string, string>
        {
            ["id"] = id, ["price"] = "10,00", ["cores"] = " 3 ", ["memoryMb"] = "6144", ["diskGb"] = "60", ["active"] = "true",
        });
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("3,6144,60", await App.ScalarAsync<string>($"SELECT concat_ws(',', cores, memory_mb, disk_gb) FROM plans WHERE id = '{id}'"));
        var detail = JsonDocument.Parse(await App.ScalarAsync<string>($"SELECT detail::text FROM audit_log WHERE kind = 'plan.change' AND detail->>'plan' = '{id}'")).RootElement;
        Assert.Equal(1, detail.GetProperty("before").GetProperty("cores").GetInt32());
        Assert.Equal(1024, detail.GetProperty("before").GetProperty("memoryMb").GetInt32());
        Assert.Equal(3, detail.GetProperty("after").GetProperty("cores").GetInt32());
        Assert.Equal(60, detail.GetProperty("after").GetProperty("diskGb").GetInt32());
        var flash = WebUtility.HtmlDecode(await client.GetStringAsync("/admin/settings")).Replace('\u00a0', ' ');
        Assert.Contains("Plan Recursos guardado: 10,00 US$ al mes, activo, 3 núcleos, 6 GiB de memoria y 60 GiB de disco para los inquilinos nuevos.", flash, StringComparison.Ordinal);
    }
}

/// <summary>
/// The shared-container settings against real grains: placement and the capacity check read them at decision time, so a
/// save changes what the next decision does, with no silo restart.
/// </summary>
public sealed class SharedContainerSettingsPlacementTests
{
    private static async Task<HttpClient> AdminPageClientAsync(OnboardingHarness h)
    {
        var client = h.Web.Client();
        Assert.Equal(HttpStatusCode.OK, (await client.LoginAsync(SajetWebFactory.AdminLogin, SajetWebFactory.AdminPassword, "admin")).StatusCode);
        return client;
    }

    private static async Task<JsonElement> CheckAsync(HttpClient admin, string plan) =>
        JsonDocument.Parse(await admin.GetStringAsync($"/api/provision/check-capacity?plan={plan}")).RootElement;

    [Fact]
    public async Task SharedSlotsAppliedToExisting_CheckCapacitySaysTheContainerIsFull_AndJudgesTheNewSize()
    {
        await using var h = await OnboardingHarness.StartAsync(nodes: 1);
        await h.StartSiloAsync("shared-apply");
        await h.RegisterNodesAsync("pve1");
        await h.Db.ExecAsync("""
            INSERT INTO shared_containers (hostname, node_id, vmid, status, slots_total, slots_used, creator_tenant) VALUES ('s-one', 'pve1', NULL, 'running', 10, 1, 's-one-m0');
            INSERT INTO shared_container_members (tenant_id, hostname) VALUES ('s-one-m0', 's-one');
            """);
        using var api = await h.AdminClientAsync();
        Assert.Equal("s-one", (await CheckAsync(api, "basic")).GetProperty("shared").GetProperty("hostname").GetString());

        using var page = await AdminPageClientAsync(h);
        var response = await page.SubmitFormAsync("/admin/settings", "/admin/settings?handler=Shared", new Dictionary<string, string>
        {
            ["Shared.Cores"] = "2", ["Shared.MemoryMb"] = "4096", ["Shared.DiskGb"] = "40", ["Shared.Slots"] = "1", ["Shared.ApplyToExisting"] = "true",
        });
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal(1, await h.Db.ScalarAsync<int>("SELECT slots_total FROM shared_containers WHERE hostname = 's-one'"));
        Assert.Equal(1L, await h.Db.ScalarAsync<long>("SELECT count(*) FROM audit_log WHERE kind = 'settings.change' AND detail->'after'->'shared'->>'slots' = '1'"));

        // A second Basic tenant no longer fits s-one; the new shared container the nodes are judged for has the saved size.
        var check = await CheckAsync(api, "basic");
        Assert.Equal(JsonValueKind.Null, check.GetProperty("shared").ValueKind);
        Assert.StartsWith("Todos los contenedores compartidos están llenos: hace falta uno nuevo.", check.GetProperty("summary").GetString(), StringComparison.Ordinal);
        Assert.Equal(2, check.GetProperty("request").GetProperty("cores").GetInt32());
        Assert.Equal(4096, check.GetProperty("request").GetProperty("memoryMb").GetInt32());
        Assert.Equal(40, check.GetProperty("request").GetProperty("diskGb").GetInt32());
        var flash = WebUtility.HtmlDecode(await page.GetStringAsync("/admin/settings"));
        Assert.Contains("1 contenedor compartido existente tiene ahora 1 plaza.", flash, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SavedSizes_BuildTheNextBasicAndProContainers_ExistingSharedKeepTheirSlots()
    {
        await using var h = await OnboardingHarness.StartAsync(nodes: 1);
        await h.StartSiloAsync("shared-new");
        await h.RegisterNodesAsync("pve1");
        // Full, so the next Basic tenant opens a new container instead of joining.
        await h.Db.ExecAsync("""
            INSERT INTO shared_containers (hostname, node_id, vmid, status, slots_total, slots_used, creator_tenant) VALUES ('s-full', 'pve1', NULL, 'running', 2, 2, 's-full-m0');
            INSERT INTO shared_container_members (tenant_id, hostname) VALUES ('s-full-m0', 's-full'), ('s-full-m1', 's-full');
            """);
        using var page = await AdminPageClientAsync(h);
        Assert.Equal(HttpStatusCode.Redirect, (await page.SubmitFormAsync("/admin/settings", "/admin/settings?handler=Shared", new Dictionary<string, string>
        {
            ["Shared.Cores"] = "2", ["Shared.MemoryMb"] = "3072", ["Shared.DiskGb"] = "40", ["Shared.Slots"] = "3",
        })).StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await page.SubmitFormAsync("/admin/settings", "/admin/settings?handler=Plan", new Dictionary<string, string>
        {
            ["id"] = "pro", ["price"] = "49.00", ["cores"] = "3", ["memoryMb"] = "6144", ["diskGb"] = "60", ["active"] = "true",
        })).StatusCode);
        // Unticked: the existing container keeps its slots.
        Assert.Equal(2, await h.Db.ScalarAsync<int>("SELECT slots_total FROM shared_containers WHERE hostname = 's-full'"));
        using var api = await h.AdminClientAsync();
        var pro = (await CheckAsync(api, "pro")).GetProperty("request");
        Assert.Equal((3, 6144, 60), (pro.GetProperty("cores").GetInt32(), pro.GetProperty("memoryMb").GetInt32(), pro.GetProperty("diskGb").GetInt32()));

        var basic = await h.SignUpAsync("compartida", "basic");
        var dedicated = await h.SignUpAsync("dedicada", "pro");
        h.Stripe.Control.PayCheckoutSession(basic.SessionId);
        h.Stripe.Control.PayCheckoutSession(dedicated.SessionId);
        await h.WaitForStatusAsync(basic.TenantId, "active", 180);
        await h.WaitForStatusAsync(dedicated.TenantId, "active", 180);

        var hostname = await h.Db.ScalarAsync<string>($"SELECT hostname FROM shared_container_members WHERE tenant_id = '{basic.TenantId}'");
        Assert.NotEqual("s-full", hostname);
        Assert.Equal(3, await h.Db.ScalarAsync<int>($"SELECT slots_total FROM shared_containers WHERE hostname = '{hostname}'"));
        Assert.Equal(3, await h.Db.ScalarAsync<int>($"SELECT slots_total FROM containers WHERE hostname = '{hostname}'"));
        var containers = h.Proxmox.Cluster.Containers.ToDictionary(c => c.Config.GetValueOrDefault("hostname") ?? c.Vmid.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(("2", "3072"), (containers[hostname].Config["cores"], containers[hostname].Config["memory"]));
        Assert.Contains("size=40G", containers[hostname].Config["rootfs"], StringComparison.Ordinal);
        var proHost = await h.Db.ScalarAsync<string>($"SELECT hostname FROM containers WHERE tenant_id = '{dedicated.TenantId}'");
        Assert.Equal(("3", "6144"), (containers[proHost].Config["cores"], containers[proHost].Config["memory"]));
        Assert.Contains("size=60G", containers[proHost].Config["rootfs"], StringComparison.Ordinal);
    }
    [Fact]
    public async Task PlanResizedAfterPlacement_ContainerGetsWhatTheNodeReserved()
    {
        await using var h = await OnboardingHarness.StartAsync(nodes: 1);
        await h.StartSiloAsync("reserved-size");
        await h.RegisterNodesAsync("pve1");
        // Creation fails until the switch is cleared, so the plan is changed between the reservation and the container.
        h.Proxmox.Cluster.AddErrorFault(new ErrorFault("/nodes/*/lxc", 1.0, 500, "simulated: storage busy", "POST"));
        var signed = await h.SignUpAsync("reservada", "pro");
        h.Stripe.Control.PayCheckoutSession(signed.SessionId);
        await OnboardingHarness.WaitAsync(async () => await h.Db.ScalarAsync<long>(
            $"SELECT count(*) FROM reservations WHERE key = 'tenant:{signed.TenantId}' AND released_at IS NULL") == 1, "the reservation", 60);
        var reserved = await h.Db.ScalarAsync<string>($"SELECT cores || '/' || memory_mb || '/' || disk_gb FROM reservations WHERE key = 'tenant:{signed.TenantId}'");

        using var page = await AdminPageClientAsync(h);
        Assert.Equal(HttpStatusCode.Redirect, (await page.SubmitFormAsync("/admin/settings", "/admin/settings?handler=Plan", new Dictionary<string, string>
        {
            ["id"] = "pro", ["price"] = "49.00", ["cores"] = "8", ["memoryMb"] = "16384", ["diskGb"] = "200", ["active"] = "true",
        })).StatusCode);
        h.Proxmox.Cluster.ResetFaults();
        await h.WaitForStatusAsync(signed.TenantId, "active", 180);

        var hostname = await h.Db.ScalarAsync<string>($"SELECT hostname FROM containers WHERE tenant_id = '{signed.TenantId}'");
        var container = h.Proxmox.Cluster.Containers.Single(c => c.Config.GetValueOrDefault("hostname") == hostname);
        var disk = Regex.Match(container.Config["rootfs"], @"size=(\d+)G").Groups[1].Value;
        Assert.Equal(reserved, $"{container.Config["cores"]}/{container.Config["memory"]}/{disk}");
        Assert.Equal("2/4096/50", reserved);
    }
}
