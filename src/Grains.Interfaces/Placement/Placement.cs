using System.Globalization;
using Sajet.Grains.Interfaces;

namespace Sajet.Grains.Placement;

/// <summary>What a tenant (or a shared container) needs from a node.</summary>
[GenerateSerializer, Immutable, Alias("sajet.PlacementRequest")]
public sealed record PlacementRequest(
    [property: Id(0)] string ReservationKey,
    [property: Id(1)] int Cores,
    [property: Id(2)] int MemoryMb,
    [property: Id(3)] int DiskGb,
    [property: Id(4)] string? PinnedNode = null);

/// <summary>A node as placement sees it: limits, observed use and Sajet's reservations.</summary>
public sealed record NodeSnapshot(
    string Id,
    string Health,
    bool Maintenance,
    double? MetricsAgeSeconds,
    bool StoragePresent,
    bool TemplatePresent,
    string Storage,
    int Cores,
    double CpuOvercommit,
    long MemoryBytes,
    long DiskBytes,
    double CpuUsed,
    long MemoryUsed,
    long DiskUsed,
    int MaxContainers,
    int ReservedCores,
    long ReservedMemoryMb,
    long ReservedDiskGb,
    int ReservedContainers);

[GenerateSerializer, Immutable, Alias("sajet.PlacementSettings")]
public sealed record PlacementSettings(
    [property: Id(0)] double Headroom = 0.8,
    [property: Id(1)] string Strategy = "spread",
    [property: Id(2)] double MetricsMaxAgeSeconds = 300);

/// <summary>
/// Why a node was or wasn't chosen (Spanish: operators read it in the admin UI and the tenant history). Reasons with
/// figures are formatted on first read: a decision judges every node, and formatting text nobody reads would cost
/// more than the decision itself.
/// </summary>
public sealed record NodeVerdict
{
    // The figures of a deferred reason: no closure, so judging a node allocates only its verdict.
    private readonly VerdictKind _kind;
    private readonly double _a;
    private readonly double _b;
    private readonly double _c;
    private readonly string? _text;
    private string? _reason;

    public NodeVerdict(string nodeId, bool eligible, string reason, double? score)
    {
        NodeId = nodeId;
        Eligible = eligible;
        _reason = reason;
        Score = score;
    }

    internal NodeVerdict(string nodeId, bool eligible, VerdictKind kind, string? text, double a, double b, double c, double? score)
    {
        NodeId = nodeId;
        Eligible = eligible;
        _kind = kind;
        _text = text;
        _a = a;
        _b = b;
        _c = c;
        Score = score;
    }

    internal enum VerdictKind
    {
        Text,
        NotPinned,
        NoStorage,
        ContainerLimit,
        Memory,
        Disk,
        CpuReserved,
        CpuLoad,
        Fits,
    }

    public string NodeId { get; init; }

    public bool Eligible { get; init; }

    public string Reason
    {
        get => _reason ??= Format();
        init => _reason = value;
    }

    public double? Score { get; init; }

    public bool Equals(NodeVerdict? other) =>
        other is not null && NodeId == other.NodeId && Eligible == other.Eligible && Score == other.Score && Reason == other.Reason;

    public override int GetHashCode() => HashCode.Combine(NodeId, Eligible, Score);

    private string Format() => _kind switch
    {
        VerdictKind.Text => _text ?? "",
        VerdictKind.NotPinned => $"No es el nodo indicado ({_text}).",
        VerdictKind.NoStorage => $"Almacenamiento '{_text}' no disponible.",
        VerdictKind.ContainerLimit => string.Create(CultureInfo.InvariantCulture, $"Límite de contenedores alcanzado ({_a}/{_b})."),
        VerdictKind.Memory => $"Memoria insuficiente: {Es.MemoryMb((long)_a)} de {Es.MemoryMb((long)_b)} superaría el {Es.Percent(_c)}.",
        VerdictKind.Disk => $"Disco insuficiente: {Es.DiskGb((long)_a)} de {Es.DiskGb((long)_b)} superaría el {Es.Percent(_c)}.",
        VerdictKind.CpuReserved => $"CPU insuficiente: {Es.Number(_a)} núcleos reservados de {Es.Number(_b, 1)} permitidos.",
        VerdictKind.CpuLoad => $"CPU demasiado cargada: {Es.Percent(_a)} proyectado, límite {Es.Percent(_b)}.",
        VerdictKind.Fits => $"Cabe: memoria {Es.Percent(_a)}, CPU {Es.Percent(_b)}, disco {Es.Percent(_c)} tras colocar.",
        _ => "",
    };
}

