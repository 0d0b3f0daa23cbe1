using System.Diagnostics;

namespace Vetrina.Grains.Common;

/// <summary>Configuration key <c>Vetrina:GroupCommit</c> (<c>true</c> or <c>false</c>).</summary>
public sealed class GroupCommitOptions
{
    /// <summary>Batch the durable writes of a hot grain (on by default); off means one write per change, for comparison.</summary>
    public bool Enabled { get; set; } = true;
}

/// <summary>
/// Group commit for the state of one reentrant grain. A call changes the in-memory state within its own turn
/// (no await in between, so changes never interleave), then awaits <see cref="DurableAsync"/>: it is answered only
/// once a write that contains its change has succeeded. While one write is in flight, the changes of every call
/// that arrives join the next write, so a hot grain does one write per batch instead of one per call.
/// If a write fails, memory holds changes that storage never accepted: the commit breaks (every waiting and later
/// caller fails) and <c>onBroken</c> deactivates the grain, so that its next activation reloads what is durable.
/// </summary>
public sealed class GroupCommit(Func<Task> write, bool batching, Action onBroken)
{
    private readonly Queue<Batch> _waiting = new();
    private Batch? _inFlight;
    private Batch? _last;
    private Exception? _broken;
    private bool _lazyChanges;

    /// <summary>Completes once every change made so far, this caller's included, is durable.</summary>
    public Task DurableAsync()
    {
        if (_broken is not null)
        {
            return Task.FromException(_broken);
        }
        if (!batching || !_waiting.TryPeek(out var batch))
        {
            batch = new Batch();
            _waiting.Enqueue(batch);
            _last = batch;
        }
        batch.Callers++;
        if (_inFlight is null)
        {
            _ = FlushAsync();
        }
        return batch.Written.Task;
    }

    /// <summary>
    /// A change nobody waits for (housekeeping, such as forgetting ids): it rides with the next write, and
    /// <see cref="WriteLazyChangesAsync"/> writes it if none came by then.
    /// </summary>
    public void ChangedLazily() => _lazyChanges = true;

    /// <summary>
    /// Writes lazy changes that no write has carried yet, as the grain deactivates. Nothing after a failed write, nor for
    /// a duplicate activation (the activation that stays has the state; a late write would only make its next one fail).
    /// </summary>
    public Task WriteLazyChangesAsync(DeactivationReason reason) =>
        _lazyChanges && _broken is null && reason.ReasonCode != DeactivationReasonCode.DuplicateActivation ? DurableAsync() : Task.CompletedTask;

    /// <summary>Completes once what was already changed is durable, without a change of its own (for replays).</summary>
    public Task SettledAsync() =>
        _broken is not null ? Task.FromException(_broken) : _last?.Written.Task ?? Task.CompletedTask;

    private async Task FlushAsync()
    {
        while (_broken is null && _waiting.TryDequeue(out var batch))
        {
            _inFlight = batch;
            var started = Stopwatch.GetTimestamp();
            // The write copies the state before its first await, so it carries every change made until now.
            _lazyChanges = false;
            try
            {
                await write();
                VetrinaMetrics.GroupCommitted(batch.Callers, Stopwatch.GetElapsedTime(started));
                batch.Written.SetResult();
            }
            catch (Exception exception)
            {
                _broken = exception;
                batch.Written.SetException(exception);
                while (_waiting.TryDequeue(out var later))
                {
                    later.Written.SetException(exception);
                }
                onBroken();
            }
            finally
            {
                _inFlight = null;
            }
        }
    }

    private sealed class Batch
    {
        public TaskCompletionSource Written { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int Callers { get; set; }
    }
}
