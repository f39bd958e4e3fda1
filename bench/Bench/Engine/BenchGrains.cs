using Orleans;
using Orleans.Runtime;

namespace Sajet.Bench.Engine;

/// <summary>A grain whose every <see cref="WriteAsync"/> changes and persists its state; <see cref="ReadAsync"/> only reads.</summary>
[Alias("Sajet.Bench.Engine.IBenchStateGrain")]
public interface IBenchStateGrain : IGrainWithIntegerKey
{
    [Alias("Write")]
    Task<int> WriteAsync();

    [Alias("Read")]
    Task<int> ReadAsync();
}

/// <summary>A grain with a reminder: it remembers when its last tick came and how late its first one was, for the failover and lag figures.</summary>
[Alias("Sajet.Bench.Engine.IBenchReminderGrain")]
public interface IBenchReminderGrain : IGrainWithIntegerKey
{
    [Alias("Start")]
    Task StartAsync(TimeSpan dueTime, TimeSpan period);

    /// <summary>The last tick this activation saw (null if none yet: a fresh activation after a failover).</summary>
    [Alias("LastTick")]
    Task<DateTime?> LastTickAsync();

    /// <summary>The lag (ms) of this activation's first tick, if it had one.</summary>
    [Alias("FirstLag")]
    Task<double?> FirstLagAsync();

    /// <summary>When this activation started and saw its first and last ticks: the failover part's timeline.</summary>
    [Alias("Timeline")]
    Task<ActivationTimeline> TimelineAsync();
}

[GenerateSerializer]
[Alias("Sajet.Bench.Engine.ActivationTimeline")]
public sealed record ActivationTimeline([property: Id(0)] DateTime Activated, [property: Id(1)] DateTime? FirstTick, [property: Id(2)] DateTime? LastTick);

[GenerateSerializer]
[Alias("Sajet.Bench.Engine.BenchState")]
public sealed class BenchState
{
    [Id(0)]
    public int Count { get; set; }

    // Makes the stored row about the size pgbench upserts (a small workflow state).
    [Id(1)]
    public string Payload { get; set; } = "";
}

public sealed class BenchStateGrain([PersistentState("benchState")] IPersistentState<BenchState> state) : Grain, IBenchStateGrain
{
    public async Task<int> WriteAsync()
    {
        state.State.Count++;
        if (state.State.Payload.Length == 0)
        {
            state.State.Payload = new string('x', 200);
        }

        await state.WriteStateAsync();
        return state.State.Count;
    }

    public Task<int> ReadAsync() => Task.FromResult(state.State.Count);
}

public sealed class BenchReminderGrain : Grain, IBenchReminderGrain, IRemindable
{
    private readonly DateTime _activated = DateTime.UtcNow;
    private double? _firstLagMs;
    private DateTime? _firstTick;
    private DateTime? _lastTick;

    public async Task StartAsync(TimeSpan dueTime, TimeSpan period) =>
        await this.RegisterOrUpdateReminder("bench", dueTime, period);

    public Task ReceiveReminder(string reminderName, TickStatus status)
    {
        var now = DateTime.UtcNow;
        // CurrentTickTime is when the tick fired; the due time is the last period boundary since the first tick.
        var periods = Math.Max(0, Math.Floor((now - status.FirstTickTime) / status.Period));
        var due = status.FirstTickTime + (status.Period * periods);
        _firstLagMs ??= (now - due).TotalMilliseconds;
        _firstTick ??= now;
        _lastTick = now;
        return Task.CompletedTask;
    }

    public Task<DateTime?> LastTickAsync() => Task.FromResult(_lastTick);

    public Task<double?> FirstLagAsync() => Task.FromResult(_firstLagMs);

    public Task<ActivationTimeline> TimelineAsync() => Task.FromResult(new ActivationTimeline(_activated, _firstTick, _lastTick));
}
