using Sajet.Integrations.Proxmox;
using Sajet.Simulators.Proxmox;

namespace Sajet.Integrations.Tests.Proxmox;

/// <summary>Starts a private simulator per test on ephemeral loopback ports, with instant tasks and no 401 delay.</summary>
internal static class SimulatorHarness
{
    public const string Debian = "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst";

    public static readonly ProxmoxOptions FastPolling = new()
    {
        TaskPollInterval = TimeSpan.FromMilliseconds(10),
        MaxTaskPollInterval = TimeSpan.FromMilliseconds(40),
    };

    public static Task<ProxmoxSimulator> StartAsync(Action<ProxmoxSimulatorOptions>? configure = null)
    {
        var options = new ProxmoxSimulatorOptions
        {
            HttpPort = 0,
            HttpsPort = 0,
            TaskDurationScale = 0,
            AuthFailureDelay = TimeSpan.Zero,
            Seed = 7,
        };
        configure?.Invoke(options);
        return ProxmoxSimulator.StartAsync(options);
    }

    public static ProxmoxConnection Https(ProxmoxSimulator sim) =>
        new(sim.HttpsUrl, sim.TokenId, sim.TokenSecret) { Fingerprint = sim.CertificateFingerprint };

    public static ProxmoxConnection Http(ProxmoxSimulator sim) => new(sim.HttpUrl, sim.TokenId, sim.TokenSecret);

    public static ProxmoxClient Client(ProxmoxSimulator sim, TimeSpan? timeout = null) =>
        new(Https(sim) with { Timeout = timeout ?? TimeSpan.FromSeconds(30) }, FastPolling);

    public static ProxmoxContainerCreate Tenant(int vmid, bool start = true) => new(vmid, Debian)
    {
        Hostname = $"tenant-{vmid}",
        Cores = 2,
        CpuLimit = 1.5,
        Memory = 2048,
        Swap = 512,
        RootFs = PropertyString.Parse("local-lvm:8", "volume"),
        Networks = new Dictionary<int, PropertyString> { [0] = PropertyString.Parse("name=eth0,bridge=vmbr0,ip=dhcp,firewall=1") },
        Features = PropertyString.Parse("nesting=1,keyctl=1"),
        Tags = ["tenant", "prod"],
        Unprivileged = true,
        Start = start,
        Password = "s3cret-root",
        SshPublicKeys = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBsim ops@sajet",
        Pool = "tenants",
        Description = "Sajet tenant",
    };

    /// <summary>Creates a container and waits for its task; tasks are instant at scale 0.</summary>
    public static async Task<int> CreateTenantAsync(ProxmoxClient client, int vmid, string node = "pve1", bool start = true)
    {
        var upid = await client.CreateContainerAsync(node, Tenant(vmid, start));
        await client.WaitForTaskAsync(upid, TimeSpan.FromSeconds(30));
        return vmid;
    }
}
