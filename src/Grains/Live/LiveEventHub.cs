using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Vetrina.Grains.Common;

namespace Vetrina.Grains.Live;

/// <summary>
/// The event streams of one silo. Each session with open streams here has one <see cref="Feed"/>: one subscription to
/// the session grain, which pushes each event once to this silo, and a fan-out to the silo's local streams, so that
/// thousands of viewers cost one grain message per event, not one per viewer. A stream first gets what it missed
/// (from the grain, by its <c>Last-Event-ID</c>), then the live events, without duplicates.
/// </summary>
public sealed partial class LiveEventHub(IGrainFactory grains, IOptions<LiveOptions> options, IHostApplicationLifetime lifetime, ILogger<LiveEventHub> logger)
{
    private const int StreamBuffer = 1_024;
    private static readonly TimeSpan RenewEvery = TimeSpan.FromSeconds(10);
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Feed> _feeds = new(StringComparer.Ordinal);
    private int _streams;

    /// <summary>Streams open on this silo now.</summary>
    public int OpenStreams => Volatile.Read(ref _streams);

    /// <summary>False when the silo already serves its maximum of streams.</summary>
    public bool HasRoom => OpenStreams < options.Value.MaxStreamsPerSilo;

    /// <summary>
    /// The session's events from <paramref name="lastEventId"/> on, until the caller stops reading or falls so far behind
    /// that its buffer fills (it then resumes with the last id it got). <paramref name="withStats"/> includes sales figures.
    /// </summary>
    public async IAsyncEnumerable<LiveEvent> StreamAsync(string sessionId, string? lastEventId, bool withStats, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var channel = Channel.CreateBounded<LiveEvent>(new BoundedChannelOptions(StreamBuffer) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
        // A silo that stops ends its streams at once (viewers reconnect elsewhere with their last id), so that open
        // streams never hold up its shutdown.
        await using var stopping = lifetime.ApplicationStopping.Register(() => channel.Writer.TryComplete());
        Interlocked.Increment(ref _streams);
        Feed feed;
        lock (_lock)
        {
            if (!_feeds.TryGetValue(sessionId, out feed!))
            {
                _feeds[sessionId] = feed = new Feed(this, grains, sessionId);
            }
            feed.Streams.Add((channel.Writer, withStats));
        }
        try
        {
            await feed.SubscribedAsync().WaitAsync(cancellationToken);
            var session = grains.GetGrain<ILiveSessionGrain>(sessionId);
            // Registered before the catch-up is read, so nothing falls between the two; what both hold is sent once.
            // A stream that resumes up to date starts from its own id: the next event is no gap.
            string? epoch = null;
            long sent = -1;
            if (LiveEvent.TryParseId(lastEventId, out var lastEpoch, out var lastSequence))
            {
                (epoch, sent) = (lastEpoch, lastSequence);
            }
            foreach (var e in await session.EventsSinceAsync(lastEventId).WaitAsync(cancellationToken))
            {
                (epoch, sent) = (e.Epoch, e.Sequence);
                if (withStats || e.Kind != LiveEventKinds.Stats)
                {
                    yield return e;
                }
            }
            await foreach (var e in channel.Reader.ReadAllAsync(cancellationToken))
            {
                if (e.Kind == LiveEventKinds.Stats)
                {
                    // Not numbered among the session's events: it neither fills nor opens a gap.
                    if (e.Epoch == epoch)
                    {
                        yield return e;
                    }
                    continue;
                }
                if (e.Epoch == epoch && e.Sequence <= sent)
                {
                    continue;
                }
                if (e.Epoch != epoch || e.Sequence != sent + 1)
                {
                    // A gap (a lost push, or the session grain started again elsewhere): what the grain has after
                    // the last event sent, or a snapshot of the session when it cannot say.
                    foreach (var missed in await session.EventsSinceAsync(epoch is null ? null : $"{epoch}-{sent}").WaitAsync(cancellationToken))
                    {
                        if (missed.Epoch == epoch && missed.Sequence <= sent)
                        {
                            continue;
                        }
                        (epoch, sent) = (missed.Epoch, missed.Sequence);
                        if (withStats || missed.Kind != LiveEventKinds.Stats)
                        {
                            yield return missed;
                        }
                    }
                    if (e.Epoch == epoch && e.Sequence <= sent)
                    {
                        continue;
                    }
                }
                (epoch, sent) = (e.Epoch, e.Sequence);
                if (withStats || e.Kind != LiveEventKinds.Stats)
                {
                    yield return e;
                }
            }
        }
        finally
        {
            Interlocked.Decrement(ref _streams);
            bool last;
            lock (_lock)
            {
                feed.Streams.Remove((channel.Writer, withStats));
                last = feed.Streams.Count == 0;
                if (last)
                {
                    _feeds.Remove(sessionId);
                }
            }
            if (last)
            {
                await feed.CloseAsync();
                feed.Dispose();
            }
        }
    }

    private void Deliver(Feed feed, LiveEvent[] events)
    {
        (ChannelWriter<LiveEvent> Writer, bool WithStats)[] streams;
        lock (_lock)
        {
            streams = [.. feed.Streams];
        }
        foreach (var (stream, withStats) in streams)
        {
            // Sales figures wake only the streams that may see them, not every viewer's.
            foreach (var e in events.Where(e => withStats || e.Kind != LiveEventKinds.Stats))
            {
                if (!stream.TryWrite(e))
                {
                    // A reader this far behind is closed; it reconnects with the last id it got and misses nothing.
                    stream.TryComplete();
                    break;
                }
            }
        }
    }

    /// <summary>One silo's subscription to one session, renewed while it has streams.</summary>
    private sealed class Feed : ILiveEventObserver, IDisposable
    {
        private readonly LiveEventHub _hub;
        private readonly IGrainFactory _grains;
        private readonly ILiveSessionGrain _session;
        private readonly CancellationTokenSource _closed = new();
        private readonly Lock _lock = new();
        private Task? _subscribed;
        private ILiveEventObserver? _reference;

        public Feed(LiveEventHub hub, IGrainFactory grains, string sessionId)
        {
            _hub = hub;
            _grains = grains;
            _session = grains.GetGrain<ILiveSessionGrain>(sessionId);
        }

        /// <summary>This silo's streams of the session, and whether each may see sales figures.</summary>
        public List<(ChannelWriter<LiveEvent> Writer, bool WithStats)> Streams { get; } = [];

        /// <summary>Subscribes once; a subscription that failed is tried again by the next stream that asks.</summary>
        public Task SubscribedAsync()
        {
            lock (_lock)
            {
                if (_subscribed is null || _subscribed.IsFaulted || _subscribed.IsCanceled)
                {
                    _subscribed = StartAsync();
                }
                return _subscribed;
            }
        }

        public Task OnEventsAsync(LiveEvent[] events)
        {
            _hub.Deliver(this, events);
            return Task.CompletedTask;
        }

        private async Task StartAsync()
        {
            _reference ??= _grains.CreateObjectReference<ILiveEventObserver>(this);
            await _session.SubscribeAsync(_reference);
            _ = RenewAsync();
        }

        private async Task RenewAsync()
        {
            using var timer = new PeriodicTimer(RenewEvery);
            var closed = _closed.Token;
            try
            {
                while (await timer.WaitForNextTickAsync(closed))
                {
                    try
                    {
                        await _session.SubscribeAsync(_reference!);
                    }
                    catch (Exception exception) when (exception is not OperationCanceledException)
                    {
                        _hub.LogRenewFailed(exception, _session.GetPrimaryKeyString());
                    }
                }
            }
            catch (OperationCanceledException)
            {
            }
        }

        public async Task CloseAsync()
        {
            await _closed.CancelAsync();
            if (_reference is null)
            {
                return;
            }
            try
            {
                await _session.UnsubscribeAsync(_reference);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                // The grain drops a feed that stops renewing.
                _hub.LogRenewFailed(exception, _session.GetPrimaryKeyString());
            }
            _grains.DeleteObjectReference<ILiveEventObserver>(_reference);
        }

        public void Dispose() => _closed.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The event feed of live session {SessionId} could not renew or end its subscription")]
    private partial void LogRenewFailed(Exception exception, string sessionId);
}
