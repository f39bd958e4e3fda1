using Sajet.Integrations.Odoo;
using Sajet.Integrations.Resilience;
using Sajet.Simulators.Odoo;

namespace Sajet.Integrations.Tests.Odoo;

/// <summary>OdooClientOptions.Resilience against the Odoo simulator, which counts every HTTP request it receives.</summary>
public sealed class OdooResilienceTests : IAsyncLifetime
{
    private const string Master = "Sup3r-Master";
    private OdooSimulator _sim = null!;
    private readonly HttpClient _http = new();

    public async Task InitializeAsync() => _sim = await OdooSimulator.StartAsync(new OdooSimulatorOptions { Port = 0, MasterPassword = Master });

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _sim.DisposeAsync();
    }

    [Fact]
    public async Task Read_FailsTwiceThenSucceeds_IsRetriedAndSucceeds()
    {
        var client = Client(new HttpResilienceOptions { TotalTimeout = TimeSpan.FromMinutes(10), RetryBaseDelay = TimeSpan.FromMilliseconds(50) });
        _sim.Control.AddDatabase("acme");
        _sim.Control.BadGatewayForNext(2);

        Assert.True(await client.DbExistAsync("acme"));
        Assert.Equal(3, _sim.Control.HttpRequests);
    }

    [Fact]
    public async Task Write_Fails_IsNotRetried()
    {
        var client = Client(new HttpResilienceOptions { TotalTimeout = TimeSpan.FromMinutes(10), RetryBaseDelay = TimeSpan.FromMilliseconds(50) });
        _sim.Control.BadGatewayForNext(1);

        var ex = await Assert.ThrowsAsync<OdooTransportException>(() => client.CreateDatabaseAsync(new OdooCreateDatabaseRequest { Name = "acme", AdminPassword = "Initial-Admin-Pw" }));

        Assert.Equal(502, ex.HttpStatus);
        Assert.Equal(1, _sim.Control.HttpRequests);
        Assert.Empty(_sim.Control.Databases);
    }

    [Fact]
    public async Task Circuit_OpensAfterRepeatedFailures_ThenClosesAgain()
    {
        var client = Client(new HttpResilienceOptions
        {
            TotalTimeout = TimeSpan.FromMinutes(10),
            MaxReadRetries = 0,
            BreakerMinimumThroughput = 3,
            BreakerSamplingDuration = TimeSpan.FromSeconds(10),
            BreakerBreakDuration = TimeSpan.FromMilliseconds(500),
        });
        await _sim.Control.GoDownAsync(OdooDownMode.BadGateway);
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(502, (await Assert.ThrowsAsync<OdooTransportException>(() => client.ServerVersionAsync())).HttpStatus);
        }

        // Open: the transport failure callers already handle, without a request reaching Odoo.
        var open = await Assert.ThrowsAsync<OdooTransportException>(() => client.ServerVersionAsync());
        Assert.Null(open.HttpStatus);
        Assert.Contains("circuit is open", open.Message, StringComparison.Ordinal);
        Assert.Equal(3, _sim.Control.HttpRequests);

        await _sim.Control.ComeUpAsync();
        await Task.Delay(TimeSpan.FromMilliseconds(700));
        Assert.Equal("18.0", await client.ServerVersionAsync());
        Assert.Equal("18.0", await client.ServerVersionAsync());
    }

    private OdooClient Client(HttpResilienceOptions resilience) =>
        new(_http, new OdooClientOptions { BaseUrl = _sim.BaseUrl, MasterPassword = Master, Timeout = TimeSpan.FromSeconds(30), Resilience = resilience });
}
