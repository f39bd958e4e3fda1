using System.Net;
using System.Net.Sockets;
using Sajet.Integrations.Proxmox;
using static Sajet.Integrations.Tests.Proxmox.SimulatorHarness;

namespace Sajet.Integrations.Tests.Proxmox;

public class ProxmoxTransportTests
{
    [Fact]
    public async Task GetVersion_OverPlainHttp_Works()
    {
        await using var sim = await StartAsync();
        using var client = new ProxmoxClient(Http(sim));
        var version = await client.GetVersionAsync();
        Assert.Equal("9.1", version.Release);
        Assert.StartsWith("9.1.", version.Version, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetVersion_OverHttpsWithPin_Works()
    {
        await using var sim = await StartAsync();
        using var client = new ProxmoxClient(Https(sim));
        Assert.Equal("9.1", (await client.GetVersionAsync()).Release);
    }

    [Fact]
    public async Task GetVersion_PinWithoutColonsLowercase_Works()
    {
        await using var sim = await StartAsync();
        var bare = sim.CertificateFingerprint.Replace(":", "", StringComparison.Ordinal).ToLowerInvariant();
        using var client = new ProxmoxClient(Https(sim) with { Fingerprint = bare });
        Assert.Equal("9.1", (await client.GetVersionAsync()).Release);
    }

    [Fact]
    public async Task GetVersion_WrongPin_IsRefusedAsPinMismatch()
    {
        await using var sim = await StartAsync();
        var wrong = string.Join(':', Enumerable.Repeat("00", 32));
        using var client = new ProxmoxClient(Https(sim) with { Fingerprint = wrong });
        var ex = await Assert.ThrowsAsync<ProxmoxCertificatePinMismatchException>(() => client.GetVersionAsync());
        Assert.Equal(ProxmoxUnreachableReason.CertificatePinMismatch, ex.Reason);
        Assert.Equal(sim.CertificateFingerprint.Replace(":", "", StringComparison.Ordinal), ex.ActualFingerprint);
    }

    [Fact]
    public async Task GetVersion_SelfSignedWithoutPin_IsRefusedAsTls()
    {
        await using var sim = await StartAsync();
        using var client = new ProxmoxClient(Https(sim) with { Fingerprint = null });
        var ex = await Assert.ThrowsAsync<ProxmoxUnreachableException>(() => client.GetVersionAsync());
        Assert.Equal(ProxmoxUnreachableReason.Tls, ex.Reason);
    }

    [Fact]
    public async Task GetVersion_Insecure_AcceptsSelfSigned()
    {
        await using var sim = await StartAsync();
        using var client = new ProxmoxClient(Https(sim) with { Fingerprint = null, Insecure = true });
        Assert.Equal("9.1", (await client.GetVersionAsync()).Release);
    }

    [Fact]
    public async Task GetVersion_NothingListening_IsConnectionUnreachable()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        using var client = new ProxmoxClient(new ProxmoxConnection(new Uri($"http://127.0.0.1:{port}"), "sajet@pve!ci", "3f2e5c1a-6b0d-4c1e-9a77-2d4b8f0e1c55"));
        var ex = await Assert.ThrowsAsync<ProxmoxUnreachableException>(() => client.GetVersionAsync());
        Assert.Equal(ProxmoxUnreachableReason.Connection, ex.Reason);
    }

    [Fact]
    public async Task GetVersion_BadSecret_IsAuthenticationFailure()
    {
        await using var sim = await StartAsync();
        using var client = new ProxmoxClient(Https(sim) with { TokenSecret = "00000000-0000-0000-0000-000000000000" });
        var ex = await Assert.ThrowsAsync<ProxmoxAuthenticationException>(() => client.GetVersionAsync());
        Assert.Equal(401, ex.StatusCode);
        Assert.Equal("Authentication failed!", ex.ProxmoxMessage);
        Assert.DoesNotContain("00000000-0000", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Request_UnknownApiPath_IsNotImplemented()
    {
        await using var sim = await StartAsync();
        // A base URL with a stray path prefix (a reverse-proxy mistake) makes every path unknown to PVE.
        using var client = new ProxmoxClient(Http(sim) with { BaseUrl = new Uri(sim.HttpUrl, "/pve") });
        var ex = await Assert.ThrowsAsync<ProxmoxNotImplementedException>(() => client.GetVersionAsync());
        Assert.Equal(501, ex.StatusCode);
        Assert.Equal("Method 'GET /pve/api2/json/version' not implemented", ex.ProxmoxMessage);
    }

    [Fact]
    public async Task GetNodeStatus_UnknownNode_IsServerError()
    {
        await using var sim = await StartAsync();
        using var client = Client(sim);
        var ex = await Assert.ThrowsAsync<ProxmoxServerException>(() => client.GetNodeStatusAsync("pve9"));
        Assert.StartsWith("hostname lookup 'pve9' failed", ex.ProxmoxMessage, StringComparison.Ordinal);
    }
}
