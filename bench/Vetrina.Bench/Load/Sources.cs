using System.Collections.Concurrent;
using System.Diagnostics;

namespace Vetrina.Bench.Load;

/// <summary>A write whose answer was lost (time-out, connection failure, 5xx): replayed afterwards to learn its outcome.</summary>
public sealed record Replay(string Method, string Path, string Body, string? IdempotencyKey, int ProductIndex = -1);

/// <summary>
/// What the writes of a whole run (warm-up, measured window and the answers after it) did, counted by the
/// connections; the invariant checks compare it with what the engine reports.
/// </summary>
public sealed class WriteLedger(int products = 0)
{
    private long _succeeded;
    private long _refused;
    private long _unknownClicks;
    private long _clicks;

    public long Succeeded => Interlocked.Read(ref _succeeded);

    public long Refused => Interlocked.Read(ref _refused);

    /// <summary>Writes answered with an outcome (a success or a refusal), not lost.</summary>
    public long Answered => Succeeded + Refused;

    /// <summary>Clicks answered 201.</summary>
    public long Clicks => Interlocked.Read(ref _clicks);

    /// <summary>Clicks whose answer was lost: each may or may not have counted (a click has no idempotency key).</summary>
    public long UnknownClicks => Interlocked.Read(ref _unknownClicks);

    /// <summary>Successful buys per product (wide catalog).</summary>
    public int[] SoldPerProduct { get; } = new int[products];

    public ConcurrentQueue<Replay> Unknown { get; } = new();

    public void Succeed(int productIndex = -1)
    {
        Interlocked.Increment(ref _succeeded);
        if (productIndex >= 0)
        {
            Interlocked.Increment(ref SoldPerProduct[productIndex]);
        }
    }

    public void Refuse() => Interlocked.Increment(ref _refused);

    public void Click(int status)
    {
        if (status == 201)
        {
            Interlocked.Increment(ref _clicks);
        }
        else if (Outcomes.IsUnknown(status))
        {
            Interlocked.Increment(ref _unknownClicks);
        }
    }
}

/// <summary>The same request every time (health, product reads).</summary>
public sealed class FixedRequest(byte[] request) : IRequestSource
{
    public ReadOnlyMemory<byte> NextRequest(out int kind)
    {
        kind = 0;
        return request;
    }

    public void Completed(int status)
    {
    }
}

/// <summary>Shared constant parts of Vetrina requests, encoded once.</summary>
public sealed class VetrinaRequests(string hostAndPort, string platformKey)
{
    public string HostAndPort { get; } = hostAndPort;

    public byte[] Headers { get; } = RequestBuilder.Ascii(RequestBuilder.CommonHeaders(hostAndPort, platformKey) + "Content-Type: application/json\r\n");

    public byte[] Get(string path) => RequestBuilder.Ascii($"GET {path} HTTP/1.1\r\n{RequestBuilder.CommonHeaders(HostAndPort, null)}\r\n");
}

/// <summary>One-tap buys of one link, each by a new shopper with its own Idempotency-Key.</summary>
public sealed class ViralBuys(VetrinaRequests common, string code, string tag, int connection, WriteLedger ledger) : IRequestSource
{
    private readonly RequestBuilder _builder = new();
    private readonly byte[] _line = RequestBuilder.Ascii($"POST /api/links/{code}/buy HTTP/1.1\r\n");
    private readonly byte[] _shopperPrefix = RequestBuilder.Ascii($"{tag}-{connection}-");
    private long _sequence;

    public ReadOnlyMemory<byte> NextRequest(out int kind)
    {
        kind = 0;
        _sequence++;
        var b = _builder.Start();
        b.StartBody().Append("{\"shopperId\":\""u8).Append(_shopperPrefix).Append(_sequence).Append("\",\"quantity\":1}"u8);
        var length = b.EndBody(out var bodyStart);
        b.Append(_line).Append(common.Headers).Append("Idempotency-Key: k"u8).Append(_sequence).Append("\r\n"u8);
        return b.FinishWithBody(bodyStart, length);
    }

    public void Completed(int status)
    {
        if (status == 201)
        {
            ledger.Succeed();
        }
        else if (Outcomes.IsUnknown(status))
        {
            ledger.Unknown.Enqueue(new Replay("POST", $"/api/links/{code}/buy",
                $"{{\"shopperId\":\"{tag}-{connection}-{_sequence}\",\"quantity\":1}}", $"k{_sequence}"));
        }
        else
        {
            ledger.Refuse();
        }
    }
}

