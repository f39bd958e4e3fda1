using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Sajet.WebFront.Tests.Onboarding;

namespace Sajet.WebFront.Tests.Admin;

/// <summary>
/// Issue 10, defects 5 and 6: every operator action answers with its outcome (done, or refused with the reason in
/// Spanish), only the actions a state allows are offered, and the API refuses the others with 409. A real tenant on
/// real grains and simulators: the refusals are the grain's and the read model's, not a test double's.
/// </summary>
public sealed class TenantActionOutcomeTests
{
    [Fact]
    public async Task Actions_AnswerTheirOutcome_RefuseWhatTheStateForbids_AndPagesOfferOnlyValidOnes()
    {
        await using var h = await OnboardingHarness.StartAsync(nodes: 1);
        await h.StartSiloAsync("actions");
        await h.RegisterNodesAsync("pve1");
        using var admin = await h.AdminClientAsync();
        Assert.Equal(HttpStatusCode.OK, (await admin.PatchAsJsonAsync("/api/nodes/pve1", new { maintenance = true })).StatusCode);

        var signed = await h.SignUpAndPayAsync("acciones", status: "waiting_for_capacity");
        var id = signed.TenantId;

        // Refused by the read model before any grain call: no history row is written for it.
        var resume = await admin.PostAsync($"/api/admin/tenants/{id}/resume", null);
        Assert.Equal(HttpStatusCode.Conflict, resume.StatusCode);
        Assert.Equal("Solo se puede reanudar un cliente suspendido; este está esperando capacidad.", await DetailAsync(resume));
        Assert.Equal(HttpStatusCode.Conflict, (await admin.PostAsync($"/api/admin/tenants/{id}/suspend", null)).StatusCode);
        Assert.Equal(0L, await RefusalNotesAsync(h, id));
        Assert.Equal("waiting_for_capacity", await h.StatusAsync(id));

        // The waiting tenant's page offers exactly what waiting allows.
        var waitingPage = await admin.GetStringAsync($"/admin/tenants/{id}");
        AssertForms(waitingPage, present: ["form-retry", "form-place", "form-keep-waiting", "form-cancel"], absent: ["form-suspend", "form-resume"]);

        var keep = await ResolveAsync(admin, id, "keep_waiting");
        Assert.Equal(HttpStatusCode.OK, keep.Status);
        Assert.Equal(("done", "waiting_for_capacity"), (keep.Outcome, keep.State));

        // Placing on a node in maintenance is the grain's refusal, with the placement's reason.
        var place = await ResolveAsync(admin, id, "place_on_node", "pve1");
        Assert.Equal(HttpStatusCode.Conflict, place.Status);
        Assert.Equal("refused", place.Outcome);
        Assert.StartsWith("No se pudo colocar:", place.Message, StringComparison.Ordinal);
        Assert.Contains("mantenimiento", place.Message, StringComparison.Ordinal);
        Assert.Equal("waiting_for_capacity", await h.StatusAsync(id));

        var unknown = await admin.PostAsJsonAsync($"/api/admin/tenants/{id}/resolve", new { action = "place_on_node", nodeId = "no-such-node" });
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        Assert.Contains("Indica un nodo registrado.", await unknown.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // Out of maintenance, the queue places the tenant by itself.
        Assert.Equal(HttpStatusCode.OK, (await admin.PatchAsJsonAsync("/api/nodes/pve1", new { maintenance = false })).StatusCode);
        await h.WaitForStatusAsync(id, "active");

        var activePage = await admin.GetStringAsync($"/admin/tenants/{id}");
        AssertForms(activePage, present: ["form-suspend", "form-cancel"], absent: ["form-retry", "form-place", "form-keep-waiting", "form-resume"]);
        Assert.Contains("data-testid=\"suspend-confirm\"", activePage, StringComparison.Ordinal);
        var retry = await ResolveAsync(admin, id, "retry");
        Assert.Equal(HttpStatusCode.Conflict, retry.Status);
        Assert.Equal("Solo se puede reintentar o colocar un cliente que espera capacidad o que falló; este está activo.", retry.Message);

        // Done actions answer the state they left, and the read model already shows it when the answer arrives.
        var suspended = await ActAsync(admin, $"/api/admin/tenants/{id}/suspend");
        Assert.Equal((HttpStatusCode.OK, "done", "suspended", "Cliente suspendido."), (suspended.Status, suspended.Outcome, suspended.State, suspended.Message));
        Assert.Equal("suspended", await h.StatusAsync(id));
        AssertForms(await admin.GetStringAsync($"/admin/tenants/{id}"), present: ["form-resume", "form-cancel"], absent: ["form-suspend", "form-retry"]);

        var resumed = await ActAsync(admin, $"/api/admin/tenants/{id}/resume");
        Assert.Equal((HttpStatusCode.OK, "done", "active"), (resumed.Status, resumed.Outcome, resumed.State));
        Assert.Equal("active", await h.StatusAsync(id));

        var cancelled = await ResolveAsync(admin, id, "cancel");
        Assert.Equal((HttpStatusCode.OK, "done", "cancelled"), (cancelled.Status, cancelled.Outcome, cancelled.State));
        var again = await ResolveAsync(admin, id, "cancel");
        Assert.Equal((HttpStatusCode.Conflict, "El cliente ya está cancelado."), (again.Status, again.Message));
        Assert.Contains("data-testid=\"no-actions\"", await admin.GetStringAsync($"/admin/tenants/{id}"), StringComparison.Ordinal);

        // Every answer left an audit row naming its outcome.
        Assert.Equal(1L, await h.Db.ScalarAsync<long>(
            $"SELECT count(*) FROM audit_log WHERE kind = 'tenant.resolve' AND detail->>'tenant' = '{id}' AND detail->>'action' = 'place_on_node' AND detail->>'outcome' = 'refused'"));
        Assert.Equal(1L, await h.Db.ScalarAsync<long>(
            $"SELECT count(*) FROM audit_log WHERE kind = 'tenant.suspend' AND detail->>'tenant' = '{id}' AND detail->>'outcome' = 'done'"));
    }

    private sealed record Answer(HttpStatusCode Status, string? Outcome, string? Message, string? State);

    private static Task<Answer> ResolveAsync(HttpClient admin, string id, string action, string? nodeId = null) =>
        ReadAsync(admin.PostAsJsonAsync($"/api/admin/tenants/{id}/resolve", new { action, nodeId }));

    private static Task<Answer> ActAsync(HttpClient admin, string url) => ReadAsync(admin.PostAsync(url, null));

    /// <summary>A done answer is the result itself; a refusal is problem+json with the message as detail, and the outcome and tenant state as extensions.</summary>
    private static async Task<Answer> ReadAsync(Task<HttpResponseMessage> sending)
    {
        using var response = await sending;
        var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        string? Text(string name) => json.TryGetProperty(name, out var p) && p.ValueKind == JsonValueKind.String ? p.GetString() : null;
        return new Answer(response.StatusCode, Text("outcome"), Text("message") ?? Text("detail"), Text("status") ?? Text("tenantStatus"));
    }

    private static async Task<string?> DetailAsync(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("detail").GetString();

    // The grain notes the refusals it makes itself; the read model's refusals never reach it.
    private static Task<long> RefusalNotesAsync(OnboardingHarness h, string id) =>
        h.Db.ScalarAsync<long>($"SELECT count(*) FROM grain_events WHERE grain_type = 'tenant' AND grain_key = '{id}' AND reason LIKE 'Acción rechazada%'");

    private static void AssertForms(string html, string[] present, string[] absent)
    {
        foreach (var form in present)
        {
            Assert.True(html.Contains($"data-testid=\"{form}\"", StringComparison.Ordinal), $"{form} should be offered");
        }

        foreach (var form in absent)
        {
            Assert.False(html.Contains($"data-testid=\"{form}\"", StringComparison.Ordinal), $"{form} should not be offered");
        }
    }
}
