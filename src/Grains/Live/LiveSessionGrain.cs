using Microsoft.Extensions.Options;
using Orleans.Serialization;
using Vetrina.Grains.Catalog;
using Vetrina.Grains.Common;
using Vetrina.Grains.ExactlyOnce;
using Vetrina.Grains.Journal;
using Vetrina.Grains.Sales;

namespace Vetrina.Grains.Live;

/// <summary>Configuration section <c>Vetrina:Live</c>.</summary>
public sealed class LiveOptions
{
    /// <summary>A viewer counts as watching while it joined (again) within this time: the platform re-sends joins as a heartbeat.</summary>
    public TimeSpan ViewerPresence { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How often a session sends the viewer count and the stats to its streams when they changed (coalesced).</summary>
    public TimeSpan EventInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How far back a stream can resume with <c>Last-Event-ID</c> without a gap (older ids get a fresh snapshot).</summary>
    public TimeSpan EventHistory { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>A silo's feed that did not renew its subscription within this time is dropped.</summary>
    public TimeSpan FeedExpiry { get; set; } = TimeSpan.FromSeconds(90);

    /// <summary>Open event streams a silo serves at most; the next one is answered 503.</summary>
    public int MaxStreamsPerSilo { get; set; } = 20_000;
}

[GenerateSerializer, Alias("vetrina.live-state")]
public sealed class LiveSessionState
{
    [Id(0)] public LiveDefinition? Definition { get; set; }
    [Id(1)] public LiveStatus Status { get; set; }
    [Id(2)] public DateTimeOffset? StartedAt { get; set; }
    [Id(3)] public DateTimeOffset? EndedAt { get; set; }
    [Id(4)] public List<string> Showcase { get; set; } = [];
    [Id(5)] public string? PinnedProductId { get; set; }
    /// <summary>Unique viewers, as a HyperLogLog of their shopper ids: fixed size however many watch.</summary>
    [Id(15)] public UniqueCounter Viewers { get; set; } = new();

    /// <summary>The session's flash deals as they last reported themselves.</summary>
    [Id(16)] public Dictionary<string, Deals.FlashDealView> Deals { get; set; } = new(StringComparer.Ordinal);
    [Id(7)] public int PeakViewers { get; set; }
    [Id(8)] public long Orders { get; set; }
    [Id(9)] public long Units { get; set; }
    [Id(10)] public long GmvMinor { get; set; }
    [Id(11)] public long CommissionMinor { get; set; }
    [Id(12)] public Dictionary<string, ProductSales> ByProduct { get; set; } = new(StringComparer.Ordinal);
    [Id(13)] public AppliedOperations Applied { get; set; } = new();
    [Id(14)] public JournalWatermarks Projected { get; set; } = new();
}

/// <summary>
/// A creator's live session. Lifecycle, showcase and pin are written before they are answered; viewers are counted
/// in memory (unique viewers and the peak ride with the next write, lazily: a lost join costs a count, never money);
/// sales arrive from the journal's projection like a link's. Reentrant and group-committed: a live session takes
/// every join and sale of its audience at once.
/// </summary>
[Reentrant]
public sealed class LiveSessionGrain(
    [PersistentState("live", StateStorage.Name)] IPersistentState<LiveSessionState> state,
    CommerceClock clock,
    IOptions<LiveOptions> options,
    IOptions<GroupCommitOptions> groupCommit,
    DeepCopier copier) : Grain, ILiveSessionGrain
{
    private const int MaxHistory = 4_000;
    private readonly Dictionary<ulong, DateTimeOffset> _present = [];

    private readonly string _epoch = Identifiers.RandomBase62(8);
    private readonly Queue<LiveEvent> _history = new();
    private readonly Dictionary<ILiveEventObserver, long> _feeds = [];
    private long _sequence;
    private int _viewersSent;
    private DateTimeOffset _prunedAt;
    private LiveTerms? _publishedTerms;
    private bool _statsChanged;
    private readonly HashSet<string> _dealsChanged = new(StringComparer.Ordinal);
    private LiveSessionState? _live;
    private GroupCommit? _commit;

    private LiveSessionState S => _live ??= state.State;
    private string SessionId => this.GetPrimaryKeyString();
    // Checkout sees the session as it is durable: a start or an end whose write fails never sold or refused anything.
    private GroupCommit Commit => _commit ??= state.GroupCommit(this, groupCommit.Value, copier, S, () =>
    {
        var terms = Terms();
        return () => _publishedTerms = terms;
    });

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _publishedTerms = Terms();
        this.RegisterGrainTimer(SendCoalescedAsync, new GrainTimerCreationOptions(options.Value.EventInterval, options.Value.EventInterval) { Interleave = true });
        return Task.CompletedTask;
    }

    public async Task<Outcome<LiveSessionView>> CreateAsync(LiveDefinition definition)
    {
        if (S.Definition is not null)
        {
            return Failure.Conflict($"Live session '{SessionId}' exists.");
        }
        S.Definition = definition;
        S.Status = LiveStatus.Scheduled;
        await Commit.DurableAsync();
        return Outcome<LiveSessionView>.Ok(View());
    }

    public Task<LiveSessionView?> GetAsync() => Task.FromResult(S.Definition is null ? Unknown<LiveSessionView>() : View());

    public Task<Outcome<LiveSessionView>> StartAsync(string actingCreatorId) => ChangeAsync(actingCreatorId, () =>
    {
        if (S.Status != LiveStatus.Scheduled)
        {
            return Failure.Conflict($"Live session '{SessionId}' is {Name(S.Status)}; only a scheduled session starts.");
        }
        S.Status = LiveStatus.Live;
        S.StartedAt = clock.UtcNow;
        return null;
    });

    public Task<Outcome<LiveSessionView>> EndAsync(string actingCreatorId) => ChangeAsync(actingCreatorId, () =>
    {
        if (Ended() is { } ended)
        {
            return ended;
        }
        S.Status = LiveStatus.Ended;
        S.EndedAt = clock.UtcNow;
        return null;
    });

    public async Task<Outcome<LiveSessionView>> SetShowcaseAsync(string actingCreatorId, IReadOnlyList<string> productIds)
    {
        if ((Refusal(actingCreatorId) ?? Ended()) is { } refused)
        {
            return refused;
        }
        if (productIds.Count > LiveRules.MaxShowcase || productIds.Distinct(StringComparer.Ordinal).Count() != productIds.Count)
        {
            return Failure.Invalid($"A showcase holds at most {LiveRules.MaxShowcase} distinct products.");
        }
        var quotes = await Task.WhenAll(productIds.Select(id => GrainFactory.GetGrain<IProductGrain>(id).QuoteAsync()));
        for (var i = 0; i < productIds.Count; i++)
        {
            if (quotes[i] is not { } quote)
            {
                return Failure.NotFound($"Product '{productIds[i]}'");
            }
            if (quote.Status != ProductStatus.Active)
            {
                return Failure.Conflict($"Product '{productIds[i]}' is archived and cannot be shown.");
            }
        }
        return await ChangeAsync(actingCreatorId, () =>
        {
            if (Ended() is { } ended)
            {
                return ended;
            }
            S.Showcase = [.. productIds];
            if (S.PinnedProductId is { } pinned && !S.Showcase.Contains(pinned, StringComparer.Ordinal))
            {
                S.PinnedProductId = null;
            }
            return null;
        });
    }

    public Task<Outcome<LiveSessionView>> PinAsync(string actingCreatorId, string? productId) => ChangeAsync(actingCreatorId, () =>
    {
        if (Ended() is { } ended)
        {
            return ended;
        }
        if (productId is not null && !S.Showcase.Contains(productId, StringComparer.Ordinal))
        {
            return Failure.Conflict($"Product '{productId}' is not in the showcase of live session '{SessionId}'.");
        }
        S.PinnedProductId = productId;
        return null;
    });

    public Task<Outcome<LiveViewers>> JoinAsync(string shopperId)
    {
        if (S.Definition is null)
        {
            this.DeactivateOnIdle();
            return Task.FromResult<Outcome<LiveViewers>>(Failure.NotFound($"Live session '{SessionId}'"));
        }
        if (Ended() is { } ended)
        {
            return Task.FromResult<Outcome<LiveViewers>>(ended);
        }
        var hash = UniqueCounter.Hash(shopperId);
        if (S.Viewers.AddHash(hash))
        {
            Commit.ChangedLazily();
        }
        _present[hash] = clock.UtcNow;
        var viewers = CurrentViewers();
        if (viewers > S.PeakViewers)
        {
            S.PeakViewers = viewers;
            Commit.ChangedLazily();
        }
        return Task.FromResult(Outcome<LiveViewers>.Ok(new LiveViewers(viewers)));
    }

    public Task<Outcome<LiveStats>> GetStatsAsync(string? actingCreatorId)
    {
        if (S.Definition is null)
        {
            this.DeactivateOnIdle();
            return Task.FromResult<Outcome<LiveStats>>(Failure.NotFound($"Live session '{SessionId}'"));
        }
        if (actingCreatorId is not null && actingCreatorId != S.Definition.CreatorId)
        {
            return Task.FromResult<Outcome<LiveStats>>(Failure.Forbidden("The live session belongs to another creator."));
        }
        return Task.FromResult(Outcome<LiveStats>.Ok(Stats()));
    }

    private LiveStats Stats()
    {
        var byProduct = S.ByProduct.Values.Where(p => p.Units != 0 || p.GmvMinor != 0).OrderByDescending(p => p.GmvMinor).ThenBy(p => p.ProductId, StringComparer.Ordinal).ToArray();
        return new LiveStats(S.Status == LiveStatus.Ended ? 0 : CurrentViewers(), S.PeakViewers, S.Viewers.Estimate(), S.Orders, S.Units, S.GmvMinor, S.CommissionMinor, byProduct);
    }

    public Task<LiveTerms?> GetTermsAsync() => Task.FromResult(_publishedTerms ?? Unknown<LiveTerms>());

    private LiveTerms? Terms() =>
        S.Definition is null ? null : new LiveTerms(SessionId, S.Definition.CreatorId, S.Definition.CreatorShopperId, S.Status, S.Showcase.ToArray());

    public Task ApplyAsync(LiveSaleEntry entry) =>
        S.Applied.EffectAsync(entry.OperationId, () => Add(entry), Commit, GrainFactory, this.AsReference<IEffectTarget>(), clock.UtcNow);

    public Task ProjectAsync(JournalPosition position, LiveSaleEntry entry) => S.Projected.BatchAsync(position, () => Add(entry), Commit);

    public Task ForgetOperationsAsync(string[] operationIds) => S.Applied.ForgetAsync(operationIds, Commit);

    /// <summary>Joins and forgotten ids that no write carried yet are written as the session leaves memory.</summary>
    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken) => Commit.WriteLazyChangesAsync(reason);

