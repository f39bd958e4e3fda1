using Orleans.Runtime;
using Sajet.SiloHosting;

namespace Sajet.Cluster.Tests;

// Grains that exist only to drive each provider statement through Orleans' own code paths.

public interface IStateGrainBase : IGrainWithStringKey
{
    Task<string?> GetAsync();

    Task SetAsync(string value);

    Task ClearAsync();

    Task DeactivateAsync();
}

public interface IStateGrain : IStateGrainBase;

public interface IPurgedStateGrain : IStateGrainBase;

public interface IReminderGrain : IGrainWithGuidKey
{
    Task RegisterAsync(string name, TimeSpan period);

    Task<bool> ExistsAsync(string name);

    Task<int> CountAsync();

    Task UnregisterAsync(string name);

    Task<int> TicksAsync();
}

[GenerateSerializer]
public sealed class ContractState
{
    [Id(0)]
    public string? Value { get; set; }

    [Id(1)]
    public ContractStatus Status { get; set; }
}

public enum ContractStatus
{
    Empty,
    Written,
}

public abstract class StateGrainBase(IPersistentState<ContractState> state) : Grain
{
    public Task<string?> GetAsync() => Task.FromResult(state.State.Value);

    public async Task SetAsync(string value)
    {
        state.State.Value = value;
        state.State.Status = ContractStatus.Written;
        await state.WriteStateAsync();
    }

    public Task ClearAsync() => state.ClearStateAsync();

    public Task DeactivateAsync()
    {
        DeactivateOnIdle();
        return Task.CompletedTask;
    }
}

public sealed class StateGrain([PersistentState("contract-state")] IPersistentState<ContractState> state)
    : StateGrainBase(state), IStateGrain;

public sealed class PurgedStateGrain([PersistentState("contract-purged", SajetStorage.DeleteOnClear)] IPersistentState<ContractState> state)
    : StateGrainBase(state), IPurgedStateGrain;

public sealed class ReminderGrain : Grain, IReminderGrain, IRemindable
{
    private int _ticks;

    public Task RegisterAsync(string name, TimeSpan period) => this.RegisterOrUpdateReminder(name, TimeSpan.FromSeconds(1), period);

    public async Task<bool> ExistsAsync(string name) => await this.GetReminder(name) is not null;

    public async Task<int> CountAsync() => (await this.GetReminders()).Count;

    public async Task UnregisterAsync(string name) => await this.UnregisterReminder((await this.GetReminder(name))!);

    public Task<int> TicksAsync() => Task.FromResult(_ticks);

    public Task ReceiveReminder(string reminderName, TickStatus status)
    {
        _ticks++;
        return Task.CompletedTask;
    }
}
