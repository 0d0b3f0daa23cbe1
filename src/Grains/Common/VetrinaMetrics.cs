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

    public static void GroupCommitted(int changes, TimeSpan duration)
    {
        GroupCommitBatchSize.Record(changes);
        GroupCommitFlushDuration.Record(duration.TotalSeconds);
    }
}
