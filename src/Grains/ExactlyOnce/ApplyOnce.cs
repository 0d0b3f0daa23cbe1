using Vetrina.Grains.Common;
using Vetrina.Grains.Journal;

namespace Vetrina.Grains.ExactlyOnce;

/// <summary>
/// The one way a group-committed grain applies what others send it exactly once. Two kinds of sender, two marks:
/// an order's outbox sends each effect with an operation id (<see cref="AppliedOperations"/>, kept until the order
/// says it will not resend it); the sales journal's projection sends batches in order per writer
/// (<see cref="JournalWatermarks"/>, one number per writer). Either way a repeat is answered only once the first
/// application is durable, and a change is answered once the write that carries it is.
/// </summary>
public static class ApplyOnce
{
    /// <summary>Applies an outbox effect unless its operation was applied before; true when it was applied now.</summary>
    public static async Task<bool> EffectAsync(this AppliedOperations applied, string operationId, Action apply, GroupCommit commit,
        IGrainFactory grains, IEffectTarget self, DateTimeOffset now)
    {
        if (applied.Contains(operationId))
        {
            // Applied in memory, perhaps not yet durable: answer only once it is.
            await commit.SettledAsync();
            return false;
        }
        apply();
        applied.Record(operationId, now);
        applied.AskSendersOfOverdue(grains, self, now);
        await commit.DurableAsync();
        return true;
    }

    /// <summary>The sender will never resend these operations: their ids go with the grain's next write.</summary>
    public static Task ForgetAsync(this AppliedOperations applied, string[] operationIds, GroupCommit commit)
    {
        if (applied.Forget(operationIds))
        {
            commit.ChangedLazily();
        }
        return Task.CompletedTask;
    }

    /// <summary>Applies a journal batch unless its writer's mark is already at or past it; true when it was applied now.</summary>
    public static async Task<bool> BatchAsync(this JournalWatermarks projected, JournalPosition position, Action apply, GroupCommit commit)
    {
        if (!projected.Advance(position))
        {
            await commit.SettledAsync();
            return false;
        }
        apply();
        await commit.DurableAsync();
        return true;
    }
}
