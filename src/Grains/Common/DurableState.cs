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
}
