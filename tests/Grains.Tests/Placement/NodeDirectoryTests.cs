using Sajet.Grains.Placement;

namespace Sajet.Grains.Tests.Placement;

/// <summary>The placement grain's memory of the cluster, on its own: what it keeps when pushes and answers cross.</summary>
public class NodeDirectoryTests
{
    private static readonly NodeRegistration A = new("a", false, "local-lvm", 2, 10);
    private static readonly NodeRegistration B = new("b", false, "local-lvm", 2, 10);

    private static NodeLive Live(long stamp, int reservedCores = 0) =>
        new("online", DateTimeOffset.UtcNow, true, true, 8, 16L << 30, 100L << 30, 0.1, 1L << 30, 1L << 30, reservedCores, 0, 0, 0, false, stamp);

    private static NodeView View(long stamp, params string[] keys) => new(Live(stamp, keys.Length), keys);

    private static NodeDirectory Loaded()
    {
        var d = new NodeDirectory();
        d.Load([A, B], new PlacementSettings(), [View(10), View(10)]);
        return d;
    }

    [Fact]
    public void OlderPush_AfterANewerAnswer_IsIgnored()
    {
        var d = Loaded();
        d.Answered("a", "t1", reserved: true, Live(12, reservedCores: 1));

        // The push sent by the poll before the reservation arrives late: it must not undo what the answer taught.
        d.Apply("a", View(11));

        Assert.Equal("a", d.HolderOf("t1")?.Id);
        Assert.Equal(1, d.Snapshots(DateTimeOffset.UtcNow).Single(s => s.Id == "a").ReservedCores);
    }

    [Fact]
    public void NewerPush_ReplacesFiguresAndKeys_AKeyMovedToAnotherNodeFollows()
    {
        var d = Loaded();
        d.Answered("a", "t1", reserved: true, Live(11, 1));

        // The reservation moved (the container followed HA to b): b's push holds it, then a's push no longer does.
        d.Apply("b", View(20, "t1"));
        Assert.Equal("b", d.HolderOf("t1")?.Id);
        d.Apply("a", View(21));
        Assert.Equal("b", d.HolderOf("t1")?.Id);
        Assert.Equal(1, d.KeyCount);
    }

    [Fact]
    public void Released_ForgetsTheKey_RefusedAnswerHoldsNothing()
    {
        var d = Loaded();
        d.Answered("a", "t1", reserved: true, Live(11, 1));
        d.Released("t1");
        Assert.Null(d.HolderOf("t1"));

        d.Answered("b", "t2", reserved: false, Live(11));
        Assert.Null(d.HolderOf("t2"));
        Assert.Equal(0, d.KeyCount);
    }

    [Fact]
    public void NodeLeavingTheRegistry_IsForgotten_AndPushesFromUnregisteredNodesAreIgnored()
    {
        var d = Loaded();
        d.Apply("b", View(11, "t1"));
        d.Load([A], new PlacementSettings(Headroom: 0.5), [View(12)]);

        Assert.Null(d.HolderOf("t1"));
        Assert.Equal(["a"], d.Snapshots(DateTimeOffset.UtcNow).Select(s => s.Id));
        Assert.Equal(0.5, d.Settings.Headroom);

        d.Apply("c", View(99, "t9"));
        Assert.Null(d.HolderOf("t9"));
        Assert.Null(d.Registration("c"));
    }

    [Fact]
    public void ANodeNeverHeardFrom_CountsAsUnknown_NotAsEmpty()
    {
        var d = new NodeDirectory();
        d.Load([A], new PlacementSettings(), [new NodeView(Live(0) with { Health = "unknown", MetricsAt = null }, [])]);
        var snapshot = d.Snapshots(DateTimeOffset.UtcNow).Single();
        Assert.Equal("unknown", snapshot.Health);
        Assert.Null(snapshot.MetricsAgeSeconds);
    }
}