    public Task<IReadOnlyList<LiveEvent>> EventsSinceAsync(string? lastEventId)
    {
        if (S.Definition is null)
        {
            this.DeactivateOnIdle();
            return Task.FromResult<IReadOnlyList<LiveEvent>>([]);
        }
        if (LiveEvent.TryParseId(lastEventId, out var epoch, out var sequence) && epoch == _epoch && sequence <= _sequence
            && (sequence == _sequence || (_history.TryPeek(out var oldest) && oldest.Sequence <= sequence + 1)))
        {
            return Task.FromResult<IReadOnlyList<LiveEvent>>(_history.Where(e => e.Sequence > sequence).ToArray());
        }
        // An id of another activation, or older than the history: the whole session as it is now, resumable from here.
        var now = clock.UtcNow;
        return Task.FromResult<IReadOnlyList<LiveEvent>>(
        [
            new LiveEvent(_epoch, _sequence, LiveEventKinds.Session, now, Session: View()),
            new LiveEvent(_epoch, _sequence, LiveEventKinds.Viewers, now, Viewers: new LiveViewers(S.Status == LiveStatus.Ended ? 0 : CurrentViewers())),
            new LiveEvent(_epoch, _sequence, LiveEventKinds.Stats, now, Stats: Stats()),
            .. S.Deals.Values.Select(deal => new LiveEvent(_epoch, _sequence, LiveEventKinds.Deal, now, Deal: deal)),
        ]);
    }