/// <summary>
/// One-tap buys spread over many links of one creator (link <c>(connection + n) mod links</c> for the connection's n-th
/// buy), by a pool of <paramref name="shoppers"/> shoppers per connection, each buy with its own Idempotency-Key.
/// Successes are counted per link in the ledger (its product index is the link's index).
/// </summary>
public sealed class LinkBuys(VetrinaRequests common, string[] codes, string tag, int connection, int shoppers, WriteLedger ledger) : IRequestSource
{
    private readonly RequestBuilder _builder = new();
    private readonly byte[][] _lines = codes.Select(code => RequestBuilder.Ascii($"POST /api/links/{code}/buy HTTP/1.1\r\n")).ToArray();
    private readonly byte[] _shopperPrefix = RequestBuilder.Ascii($"{tag}-{connection}-");
    private long _sequence;
    private int _link;

    public ReadOnlyMemory<byte> NextRequest(out int kind)
    {
        kind = 0;
        _sequence++;
        _link = (int)((connection + _sequence) % codes.Length);
        var b = _builder.Start();
        b.StartBody().Append("{\"shopperId\":\""u8).Append(_shopperPrefix).Append(_sequence % shoppers).Append("\",\"quantity\":1}"u8);
        var length = b.EndBody(out var bodyStart);
        b.Append(_lines[_link]).Append(common.Headers).Append("Idempotency-Key: k"u8).Append(_sequence).Append("\r\n"u8);
        return b.FinishWithBody(bodyStart, length);
    }

    public void Completed(int status)
    {
        if (status == 201)
        {
            ledger.Succeed(_link);
        }
        else if (Outcomes.IsUnknown(status))
        {
            ledger.Unknown.Enqueue(new Replay("POST", $"/api/links/{codes[_link]}/buy",
                $"{{\"shopperId\":\"{tag}-{connection}-{_sequence % shoppers}\",\"quantity\":1}}", $"k{_sequence}", _link));
        }
        else
        {
            ledger.Refuse();
        }
    }
}

/// <summary>
/// One-tap buys in a live session (<c>POST /api/lives/{id}/buy</c>), each by a new shopper with its own
/// Idempotency-Key (<paramref name="keyPrefix"/> and a sequence); what an answer means is the subclass's.
/// </summary>
public abstract class LiveBuyRequests(VetrinaRequests common, string sessionId, string productId, string tag, int connection, string keyPrefix) : IRequestSource
{
    private readonly RequestBuilder _builder = new();
    private readonly byte[] _line = RequestBuilder.Ascii($"POST /api/lives/{sessionId}/buy HTTP/1.1\r\n");
    private readonly byte[] _shopperPrefix = RequestBuilder.Ascii($"{tag}-{connection}-");
    private readonly byte[] _product = RequestBuilder.Ascii($"\",\"productId\":\"{productId}\",\"quantity\":1}}");
    private readonly byte[] _keyHeader = RequestBuilder.Ascii($"Idempotency-Key: {keyPrefix}");
    private long _sequence;

    public ReadOnlyMemory<byte> NextRequest(out int kind)
    {
        kind = 0;
        _sequence++;
        var b = _builder.Start();
        b.StartBody().Append("{\"shopperId\":\""u8).Append(_shopperPrefix).Append(_sequence).Append(_product);
        var length = b.EndBody(out var bodyStart);
        b.Append(_line).Append(common.Headers).Append(_keyHeader).Append(_sequence).Append("\r\n"u8);
        return b.FinishWithBody(bodyStart, length);
    }

    public abstract void Completed(int status);

    /// <summary>The buy last sent, to send again with the same shopper and key.</summary>
    protected Replay Last() => new("POST", $"/api/lives/{sessionId}/buy",
        $"{{\"shopperId\":\"{tag}-{connection}-{_sequence}\",\"productId\":\"{productId}\",\"quantity\":1}}", $"{keyPrefix}{_sequence}");
}

/// <summary>Live buys counted in a ledger.</summary>
public sealed class LiveBuys(VetrinaRequests common, string sessionId, string productId, string tag, int connection, WriteLedger ledger)
    : LiveBuyRequests(common, sessionId, productId, tag, connection, "k")
{
    public override void Completed(int status)
    {
        if (status == 201)
        {
            ledger.Succeed();
        }
        else if (Outcomes.IsUnknown(status))
        {
            ledger.Unknown.Enqueue(Last());
        }
        else
        {
            ledger.Refuse();
        }
    }
}

/// <summary>What the buys of a flash deal storm were told: when the first and last 201 came, and each sold buy, to read back.</summary>
public sealed class DealTally
{
    private long _first;
    private long _last;
    private long _refused;

