namespace Vetrina.Grains.Payouts;

/// <summary>Payout runs (<c>Vetrina:Payouts</c>).</summary>
public sealed class PayoutOptions
{
    /// <summary>The least a creator is paid in a run when the run names no minimum, in minor units.</summary>
    public long MinimumMinor { get; set; } = 1000;

    /// <summary>Creators a run reads and pays per step; the run's progress is written after each page.</summary>
    public int PageSize { get; set; } = 500;

    /// <summary>Creators of a page paid at once.</summary>
    public int Parallelism { get; set; } = 32;

    /// <summary>A pause between pages, to spread a large run's load on the database over time (none by default).</summary>
    public TimeSpan PagePause { get; set; } = TimeSpan.Zero;

    /// <summary>How often a run that stopped (its silo died, a call failed) is resumed by its reminder.</summary>
    public TimeSpan ResumeInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How long <c>POST /api/payouts/runs</c> waits for its run to finish before it answers 202 with the progress.</summary>
    public TimeSpan AnswerWithin { get; set; } = TimeSpan.FromSeconds(10);
}
