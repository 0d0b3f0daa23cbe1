namespace Vetrina.Grains.Orders;

/// <summary>Configuration section <c>Vetrina:Fulfilment</c>.</summary>
public sealed class FulfilmentOptions
{
    /// <summary>
    /// How often a delivered order checks whether its return window has ended. An order completes, and its
    /// commission settles, at most this long after the window ends.
    /// </summary>
    public TimeSpan SettlementCheckInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How often an order retries effects (ledger, stats, restock, refund) that could not be delivered.</summary>
    public TimeSpan EffectRetryInterval { get; set; } = TimeSpan.FromMinutes(1);
}
