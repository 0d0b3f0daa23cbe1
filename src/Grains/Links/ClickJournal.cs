namespace Vetrina.Grains.Links;

/// <summary>A shopper's click as the click journal keeps it: the latest per shopper and product.</summary>
public sealed record ShopperClick(string ShopperId, Click Click);

/// <summary>
/// Where attribution lives: the latest click of each shopper on each product, shared by every silo (a table beside
/// the sales journal in durable modes), so that a click answered on one silo attributes a checkout on any other
/// without a grain per shopper. Writes come in batches from each silo's <see cref="ClickDesk"/>.
/// </summary>
public interface IClickJournal
{
    /// <summary>Keeps each click unless the journal already holds a later one of the same shopper on the same product.</summary>
    Task RecordAsync(IReadOnlyList<ShopperClick> clicks, CancellationToken cancellationToken = default);

    /// <summary>The shopper's latest click on each of the products whose attribution window has not ended at <paramref name="at"/>.</summary>
    Task<IReadOnlyDictionary<string, Click>> LatestAsync(string shopperId, IReadOnlyCollection<string> productIds, DateTimeOffset at, CancellationToken cancellationToken = default);

    /// <summary>Drops clicks whose attribution window ended before <paramref name="before"/>; answers how many.</summary>
    Task<int> ForgetExpiredAsync(DateTimeOffset before, CancellationToken cancellationToken = default);
}

/// <summary>The click journal of memory mode (one silo, nothing survives a restart).</summary>
public sealed class InMemoryClickJournal : IClickJournal
{
    private readonly Lock _lock = new();
    private readonly Dictionary<(string ShopperId, string ProductId), Click> _latest = [];

    public Task RecordAsync(IReadOnlyList<ShopperClick> clicks, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            foreach (var (shopperId, click) in clicks)
            {
                var key = (shopperId, click.ProductId);
                if (!_latest.TryGetValue(key, out var kept) || kept.ClickedAt <= click.ClickedAt)
                {
                    _latest[key] = click;
                }
            }
        }
        return Task.CompletedTask;
    }

    public Task<IReadOnlyDictionary<string, Click>> LatestAsync(string shopperId, IReadOnlyCollection<string> productIds, DateTimeOffset at, CancellationToken cancellationToken = default)
    {
        var found = new Dictionary<string, Click>(StringComparer.Ordinal);
        lock (_lock)
        {
            foreach (var productId in productIds)
            {
                if (_latest.TryGetValue((shopperId, productId), out var click) && click.AttributedUntil >= at)
                {
                    found[productId] = click;
                }
            }
        }
        return Task.FromResult<IReadOnlyDictionary<string, Click>>(found);
    }

    public Task<int> ForgetExpiredAsync(DateTimeOffset before, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            var expired = _latest.Where(e => e.Value.AttributedUntil < before).Select(e => e.Key).ToList();
            expired.ForEach(key => _latest.Remove(key));
            return Task.FromResult(expired.Count);
        }
    }
}
