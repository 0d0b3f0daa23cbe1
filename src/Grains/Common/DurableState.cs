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
    /// A group commit of this state for a reentrant grain. <paramref name="capturePublication"/> runs as each write
    /// starts and returns what to publish once that write is durable, so reads show durable state only.
    /// </summary>
    public static GroupCommit GroupCommit<T>(this IPersistentState<T> state, IGrainBase grain, GroupCommitOptions options,
        Func<Action> capturePublication) =>
        new(async () =>
            {
                var publish = capturePublication();
                await state.WriteStateAsync();
                publish();
            },
            options.Enabled,
            () => grain.GrainContext.Deactivate(new DeactivationReason(DeactivationReasonCode.ApplicationError, "group commit write failed")));
}