public sealed record PlacementDecision(bool Placed, string? NodeId, string Summary, IReadOnlyList<NodeVerdict> Nodes);

/// <summary>
/// The placement decision, a pure function over node snapshots: a verdict for every node and the best fit for the
/// strategy. <see cref="IPlacementGrain"/> keeps the snapshots the node grains push after each poll and reservation
/// change, decides on them in memory and reserves on the chosen node; the node grain judges again with
/// <see cref="Judge"/> in its own turn before it reserves, so a stale snapshot can cost a retry, never an overcommit.
/// </summary>
public static class Placer
{
    private const double MiB = 1024 * 1024;
    private const double GiB = 1024 * 1024 * 1024;

    // Memory weighs most, as in Proxmox's static-load scheduler: it cannot be overcommitted safely; CPU can.
    private const double MemoryWeight = 0.6;
    private const double CpuWeight = 0.25;
    private const double DiskWeight = 0.15;

    /// <summary>The pure decision: a verdict for every node, and the best eligible one for the strategy.</summary>
    public static PlacementDecision Decide(PlacementRequest request, IReadOnlyList<NodeSnapshot> nodes, PlacementSettings settings)
    {
        var best = -1;
        var bestScore = 0.0;
        var binpack = settings.Strategy == "binpack";
        for (var i = 0; i < nodes.Count; i++)
        {
            if (Assess(request, nodes[i], settings).Score is { } score && (best < 0 || (binpack ? score > bestScore : score < bestScore)))
            {
                best = i;
                bestScore = score;
            }
        }

        // The reasons for every node are derived data: built when someone reads them (history, check-capacity), so
        // the decision itself stays cheap on a large cluster.
        var verdicts = new Verdicts(request, nodes, settings, best);
        if (best < 0)
        {
            var summary = nodes.Count == 0
                ? "No hay nodos registrados."
                : request.PinnedNode is { } pinned
                    // The operator chose the node: its own reason is the answer, not the whole cluster's.
                    ? nodes.FirstOrDefault(n => n.Id == pinned) is { } node
                        ? $"{pinned} no puede alojar {Describe(request)}: {Assess(request, node, settings).ToVerdict(pinned).Reason}"
                        : $"El nodo {pinned} no está en el registro."
                    : $"Sin capacidad: ningún nodo puede alojar {Describe(request)}.";
            return new PlacementDecision(false, null, summary, verdicts);
        }

        return new PlacementDecision(true, nodes[best].Id,
            $"Colocado en {nodes[best].Id} (estrategia {settings.Strategy}, carga proyectada {Es.Percent(bestScore)}).", verdicts);
    }

    /// <summary>Every node's verdict, judged on first read; the chosen one says so.</summary>
    private sealed class Verdicts(PlacementRequest request, IReadOnlyList<NodeSnapshot> nodes, PlacementSettings settings, int chosen) : IReadOnlyList<NodeVerdict>
    {
        private readonly NodeSnapshot[] _nodes = [.. nodes];
        private NodeVerdict[]? _verdicts;

        public int Count => _nodes.Length;

        public NodeVerdict this[int index] => All()[index];

        public IEnumerator<NodeVerdict> GetEnumerator() => ((IEnumerable<NodeVerdict>)All()).GetEnumerator();

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

        private NodeVerdict[] All() => _verdicts ??= [.. _nodes.Select((n, i) =>
        {
            var verdict = Judge(request, n, settings);
            return i == chosen ? verdict with { Reason = "Elegido: " + verdict.Reason } : verdict;
        })];
    }

