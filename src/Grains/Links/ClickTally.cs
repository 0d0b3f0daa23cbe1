using System.Collections.Concurrent;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Vetrina.Grains.Common;
using Vetrina.Grains.Reports;

namespace Vetrina.Grains.Links;

/// <summary>Configuration section <c>Vetrina:Clicks</c>.</summary>
public sealed class ClickOptions
{
    /// <summary>How often each silo hands the clicks it tallied to the link grains: the most link stats lag behind.</summary>
    public TimeSpan FlushInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How often each silo drops clicks whose attribution window has ended from the click journal.</summary>
    public TimeSpan ForgetExpiredInterval { get; set; } = TimeSpan.FromMinutes(10);
}

/// <summary>Clicks of one link tallied on one silo, not yet added to the link's stats.</summary>
[GenerateSerializer, Immutable, Alias("vetrina.click-batch")]
public sealed record ClickBatch(
    [property: Id(0)] long Clicks,
    [property: Id(1)] ulong[] ShopperHashes);

/// <summary>
/// Pre-aggregates clicks per silo, in the silo's own memory (no grain call per click). A viral link takes a click
/// per viewer; counting each one with a durable write of the link grain would make that grain the limit of the whole
/// engine, and click counts need not be exact in real time. So each silo answers clicks from the link's (immutable)
/// terms, tallies them, and adds the tally to the link every <see cref="ClickOptions.FlushInterval"/>. Bound: link
/// stats lag by at most one interval, and a silo that dies loses (never doubles) at most its last interval's clicks.
/// </summary>
public sealed class ClickTally(IGrainFactory grains, CommerceClock clock, IReportBook reports, IOptions<ClickOptions> options) : BackgroundService
{
    private const int MaxCachedTerms = 10_000;
    private const int MaxPendingPerLink = 50_000;
    private readonly ConcurrentDictionary<string, LinkDefinition> _terms = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private Dictionary<string, Pending> _pending = new(StringComparer.Ordinal);

    /// <summary>The link's terms, from this silo's cache or (once) from the link grain; null for an unknown code.</summary>
    public async ValueTask<LinkDefinition?> DefinitionAsync(string code)
    {
        if (_terms.TryGetValue(code, out var link))
        {
            return link;
        }
        if (await grains.GetGrain<ILinkGrain>(code).GetDefinitionAsync() is not { } found)
        {
            return null;
        }
        if (_terms.Count >= MaxCachedTerms)
        {
            _terms.Clear();
        }
        return _terms[code] = found;
    }

    /// <summary>What a click on the link now means for attribution, without counting it.</summary>
    public async ValueTask<Outcome<Click>> ClickAsync(string code)
    {
        if (await DefinitionAsync(code) is not { } link)
        {
            return Failure.NotFound($"Link '{code}'");
        }
        var now = clock.UtcNow;
        return Outcome<Click>.Ok(new Click(code, link.ProductId, link.CreatorId, link.CreatorShopperId, now, now.AddHours(link.AttributionWindowHours), link.LinkedAt));
    }

    /// <summary>Adds a click to the link's tally.</summary>
    public void Count(string code, string shopperId)
    {
        var hash = UniqueCounter.Hash(shopperId);
        var hour = ReportCell.HourOf(clock.UtcNow);
        lock (_lock)
        {
            if (!_pending.TryGetValue(code, out var pending))
            {
                _pending[code] = pending = new Pending();
            }
            pending.Clicks++;
            pending.ByHour[hour] = pending.ByHour.GetValueOrDefault(hour) + 1;
            if (pending.ShopperHashes.Count < MaxPendingPerLink)
            {
                pending.ShopperHashes.Add(hash);
            }
        }
        VetrinaMetrics.ClickCounted();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.FlushInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await FlushAsync();
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await FlushAsync();
    }

    private Task FlushAsync()
    {
        Dictionary<string, Pending> batches;
        lock (_lock)
        {
            if (_pending.Count == 0)
            {
                return Task.CompletedTask;
            }
            batches = _pending;
            _pending = new(StringComparer.Ordinal);
        }
        // A failed hand-over is not retried: a retry of a write that did land would count those clicks twice.
        return Task.WhenAll(batches.Select(async b =>
        {
            try
            {
                await grains.GetGrain<ILinkGrain>(b.Key).AddClicksAsync(new ClickBatch(b.Value.Clicks, [.. b.Value.ShopperHashes]));
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                VetrinaMetrics.ClicksLost(b.Value.Clicks);
            }
        }).Append(ReportAsync(batches)));
    }

    /// <summary>The tallied clicks in the report cells of each link's creator and brand, per hour, in one write.</summary>
    private async Task ReportAsync(Dictionary<string, Pending> batches)
    {
        var cells = new List<ReportCell>();
        foreach (var (code, pending) in batches)
        {
            LinkDefinition? link;
            try
            {
                link = await DefinitionAsync(code);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                link = null;
            }
            if (link is null)
            {
                continue;
            }
            foreach (var (hour, clicks) in pending.ByHour)
            {
                void Add(string owner, string dimension) => cells.Add(new ReportCell(owner, dimension, "", hour, clicks, 0, 0, 0, 0));
                Add(link.CreatorId, ReportDimensions.Total);
                Add(link.CreatorId, ReportDimensions.Product(link.ProductId));
                Add(link.CreatorId, ReportDimensions.Link(code));
                Add(link.BrandId, ReportDimensions.Total);
                Add(link.BrandId, ReportDimensions.Product(link.ProductId));
                Add(link.BrandId, ReportDimensions.Creator(link.CreatorId));
                Add(link.BrandId, ReportDimensions.Channel(SalesChannel.Link));
            }
        }
        if (cells.Count == 0)
        {
            return;
        }
        try
        {
            await reports.AddAsync(ReportCell.Sum(cells));
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            VetrinaMetrics.ClicksLost(cells.Where(c => c.Dimension == ReportDimensions.Total && c.Owner.StartsWith(IdPrefixes.Creator, StringComparison.Ordinal)).Sum(c => c.Clicks));
        }
    }

    private sealed class Pending
    {
        public long Clicks { get; set; }

        public List<ulong> ShopperHashes { get; } = [];

        public Dictionary<DateTimeOffset, long> ByHour { get; } = [];
    }
}
