using Microsoft.Extensions.Options;
using Vetrina.Grains.Common;

namespace Vetrina.Grains.Links;

/// <summary>Configuration section <c>Vetrina:Clicks</c>.</summary>
public sealed class ClickOptions
{
    /// <summary>How often each silo hands the clicks it tallied to the link grains: the most link stats lag behind.</summary>
    public TimeSpan FlushInterval { get; set; } = TimeSpan.FromSeconds(1);
}

/// <summary>Clicks of one link tallied on one silo, not yet added to the link's stats.</summary>
[GenerateSerializer, Immutable, Alias("vetrina.click-batch")]
public sealed record ClickBatch(
    [property: Id(0)] long Clicks,
    [property: Id(1)] ulong[] ShopperHashes);

[Alias("vetrina.click-tally")]
public interface IClickTallyGrain : IGrainWithIntegerKey
{
    /// <summary>Counts a shopper's click and says what it means for attribution.</summary>
    [Alias("count")]
    Task<Outcome<Click>> CountAsync(string code, string shopperId);
}

/// <summary>
/// Pre-aggregates clicks per silo. A viral link takes a click per viewer; counting each one with a durable write
/// of the link grain would make that grain the limit of the whole engine, and click counts need not be exact in
/// real time. So each silo answers clicks from the link's (immutable) terms, tallies them in memory, and adds the
/// tally to the link every <see cref="ClickOptions.FlushInterval"/>. Bound: link stats lag by at most one interval,
/// and a silo that dies loses (never doubles) at most the clicks of its last interval. Attribution itself is
/// not pre-aggregated: the shopper's cart stores the click durably before the click is answered.
/// </summary>
[StatelessWorker(1)]
[Reentrant]
public sealed class ClickTallyGrain(CommerceClock clock, IOptions<ClickOptions> options) : Grain, IClickTallyGrain
{
    private const int MaxCachedTerms = 10_000;
    private const int MaxPendingPerLink = 50_000;
    private readonly Dictionary<string, LinkDefinition> _terms = new(StringComparer.Ordinal);
    private Dictionary<string, Pending> _pending = new(StringComparer.Ordinal);

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var interval = options.Value.FlushInterval;
        this.RegisterGrainTimer(_ => FlushAsync(), new GrainTimerCreationOptions(interval, interval) { Interleave = true });
        return Task.CompletedTask;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken) => FlushAsync();

    public async Task<Outcome<Click>> CountAsync(string code, string shopperId)
    {
        if (!_terms.TryGetValue(code, out var link))
        {
            if (await GrainFactory.GetGrain<ILinkGrain>(code).GetDefinitionAsync() is not { } found)
            {
                return Failure.NotFound($"Link '{code}'");
            }
            if (_terms.Count >= MaxCachedTerms)
            {
                _terms.Clear();
            }
            _terms[code] = link = found;
        }
        if (!_pending.TryGetValue(code, out var pending))
        {
            _pending[code] = pending = new Pending();
        }
        pending.Clicks++;
        if (pending.ShopperHashes.Count < MaxPendingPerLink)
        {
            pending.ShopperHashes.Add(UniqueCounter.Hash(shopperId));
        }
        VetrinaMetrics.ClickCounted();
        var now = clock.UtcNow;
        return Outcome<Click>.Ok(new Click(code, link.ProductId, link.CreatorId, link.CreatorShopperId, now, now.AddHours(link.AttributionWindowHours)));
    }

    private Task FlushAsync()
    {
        if (_pending.Count == 0)
        {
            return Task.CompletedTask;
        }
        var batches = _pending;
        _pending = new(StringComparer.Ordinal);
        // A failed hand-over is not retried: a retry of a write that did land would count those clicks twice.
        return Task.WhenAll(batches.Select(async b =>
        {
            try
            {
                await GrainFactory.GetGrain<ILinkGrain>(b.Key).AddClicksAsync(new ClickBatch(b.Value.Clicks, [.. b.Value.ShopperHashes]));
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                VetrinaMetrics.ClicksLost(b.Value.Clicks);
            }
        }));
    }

    private sealed class Pending
    {
        public long Clicks { get; set; }

        public List<ulong> ShopperHashes { get; } = [];
    }
}
