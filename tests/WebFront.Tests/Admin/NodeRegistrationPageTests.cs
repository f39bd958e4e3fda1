extern alias simulators;

using System.Net;
using simulators::Sajet.Simulators.Proxmox;

namespace Sajet.WebFront.Tests.Admin;

/// <summary>A web front and one simulated Proxmox node over HTTPS, so the register form runs the API's real probe.</summary>
public sealed class ProxmoxSimulatorWebFixture : WebFixture
{
    private ProxmoxSimulator? _proxmox;

    public ProxmoxSimulator Proxmox => _proxmox ?? throw new InvalidOperationException("fixture not initialised");

    public override async Task InitializeAsync()
    {
        _proxmox = await ProxmoxSimulator.StartAsync(new ProxmoxSimulatorOptions { HttpPort = 0, HttpsPort = 0, NodeCount = 1, AuthFailureDelay = TimeSpan.Zero });
        await base.InitializeAsync();
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        if (_proxmox is not null)
        {
            await _proxmox.DisposeAsync();
        }
    }
}

public sealed class NodeRegistrationPageTests(ProxmoxSimulatorWebFixture fx) : IClassFixture<ProxmoxSimulatorWebFixture>
{
    private SajetWebFactory App => fx.Factory;

    private Dictionary<string, string> Form(string id, string secret) => new()
    {
        ["Register.Id"] = id,
        ["Register.ApiUrl"] = fx.Proxmox.HttpsUrl.ToString().TrimEnd('/'),
        ["Register.TokenId"] = fx.Proxmox.TokenId,
        ["Register.TokenSecret"] = secret,
        ["Register.Fingerprint"] = fx.Proxmox.CertificateFingerprint,
    };

    [Fact]
    public async Task RegisterForm_ReachableNode_IsStoredEncrypted_StartsItsGrain_AndAudits()
    {
        var client = await App.AdminClientAsync();
        var response = await client.SubmitFormAsync("/admin/nodes", "/admin/nodes?handler=Register", Form("pve-form", fx.Proxmox.TokenSecret));
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var html = await client.GetStringAsync("/admin/nodes");
        Assert.Contains("Nodo pve-form registrado.", html, StringComparison.Ordinal);
        Assert.Contains("data-testid=\"node-row-pve-form\"", html, StringComparison.Ordinal);
        Assert.DoesNotContain(fx.Proxmox.TokenSecret, html, StringComparison.Ordinal);
        Assert.Equal(1L, await App.ScalarAsync<long>("SELECT count(*) FROM outbox WHERE grain_type = 'node' AND grain_key = 'pve-form'"));
        Assert.Equal(1L, await App.ScalarAsync<long>("SELECT count(*) FROM audit_log WHERE kind = 'node.register' AND detail->>'node' = 'pve-form'"));
    }

    [Fact]
    public async Task RegisterForm_WrongSecret_ShowsTheProbesSpanishRefusal_AndStoresNothing()
    {
        var client = await App.AdminClientAsync();
        var response = await client.SubmitFormAsync("/admin/nodes", "/admin/nodes?handler=Register", Form("pve-wrong", "00000000-0000-0000-0000-000000000000"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains("data-testid=\"register-error\"", html, StringComparison.Ordinal);
        Assert.Equal(0L, await App.ScalarAsync<long>("SELECT count(*) FROM nodes WHERE id = 'pve-wrong'"));
    }
}
