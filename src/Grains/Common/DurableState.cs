using Orleans.Serialization;

namespace Vetrina.Grains.Common;

public static class DurableState
{
    /// <summary>
    /// Writes the state; when the write fails the grain deactivates so that its next activation reloads what is
    /// really durable instead of serving memory that storage never accepted.
    /// </summary>
    /// <param name="beforeWrite">
    /// What must exist before the state is durable, such as the reminder that finishes the work the state promises.
    /// When it fails nothing is written and the grain deactivates just the same.
    /// </param>
    public static async Task SaveAsync<T>(this IPersistentState<T> state, IGrainBase grain, Func<Task>? beforeWrite = null)
    {
        try
        {
            if (beforeWrite is not null)
            {
                await beforeWrite();
            }
            await state.WriteStateAsync();
        }
        catch
        {
            grain.GrainContext.Deactivate(new DeactivationReason(DeactivationReasonCode.ApplicationError, "state write failed"));
            throw;
        }
    }

    /// <summary>
    /// A group commit of this state for a reentrant grain, whose calls change <paramref name="live"/> (never
    /// <c>state.State</c> directly). Storage may serialize the state after an await, off the grain's turn, while other
    /// calls keep changing it; so each write hands storage a deep copy taken within the turn that starts the write,
    /// and a write never sees half of a change. <paramref name="capturePublication"/> runs at the same moment and
    /// returns what to publish once that write is durable, so reads show durable state only.
    /// </summary>
    public static GroupCommit GroupCommit<T>(this IPersistentState<T> state, IGrainBase grain, GroupCommitOptions options,
        DeepCopier copier, T live, Func<Action> capturePublication) =>
        new(async () =>
            {
                var publish = capturePublication();
                state.State = copier.Copy(live)!;
                await state.WriteStateAsync();
                publish();
            },
            options.Enabled,
            () => grain.GrainContext.Deactivate(new DeactivationReason(DeactivationReasonCode.ApplicationError, "group commit write failed")));
}
