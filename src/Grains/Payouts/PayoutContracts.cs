using Vetrina.Grains.Common;
using Vetrina.Grains.Creators;

namespace Vetrina.Grains.Payouts;

[GenerateSerializer, Immutable, Alias("vetrina.payout-run-view")]
public sealed record PayoutRunView(
    [property: Id(0)] string RunId,
    [property: Id(1)] string Currency,
    [property: Id(2)] long MinimumMinor,
    [property: Id(3)] DateTimeOffset CreatedAt,
    [property: Id(4)] bool Completed,
    [property: Id(5)] long CreatorsVisited,
    [property: Id(6)] DateTimeOffset? CompletedAt);

/// <summary>A finished run with what it paid.</summary>
[GenerateSerializer, Immutable, Alias("vetrina.payout-run-result")]
public sealed record PayoutRunResult(
    [property: Id(0)] PayoutRunView Run,
    [property: Id(1)] IReadOnlyList<Payout> Payouts)
{
    public long TotalMinor => Payouts.Sum(p => p.AmountMinor);
}

/// <summary>
/// One payout run, keyed by its run id (derived from the platform's Idempotency-Key). It pages through every
/// creator with books in the currency and asks each to pay out once for the run; its cursor is durable after each
/// page, and a reminder resumes it after a crash, so a run over any number of creators is never one call holding
/// them all, and a retried or resumed run pays nobody twice (each creator remembers the runs it paid in).
/// </summary>
[Alias("vetrina.payout-run")]
public interface IPayoutRunGrain : IGrainWithStringKey
{
    /// <summary>Starts the run, or resumes it; the same key with other terms is a conflict.</summary>
    [Alias("start")]
    Task<Outcome<PayoutRunView>> StartAsync(string currency, long minimumMinor);

    /// <summary>Waits up to <paramref name="within"/> for the run to finish; answers how far it got.</summary>
    [AlwaysInterleave, Alias("wait")]
    Task<PayoutRunView?> WaitAsync(TimeSpan within);

    /// <summary>The run's payouts, once it has finished (null before).</summary>
    [AlwaysInterleave, Alias("result")]
    Task<PayoutRunResult?> GetResultAsync();
}
