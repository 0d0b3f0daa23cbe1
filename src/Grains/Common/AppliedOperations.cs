namespace Vetrina.Grains.Common;

/// <summary>
/// Exactly-once for effects that other grains send: the ids of operations already applied, kept until
/// the sender says it will never resend them (<see cref="Forget"/>) or, as a safety net, until they are old.
/// </summary>
[GenerateSerializer, Alias("vetrina.applied-operations")]
public sealed class AppliedOperations
{
    public static readonly TimeSpan Retention = TimeSpan.FromDays(1);

    [Id(0)] public Dictionary<string, DateTimeOffset> Ids { get; set; } = new(StringComparer.Ordinal);

    public bool Contains(string operationId) => Ids.ContainsKey(operationId);

    public void Record(string operationId, DateTimeOffset at) => Ids[operationId] = at;

    public void Forget(IEnumerable<string> operationIds)
    {
        foreach (var id in operationIds)
        {
            Ids.Remove(id);
        }
    }

    public void PruneOlderThan(DateTimeOffset cutoff)
    {
        foreach (var (id, at) in Ids)
        {
            if (at < cutoff)
            {
                Ids.Remove(id);
            }
        }
    }
}
