namespace Vetrina.Grains.Checkout;

/// <summary>Configuration section <c>Vetrina:Checkout</c>.</summary>
public sealed class CheckoutOptions
{
    /// <summary>How long stock stays held for a checkout that has not finished before its coordinator is asked to resolve it.</summary>
    public TimeSpan ReservationTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How often a product with holds looks for expired or unfinished ones.</summary>
    public TimeSpan HoldSweepInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How long a confirmed hold may wait for its checkout's final word before the product asks for it.</summary>
    public TimeSpan ConfirmedHoldGrace { get; set; } = TimeSpan.FromMinutes(1);
}
