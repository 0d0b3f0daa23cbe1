namespace Vetrina.Grains.Checkout;

/// <summary>Configuration section <c>Vetrina:Checkout</c>.</summary>
public sealed class CheckoutOptions
{
    /// <summary>
    /// How long a product keeps stock reserved for a desk's commit window that has not settled (its silo died, say)
    /// before it counts the units as unknown and reads its journal row again to learn what was sold.
    /// </summary>
    public TimeSpan ReservationTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often a product with reservations looks for stale ones.</summary>
    public TimeSpan ReservationSweepInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long after a charge its checkout may take to reach the journal before the charge is voided as abandoned.</summary>
    public TimeSpan AbandonedChargeAfter { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How often each silo looks for abandoned charges.</summary>
    public TimeSpan AbandonedChargeCheckInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Most checkouts waiting for a window on one silo; more answer 503 at once.</summary>
    public int MaxWaiting { get; set; } = 50_000;

    /// <summary>Most checkouts one desk writes in one journal transaction.</summary>
    public int MaxBatch { get; set; } = 1024;
}
