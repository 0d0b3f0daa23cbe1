namespace Vetrina.Tests.Infrastructure;

/// <summary>Waits on a condition with a deadline: the only way these tests wait for the engine to act on its own.</summary>
public static class Eventually
{
    public static async Task<T> HoldsAsync<T>(Func<Task<T>> probe, Func<T, bool> condition, TimeSpan? deadline = null, string? because = null)
    {
        var until = DateTime.UtcNow + (deadline ?? TimeSpan.FromSeconds(30));
        var last = await probe();
        while (!condition(last))
        {
            if (DateTime.UtcNow > until)
            {
                throw new Xunit.Sdk.XunitException($"Condition not met before the deadline{(because is null ? "" : ": " + because)}. Last value: {last}");
            }
            await Task.Delay(50);
            last = await probe();
        }
        return last;
    }

    /// <summary>
    /// Waits until a projected figure (earnings, link stats, brand sales: they lag the journal by up to a second)
    /// equals what is expected, and fails with both values if it never does.
    /// </summary>
    public static async Task ProjectedAsync<T>(T expected, Func<Task<T>> probe, TimeSpan? deadline = null)
    {
        var until = DateTime.UtcNow + (deadline ?? TimeSpan.FromSeconds(30));
        var last = await probe();
        while (!EqualityComparer<T>.Default.Equals(last, expected) && DateTime.UtcNow < until)
        {
            await Task.Delay(50);
            last = await probe();
        }
        Xunit.Assert.Equal(expected, last);
    }
}
