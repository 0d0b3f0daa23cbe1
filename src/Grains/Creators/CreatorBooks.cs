namespace Vetrina.Grains.Creators;

public enum LedgerMovementKind
{
    /// <summary>Commission of an attributed order line, when the order was placed.</summary>
    Earned = 0,

    /// <summary>Commission taken back: a cancellation, a refund or a chargeback.</summary>
    Reversed = 1,

    /// <summary>Pending commission became settled (the return window ended); changes nothing owed.</summary>
    Settled = 2,

    /// <summary>Commission held out of settlement and payouts; changes nothing owed.</summary>
    Frozen = 3,

    /// <summary>Frozen commission released to where it was; changes nothing owed.</summary>
    Unfrozen = 4,

    /// <summary>Money paid to the creator in a payout run.</summary>
    Paid = 5,
}

/// <summary>
/// One entry of a creator's statement. <c>Key</c> names it for good (an order's change and kind, or a payout), so
/// writing it again does nothing.
/// </summary>
[GenerateSerializer, Immutable, Alias("vetrina.ledger-movement")]
public sealed record LedgerMovement(
    [property: Id(0)] string Key,
    [property: Id(1)] LedgerMovementKind Kind,
    [property: Id(2)] string Currency,
    [property: Id(3)] long AmountMinor,
    [property: Id(4)] DateTimeOffset At,
    [property: Id(5)] string? OrderId,
    [property: Id(6)] string? PayoutId = null,
    [property: Id(7)] string? RunId = null)
{
    /// <summary>What the movement changes in what the creator is owed.</summary>
    public long OwedDelta => Kind switch
    {
        LedgerMovementKind.Earned => AmountMinor,
        LedgerMovementKind.Reversed or LedgerMovementKind.Paid => -AmountMinor,
        _ => 0,
    };
}

/// <summary>
/// A creator's statement for one currency over [from, to): <c>closing = opening + earned − reversed − paid</c>, and
/// the closing of one period is the opening of the next.
/// </summary>
[GenerateSerializer, Immutable, Alias("vetrina.statement")]
public sealed record Statement(
    [property: Id(0)] string Currency,
    [property: Id(1)] StatementPeriod Period,
    [property: Id(2)] long OpeningMinor,
    [property: Id(3)] long EarnedMinor,
    [property: Id(4)] long ReversedMinor,
    [property: Id(5)] long PaidMinor,
    [property: Id(6)] IReadOnlyList<LedgerMovement> Entries,
    [property: Id(7)] bool EntriesTruncated)
{
    public long ClosingMinor => OpeningMinor + EarnedMinor - ReversedMinor - PaidMinor;

    /// <summary>Sums movements into a statement (the in-memory books).</summary>
    public static Statement Of(string currency, StatementPeriod period, IEnumerable<LedgerMovement> movements, int maxEntries)
    {
        var sums = new StatementSums();
        var entries = new List<LedgerMovement>();
        foreach (var m in movements.Where(m => m.Currency == currency && m.At < period.Until).OrderBy(m => m.At).ThenBy(m => m.Key, StringComparer.Ordinal))
        {
            var inside = m.At >= period.From;
            sums.Add(inside, m.Kind, m.AmountMinor, 1);
            if (inside && entries.Count < maxEntries)
            {
                entries.Add(m);
            }
        }
        return sums.ToStatement(currency, period, entries);
    }
}

/// <summary>
/// A statement's sums, added up from movements or from a database's sums by kind: what came before the period makes
/// the opening; inside it, earned, reversed and paid, and how many entries there are.
/// </summary>
public sealed class StatementSums
{
    private long _opening, _earned, _reversed, _paid, _inside;

    public void Add(bool inside, LedgerMovementKind kind, long amountMinor, long count)
    {
        if (!inside)
        {
            _opening += new LedgerMovement("", kind, "", amountMinor, default, null).OwedDelta;
            return;
        }
        _inside += count;
        switch (kind)
        {
            case LedgerMovementKind.Earned: _earned += amountMinor; break;
            case LedgerMovementKind.Reversed: _reversed += amountMinor; break;
            case LedgerMovementKind.Paid: _paid += amountMinor; break;
        }
    }

