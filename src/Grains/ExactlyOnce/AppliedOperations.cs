namespace Vetrina.Grains.ExactlyOnce;

/// <summary>
/// Exactly-once for effects that other grains send from their outboxes: the ids of operations already applied, kept
/// until the sender says it will never resend them (<see cref="Forget"/>). Ids are never dropped by age, since a
/// sender may wake much later with an effect still in its outbox; an id still here long after it was applied
/// (its sender's "forget" was lost, or its outbox never emptied) is asked about at its sender instead.
/// </summary>
[GenerateSerializer, Alias("vetrina.applied-operations")]
public sealed class AppliedOperations
{
    /// <summary>How long after being applied, and then between questions, an id waits before its sender is asked.</summary>
    public static readonly TimeSpan AskSenderAfter = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Senders asked per look (a minute), those waiting longest first: after an outage the questions trickle instead of
    /// waking every order at once, and every sender gets its turn.
    /// </summary>
    public const int MaxSendersAskedAtOnce = 100;

    /// <summary>When each id was applied or its sender last asked.</summary>
    [Id(0)] public Dictionary<string, DateTimeOffset> Ids { get; set; } = new(StringComparer.Ordinal);

    [NonSerialized] private DateTimeOffset _nextLook = DateTimeOffset.MinValue;

    public bool Contains(string operationId) => Ids.ContainsKey(operationId);

    public void Record(string operationId, DateTimeOffset at) => Ids[operationId] = at;

    /// <summary>Forgets the ids; answers whether any was still remembered.</summary>
    public bool Forget(IEnumerable<string> operationIds)
    {
        var removed = false;
        foreach (var id in operationIds)
        {
            removed |= Ids.Remove(id);
        }
        return removed;
    }

    /// <summary>
    /// Asks the senders of overdue ids whether they may be forgotten (<see cref="IEffectSender.ReconcileAsync"/>);
    /// looks at most once a minute and asks at most <see cref="MaxSendersAskedAtOnce"/> senders, so it is cheap to
    /// call on every apply. An operation id starts with its sender's id and a '/'.
    /// </summary>
    public void AskSendersOfOverdue(IGrainFactory grains, IEffectTarget self, DateTimeOffset now)
    {
        if (now < _nextLook)
        {
            return;
        }
        _nextLook = now + TimeSpan.FromMinutes(1);
        var senders = Ids.Where(id => id.Value <= now - AskSenderAfter).Select(id => id.Key)
            .GroupBy(id => id.Split('/', 2)[0], StringComparer.Ordinal)
            .OrderBy(sender => sender.Min(id => Ids[id]))
            .Take(MaxSendersAskedAtOnce)
            .ToArray();
        foreach (var sender in senders)
        {
            foreach (var id in sender)
            {
                Ids[id] = now;
            }
            grains.GetGrain<IEffectSender>(sender.Key).ReconcileAsync(self, sender.ToArray()).Ignore();
        }
    }
}

/// <summary>A grain that applies effects sent from other grains' outboxes exactly once.</summary>
[Alias("vetrina.effect-target")]
public interface IEffectTarget : IGrainWithStringKey
{
    /// <summary>The sender will never send these operations again.</summary>
    [OneWay, Alias("forget-operations")]
    Task ForgetOperationsAsync(string[] operationIds);
}

/// <summary>A grain that sends effects from a durable outbox.</summary>
[Alias("vetrina.effect-sender")]
public interface IEffectSender : IGrainWithStringKey
{
    /// <summary>
    /// A target still remembers these operations long after applying them: finish any of them still in the outbox,
    /// then tell the target to forget them.
    /// </summary>
    [OneWay, Alias("reconcile")]
    Task ReconcileAsync(IEffectTarget target, string[] operationIds);
}
