using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Vetrina.Grains.Common;

/// <summary>Vetrina's own instruments, on the meter named <see cref="MeterName"/>; each is recorded where its event happens.</summary>
public static class VetrinaMetrics
{
    public const string MeterName = "Vetrina";

    /// <summary>Vetrina's own spans (a checkout desk's commit window), on the activity source of the same name.</summary>
    public static readonly ActivitySource Tracing = new(MeterName);

    private static readonly Meter Meter = new(MeterName);

    // Bucket advice: the exporters' default buckets (0 to 10,000) suit milliseconds, not seconds or batch sizes.
    private static readonly Histogram<int> GroupCommitBatchSize = Meter.CreateHistogram(
        "vetrina.group_commit.batch_size", unit: "{change}", description: "Changes made durable by one grain state write.",
        tags: null, advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000] });

    private static readonly Histogram<double> GroupCommitFlushDuration = Meter.CreateHistogram(
        "vetrina.group_commit.flush.duration", unit: "s", description: "How long one grain state write of a group commit took.",
        tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] });

    private static readonly Counter<long> Checkouts = Meter.CreateCounter<long>(
        "vetrina.checkouts", unit: "{checkout}",
        description: "Checkouts decided, by kind (cart or buy) and outcome (completed or the refusal's kind); replays are not counted.");

    private static readonly Counter<long> StockRefusals = Meter.CreateCounter<long>(
        "vetrina.stock.refusals", unit: "{checkout}", description: "Checkouts refused because a product had not enough stock (first decisions; replays are not counted).");

    private static readonly Counter<long> CommissionAccrued = Meter.CreateCounter<long>(
        "vetrina.commission.accrued", unit: "{minor_unit}", description: "Commission credited to creators' ledgers, in minor units, by currency.");

    private static readonly Counter<long> CommissionReversed = Meter.CreateCounter<long>(
        "vetrina.commission.reversed", unit: "{minor_unit}", description: "Commission reversed by cancellations and refunds, in minor units, by currency.");

    private static readonly Counter<long> CommissionPaid = Meter.CreateCounter<long>(
        "vetrina.commission.paid", unit: "{minor_unit}", description: "Commission paid out to creators in payout runs, in minor units, by currency.");

    private static readonly Counter<long> Clicks = Meter.CreateCounter<long>(
        "vetrina.clicks", unit: "{click}", description: "Link clicks recorded, those counted by one-tap buys included.");

    private static readonly Counter<long> ClicksLostCounter = Meter.CreateCounter<long>(
        "vetrina.clicks.lost", unit: "{click}", description: "Tallied clicks whose hand-over to the link failed and was not retried (link stats only; attribution is unaffected).");

    public static void GroupCommitted(int changes, TimeSpan duration)
    {
        GroupCommitBatchSize.Record(changes);
        GroupCommitFlushDuration.Record(duration.TotalSeconds);
    }

    /// <summary>A checkout reached its outcome; <paramref name="failure"/> is null when it completed.</summary>
    public static void CheckoutDecided(string kind, Failure? failure) =>
        Checkouts.Add(1, new TagList { { "vetrina.checkout.kind", kind }, { "vetrina.checkout.outcome", Outcome(failure) } });

    public static void StockRefused() => StockRefusals.Add(1);

    /// <summary>A ledger entry became durable on a creator's ledger.</summary>
    public static void LedgerApplied(Creators.LedgerEntry entry)
    {
        var (currency, reversedDelta) = (entry.Currency, entry.ReversedDelta);
        var tag = new KeyValuePair<string, object?>("vetrina.currency", currency);
        // An entry moves commission between stages; only new commission raises the sum of them all.
        var accrued = entry.PendingDelta + entry.SettledDelta + entry.FrozenDelta + reversedDelta;
        if (accrued > 0)
        {
            CommissionAccrued.Add(accrued, tag);
        }
        if (reversedDelta > 0)
        {
            CommissionReversed.Add(reversedDelta, tag);
        }
    }

    /// <summary>A payout became durable on a creator's ledger.</summary>
    public static void PaidOut(string currency, long amountMinor) =>
        CommissionPaid.Add(amountMinor, new KeyValuePair<string, object?>("vetrina.currency", currency));

    private static readonly Counter<long> JournalTransactions = Meter.CreateCounter<long>(
        "vetrina.journal.transactions", unit: "{transaction}", description: "Sales journal transactions that wrote checkouts or charge intents (per commit window: one for its intents, one for its outcomes, more when it is written one by one).");

    private static readonly Counter<long> JournalCheckouts = Meter.CreateCounter<long>(
        "vetrina.journal.checkouts", unit: "{checkout}", description: "Checkout outcomes written to the sales journal (replays included, which write nothing new).");

    /// <summary>One journal transaction carried <paramref name="checkouts"/> checkout outcomes.</summary>
    public static void JournalCommitted(int checkouts)
    {
        JournalTransactions.Add(1);
        JournalCheckouts.Add(checkouts);
    }

    /// <summary>One journal transaction recorded a window's charge intents.</summary>
    public static void ChargesRecorded() => JournalTransactions.Add(1);

    public static void ClickCounted() => Clicks.Add(1);

    public static void ClicksLost(long clicks) => ClicksLostCounter.Add(clicks);

    private static string Outcome(Failure? failure) => failure?.Kind switch
    {
        null => "completed",
        FailureKind.NotFound => "not_found",
        FailureKind.Forbidden => "forbidden",
        FailureKind.Conflict => "conflict",
        FailureKind.Invalid => "invalid",
        FailureKind.PaymentDeclined => "payment_declined",
        _ => "unavailable",
    };
}
