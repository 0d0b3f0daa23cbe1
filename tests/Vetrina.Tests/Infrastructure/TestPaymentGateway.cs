using System.Collections.Concurrent;
using Vetrina.Grains.Payments;

namespace Vetrina.Tests.Infrastructure;

/// <summary>
/// The built-in gateway with what tests need to see and steer: charges counted, voids recorded, and (when
/// <paramref name="held"/>) charges that do not answer until <see cref="Release"/>, like a slow provider.
/// </summary>
public sealed class TestPaymentGateway(bool held = false) : IPaymentGateway
{
    private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly BuiltInPaymentGateway _inner = new();
    private int _charges;

    public int Charges => Volatile.Read(ref _charges);

    /// <summary>Voided charges by their idempotency key, with the amount.</summary>
    public ConcurrentDictionary<string, long> Voided { get; } = new();

    public void Release() => _released.TrySetResult();

    public async Task<PaymentResult> ChargeAsync(string idempotencyKey, long amountMinor, string currency, string? paymentToken, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _charges);
        if (held)
        {
            await _released.Task;
        }
        return await _inner.ChargeAsync(idempotencyKey, amountMinor, currency, paymentToken, cancellationToken);
    }

    public Task RefundAsync(string idempotencyKey, string paymentId, long amountMinor, string currency, CancellationToken cancellationToken = default) =>
        _inner.RefundAsync(idempotencyKey, paymentId, amountMinor, currency, cancellationToken);

    public Task VoidAsync(string chargeIdempotencyKey, long amountMinor, string currency, CancellationToken cancellationToken = default)
    {
        Voided[chargeIdempotencyKey] = amountMinor;
        return _inner.VoidAsync(chargeIdempotencyKey, amountMinor, currency, cancellationToken);
    }
}
