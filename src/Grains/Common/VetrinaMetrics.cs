using System.Diagnostics.Metrics;

namespace Vetrina.Grains.Common;

/// <summary>Vetrina's own instruments, on the meter named <see cref="MeterName"/>.</summary>
public static class VetrinaMetrics
{
    public const string MeterName = "Vetrina";

    private static readonly Meter Meter = new(MeterName);

    private static readonly Histogram<int> GroupCommitBatchSize = Meter.CreateHistogram<int>(
        "vetrina.group_commit.batch_size", unit: "{change}", description: "Changes made durable by one grain state write.");

    private static readonly Histogram<double> GroupCommitFlushDuration = Meter.CreateHistogram<double>(
        "vetrina.group_commit.flush.duration", unit: "s", description: "How long one grain state write of a group commit took.");

    private static readonly Counter<long> ClicksRecorded = Meter.CreateCounter<long>(
        "vetrina.clicks.recorded", unit: "{click}", description: "Link clicks answered (one-tap buys included).");

    private static readonly Counter<long> ClicksLostCounter = Meter.CreateCounter<long>(
        "vetrina.clicks.lost", unit: "{click}", description: "Tallied clicks whose hand-over to the link failed and was not retried.");

    public static void ClickRecorded() => ClicksRecorded.Add(1);

    public static void ClicksLost(long clicks) => ClicksLostCounter.Add(clicks);

    public static void GroupCommitted(int changes, TimeSpan duration)
    {
        GroupCommitBatchSize.Record(changes);
        GroupCommitFlushDuration.Record(duration.TotalSeconds);
    }
}