    /// <summary>The sold buys, as replays (same shopper and Idempotency-Key): replaying one reads its order back.</summary>
    public ConcurrentQueue<Replay> Sold { get; } = new();

    public ConcurrentQueue<Replay> Unknown { get; } = new();

    public long Refused => Interlocked.Read(ref _refused);

    /// <summary>Stopwatch ticks of the first and the last 201 (0: none).</summary>
    public long First => Interlocked.Read(ref _first);

    public long Last => Interlocked.Read(ref _last);

    public void Succeed(Replay buy)
    {
        var now = Stopwatch.GetTimestamp();
        Sold.Enqueue(buy);
        Interlocked.CompareExchange(ref _first, now, 0);
        long last;
        while ((last = Interlocked.Read(ref _last)) < now && Interlocked.CompareExchange(ref _last, now, last) != last)
        {
        }
    }

    public void Refuse() => Interlocked.Increment(ref _refused);
}

/// <summary>Live buys during a flash deal, each sold one kept to be read back.</summary>
public sealed class DealBuys(VetrinaRequests common, string sessionId, string productId, string tag, int connection, DealTally tally)
    : LiveBuyRequests(common, sessionId, productId, tag, connection, "d")
{
    public override void Completed(int status)
    {
        if (status == 201)
        {
            tally.Succeed(Last());
        }
        else if (Outcomes.IsUnknown(status))
        {
            tally.Unknown.Enqueue(Last());
        }
        else
        {
            tally.Refuse();
        }
    }
}

/// <summary>Clicks on one link, each by a new shopper.</summary>
public sealed class LinkClicks(VetrinaRequests common, string code, string tag, int connection, WriteLedger ledger) : IRequestSource
{
    private readonly RequestBuilder _builder = new();
    private readonly byte[] _line = RequestBuilder.Ascii($"POST /api/links/{code}/clicks HTTP/1.1\r\n");
    private readonly byte[] _shopperPrefix = RequestBuilder.Ascii($"{tag}-{connection}-");
    private long _sequence;

    public ReadOnlyMemory<byte> NextRequest(out int kind)
    {
        kind = 0;
        _sequence++;
        var b = _builder.Start();
        b.StartBody().Append("{\"shopperId\":\""u8).Append(_shopperPrefix).Append(_sequence).Append("\"}"u8);
        var length = b.EndBody(out var bodyStart);
        b.Append(_line).Append(common.Headers);
        return b.FinishWithBody(bodyStart, length);
    }

    public void Completed(int status) => ledger.Click(status);
}

/// <summary>
/// The viral funnel, one virtual shopper after another on this connection: click the link, put the product in
/// the cart, check out. A step that fails ends that shopper's funnel (so every checkout follows a click).
/// </summary>
public sealed class Funnel(VetrinaRequests common, string code, string productId, string tag, int connection, WriteLedger ledger) : IRequestSource
{
    public static readonly string[] Kinds = ["click", "cart", "checkout"];

    private readonly RequestBuilder _builder = new();
    private readonly byte[] _clickLine = RequestBuilder.Ascii($"POST /api/links/{code}/clicks HTTP/1.1\r\n");
    private readonly byte[] _cartsPath = RequestBuilder.Ascii("/api/carts/");
    private readonly byte[] _itemPath = RequestBuilder.Ascii($"/items/{productId} HTTP/1.1\r\n");
    private readonly byte[] _shopperPrefix = RequestBuilder.Ascii($"{tag}-{connection}-");
    private long _shopper = 1;
    private int _step;

    public ReadOnlyMemory<byte> NextRequest(out int kind)
    {
        kind = _step;
        var b = _builder.Start();
        switch (_step)
        {
            case 0:
                b.StartBody().Append("{\"shopperId\":\""u8).Append(_shopperPrefix).Append(_shopper).Append("\"}"u8);
                var clickLength = b.EndBody(out var clickBody);
                b.Append(_clickLine).Append(common.Headers);
                return b.FinishWithBody(clickBody, clickLength);
            case 1:
                b.StartBody().Append("{\"quantity\":1}"u8);
                var cartLength = b.EndBody(out var cartBody);
                b.Append("PUT "u8).Append(_cartsPath).Append(_shopperPrefix).Append(_shopper).Append(_itemPath).Append(common.Headers);
                return b.FinishWithBody(cartBody, cartLength);
            default:
                b.StartBody().Append("{}"u8);
                var checkoutLength = b.EndBody(out var checkoutBody);
                b.Append("POST "u8).Append(_cartsPath).Append(_shopperPrefix).Append(_shopper).Append("/checkout HTTP/1.1\r\n"u8)
                    .Append(common.Headers).Append("Idempotency-Key: c"u8).Append(_shopper).Append("\r\n"u8);
                return b.FinishWithBody(checkoutBody, checkoutLength);
        }
    }