    public Task DealChangedAsync(Deals.FlashDealView deal)
    {
        if (S.Deals.TryGetValue(deal.DealId, out var known) && deal.IsOlderThan(known))
        {
            return Task.CompletedTask;
        }
        S.Deals[deal.DealId] = deal;
        _dealsChanged.Add(deal.DealId);
        Commit.ChangedLazily();
        return Task.CompletedTask;
    }

    public Task SubscribeAsync(ILiveEventObserver feed)
    {
        _feeds[feed] = Environment.TickCount64;
        return Task.CompletedTask;
    }

    public Task UnsubscribeAsync(ILiveEventObserver feed)
    {
        _feeds.Remove(feed);
        return Task.CompletedTask;
    }

    /// <summary>Every interval: the viewer count and the stats when they changed, however many joins and sales came in between.</summary>
    private Task SendCoalescedAsync(CancellationToken cancellationToken)
    {
        var expiredBefore = Environment.TickCount64 - (long)options.Value.FeedExpiry.TotalMilliseconds;
        foreach (var (feed, renewed) in _feeds)
        {
            if (renewed < expiredBefore)
            {
                _feeds.Remove(feed);
            }
        }
        if (S.Definition is null)
        {
            return Task.CompletedTask;
        }
        var viewers = S.Status == LiveStatus.Ended ? 0 : CurrentViewers();
        if (viewers != _viewersSent)
        {
            _viewersSent = viewers;
            Send(new LiveEvent(_epoch, ++_sequence, LiveEventKinds.Viewers, clock.UtcNow, Viewers: new LiveViewers(viewers)));
        }
        foreach (var dealId in _dealsChanged)
        {
            Send(new LiveEvent(_epoch, ++_sequence, LiveEventKinds.Deal, clock.UtcNow, Deal: S.Deals[dealId]));
        }
        _dealsChanged.Clear();
        if (_statsChanged)
        {
            _statsChanged = false;
            // Stats are a latest value for the few streams that may see them: not numbered among the session's
            // events and not kept for resuming (a stream that resumes gets them in its snapshot or with the next change).
            Send(new LiveEvent(_epoch, _sequence, LiveEventKinds.Stats, clock.UtcNow, Stats: Stats()), keep: false);
        }
        return Task.CompletedTask;
    }

