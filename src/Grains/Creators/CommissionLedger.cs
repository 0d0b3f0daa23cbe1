namespace Vetrina.Grains.Creators;

/// <summary>Commission balances by currency; each order line's commission sits in exactly one stage.</summary>
[GenerateSerializer, Alias("vetrina.commission-ledger")]
public sealed class CommissionLedger
{
    [Id(0)] public Dictionary<string, CommissionBalance> Balances { get; set; } = new(StringComparer.Ordinal);

    /// <remarks>
    /// Settled commission taken away beyond what is settled now (a chargeback or freeze of a line whose commission
    /// was already paid out) becomes carry: what the creator owes back, netted by its next payouts.
    /// </remarks>
    public void Apply(LedgerEntry entry)
    {
        var current = Balance(entry.Currency);
        var settled = current.SettledMinor + entry.SettledDelta;
        var carry = current.CarryMinor;
        if (settled < 0)
        {
            carry -= settled;
            settled = 0;
        }
        Balances[entry.Currency] = current with
        {
            PendingMinor = current.PendingMinor + entry.PendingDelta,
            SettledMinor = settled,
            ReversedMinor = current.ReversedMinor + entry.ReversedDelta,
            FrozenMinor = current.FrozenMinor + entry.FrozenDelta,
            CarryMinor = carry,
        };
    }

    /// <summary>What a payout would pay now: settled commission (frozen is apart) less carry.</summary>
    public long Payable(string currency) => Balance(currency) is var b ? b.SettledMinor - b.CarryMinor : 0;

    /// <summary>Moves <see cref="Payable"/> from settled to paid; the carry is netted by it.</summary>
    public void PayOut(string currency, long amountMinor)
    {
        var current = Balance(currency);
        if (amountMinor != current.SettledMinor - current.CarryMinor)
        {
            throw new InvalidOperationException("A payout pays exactly what is payable.");
        }
        Balances[currency] = current with { SettledMinor = 0, CarryMinor = 0, PaidMinor = current.PaidMinor + amountMinor };
    }

    public IReadOnlyList<CommissionBalance> Snapshot() => Balances.Values.OrderBy(b => b.Currency, StringComparer.Ordinal).ToArray();

    private CommissionBalance Balance(string currency) => Balances.GetValueOrDefault(currency) ?? new CommissionBalance(currency, 0, 0, 0, 0);
}
