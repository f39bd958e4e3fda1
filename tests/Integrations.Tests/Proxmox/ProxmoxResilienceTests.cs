using Sajet.Integrations.Proxmox;
using Sajet.Integrations.Resilience;
using Sajet.Simulators.Proxmox;
using static Sajet.Integrations.Tests.Proxmox.SimulatorHarness;

namespace Sajet.Integrations.Tests.Proxmox;

/// <summary>ProxmoxOptions.Resilience against the simulator's fault switches, which count the requests that arrive.</summary>
public class ProxmoxResilienceTests
{
    [Fact]
    public async Task Get_FailsTwiceThenSucceeds_IsRetriedAndSucceeds()
    {
        await using var sim = await StartAsync();
        sim.Cluster.AddErrorFault(new ErrorFault("/version", 1.0, 503, "Service Unavailable", "GET", Count: 2));
        using var client = Client(sim);

        var version = await client.GetVersionAsync();

        Assert.False(string.IsNullOrEmpty(version.Version));
        Assert.Equal(3, sim.Cluster.RequestCount("GET", "/version"));
    }

    [Fact]
    public async Task Post_Fails_IsNotRetried()
    {
        await using var sim = await StartAsync();
        sim.Cluster.AddErrorFault(new ErrorFault("/nodes/pve1/lxc", 1.0, 503, "Service Unavailable", "POST", Count: 1));
        using var client = Client(sim);

        var ex = await Assert.ThrowsAsync<ProxmoxApiException>(() => client.CreateContainerAsync("pve1", Tenant(101)));

        Assert.Equal(503, ex.StatusCode);
        // Sent once: a create that failed on the way back may have started its task, and only the caller can tell.
        Assert.Equal(1, sim.Cluster.RequestCount("POST", "/nodes/pve1/lxc"));
        Assert.Null(sim.Cluster.GetContainer(101));
    }

    [Fact]
    public async Task Circuit_OpensAfterRepeatedFailures_AnswersCircuitOpen_ThenClosesAgain()
    {
        await using var sim = await StartAsync();
        var options = new ProxmoxOptions
        {
            Resilience = new HttpResilienceOptions
            {
                MaxReadRetries = 0,
                BreakerMinimumThroughput = 4,
                BreakerFailureRatio = 0.5,
                BreakerSamplingDuration = TimeSpan.FromSeconds(10),
                BreakerBreakDuration = TimeSpan.FromMilliseconds(500),
            },
        };
        using var client = new ProxmoxClient(Https(sim), options);
        sim.Cluster.AddErrorFault(new ErrorFault("/nodes", 1.0, 502, "Bad Gateway", "GET"));

        for (var i = 0; i < 4; i++)
        {
            Assert.Equal(502, (await Assert.ThrowsAsync<ProxmoxApiException>(() => client.GetNodesAsync())).StatusCode);
        }

        // Open: refused without a request, as the transient failure callers already handle (an unreachable node).
        var open = await Assert.ThrowsAsync<ProxmoxCircuitOpenException>(() => client.GetNodesAsync());
        Assert.IsAssignableFrom<ProxmoxUnreachableException>(open);
        Assert.Equal(ProxmoxUnreachableReason.CircuitOpen, open.Reason);
        Assert.Equal(4, sim.Cluster.RequestCount("GET", "/nodes"));
        // The breaker is the node's, not the path's: another call to the same node is refused too.
        await Assert.ThrowsAsync<ProxmoxCircuitOpenException>(() => client.GetVersionAsync());

        // The node heals; after the break a trial call goes through and closes the circuit.
        sim.Cluster.ResetFaults();
        await Task.Delay(TimeSpan.FromMilliseconds(700));
        Assert.NotEmpty(await client.GetNodesAsync());
        Assert.NotEmpty(await client.GetNodesAsync());
        Assert.Equal(2, sim.Cluster.RequestCount("GET", "/nodes"));
    }

    [Fact]
    public void Options_OutOfRange_AreRefused()
    {
        var bad = new ProxmoxOptions { Resilience = new HttpResilienceOptions { ReadAttemptTimeout = TimeSpan.FromMinutes(5), BreakerMinimumThroughput = 1 } };
        var results = new List<System.ComponentModel.DataAnnotations.ValidationResult>();
        Assert.False(System.ComponentModel.DataAnnotations.Validator.TryValidateObject(bad, new(bad), results, validateAllProperties: true));
        Assert.Equal(2, results.Count);
    }
}