    /// <summary>Keeps the event for resuming streams and pushes it once to every subscribed silo.</summary>
    private void Send(LiveEvent e, bool keep = true)
    {
        if (keep)
        {
            _history.Enqueue(e);
        }
        var keepAfter = e.At - options.Value.EventHistory;
        while (_history.Count > MaxHistory || (_history.TryPeek(out var oldest) && oldest.At < keepAfter))
        {
            _history.Dequeue();
        }
        LiveEvent[] batch = [e];
        foreach (var feed in _feeds.Keys)
        {
            feed.OnEventsAsync(batch).Ignore();
        }
    }

    private void Add(LiveSaleEntry entry)
    {
        _statsChanged = true;
        S.Orders += entry.OrdersDelta;
        S.Units += entry.UnitsDelta;
        S.GmvMinor += entry.GmvDelta;
        S.CommissionMinor += entry.CommissionDelta;
        foreach (var delta in entry.ProductDeltas)
        {
            var current = S.ByProduct.GetValueOrDefault(delta.ProductId) ?? new ProductSales(delta.ProductId, 0, 0);
            S.ByProduct[delta.ProductId] = current with { Units = current.Units + delta.Units, GmvMinor = current.GmvMinor + delta.GmvMinor };
        }
    }

    /// <summary>Runs a change of the session's creator (null answer: changed) and answers after it is durable.</summary>
    private async Task<Outcome<LiveSessionView>> ChangeAsync(string actingCreatorId, Func<Failure?> change)
    {
        if (Refusal(actingCreatorId) is { } refused)
        {
            return refused;
        }
        var pinned = S.PinnedProductId;
        if (change() is { } failure)
        {
            return failure;
        }
        // The session as this change left it, taken in the change's own turn: a change interleaving during the write
        // sends its own events.
        var view = View();
        var pin = string.Equals(pinned, S.PinnedProductId, StringComparison.Ordinal) ? null : new LivePin(S.PinnedProductId);
        await Commit.DurableAsync();
        Send(new LiveEvent(_epoch, ++_sequence, LiveEventKinds.Session, clock.UtcNow, Session: view));
        if (pin is not null)
        {
            Send(new LiveEvent(_epoch, ++_sequence, LiveEventKinds.Pin, clock.UtcNow, Pin: pin));
        }
        return Outcome<LiveSessionView>.Ok(view);
    }

    private Failure? Refusal(string actingCreatorId)
    {
        if (S.Definition is null)
        {
            this.DeactivateOnIdle();
            return Failure.NotFound($"Live session '{SessionId}'");
        }
        return actingCreatorId != S.Definition.CreatorId ? Failure.Forbidden("The live session belongs to another creator.") : null;
    }

    private Failure? Ended() => S.Status == LiveStatus.Ended ? Failure.Conflict($"Live session '{SessionId}' has ended.") : null;

    /// <summary>Viewers present now; the absent are dropped at most once per event interval, not on every join.</summary>
    private int CurrentViewers()
    {
        var now = clock.UtcNow;
        if (now - _prunedAt >= options.Value.EventInterval)
        {
            _prunedAt = now;
            var since = now - options.Value.ViewerPresence;
            foreach (var (hash, seen) in _present)
            {
                if (seen < since)
                {
                    _present.Remove(hash);
                }
            }
        }
        return _present.Count;
    }

    private T? Unknown<T>() where T : class
    {
        this.DeactivateOnIdle();
        return null;
    }

    private LiveSessionView View() => new(SessionId, S.Definition!.CreatorId, S.Definition.Title, S.Status, S.Definition.ScheduledFor,
        S.StartedAt, S.EndedAt, S.Showcase.ToArray(), S.PinnedProductId, S.Deals.Values.Select(d => d.AsOf(clock.UtcNow)).ToArray(), S.Status == LiveStatus.Ended ? 0 : CurrentViewers());

    private static string Name(LiveStatus status) => status.ToString().ToLowerInvariant();
}
