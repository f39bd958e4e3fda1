using Npgsql;
using Sajet.Runtime;

namespace Sajet.TestSilo;

public sealed class TestState
{
    public int Count { get; set; }

    public int Runs { get; set; }

    public List<int> Attempts { get; set; } = [];

    public string? Status { get; set; }

    public string? FailReason { get; set; }
}

/// <summary>What a test reminder's handler does: finish at once, sleep (cooperatively or not), or always throw.</summary>
public sealed record WorkPayload(string Mode = "ok", int SleepMs = 0, int MaxAttempts = 25);

/// <summary>
/// A grain for runtime tests. Its reminder handler writes an at-least-once "effect" row outside the lock (as a
/// Proxmox call would be), then applies an exactly-once transition under the lock.
/// </summary>
public sealed class TestGrain(NpgsqlDataSource db, SiloIdentity silo) : Grain<TestState>
{
    public const string TypeName = "test";

    public const string EffectsTable = """
        CREATE TABLE IF NOT EXISTS test_effects (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            grain_key text NOT NULL, reminder text NOT NULL, attempt int NOT NULL, silo text NOT NULL,
            at timestamptz NOT NULL DEFAULT clock_timestamp())
        """;

    public override string? Status => State.Status;

    public int Increment()
    {
        State.Count++;
        return State.Count;
    }

    public void Schedule(string name, TimeSpan dueIn, WorkPayload payload) =>
        Context.SetReminder(name, dueIn, payload, payload.MaxAttempts);

    public override async Task<ReminderResult> ReceiveReminderAsync(ReminderFiring firing, CancellationToken ct)
    {
        var work = firing.PayloadAs<WorkPayload>() ?? new WorkPayload();
        await using (var cmd = db.CreateCommand("INSERT INTO test_effects (grain_key, reminder, attempt, silo) VALUES (@k, @n, @a, @s)"))
        {
            cmd.Parameters.AddWithValue("k", firing.Grain.Key);
            cmd.Parameters.AddWithValue("n", firing.Name);
            cmd.Parameters.AddWithValue("a", firing.Attempt);
            cmd.Parameters.AddWithValue("s", silo.Id);
            await cmd.ExecuteNonQueryAsync(CancellationToken.None);
        }

        switch (work.Mode)
        {
            case "sleep":
                await Task.Delay(work.SleepMs, ct);
                break;
            case "hang":
                // Ignores cancellation on purpose: a handler stuck in a call that does not listen.
                await Task.Delay(work.SleepMs, CancellationToken.None);
                break;
            case "poison":
                throw new InvalidOperationException("poison handler always fails");
            default:
                break;
        }

        var attempt = firing.Attempt;
        var name = firing.Name;
        return ReminderResult.Done<TestGrain>(g => g.Worked(name, attempt));
    }

    public void Worked(string reminder, int attempt)
    {
        State.Runs++;
        State.Attempts.Add(attempt);
        var from = State.Status;
        State.Status = "worked";
        Context.Record(from, "worked", $"{reminder} ran", data: new { attempt, silo = silo.Id });
    }

    public override Task ReceiveMessageAsync(object message)
    {
        if (message is not IncrementMessage m)
        {
            return base.ReceiveMessageAsync(message);
        }

        State.Count += m.By;
        return Task.CompletedTask;
    }

    public override Task OnReminderGaveUpAsync(ReminderFiring firing, string error)
    {
        var from = State.Status;
        State.Status = "failed";
        State.FailReason = error;
        Context.Record(from, "failed", $"{firing.Name} gave up after {firing.Attempt} attempts: {error}");
        return Task.CompletedTask;
    }
}

public sealed record IncrementMessage(int By);

public sealed record SiloIdentity(string Id);
