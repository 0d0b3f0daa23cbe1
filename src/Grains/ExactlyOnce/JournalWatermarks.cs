using Vetrina.Grains.Journal;

namespace Vetrina.Grains.ExactlyOnce;

/// <summary>
/// Exactly-once for what the sales journal's projection sends: per journal writer, the last batch applied. A writer
/// sends a target its batches in order and repeats one until it lands, so a batch at or below the mark was applied,
/// and one mark per writer is all a target keeps (no set of operation ids).
/// </summary>
[GenerateSerializer, Alias("vetrina.journal-watermarks")]
public sealed class JournalWatermarks
{
    [Id(0)] public Dictionary<string, long> Through { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Moves the writer's mark to the position; false (nothing moved) when the batch was applied before.</summary>
    public bool Advance(JournalPosition position)
    {
        if (Through.TryGetValue(position.WriterId, out var through) && through >= position.Sequence)
        {
            return false;
        }
        Through[position.WriterId] = position.Sequence;
        return true;
    }
}
