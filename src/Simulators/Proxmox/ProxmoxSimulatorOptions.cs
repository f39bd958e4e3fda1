namespace Sajet.Simulators.Proxmox;

/// <summary>How the simulated PVE 9.1 cluster is laid out and how it listens.</summary>
public sealed class ProxmoxSimulatorOptions
{
    /// <summary>Plain-HTTP port; 0 picks a free port.</summary>
    public int HttpPort { get; set; } = 8005;

    /// <summary>HTTPS port (PVE's 8006); 0 picks a free port.</summary>
    public int HttpsPort { get; set; } = 8006;

    public string BindAddress { get; set; } = "127.0.0.1";

    /// <summary>Number of nodes, named pve1..pveN, used when <see cref="Nodes"/> is empty.</summary>
    public int NodeCount { get; set; } = 3;

    public int NodeCores { get; set; } = 16;

    public long NodeMemoryBytes { get; set; } = 64L << 30;

    /// <summary>Size of the `local` directory storage (templates, backups) on each node.</summary>
    public long LocalStorageBytes { get; set; } = 100L << 30;

    /// <summary>Size of the `local-lvm` thin pool (container disks) on each node.</summary>
    public long LvmStorageBytes { get; set; } = 500L << 30;

    /// <summary>Explicit node list; overrides NodeCount and the per-node defaults when not empty.</summary>
    public IList<ProxmoxSimulatorNode> Nodes { get; } = [];

    /// <summary>Same seed, same pids, MAC addresses, load figures and fault draws.</summary>
    public int Seed { get; set; } = 42;

    /// <summary>`USER@REALM!TOKENID=SECRET`; a random secret for `sajet@pve!sim` when null.</summary>
    public string? Token { get; set; }

    /// <summary>1.0 gives realistic task durations of a few seconds; 0 finishes tasks before the UPID is returned.</summary>
    public double TaskDurationScale { get; set; } = 1.0;

    /// <summary>PVE delays 401 answers by about 3 s to slow down guessing.</summary>
    public TimeSpan AuthFailureDelay { get; set; } = TimeSpan.FromSeconds(3);

    public string ClusterName { get; set; } = "sajet-sim";

    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;
}

public sealed record ProxmoxSimulatorNode(string Name, int Cores, long MemoryBytes, long LocalStorageBytes, long LvmStorageBytes);
