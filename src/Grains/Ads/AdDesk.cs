using System.Globalization;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Vetrina.Grains.Catalog;
using Vetrina.Grains.Common;
using Vetrina.Grains.Links;

namespace Vetrina.Grains.Ads;

/// <summary>Configuration section <c>Vetrina:Ads</c>.</summary>
public sealed class AdOptions
{
    /// <summary>How often each silo reads the campaign directory and the campaigns' spend into its placement index.</summary>
    public TimeSpan IndexRefresh { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How often the index reads the campaigns' products (title, price, status, stock).</summary>
    public TimeSpan ProductRefresh { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long a placed ad can be clicked at the cost it quoted.</summary>
    public TimeSpan AdLifetime { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How often each silo hands its impression and click tallies to the campaigns.</summary>
    public TimeSpan TallyInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The key that signs ad ids (all silos must share it); the host derives it from the platform key.</summary>
    public string Secret { get; set; } = "";
}

/// <summary>What a paid click did: its campaign and product, what it cost (0 for a repeat within 24 h), and until when it attributes.</summary>
public sealed record AdClickReceipt(string CampaignId, string ProductId, long ChargedMinor, DateTimeOffset AttributedUntil);

/// <summary>
/// Each silo's ad desk. Placements are answered from this silo's index of eligible campaigns (their terms from the
/// campaign directory, their spend from the spend store, their products' listing), refreshed every
/// <see cref="AdOptions.IndexRefresh"/>: no grain call per placement. Paid clicks of all requests waiting while one
/// charge is written form the next batch, one spend-store transaction for all of them, which charges each campaign
/// exactly within its budgets; an ad click is then a click for attribution, like a link's (the latest wins).
/// </summary>
public sealed partial class AdDesk(
    IGrainFactory grains,
    IAdSpendStore spend,
    ClickDesk clicks,
    CommerceClock clock,
    IOptions<AdOptions> options,
    ILogger<AdDesk> logger) : BackgroundService
{
    public const int MaxPlacement = 5;
    private readonly Lock _lock = new();
    private volatile AdIndex _index = AdIndex.Empty;
    private Dictionary<string, ProductListing> _listings = new(StringComparer.Ordinal);
    private long _listingsReadAt;
    private Dictionary<string, (long Impressions, long Clicks)> _tallies = new(StringComparer.Ordinal);
    private List<(AdClickCharge Charge, TaskCompletionSource<AdChargeResult> Answer)> _pending = [];
    private bool _charging;

    /// <summary>
    /// The auction: eligible campaigns (active now, able to pay their bid today, with a product active and in stock,
    /// for <c>search</c> one whose title contains <paramref name="query"/>) ranked by bid; each of the first
    /// <paramref name="count"/> pays per click the next bid below it plus one minor unit, at most its own bid.
    /// </summary>
    public IReadOnlyList<Ad> Place(string shopperId, AdSlot slot, string? query, int count)
    {
        var index = _index;
        var now = clock.UtcNow;
        var eligible = new List<(AdIndex.Entry Entry, ProductListing Product)>();
        var pick = UniqueCounter.Hash(shopperId);
        // A search walks only the campaigns of products whose title matches, not every campaign: most searches match
        // few sponsored products or none.
        var candidates = slot == AdSlot.Search ? index.Matching(query) : index.Entries;
        foreach (var entry in candidates)
        {
            if (entry.Terms.StatusAt(now) != CampaignStatus.Active || entry.RemainingMinor < entry.Terms.BidMinor)
            {
                continue;
            }
            var products = slot == AdSlot.Search
                ? entry.Products.Where(p => query is not null && p.Title.Contains(query, StringComparison.OrdinalIgnoreCase)).ToArray()
                : entry.Products;
            if (products.Length > 0)
            {
                eligible.Add((entry, products[(int)(pick % (ulong)products.Length)]));
            }
            if (eligible.Count > count)
            {
                // Ranked already: the winners and the bid right below the last of them are all it takes.
                break;
            }
        }
        var ads = new List<Ad>(Math.Min(count, eligible.Count));
        var issuedAt = now.ToUnixTimeSeconds();
        for (var i = 0; i < eligible.Count && i < count; i++)
        {
            var (entry, product) = eligible[i];
            var below = i + 1 < eligible.Count ? eligible[i + 1].Entry.Terms.BidMinor : 0;
            var cost = Math.Min(entry.Terms.BidMinor, below + 1);
            var campaignId = entry.Terms.CampaignId;
            ads.Add(new Ad(Sign(campaignId, product.ProductId, cost, issuedAt), campaignId, product.ProductId, product.Title, product.PriceMinor, product.Currency, cost));
        }
        lock (_lock)
        {
            foreach (var ad in ads)
            {
                var (impressions, clicksSoFar) = _tallies.GetValueOrDefault(ad.CampaignId);
                _tallies[ad.CampaignId] = (impressions + 1, clicksSoFar);
            }
        }
        return ads;
    }

    /// <summary>A shopper's click on a placed ad: charged at the cost it quoted, once per 24 h, within the budgets.</summary>
    public async Task<Outcome<AdClickReceipt>> ClickAsync(string adId, string shopperId)
    {
        var now = clock.UtcNow;
        if (Verify(adId) is not { } ad || now - DateTimeOffset.FromUnixTimeSeconds(ad.IssuedAt) > options.Value.AdLifetime)
        {
            return Failure.NotFound($"Ad '{adId}' (ads expire {options.Value.AdLifetime.TotalMinutes:F0} minutes after their placement)");
        }
        if (_index.Listing(ad.ProductId) is not { } listing)
        {
            return Failure.NotFound($"Ad '{adId}'");
        }
        AdChargeResult result;
        try
        {
            result = await ChargeAsync(new AdClickCharge(ad.CampaignId, ad.ProductId, shopperId, ad.CostMinor));
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            LogChargeFailed(exception);
            return new Failure(FailureKind.Unavailable, "Ad click unavailable", "The click could not be charged; send it again (a charged click is never charged twice).");
        }
        switch (result)
        {
            case AdChargeResult.OverBudget:
                return Failure.Conflict($"budget-spent: campaign '{ad.CampaignId}' cannot pay this click within its budget.");
            case AdChargeResult.NoCampaign:
                return Failure.NotFound($"Ad '{adId}'");
        }
        var until = now.AddHours(listing.AttributionWindowHours);
        var click = new Click("", ad.ProductId, "", null, now, until, CampaignId: ad.CampaignId);
        try
        {
            await clicks.RecordAsync(new ShopperClick(shopperId, click));
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            // Charged but not recorded for attribution: a repeat of the click (free within 24 h) records it.
            LogChargeFailed(exception);
            return new Failure(FailureKind.Unavailable, "Ad click unavailable", "The click was charged but not recorded; send it again (it is not charged twice).");
        }
        lock (_lock)
        {
            var (impressions, clicksSoFar) = _tallies.GetValueOrDefault(ad.CampaignId);
            _tallies[ad.CampaignId] = (impressions, clicksSoFar + 1);
        }
        return Outcome<AdClickReceipt>.Ok(new AdClickReceipt(ad.CampaignId, ad.ProductId, result == AdChargeResult.Charged ? ad.CostMinor : 0, until));
    }

    private Task<AdChargeResult> ChargeAsync(AdClickCharge charge)
    {
        var answer = new TaskCompletionSource<AdChargeResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
        {
            _pending.Add((charge, answer));
            if (_charging)
            {
                return answer.Task;
            }
            _charging = true;
        }
        _ = Task.Run(ChargeBatchesAsync);
        return answer.Task;
    }

    /// <summary>Writes the waiting charges one batch after another: a batch is everything that arrived during the last write.</summary>
    private async Task ChargeBatchesAsync()
    {
        while (true)
        {
            List<(AdClickCharge Charge, TaskCompletionSource<AdChargeResult> Answer)> batch;
            lock (_lock)
            {
                if (_pending.Count == 0)
                {
                    _charging = false;
                    return;
                }
                (batch, _pending) = (_pending, []);
            }
            try
            {
                var results = await spend.ChargeAsync(batch.Select(b => b.Charge).ToArray(), clock.UtcNow);
                for (var i = 0; i < batch.Count; i++)
                {
                    batch[i].Answer.SetResult(results[i]);
                }
            }
            catch (Exception exception)
            {
                foreach (var (_, answer) in batch)
                {
                    answer.SetException(exception);
                }
            }
        }
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(EveryAsync(options.Value.IndexRefresh, RefreshAsync, stoppingToken), EveryAsync(options.Value.TallyInterval, FlushTalliesAsync, stoppingToken));

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await FlushTalliesAsync(cancellationToken);
    }

    /// <summary>Reads the index again now (the next refresh would anyway); tests and the first placements need not wait.</summary>
    public Task RefreshNowAsync() => RefreshAsync(forceListings: true, CancellationToken.None);

    private Task RefreshAsync(CancellationToken cancellationToken) => RefreshAsync(forceListings: false, cancellationToken);

    private async Task RefreshAsync(bool forceListings, CancellationToken cancellationToken)
    {
        var shards = await Task.WhenAll(Enumerable.Range(0, ICampaignShardGrain.Shards).Select(s => grains.GetGrain<ICampaignShardGrain>(s).AllAsync()));
        var now = clock.UtcNow;
        var campaigns = shards.SelectMany(s => s).Where(t => t.StatusAt(now) != CampaignStatus.Ended).ToArray();
        var spent = await spend.ReadAsync(campaigns.Select(c => c.CampaignId).ToArray(), now, cancellationToken);
        var listings = _listings;
        // Refreshed on the machine's time: the commerce clock may stand still (a fake one in tests) or jump.
        if (forceListings || System.Diagnostics.Stopwatch.GetElapsedTime(_listingsReadAt) >= options.Value.ProductRefresh || campaigns.SelectMany(c => c.ProductIds).Any(p => !listings.ContainsKey(p)))
        {
            listings = await ReadListingsAsync(campaigns.SelectMany(c => c.ProductIds).Distinct(StringComparer.Ordinal).ToArray());
            (_listings, _listingsReadAt) = (listings, System.Diagnostics.Stopwatch.GetTimestamp());
        }
        _index = AdIndex.Of(campaigns, spent, listings);
    }

    private async Task<Dictionary<string, ProductListing>> ReadListingsAsync(string[] productIds)
    {
        var listings = new Dictionary<string, ProductListing>(StringComparer.Ordinal);
        foreach (var chunk in productIds.Chunk(256))
        {
            var read = await Task.WhenAll(chunk.Select(async id =>
            {
                var product = grains.GetGrain<IProductGrain>(id);
                var (view, quote) = (await product.GetAsync(), await product.QuoteAsync());
                return view is null || quote is null
                    ? null
                    : new ProductListing(id, view.Title, view.PriceMinor, view.Currency, view.Status == ProductStatus.Active && view.Available > 0, quote.Terms.AttributionWindowHours);
            }));
            foreach (var listing in read.OfType<ProductListing>())
            {
                listings[listing.ProductId] = listing;
            }
        }
        return listings;
    }

    private async Task FlushTalliesAsync(CancellationToken cancellationToken)
    {
        Dictionary<string, (long Impressions, long Clicks)> tallies;
        lock (_lock)
        {
            if (_tallies.Count == 0)
            {
                return;
            }
            (tallies, _tallies) = (_tallies, new(StringComparer.Ordinal));
        }
        // Like link clicks: a hand-over that fails is lost, never counted twice.
        await Task.WhenAll(tallies.Select(async t =>
        {
            try
            {
                await grains.GetGrain<ICampaignGrain>(t.Key).AddTallyAsync(new AdTally(t.Value.Impressions, t.Value.Clicks));
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                LogTallyLost(exception, t.Key);
            }
        }));
    }

    private async Task EveryAsync(TimeSpan interval, Func<CancellationToken, Task> work, CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(interval);
        try
        {
            do
            {
                try
                {
                    await work(stoppingToken);
                }
                catch (Exception exception) when (exception is not OperationCanceledException)
                {
                    LogRefreshFailed(exception);
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private string Sign(string campaignId, string productId, long cost, long issuedAt) =>
        Tokens.Sign(IdPrefixes.Ad, campaignId, productId, cost.ToString(CultureInfo.InvariantCulture), issuedAt.ToString(CultureInfo.InvariantCulture));

    private (string CampaignId, string ProductId, long CostMinor, long IssuedAt)? Verify(string adId) =>
        Tokens.Verify(IdPrefixes.Ad, adId, 4) is { } fields
            && long.TryParse(fields[2], CultureInfo.InvariantCulture, out var cost) && long.TryParse(fields[3], CultureInfo.InvariantCulture, out var issued)
            ? (fields[0], fields[1], cost, issued)
            : null;

    private SignedTokens Tokens => _tokens ??= new SignedTokens("vetrina-ad-ids", options.Value.Secret);

    private SignedTokens? _tokens;

    [LoggerMessage(Level = LogLevel.Warning, Message = "A batch of ad clicks could not be charged; they were answered 503")]
    private partial void LogChargeFailed(Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The ad placement index could not be refreshed; the last one stays")]
    private partial void LogRefreshFailed(Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Impressions and clicks of campaign {CampaignId} could not be handed over and are lost")]
    private partial void LogTallyLost(Exception exception, string campaignId);
}

/// <summary>What a placement shows of a product, and whether it can be placed (active, in stock).</summary>
public sealed record ProductListing(string ProductId, string Title, long PriceMinor, string Currency, bool OnSale, int AttributionWindowHours);

/// <summary>A silo's placement index: the campaigns not ended, highest bid first, with their spend and products on sale.</summary>
public sealed class AdIndex
{
    public static readonly AdIndex Empty = new([], new Dictionary<string, ProductListing>(StringComparer.Ordinal));

    private readonly Dictionary<string, ProductListing> _listings;

    // Each product placed by some campaign, with the ranks (positions in Entries, ascending) of the campaigns placing it.
    private readonly (ProductListing Product, int[] Ranks)[] _placed;

    private AdIndex(IReadOnlyList<Entry> entries, Dictionary<string, ProductListing> listings)
    {
        (Entries, _listings) = (entries, listings);
        var ranks = new Dictionary<string, (ProductListing Product, List<int> Ranks)>(StringComparer.Ordinal);
        for (var rank = 0; rank < entries.Count; rank++)
        {
            foreach (var product in entries[rank].Products)
            {
                if (!ranks.TryGetValue(product.ProductId, out var placed))
                {
                    ranks[product.ProductId] = placed = (product, []);
                }
                placed.Ranks.Add(rank);
            }
        }
        _placed = ranks.Values.Select(r => (r.Product, r.Ranks.ToArray())).ToArray();
    }

    public IReadOnlyList<Entry> Entries { get; }

    public ProductListing? Listing(string productId) => _listings.GetValueOrDefault(productId);

    /// <summary>
    /// The campaigns with a product whose title contains <paramref name="query"/>, highest bid first, each once: the
    /// titles of the placed products are read once each, then the campaigns come out in rank order as they are asked for.
    /// </summary>
    public IEnumerable<Entry> Matching(string? query)
    {
        if (query is null)
        {
            yield break;
        }
        ulong[]? marks = null;
        foreach (var (product, ranks) in _placed)
        {
            if (product.Title.Contains(query, StringComparison.OrdinalIgnoreCase))
            {
                marks ??= new ulong[(Entries.Count + 63) / 64];
                foreach (var rank in ranks)
                {
                    marks[rank >> 6] |= 1UL << (rank & 63);
                }
            }
        }
        if (marks is null)
        {
            yield break;
        }
        for (var word = 0; word < marks.Length; word++)
        {
            for (var bits = marks[word]; bits != 0; bits &= bits - 1)
            {
                yield return Entries[(word << 6) + System.Numerics.BitOperations.TrailingZeroCount(bits)];
            }
        }
    }

    public static AdIndex Of(IReadOnlyList<CampaignTerms> campaigns, IReadOnlyDictionary<string, AdSpend> spent, Dictionary<string, ProductListing> listings) =>
        new(campaigns
            .Where(c => spent.ContainsKey(c.CampaignId))
            .Select(c => new Entry(c, spent[c.CampaignId].RemainingMinor, c.ProductIds.Select(listings.GetValueOrDefault).OfType<ProductListing>().Where(p => p.OnSale).ToArray()))
            .OrderByDescending(e => e.Terms.BidMinor).ThenBy(e => e.Terms.CampaignId, StringComparer.Ordinal)
            .ToArray(), listings);

    public sealed record Entry(CampaignTerms Terms, long RemainingMinor, ProductListing[] Products);
}