    public Statement ToStatement(string currency, StatementPeriod period, IReadOnlyList<LedgerMovement> entries) =>
        new(currency, period, _opening, _earned, _reversed, _paid, entries, _inside > entries.Count);
}

/// <summary>A statement's period: from (inclusive) to until (exclusive).</summary>
[GenerateSerializer, Immutable, Alias("vetrina.statement-period")]
public sealed record StatementPeriod([property: Id(0)] DateTimeOffset From, [property: Id(1)] DateTimeOffset Until);

/// <summary>
/// The creators' books: every movement of every creator's ledger, kept as the creator grains apply them (a table of
/// our own beside the sales journal in durable modes). Statements and payout runs read them; the grains' balances
/// stay the answer to "what is owed now".
/// </summary>
public interface ICreatorBooks
{
    /// <summary>Keeps the movements a creator has not recorded yet (by key), and lists the creator under their currencies.</summary>
    Task RecordAsync(string creatorId, IReadOnlyList<LedgerMovement> movements, CancellationToken cancellationToken = default);

    Task<Statement> StatementAsync(string creatorId, string currency, StatementPeriod period, int maxEntries, CancellationToken cancellationToken = default);

    /// <summary>Creators with any movement in the currency, in id order after <paramref name="after"/>: a payout run's pages.</summary>
    Task<IReadOnlyList<string>> CreatorsAsync(string currency, string? after, int limit, CancellationToken cancellationToken = default);

    /// <summary>The payouts a run recorded.</summary>
    Task<IReadOnlyList<Payout>> RunPayoutsAsync(string runId, CancellationToken cancellationToken = default);
}

/// <summary>The books of memory mode (one silo, nothing survives a restart).</summary>
public sealed class InMemoryCreatorBooks : ICreatorBooks
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Dictionary<string, LedgerMovement>> _byCreator = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SortedSet<string>> _creatorsByCurrency = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<Payout>> _payoutsByRun = new(StringComparer.Ordinal);

    public Task RecordAsync(string creatorId, IReadOnlyList<LedgerMovement> movements, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            if (!_byCreator.TryGetValue(creatorId, out var kept))
            {
                _byCreator[creatorId] = kept = new(StringComparer.Ordinal);
            }
            foreach (var movement in movements)
            {
                if (!kept.TryAdd(movement.Key, movement))
                {
                    continue;
                }
                if (!_creatorsByCurrency.TryGetValue(movement.Currency, out var creators))
                {
                    _creatorsByCurrency[movement.Currency] = creators = new(StringComparer.Ordinal);
                }
                creators.Add(creatorId);
                if (movement is { Kind: LedgerMovementKind.Paid, RunId: { } runId, PayoutId: { } payoutId })
                {
                    if (!_payoutsByRun.TryGetValue(runId, out var payouts))
                    {
                        _payoutsByRun[runId] = payouts = [];
                    }
                    payouts.Add(new Payout(payoutId, runId, creatorId, movement.Currency, movement.AmountMinor, movement.At));
                }
            }
        }
        return Task.CompletedTask;
    }

    public Task<Statement> StatementAsync(string creatorId, string currency, StatementPeriod period, int maxEntries, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            var movements = _byCreator.TryGetValue(creatorId, out var kept) ? kept.Values.ToArray() : [];
            return Task.FromResult(Statement.Of(currency, period, movements, maxEntries));
        }
    }

    public Task<IReadOnlyList<string>> CreatorsAsync(string currency, string? after, int limit, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            IReadOnlyList<string> page = _creatorsByCurrency.TryGetValue(currency, out var creators)
                ? creators.Where(c => after is null || string.CompareOrdinal(c, after) > 0).Take(limit).ToArray()
                : [];
            return Task.FromResult(page);
        }
    }

    public Task<IReadOnlyList<Payout>> RunPayoutsAsync(string runId, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            IReadOnlyList<Payout> payouts = _payoutsByRun.TryGetValue(runId, out var kept)
                ? kept.OrderBy(p => p.CreatorId, StringComparer.Ordinal).ToArray()
                : [];
            return Task.FromResult(payouts);
        }
    }
}
