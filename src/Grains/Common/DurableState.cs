namespace Vetrina.Grains.Common;

public static class DurableState
{
    /// <summary>
    /// Writes the state; when the write fails the grain deactivates so that its next activation reloads what is
    /// really durable instead of serving memory that storage never accepted.
    /// </summary>
    public static async Task SaveAsync<T>(this IPersistentState<T> state, IGrainBase grain)
    {
        try
        {
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
