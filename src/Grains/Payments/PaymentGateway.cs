namespace Vetrina.Grains.Payments;

[GenerateSerializer, Immutable, Alias("vetrina.payment-result")]
public sealed record PaymentResult(
    [property: Id(0)] bool Approved,
    [property: Id(1)] string? PaymentId,
    [property: Id(2)] string? DeclineReason);

/// <summary>
/// The engine's view of a payment provider. Both calls carry an idempotency key: the checkout or refund id,
/// so that a retried step never charges or refunds twice.
/// </summary>
public interface IPaymentGateway
{
    Task<PaymentResult> ChargeAsync(string idempotencyKey, long amountMinor, string currency, string? paymentToken, CancellationToken cancellationToken = default);

    Task RefundAsync(string idempotencyKey, string paymentId, long amountMinor, string currency, CancellationToken cancellationToken = default);

    /// <summary>
    /// Refunds in full whatever was charged under <paramref name="chargeIdempotencyKey"/>, if anything was: for a
    /// charge whose checkout was never recorded (providers find it by the key or the metadata it was sent with).
    /// </summary>
    Task VoidAsync(string chargeIdempotencyKey, long amountMinor, string currency, CancellationToken cancellationToken = default);
}

/// <summary>Approves every token except <c>tok_decline</c>; deterministic, so idempotent by key without state.</summary>
public sealed class BuiltInPaymentGateway : IPaymentGateway
{
    public const string DecliningToken = "tok_decline";

    public Task<PaymentResult> ChargeAsync(string idempotencyKey, long amountMinor, string currency, string? paymentToken, CancellationToken cancellationToken = default) =>
        Task.FromResult(paymentToken == DecliningToken
            ? new PaymentResult(false, null, "The card was declined.")
            : new PaymentResult(true, "pay_" + idempotencyKey, null));

    public Task RefundAsync(string idempotencyKey, string paymentId, long amountMinor, string currency, CancellationToken cancellationToken = default) =>
        Task.CompletedTask;

    public Task VoidAsync(string chargeIdempotencyKey, long amountMinor, string currency, CancellationToken cancellationToken = default) =>
        Task.CompletedTask;
}