    public void Completed(int status)
    {
        switch (_step)
        {
            case 0:
                ledger.Click(status);
                if (status == 201)
                {
                    _step = 1;
                    return;
                }
                break;
            case 1:
                if (status == 200)
                {
                    _step = 2;
                    return;
                }
                break;
            default:
                if (status == 201)
                {
                    ledger.Succeed();
                }
                else if (Outcomes.IsUnknown(status))
                {
                    ledger.Unknown.Enqueue(new Replay("POST", $"/api/carts/{tag}-{connection}-{_shopper}/checkout", "{}", $"c{_shopper}"));
                }
                else
                {
                    ledger.Refuse();
                }
                break;
        }
        _shopper++;
        _step = 0;
    }
}

/// <summary>
/// Wide-catalog traffic: products drawn from a Zipf distribution; most requests read the product, the rest buy
/// it (put in cart, check out) as a shopper drawn from this connection's share of the shopper ids, so no two
/// connections ever act for the same shopper. A shopper whose cart may hold a line (a lost or refused answer)
/// is never used again, so each checkout buys exactly the one product counted for it.
/// </summary>
public sealed class ZipfCatalog(
    VetrinaRequests common, byte[][] productIds, Zipf zipf, int shoppers, int connection, int connections,
    double readShare, WriteLedger ledger) : IRequestSource
{
    public static readonly string[] Kinds = ["read", "cart", "checkout"];

    private readonly RequestBuilder _builder = new();
    private readonly Random _random = new(connection * 7919 + 17);
    private readonly HashSet<long> _retired = [];
    private readonly byte[] _readLinePrefix = RequestBuilder.Ascii("GET /api/products/");
    private readonly byte[] _readHeaders = RequestBuilder.Ascii(" HTTP/1.1\r\n" + RequestBuilder.CommonHeaders(common.HostAndPort, null) + "\r\n");
    private int _product;
    private long _shopper;
    private long _checkouts;
    private int _step;

    public ReadOnlyMemory<byte> NextRequest(out int kind)
    {
        var b = _builder.Start();
        if (_step == 0)
        {
            _product = zipf.Sample(_random);
            if (_random.NextDouble() < readShare)
            {
                kind = 0;
                b.Append(_readLinePrefix).Append(productIds[_product]).Append(_readHeaders);
                return b.Finish();
            }
            _shopper = DrawShopper();
            _step = 1;
        }
        kind = _step;
        if (_step == 1)
        {
            b.StartBody().Append("{\"quantity\":1}"u8);
            var length = b.EndBody(out var bodyStart);
            b.Append("PUT /api/carts/w"u8).Append(_shopper).Append("/items/"u8).Append(productIds[_product]).Append(" HTTP/1.1\r\n"u8).Append(common.Headers);
            return b.FinishWithBody(bodyStart, length);
        }
        _checkouts++;
        b.StartBody().Append("{}"u8);
        var checkoutLength = b.EndBody(out var checkoutStart);
        b.Append("POST /api/carts/w"u8).Append(_shopper).Append("/checkout HTTP/1.1\r\n"u8).Append(common.Headers)
            .Append("Idempotency-Key: z"u8).Append(connection).Append("-"u8).Append(_checkouts).Append("\r\n"u8);
        return b.FinishWithBody(checkoutStart, checkoutLength);
    }

    public void Completed(int status)
    {
        switch (_step)
        {
            case 0:
                return;
            case 1:
                if (status == 200)
                {
                    _step = 2;
                    return;
                }
                _retired.Add(_shopper);
                break;
            default:
                if (status == 201)
                {
                    ledger.Succeed(_product);
                }
                else
                {
                    _retired.Add(_shopper);
                    if (Outcomes.IsUnknown(status))
                    {
                        ledger.Unknown.Enqueue(new Replay("POST", $"/api/carts/w{_shopper}/checkout", "{}", $"z{connection}-{_checkouts}", _product));
                    }
                    else
                    {
                        ledger.Refuse();
                    }
                }
                break;
        }
        _step = 0;
    }

    private long DrawShopper()
    {
        var perConnection = Math.Max(1, shoppers / connections);
        while (true)
        {
            var shopper = connection + ((long)_random.Next(perConnection) * connections);
            if (!_retired.Contains(shopper))
            {
                return shopper;
            }
        }
    }
}

