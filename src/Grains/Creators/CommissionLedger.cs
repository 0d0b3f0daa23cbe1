namespace Vetrina.Grains.Creators;

/// <summary>Commission balances by currency; each order line's commission sits in exactly one stage.</summary>
[GenerateSerializer, Alias("vetrina.commission-ledger")]
public sealed class CommissionLedger
{
    [Id(0)] public Dictionary<string, CommissionBalance> Balances { get; set; } = new(StringComparer.Ordinal);

    public void Apply(LedgerEntry entry)
    {
        var current = Balances.GetValueOrDefault(entry.Currency) ?? new CommissionBalance(entry.Currency, 0, 0, 0, 0);
        Balances[entry.Currency] = current with
        {
            PendingMinor = current.PendingMinor + entry.PendingDelta,
            SettledMinor = current.SettledMinor + entry.SettledDelta,
            ReversedMinor = current.ReversedMinor + entry.ReversedDelta,
        };
    }

    public IReadOnlyList<CommissionBalance> Snapshot() => Balances.Values.OrderBy(b => b.Currency, StringComparer.Ordinal).ToArray();
}