    public static NodeVerdict Judge(PlacementRequest request, NodeSnapshot n, PlacementSettings settings) => Assess(request, n, settings).ToVerdict(n.Id);

    /// <summary>A node's verdict as plain values: judging every node of a large cluster allocates nothing.</summary>
    private readonly record struct Assessment(NodeVerdict.VerdictKind Kind, string? Text, double A = 0, double B = 0, double C = 0, double? Score = null)
    {
        public bool Eligible => Score is not null;

        public NodeVerdict ToVerdict(string nodeId) => new(nodeId, Eligible, Kind, Text, A, B, C, Score);
    }

    private static Assessment Assess(PlacementRequest request, NodeSnapshot n, PlacementSettings settings)
    {
        if (request.PinnedNode is { } pinned && pinned != n.Id)
        {
            return new Assessment(NodeVerdict.VerdictKind.NotPinned, pinned);
        }

        if (n.Health != "online")
        {
            return new Assessment(NodeVerdict.VerdictKind.Text, n.Health == "offline" ? "Nodo fuera de línea." : "Estado del nodo aún desconocido.");
        }

        if (n.Maintenance)
        {
            return new Assessment(NodeVerdict.VerdictKind.Text, "En mantenimiento.");
        }

        if (n.MetricsAgeSeconds is not { } age || age > settings.MetricsMaxAgeSeconds)
        {
            return new Assessment(NodeVerdict.VerdictKind.Text, "Métricas ausentes o antiguas.");
        }

        if (!n.StoragePresent)
        {
            return new Assessment(NodeVerdict.VerdictKind.NoStorage, n.Storage);
        }

        if (!n.TemplatePresent)
        {
            return new Assessment(NodeVerdict.VerdictKind.Text, "Plantilla de contenedor ausente.");
        }

        if (n.ReservedContainers + 1 > n.MaxContainers)
        {
            return new Assessment(NodeVerdict.VerdictKind.ContainerLimit, null, n.ReservedContainers, n.MaxContainers, 0);
        }

        var h = settings.Headroom;
        // Projected use counts what Sajet reserved and what the node actually uses, whichever is larger.
        var memTotalMb = n.MemoryBytes / MiB;
        var memProjected = Math.Max(n.ReservedMemoryMb, n.MemoryUsed / MiB) + request.MemoryMb;
        if (memTotalMb <= 0 || memProjected > h * memTotalMb)
        {
            return new Assessment(NodeVerdict.VerdictKind.Memory, null, memProjected, memTotalMb, h);
        }

        var diskTotalGb = n.DiskBytes / GiB;
        var diskProjected = Math.Max(n.ReservedDiskGb, n.DiskUsed / GiB) + request.DiskGb;
        if (diskTotalGb <= 0 || diskProjected > h * diskTotalGb)
        {
            return new Assessment(NodeVerdict.VerdictKind.Disk, null, diskProjected, diskTotalGb, h);
        }

        var coreBudget = n.Cores * n.CpuOvercommit;
        var coresProjected = n.ReservedCores + request.Cores;
        if (n.Cores <= 0 || coresProjected > coreBudget)
        {
            return new Assessment(NodeVerdict.VerdictKind.CpuReserved, null, coresProjected, coreBudget, 0);
        }

        var cpuProjected = Math.Max(n.CpuUsed, (double)n.ReservedCores / coreBudget) + ((double)request.Cores / coreBudget);
        if (cpuProjected > h)
        {
            return new Assessment(NodeVerdict.VerdictKind.CpuLoad, null, cpuProjected, h, 0);
        }

        var score = (MemoryWeight * (memProjected / memTotalMb)) + (CpuWeight * cpuProjected) + (DiskWeight * (diskProjected / diskTotalGb));
        return new Assessment(NodeVerdict.VerdictKind.Fits, null, memProjected / memTotalMb, cpuProjected, diskProjected / diskTotalGb, score);
    }

    public static string Describe(PlacementRequest r) => $"{Es.Cores(r.Cores)}, {Es.MemoryMb(r.MemoryMb)} de RAM y {Es.DiskGb(r.DiskGb)} de disco";
}