/// <summary>Placements answered 200 per kind, over a whole run (warm-up and the answers after the window included).</summary>
public sealed class PlacementTally(int kinds)
{
    private readonly long[] _answered = new long[kinds];

    public long this[int kind] => Interlocked.Read(ref _answered[kind]);

    public void Placed(int kind) => Interlocked.Increment(ref _answered[kind]);
}

/// <summary>
/// Ad placements (<c>POST /api/ads/placements</c>, platform key) for a new shopper each time, <paramref name="count"/>
/// ads asked: the feed, then a search, in turn. Search queries cycle over <paramref name="queries"/>: the first
/// <paramref name="matched"/> match sponsored products (kind 1), the others none (kind 2).
/// </summary>
public sealed class AdPlacements(VetrinaRequests common, string[] queries, int matched, int count, string tag, int connection, PlacementTally tally) : IRequestSource
{
    public static readonly string[] Kinds = ["feed", "search", "search, no sponsored match"];

    private static readonly byte[] Line = RequestBuilder.Ascii("POST /api/ads/placements HTTP/1.1\r\n");

    private readonly RequestBuilder _builder = new();
    private readonly byte[] _shopperPrefix = RequestBuilder.Ascii($"{{\"shopperId\":\"{tag}-{connection}-");
    private readonly byte[] _feed = RequestBuilder.Ascii($"\",\"slot\":\"feed\",\"count\":{count}}}");
    private readonly byte[][] _searches = queries.Select(q => RequestBuilder.Ascii($"\",\"slot\":\"search\",\"query\":\"{q}\",\"count\":{count}}}")).ToArray();
    private long _sequence;
    private int _kind;

    public ReadOnlyMemory<byte> NextRequest(out int kind)
    {
        _sequence++;
        var b = _builder.Start();
        b.StartBody().Append(_shopperPrefix).Append(_sequence);
        if ((_sequence + connection) % 2 == 0)
        {
            _kind = 0;
            b.Append(_feed);
        }
        else
        {
            var query = (int)((connection + (_sequence / 2)) % _searches.Length);
            _kind = query < matched ? 1 : 2;
            b.Append(_searches[query]);
        }
        var length = b.EndBody(out var bodyStart);
        b.Append(Line).Append(common.Headers);
        kind = _kind;
        return b.FinishWithBody(bodyStart, length);
    }

    public void Completed(int status)
    {
        if (status == 200)
        {
            tally.Placed(_kind);
        }
    }
}

/// <summary>
/// Paid clicks on placed ads (<c>POST /api/ads/{adId}/clicks</c>, platform key), each by a new shopper, so each one
/// the engine accepts is charged: ad <c>(connection + n) mod ads</c> for the connection's n-th click. Answers 201 are
/// counted per ad in the ledger (its product index is the ad's index), lost answers kept to be sent again (a repeat by
/// the same shopper is never charged twice, so it tells whether the click was charged).
/// </summary>
public sealed class AdClicks(VetrinaRequests common, string[] adIds, string tag, int connection, WriteLedger ledger) : IRequestSource
{
    private readonly RequestBuilder _builder = new();
    private readonly byte[][] _lines = adIds.Select(ad => RequestBuilder.Ascii($"POST /api/ads/{ad}/clicks HTTP/1.1\r\n")).ToArray();
    private readonly byte[] _shopperPrefix = RequestBuilder.Ascii($"{{\"shopperId\":\"{tag}-{connection}-");
    private long _sequence;
    private int _ad;

    public ReadOnlyMemory<byte> NextRequest(out int kind)
    {
        kind = 0;
        _sequence++;
        _ad = (int)((connection + _sequence) % _lines.Length);
        var b = _builder.Start();
        b.StartBody().Append(_shopperPrefix).Append(_sequence).Append("\"}"u8);
        var length = b.EndBody(out var bodyStart);
        b.Append(_lines[_ad]).Append(common.Headers);
        return b.FinishWithBody(bodyStart, length);
    }

    public void Completed(int status)
    {
        if (status == 201)
        {
            ledger.Succeed(_ad);
        }
        else if (Outcomes.IsUnknown(status))
        {
            ledger.Unknown.Enqueue(new Replay("POST", $"/api/ads/{adIds[_ad]}/clicks", $"{{\"shopperId\":\"{tag}-{connection}-{_sequence}\"}}", null, _ad));
        }
        else
        {
            ledger.Refuse();
        }
    }
}
