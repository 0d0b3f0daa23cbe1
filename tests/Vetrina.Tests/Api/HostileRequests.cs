using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace Vetrina.Tests.Api;

/// <summary>The engine's data that hostile requests aim at; none of it may change.</summary>
public sealed record HostileWorld(
    Party BrandA,
    Party BrandB,
    Party CreatorA,
    Party CreatorB,
    string Product,
    string ProductSku,
    string ArchivedProduct,
    string ProductB,
    string Link,
    string LinkB,
    string CartShopper,
    string CartShopperB,
    string PaidOrder,
    string ShippedOrder,
    string DeliveredOrder,
    string CancelledOrder,
    string LiveSession,
    string EndedSession,
    string ScheduledSessionB,
    string Deal,
    int ProductAvailable);

/// <summary>One generated request, and what was done to it (for the failure message).</summary>
public sealed class HostileRequest(string method, string operation, string key)
{
    public string Method { get; set; } = method;

    /// <summary>The documented operation (<c>POST /api/links/{code}/buy</c>) it is aimed at, or null once it cannot match one.</summary>
    public string? Operation { get; set; } = operation;

    public Dictionary<string, string> PathValues { get; } = new(StringComparer.Ordinal);

    public string? Path { get; set; }

    public string Query { get; set; } = "";

    public List<(string Name, string Value)> Headers { get; } = [("Authorization", "Bearer " + key)];

    public JsonObject? Json { get; set; }

    /// <summary>Replaces the JSON body entirely (broken or non-object bodies).</summary>
    public string? RawBody { get; set; }

    public List<Func<string, string>> TextEdits { get; } = [];

    public List<string> ContentTypes { get; } = ["application/json"];

    public List<string> Mutations { get; } = [];

    public bool Safe => Method == "GET";

    /// <summary>The body as sent, fixed by <see cref="Freeze"/>.</summary>
    public string? Body { get; private set; }

    public void Freeze() => Body = RawBody ?? (Json is null ? null : TextEdits.Aggregate(Json.ToJsonString(), (text, edit) => edit(text)));

    public string Url() => (Path ?? Expand(Operation!)) + Query;

    public string Describe()
    {
        var body = Body;
        return $"{Method} {Shorten(Url(), 300)} [{string.Join("; ", Mutations)}] headers: {string.Join(", ", Headers.Select(h => $"{h.Name}={Shorten(h.Value, 60)}"))}" +
               $" content-type: {string.Join(" + ", ContentTypes)} body: {Shorten(body ?? "(none)", 300)}";
    }

    public void SetHeader(string name, string? value)
    {
        Headers.RemoveAll(h => string.Equals(h.Name, name, StringComparison.OrdinalIgnoreCase));
        if (value is not null)
        {
            Headers.Add((name, value));
        }
    }

    private string Expand(string operation)
    {
        var template = operation[(operation.IndexOf(' ', StringComparison.Ordinal) + 1)..];
        foreach (var (name, value) in PathValues)
        {
            template = template.Replace("{" + name + "}", value, StringComparison.Ordinal);
        }
        return template;
    }

    private static string Shorten(string text, int length) => text.Length <= length ? text : text[..length] + $"…({text.Length})";
}

/// <summary>
/// Generates malformed and adversarial requests for every route. A request that could change something (any method
/// but GET) always gets at least one flaw the contract must refuse, applied after harmless noise so nothing can undo it;
/// GET requests get hostile variations too but may legitimately answer 200.
/// </summary>
public sealed class HostileRequests(HostileWorld world, string platformKey, int seed)
{
    private const string LonePlaceholder = "zzLONEzz";
    private readonly Random _random = new(seed);

    private static readonly string[] ValidTexts =
    [
        "Lamp", "Desk lamp 🛋️", "商品 テスト", "متجر", "e\u0301te\u0301", "Ünïcödé", "zero\u200Bwidth", "tab-free 'quotes' \"double\"",
        "<script>alert(1)</script>", "'; DROP TABLE OrleansStorage; --", "{{7*7}}", "${jndi:ldap://x}", "%00%0a", "👩‍👩‍👧‍👦", "\\u0000",
    ];

    private static readonly string[] ControlTexts = ["a\u0000b", "bell\u0007", "esc\u001b[31m", "line\r\nbreak", "del\u007f", "next\u0085line", "\t"];

    /// <summary>Control characters for paths: a NUL there is refused by Kestrel itself, before the engine (see the other test).</summary>
    private static readonly string[] PathControlTexts = ControlTexts.Where(t => !t.Contains('\u0000', StringComparison.Ordinal)).ToArray();

    private static readonly string[] WrongContentTypes =
    [
        "text/plain", "application/xml", "application/x-www-form-urlencoded", "multipart/form-data; boundary=xyz", "text/json",
        "application/json; charset=ebcdic", "application/json; charset=klingon", "application/jsonp", "*/*", "application",
    ];

    private static readonly string[] AllMethods = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

    private static readonly string[] UnknownRoutes =
    [
        "/api", "/api/", "/api/brandz", "/api/brands/b_0000000000000000000000/x/y", "/api/products", "/api/carts/a/items",
        "/api/links/x/clicks/y", "/.env", "/api/orders/o/refunds/1", "/admin", "/api/creators/c/links/l", "/api//products//x",
    ];

    /// <summary>Route templates and their methods, for picking a method a path does not have.</summary>
    private static readonly Dictionary<string, string[]> MethodsByPath = new()
    {
        ["/api/brands"] = ["POST"],
        ["/api/brands/{brandId}"] = ["GET"],
        ["/api/brands/{brandId}/products"] = ["POST"],
        ["/api/brands/{brandId}/sales"] = ["GET"],
        ["/api/products/{productId}"] = ["GET", "PATCH"],
        ["/api/products/{productId}/stock"] = ["POST"],
        ["/api/creators"] = ["POST"],
        ["/api/creators/{creatorId}/links"] = ["POST"],
        ["/api/creators/{creatorId}/earnings"] = ["GET"],
        ["/api/creators/{creatorId}/lives"] = ["POST"],
        ["/api/lives/{sessionId}"] = ["GET"],
        ["/api/lives/{sessionId}/start"] = ["POST"],
        ["/api/lives/{sessionId}/end"] = ["POST"],
        ["/api/lives/{sessionId}/showcase"] = ["PUT"],
        ["/api/lives/{sessionId}/pin"] = ["POST", "DELETE"],
        ["/api/lives/{sessionId}/viewers"] = ["POST"],
        ["/api/lives/{sessionId}/stats"] = ["GET"],
        ["/api/lives/{sessionId}/buy"] = ["POST"],
        ["/api/lives/{sessionId}/events"] = ["GET"],
        ["/api/lives/{sessionId}/checkout-sessions"] = ["POST"],
        ["/api/links/{code}"] = ["GET"],
        ["/api/links/{code}/clicks"] = ["POST"],
        ["/api/links/{code}/stats"] = ["GET"],
        ["/api/links/{code}/buy"] = ["POST"],
        ["/api/links/{code}/checkout-sessions"] = ["POST"],
        ["/api/carts/{shopperId}/items/{productId}"] = ["PUT"],
        ["/api/carts/{shopperId}"] = ["GET"],
        ["/api/carts/{shopperId}/checkout"] = ["POST"],
        ["/api/orders/{orderId}"] = ["GET"],
        ["/api/orders/{orderId}/cancel"] = ["POST"],
        ["/api/orders/{orderId}/ship"] = ["POST"],
        ["/api/orders/{orderId}/deliver"] = ["POST"],
        ["/api/orders/{orderId}/refunds"] = ["POST"],
        ["/api/products/{productId}/flash-deals"] = ["POST"],
        ["/api/flash-deals/{dealId}"] = ["GET"],
        ["/api/flash-deals/{dealId}/start"] = ["POST"],
        ["/api/orders/{orderId}/chargeback"] = ["POST"],
        ["/api/orders/{orderId}/freeze"] = ["POST"],
        ["/api/orders/{orderId}/unfreeze"] = ["POST"],
        ["/api/payouts/runs"] = ["POST"],
        ["/api/payouts/runs/{runId}"] = ["GET"],
        ["/api/creators/{creatorId}/payouts"] = ["GET"],
        ["/api/creators/{creatorId}/statement"] = ["GET"],
        ["/api/brands/{brandId}/collaborations"] = ["POST", "GET"],
        ["/api/collaborations/{planId}"] = ["DELETE"],
        ["/api/creators/{creatorId}/offers"] = ["GET"],
        ["/api/creators/{creatorId}/report"] = ["GET"],
        ["/api/brands/{brandId}/report"] = ["GET"],
        ["/api/brands/{brandId}/campaigns"] = ["POST"],
        ["/api/campaigns/{campaignId}"] = ["PATCH", "GET"],
        ["/api/campaigns/{campaignId}/report"] = ["GET"],
        ["/api/ads/placements"] = ["POST"],
        ["/api/ads/{adId}/clicks"] = ["POST"],
        ["/api/cluster"] = ["GET"],
        ["/health/live"] = ["GET"],
        ["/health/ready"] = ["GET"],
    };

    private HostileWorld W => world;

    public HostileRequest Next()
    {
        var roll = _random.Next(100);
        if (roll < 2)
        {
            var unknown = new HostileRequest(Pick("GET", "POST", "PUT", "DELETE", "PATCH"), "", platformKey) { Operation = null, Path = Pick(UnknownRoutes) };
            unknown.Json = new JsonObject { ["name"] = "x", ["defaultCommissionBps"] = 1 };
            unknown.Mutations.Add("unknown route");
            unknown.Freeze();
            return unknown;
        }
        var request = roll < 40 ? Reading() : Writing();
        Finish(request);
        return request;
    }

    private HostileRequest Reading()
    {
        var request = _random.Next(27) switch
        {
            25 => Get("/api/campaigns/{campaignId}", ("campaignId", Pick("cm_0000000000000000000000", "cm_" + Identifier(22))), Pick(platformKey, W.BrandA.Key)),
            26 => Report(Get("/api/campaigns/{campaignId}/report", ("campaignId", Pick("cm_0000000000000000000000", "cm_" + Identifier(22))), W.BrandA.Key)),
            20 => Get("/api/creators/{creatorId}/offers", ("creatorId", W.CreatorA.Id), W.CreatorA.Key),
            21 => Get("/api/brands/{brandId}/collaborations", ("brandId", W.BrandA.Id), W.BrandA.Key),
            22 => Report(Get("/api/creators/{creatorId}/report", ("creatorId", W.CreatorA.Id), Pick(platformKey, W.CreatorA.Key))),
            23 => Report(Get("/api/brands/{brandId}/report", ("brandId", W.BrandA.Id), W.BrandA.Key)),
            24 => Get("/api/creators/{creatorId}/statement", ("creatorId", W.CreatorA.Id), W.CreatorA.Key),
            17 => Get("/api/creators/{creatorId}/payouts", ("creatorId", W.CreatorA.Id), Pick(platformKey, W.CreatorA.Key)),
            18 => Get("/api/creators/{creatorId}/statement", ("creatorId", W.CreatorA.Id), Pick(platformKey, W.CreatorA.Key)),
            19 => Get("/api/payouts/runs/{runId}", ("runId", Pick("r_0000000000000000000000", "r_" + Identifier(22))), platformKey),
            15 => Get("/api/flash-deals/{dealId}", ("dealId", Pick(W.Deal, "f_0000000000000000000000")), null),
            0 => Get("/api/brands/{brandId}", ("brandId", Pick(W.BrandA.Id, W.BrandB.Id)), Pick(platformKey, W.BrandA.Key)),
            1 => Get("/api/brands/{brandId}/sales", ("brandId", W.BrandA.Id), W.BrandA.Key),
            2 => Get("/api/products/{productId}", ("productId", Pick(W.Product, W.ArchivedProduct, W.ProductB)), null),
            3 => Get("/api/creators/{creatorId}/earnings", ("creatorId", W.CreatorA.Id), Pick(platformKey, W.CreatorA.Key)),
            4 => Get("/api/links/{code}", ("code", Pick(W.Link, W.LinkB)), null),
            5 => Get("/api/links/{code}/stats", ("code", W.Link), Pick(platformKey, W.CreatorA.Key)),
            6 => Get("/api/carts/{shopperId}", ("shopperId", Pick(W.CartShopper, W.CartShopperB)), platformKey),
            7 => Get("/api/orders/{orderId}", ("orderId", Pick(W.PaidOrder, W.ShippedOrder, W.DeliveredOrder, W.CancelledOrder)), Pick(platformKey, W.BrandA.Key)),
            8 => Get("/api/cluster", default, platformKey),
            9 => Get("/health/live", default, null),
            10 => Get("/health/ready", default, null),
            11 => Get("/api/lives/{sessionId}", ("sessionId", Pick(W.LiveSession, W.EndedSession, W.ScheduledSessionB)), null),
            12 => Get("/api/lives/{sessionId}/stats", ("sessionId", Pick(W.LiveSession, W.EndedSession, W.ScheduledSessionB)), Pick(platformKey, W.CreatorA.Key)),
            // A stream of a real session never ends: only sessions that do not exist, so that every answer is a refusal.
            13 => Get("/api/lives/{sessionId}/events", ("sessionId", Pick("l_0000000000000000000000", "l_" + Identifier(22), W.LiveSession + "0",
                W.LiveSession[..^1], "L" + W.LiveSession[1..], Long(30))), Pick<string?>(null, platformKey, W.CreatorA.Key)),
            14 => Get("/api/products/{productId}", ("productId", Pick(W.Product)), null),
            _ => Get("/api/carts/{shopperId}", ("shopperId", Pick(W.CartShopper)), platformKey),
        };
        request.ContentTypes.Clear();
        var mutations = _random.Next(1, 4);
        for (var i = 0; i < mutations; i++)
        {
            switch (_random.Next(9))
            {
                case 0: Auth(request); break;
                case 1: Noise(request); break;
                case 2 when request.PathValues.Count > 0: MalformedPathValue(request, request.PathValues.Keys.First()); break;
                case 3: request.Json = new JsonObject { ["quantity"] = 5, ["delta"] = -100 }; request.ContentTypes.Add(Pick(WrongContentTypes)); request.Mutations.Add("body on a GET"); break;
                case 4: WrongMethod(request); break;
                case 5: request.Query = "?" + Uri.EscapeDataString(Pick(ValidTexts)) + "=" + Uri.EscapeDataString(Pick(ControlTexts)) + "&shopperId=x&shopperId=y"; request.Mutations.Add("hostile query"); break;
                case 6 when request.PathValues.Count > 0: request.PathValues[request.PathValues.Keys.First()] = Enc(Pick(ValidTexts)); request.Mutations.Add("unicode id"); break;
                default: Noise(request); break;
            }
        }
        return request;
    }

    private HostileRequest Writing()
    {
        return _random.Next(36) switch
        {
            35 => OpenLiveCheckoutSession(),
            34 => OpenCheckoutSession(),
            30 => CreateCampaign(),
            31 => UpdateCampaign(),
            32 => PlaceAds(),
            33 => ClickAd(),
            28 => CreatePlan(),
            29 => EndPlan(),
            24 => Review("chargeback"),
            25 => Review("freeze"),
            26 => Review("unfreeze"),
            27 => PayoutRun(),
            22 => CreateDeal(),
            23 => StartDeal(),
            0 => CreateBrand(),
            1 => CreateProduct(),
            2 => UpdateProduct(),
            3 => ChangeStock(),
            4 => CreateCreator(),
            5 => CreateLink(),
            6 => RecordClick(),
            7 => Buy(),
            8 => SetQuantity(),
            9 => Checkout(),
            10 => OrderChange("cancel"),
            11 => OrderChange("ship"),
            12 => OrderChange("deliver"),
            13 => Refund(),
            14 => CreateLive(),
            15 => LiveChange("POST", "start"),
            16 => LiveChange("POST", "end"),
            17 => LiveChange("DELETE", "pin"),
            18 => SetShowcase(),
            19 => Pin(),
            20 => Join(),
            _ => LiveBuy(),
        };
    }

    private HostileRequest CreateBrand()
    {
        var request = Write("POST", "/api/brands", platformKey, new JsonObject
        {
            ["name"] = Text(200), ["defaultCommissionBps"] = _random.Next(0, 10_001),
            ["attributionWindowHours"] = _random.Next(1, 8761), ["returnWindowDays"] = _random.Next(0, 366),
        });
        return Flaw(request, required: ["name", "defaultCommissionBps"], texts: [("name", 200)], ints: ["defaultCommissionBps", "attributionWindowHours", "returnWindowDays"],
            wrongKeys: [W.BrandA.Key, W.CreatorA.Key],
            rules:
            [
                () => Set(request, "defaultCommissionBps", Pick(-1, 10_001, int.MinValue, int.MaxValue)),
                () => Set(request, "attributionWindowHours", Pick(0, -5, 8761, int.MaxValue)),
                () => Set(request, "returnWindowDays", Pick(-1, 366, int.MinValue)),
            ]);
    }

    private HostileRequest CreateProduct()
    {
        var request = Write("POST", "/api/brands/{brandId}/products", W.BrandA.Key, new JsonObject
        {
            ["sku"] = "H-" + _random.Next(), ["title"] = Text(300), ["priceMinor"] = _random.NextInt64(0, 100_000_000_001),
            ["currency"] = Pick("EUR", "USD", "JPY", "BHD"), ["stock"] = _random.Next(0, 1_000_000_001), ["commissionBps"] = _random.Next(0, 10_001),
        }, ("brandId", W.BrandA.Id));
        return Flaw(request, required: ["sku", "title", "priceMinor", "currency", "stock"], texts: [("sku", 64), ("title", 300), ("currency", 3)],
            ints: ["stock", "commissionBps"], longs: ["priceMinor"], wrongKeys: [platformKey, W.BrandB.Key, W.CreatorA.Key],
            paths: [() => Path(request, "brandId", Pick(W.BrandB.Id, "b_0000000000000000000000", Long(40)))],
            rules:
            [
                () => Set(request, "priceMinor", Pick(-1L, 100_000_000_001L, long.MaxValue, long.MinValue)),
                () => Set(request, "currency", Pick("ABC", "eur", "EURO", "€", "E1R", "XXX", "usd")),
                () => Set(request, "stock", Pick(-1, 1_000_000_001, int.MinValue)),
                () => Set(request, "commissionBps", Pick(-1, 10_001)),
                () => Set(request, "sku", W.ProductSku),
            ]);
    }

    private HostileRequest UpdateProduct()
    {
        var request = Write("PATCH", "/api/products/{productId}", W.BrandA.Key, new JsonObject
        {
            ["title"] = Text(300), ["priceMinor"] = _random.NextInt64(0, 1_000_000), ["commissionBps"] = _random.Next(0, 10_001), ["status"] = "active",
        }, ("productId", W.Product));
        return Flaw(request, required: [], texts: [("title", 300)], ints: ["commissionBps"], longs: ["priceMinor"],
            wrongKeys: [platformKey, W.BrandB.Key, W.CreatorA.Key],
            paths: [() => Path(request, "productId", Pick(W.ProductB, "p_0000000000000000000000", Long(30)))],
            rules:
            [
                () => Set(request, "priceMinor", Pick(-1L, 100_000_000_001L, long.MinValue)),
                () => Set(request, "commissionBps", Pick(-1, 10_001)),
                () => Set(request, "status", Pick("deleted", "ACTIVE", "", "archived ", "null", "1")),
            ]);
    }

    private HostileRequest ChangeStock()
    {
        var request = Write("POST", "/api/products/{productId}/stock", W.BrandA.Key, new JsonObject { ["delta"] = _random.Next(1, 100) },
            ("productId", W.Product));
        return Flaw(request, required: ["delta"], ints: ["delta"], wrongKeys: [platformKey, W.BrandB.Key, W.CreatorA.Key],
            paths: [() => Path(request, "productId", Pick(W.ProductB, "p_0000000000000000000000", Long(25)))],
            rules:
            [
                () => Set(request, "delta", -W.ProductAvailable - _random.Next(1, 1000)),
                () => Set(request, "delta", Pick(1_000_000_001, -1_000_000_001, int.MaxValue, int.MinValue)),
            ]);
    }

    private HostileRequest CreateCreator()
    {
        var request = Write("POST", "/api/creators", platformKey, new JsonObject
        {
            ["handle"] = Text(100), ["followers"] = _random.NextInt64(0, 10_000_000), ["shopperId"] = Text(128),
        });
        return Flaw(request, required: ["handle", "followers"], texts: [("handle", 100), ("shopperId", 128)], longs: ["followers"],
            wrongKeys: [W.BrandA.Key, W.CreatorA.Key],
            rules: [() => Set(request, "followers", Pick(-1L, long.MinValue))]);
    }

    private HostileRequest CreateLink()
    {
        var request = Write("POST", "/api/creators/{creatorId}/links", W.CreatorA.Key, new JsonObject { ["productId"] = W.Product },
            ("creatorId", W.CreatorA.Id));
        return Flaw(request, required: ["productId"], wrongKeys: [platformKey, W.CreatorB.Key, W.BrandA.Key],
            paths: [() => Path(request, "creatorId", Pick(W.CreatorB.Id, "c_0000000000000000000000", Long(50)))],
            rules:
            [
                () => Set(request, "productId", Pick(W.ArchivedProduct, "p_0000000000000000000000", Long(3000), Pick(ControlTexts), Pick(ValidTexts))),
                () => Set(request, "productId", _random.Next(1000)),
            ]);
    }

    private HostileRequest RecordClick()
    {
        var request = Write("POST", "/api/links/{code}/clicks", platformKey, new JsonObject { ["shopperId"] = Text(128) }, ("code", W.Link));
        return Flaw(request, required: ["shopperId"], texts: [("shopperId", 128)], wrongKeys: [W.BrandA.Key, W.CreatorA.Key],
            paths: [() => Path(request, "code", Pick("AAAAAAAAAA", "zzzzzzzzz9", Long(20), Long(2000), W.Link + "x"))]);
    }

    private HostileRequest OpenCheckoutSession()
    {
        var request = Write("POST", "/api/links/{code}/checkout-sessions", platformKey, new JsonObject { ["shopperId"] = Text(128) }, ("code", W.Link));
        return Flaw(request, required: ["shopperId"], texts: [("shopperId", 128)], wrongKeys: [W.BrandA.Key, W.CreatorA.Key],
            paths: [() => Path(request, "code", Pick("AAAAAAAAAA", "zzzzzzzzz9", Long(20), Long(2000), W.Link + "x"))]);
    }

    private HostileRequest OpenLiveCheckoutSession()
    {
        // Only the ended session: a live or scheduled one opens a checkout session for any well-formed shopper.
        var request = Write("POST", "/api/lives/{sessionId}/checkout-sessions", platformKey, new JsonObject { ["shopperId"] = Text(128) }, ("sessionId", W.EndedSession));
        return Flaw(request, required: ["shopperId"], texts: [("shopperId", 128)], wrongKeys: [W.BrandA.Key, W.CreatorA.Key],
            paths: [() => Path(request, "sessionId", Pick("l_0000000000000000000000", "l_" + Long(22), Long(24), Long(2000), W.EndedSession + "x"))]);
    }

    private HostileRequest Buy()
    {
        var request = Write("POST", "/api/links/{code}/buy", platformKey, new JsonObject
        {
            ["shopperId"] = Text(128), ["quantity"] = _random.Next(1, 4), ["paymentToken"] = "tok_" + _random.Next(),
        }, ("code", W.Link));
        request.Headers.Add(("Idempotency-Key", "hostile-" + _random.Next()));
        return Flaw(request, required: ["shopperId", "quantity"], texts: [("shopperId", 128), ("paymentToken", 256)], ints: ["quantity"],
            wrongKeys: [W.BrandA.Key, W.CreatorA.Key], idempotent: true,
            paths: [() => Path(request, "code", Pick("AAAAAAAAAA", "abc", Long(20), Long(1500)))],
            rules: [() => Set(request, "quantity", Pick(0, -1, 10_001, int.MinValue, int.MaxValue))]);
    }

    private HostileRequest SetQuantity()
    {
        var request = Write("PUT", "/api/carts/{shopperId}/items/{productId}", platformKey, new JsonObject { ["quantity"] = _random.Next(1, 6) },
            ("shopperId", Pick(W.CartShopper, "new-" + _random.Next())), ("productId", W.Product));
        return Flaw(request, required: ["quantity"], ints: ["quantity"], wrongKeys: [W.BrandA.Key, W.CreatorA.Key],
            paths:
            [
                () => Path(request, "productId", Pick(W.ArchivedProduct, "p_0000000000000000000000", Long(25), Long(3000))),
                () => Path(request, "shopperId", Pick(Long(129), Long(3000), "a\u0001b", "\u007f", "  ", "x\u0085")),
            ],
            rules:
            [
                () => Set(request, "quantity", Pick(-1, 10_001, int.MinValue)),
                () =>
                {
                    request.PathValues["shopperId"] = Enc(W.CartShopper);
                    request.PathValues["productId"] = Enc(W.ProductB);
                    request.Mutations.Add("a USD product into a EUR cart");
                },
            ]);
    }

    private HostileRequest Checkout()
    {
        var request = Write("POST", "/api/carts/{shopperId}/checkout", platformKey, new JsonObject { ["paymentToken"] = "tok_" + _random.Next() },
            ("shopperId", Pick(W.CartShopper, W.CartShopperB)));
        request.Headers.Add(("Idempotency-Key", "hostile-" + _random.Next()));
        return Flaw(request, required: [], texts: [("paymentToken", 256)], wrongKeys: [W.BrandA.Key, W.CreatorA.Key], idempotent: true, bodyNullable: true,
            paths:
            [
                () => Path(request, "shopperId", Pick(Long(129), "a\u0001b", "   ", "\u001b")),
                // A shopper without a cart: refused by the rules (and the refusal is kept for a retry with the same key).
                () => Path(request, "shopperId", "nobody-" + Pick(ValidTexts)),
            ]);
    }

    private HostileRequest OrderChange(string change)
    {
        // Targets in a state the change refuses: an order this request could really change is never picked.
        var (key, targets, wrongKeys) = change switch
        {
            "cancel" => (platformKey, new[] { W.ShippedOrder, W.DeliveredOrder }, new[] { W.BrandA.Key, W.CreatorA.Key }),
            "ship" => (W.BrandA.Key, [W.DeliveredOrder, W.CancelledOrder], [platformKey, W.BrandB.Key, W.CreatorA.Key]),
            _ => (W.BrandA.Key, [W.PaidOrder, W.CancelledOrder], [platformKey, W.BrandB.Key, W.CreatorA.Key]),
        };
        var request = Write("POST", $"/api/orders/{{orderId}}/{change}", key, null, ("orderId", Pick(targets)));
        request.ContentTypes.Clear();
        if (_random.Next(3) == 0)
        {
            request.Json = new JsonObject { ["status"] = "cancelled" };
            request.ContentTypes.Add("application/json");
            request.Mutations.Add("ignored body");
        }
        var choice = _random.Next(4);
        if (choice == 0)
        {
            Path(request, "orderId", Pick("o_0000000000000000000000", Long(24), Long(2500), Pick(PathControlTexts), Pick(ValidTexts)));
        }
        else if (choice == 1)
        {
            request.SetHeader("Authorization", "Bearer " + Pick(wrongKeys));
            request.Mutations.Add("another party's key");
        }
        else
        {
            request.Mutations.Add("order in a state that refuses " + change);
            Noise(request);
        }
        return request;
    }

    private HostileRequest Refund()
    {
        var request = Write("POST", "/api/orders/{orderId}/refunds", platformKey, new JsonObject
        {
            ["lines"] = new JsonArray(new JsonObject { ["productId"] = W.Product, ["quantity"] = 1 }), ["restock"] = true,
        }, ("orderId", W.DeliveredOrder));
        return Flaw(request, required: ["lines"], wrongKeys: [W.BrandA.Key, W.CreatorA.Key],
            paths: [() => Path(request, "orderId", Pick(W.PaidOrder, W.CancelledOrder, "o_0000000000000000000000", Long(40)))],
            rules:
            [
                () => Set(request, "lines", new JsonArray()),
                () => Set(request, "lines", new JsonArray(Enumerable.Range(0, 101).Select(_ => (JsonNode)new JsonObject { ["productId"] = W.Product, ["quantity"] = 1 }).ToArray())),
                () => Set(request, "lines", new JsonArray(null, new JsonObject { ["productId"] = W.Product, ["quantity"] = 1 })),
                () => Set(request, "lines", new JsonArray(new JsonObject { ["productId"] = W.Product })),
                () => Set(request, "lines", new JsonArray(new JsonObject { ["quantity"] = 1 })),
                () => Set(request, "lines", new JsonArray(new JsonObject { ["productId"] = W.Product, ["quantity"] = Pick(0, -1, 999, int.MinValue) })),
                () => Set(request, "lines", new JsonArray(new JsonObject { ["productId"] = Pick(W.ProductB, Long(5000), "p_0000000000000000000000"), ["quantity"] = 1 })),
                () => Set(request, "lines", new JsonArray(new JsonObject { ["productId"] = W.Product, ["quantity"] = 1 }, new JsonObject { ["productId"] = W.Product, ["quantity"] = int.MaxValue })),
                () => Set(request, "restock", Pick<JsonNode>("yes", 1, new JsonArray())),
                () => Set(request, "lines", Pick<JsonNode>("all", 1, new JsonObject())),
            ]);
    }

    /// <summary>The platform's review of an order: a chargeback, a freeze or its release, each with a reason.</summary>
    private HostileRequest Review(string change)
    {
        var request = Write("POST", $"/api/orders/{{orderId}}/{change}", platformKey, new JsonObject { ["reason"] = Text(500) },
            ("orderId", W.PaidOrder));
        return Flaw(request, required: ["reason"], texts: [("reason", 500)], wrongKeys: [W.BrandA.Key, W.CreatorA.Key],
            paths: [() => Path(request, "orderId", Pick("o_0000000000000000000000", Long(40)))],
            rules: [() => Set(request, "reason", Pick<JsonNode>(1, true, new JsonArray(), new JsonObject()))]);
    }

    private HostileRequest PayoutRun()
    {
        var request = Write("POST", "/api/payouts/runs", platformKey, new JsonObject { ["currency"] = "EUR", ["minimumMinor"] = 1000 });
        request.Headers.Add(("Idempotency-Key", "hostile-" + _random.Next()));
        return Flaw(request, required: ["currency"], longs: ["minimumMinor"], wrongKeys: [W.BrandA.Key, W.CreatorA.Key], idempotent: true,
            rules:
            [
                () => Set(request, "currency", Pick<JsonNode>("eur", "EURO", "XXX", "", 978, new JsonArray())),
                () => Set(request, "minimumMinor", Pick<JsonNode>(-1, long.MinValue, "1000", 1.5)),
            ]);
    }

    /// <summary>A report's query: valid or not; reads change nothing either way.</summary>
    private HostileRequest Report(HostileRequest request)
    {
        request.Query = _random.Next(4) switch
        {
            0 => "?interval=" + Pick("hour", "day", "week", "HOUR", ""),
            1 => "?from=" + Uri.EscapeDataString(Pick("2026-12-01T00:00:00Z", "yesterday", "2026-13-01", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z")),
            2 => "?interval=hour&from=2026-01-01T00:00:00Z&to=" + Uri.EscapeDataString(Pick("2026-12-31T00:00:00Z", "2025-01-01T00:00:00Z", "2026-01-01T05:00:00Z")),
            _ => "?currency=" + Uri.EscapeDataString(Pick("EUR", "eur", "XXQ", "", Long(10))),
        };
        return request;
    }

    private HostileRequest CreatePlan()
    {
        var request = Write("POST", "/api/brands/{brandId}/collaborations", W.BrandA.Key, new JsonObject
        {
            ["kind"] = Pick("open", "targeted"),
            ["productIds"] = new JsonArray(W.Product),
            ["commissionBps"] = _random.Next(0, 10_001),
            ["creatorIds"] = new JsonArray(W.CreatorA.Id),
        }, ("brandId", W.BrandA.Id));
        // A sound targeted plan would be created: every request carries a flaw (an open plan naming creators is one).
        return Flaw(request, required: ["kind", "productIds", "commissionBps"], ints: ["commissionBps"], wrongKeys: [platformKey, W.BrandB.Key, W.CreatorA.Key],
            paths: [() => Path(request, "brandId", Pick(W.BrandB.Id, "b_0000000000000000000000", Long(40)))],
            rules:
            [
                () => Set(request, "kind", Pick<JsonNode>("closed", "OPEN", "", 1, new JsonArray())),
                () => Set(request, "productIds", Pick<JsonNode>(new JsonArray(W.ProductB), new JsonArray(), new JsonArray("p_0000000000000000000000"), W.Product, new JsonArray(1))),
                () => Set(request, "commissionBps", Pick<JsonNode>(-1, 10_001, int.MaxValue)),
                () => Set(request, "creatorIds", Pick<JsonNode>(new JsonArray("c_0000000000000000000000"), new JsonArray(W.CreatorA.Id, ""), W.CreatorA.Id)),
                () => { Set(request, "kind", "targeted"); Set(request, "creatorIds", new JsonArray()); },
                () => { Set(request, "kind", "open"); Set(request, "creatorIds", new JsonArray(W.CreatorB.Id)); },
                () => { Set(request, "startsAt", "2030-01-02T00:00:00Z"); Set(request, "endsAt", Pick<JsonNode>("2030-01-01T00:00:00Z", "2030-01-02T00:00:00Z", "tomorrow", 5)); },
            ]);
    }

    private HostileRequest CreateCampaign()
    {
        var request = Write("POST", "/api/brands/{brandId}/campaigns", W.BrandA.Key, new JsonObject
        {
            ["name"] = Text(200), ["productIds"] = new JsonArray(W.Product), ["bidMinor"] = _random.Next(1, 100), ["currency"] = "EUR",
            ["dailyBudgetMinor"] = _random.Next(100, 10_000), ["totalBudgetMinor"] = _random.Next(100, 100_000),
        }, ("brandId", W.BrandA.Id));
        return Flaw(request, required: ["name", "productIds", "bidMinor", "currency", "dailyBudgetMinor"], texts: [("name", 200)],
            longs: ["bidMinor", "dailyBudgetMinor", "totalBudgetMinor"], wrongKeys: [platformKey, W.BrandB.Key, W.CreatorA.Key],
            paths: [() => Path(request, "brandId", Pick(W.BrandB.Id, "b_0000000000000000000000", Long(40)))],
            rules:
            [
                () => Set(request, "productIds", Pick<JsonNode>(new JsonArray(W.ProductB), new JsonArray(), new JsonArray("p_0000000000000000000000"), W.Product)),
                () => Set(request, "bidMinor", Pick<JsonNode>(0, -1, long.MaxValue)),
                () => { Set(request, "bidMinor", 500); Set(request, "dailyBudgetMinor", 499); },
                () => Set(request, "currency", Pick<JsonNode>("USD", "eur", "XXQ", "", 978)),
                () => Set(request, "totalBudgetMinor", Pick<JsonNode>(0, -5)),
                () => { Set(request, "startsAt", "2030-01-02T00:00:00Z"); Set(request, "endsAt", Pick<JsonNode>("2030-01-01T00:00:00Z", "soon", 5)); },
            ]);
    }

    private HostileRequest UpdateCampaign()
    {
        // No campaign of the world exists under these ids: every change is refused, whoever asks.
        var request = Write("PATCH", "/api/campaigns/{campaignId}", Pick(W.BrandA.Key, W.BrandB.Key), new JsonObject { ["status"] = Pick("active", "paused"), ["bidMinor"] = 5 },
            ("campaignId", Enc(Pick("cm_0000000000000000000000", "cm_" + Identifier(22), Long(30), Pick(ValidTexts)))));
        request.Mutations.Add("a campaign that does not exist");
        return Flaw(request, required: [], ints: [], longs: ["bidMinor", "dailyBudgetMinor"], wrongKeys: [platformKey, W.CreatorA.Key],
            rules: [() => Set(request, "status", Pick<JsonNode>("ended", "ACTIVE", "", 1))]);
    }

    private HostileRequest PlaceAds()
    {
        var request = Write("POST", "/api/ads/placements", platformKey, new JsonObject
        {
            ["shopperId"] = Text(128), ["slot"] = Pick("feed", "search", "live"), ["query"] = Text(200), ["count"] = _random.Next(1, 6),
        });
        return Flaw(request, required: ["shopperId", "slot"], texts: [("shopperId", 128)], ints: ["count"], wrongKeys: [W.BrandA.Key, W.CreatorA.Key],
            rules:
            [
                () => Set(request, "slot", Pick<JsonNode>("banner", "feeds", "", 2, new JsonArray())),
                () => Set(request, "count", Pick<JsonNode>(0, 6, -1, int.MaxValue)),
                () => { Set(request, "slot", "search"); Set(request, "query", Pick<JsonNode?>("", "   ", null)); },
            ]);
    }

    private HostileRequest ClickAd()
    {
        // Ads the engine never signed: unknown whatever their shape.
        var forged = Pick("ad_" + Identifier(40) + "." + Identifier(22), "ad_", "ad_.", "ad_Y21fMHxwXzB8MXwx.AAAAAAAAAAAAAAAAAAAAAA", Long(600), Pick(ValidTexts));
        var request = Write("POST", "/api/ads/{adId}/clicks", platformKey, new JsonObject { ["shopperId"] = Text(128) }, ("adId", Enc(forged)));
        request.Mutations.Add("an ad that was never placed");
        return Flaw(request, required: ["shopperId"], texts: [("shopperId", 128)], wrongKeys: [W.BrandA.Key, W.CreatorA.Key]);
    }

    private HostileRequest EndPlan()
    {
        // No plan of the world's brands exists under these ids: every end is refused, whoever asks.
        var request = Write("DELETE", "/api/collaborations/{planId}", Pick(W.BrandA.Key, W.BrandB.Key, W.CreatorA.Key, platformKey), null,
            ("planId", Enc(Pick("pl_0000000000000000000000", "pl_" + Identifier(22), Long(30), Pick(PathControlTexts), Pick(ValidTexts)))));
        request.ContentTypes.Clear();
        request.Mutations.Add("a plan that does not exist");
        Noise(request);
        return request;
    }

    private HostileRequest CreateLive()
    {
        var request = Write("POST", "/api/creators/{creatorId}/lives", W.CreatorA.Key, new JsonObject
        {
            ["title"] = Text(200), ["scheduledFor"] = new DateTimeOffset(2030, 1, 1, 18, 0, 0, TimeSpan.Zero).AddHours(_random.Next(0, 10_000)).ToString("O", CultureInfo.InvariantCulture),
        }, ("creatorId", W.CreatorA.Id));
        return Flaw(request, required: ["title"], texts: [("title", 200)], wrongKeys: [platformKey, W.CreatorB.Key, W.BrandA.Key],
            paths: [() => Path(request, "creatorId", Pick(W.CreatorB.Id, "c_0000000000000000000000", Long(50)))],
            rules:
            [
                () => Set(request, "scheduledFor", Pick<JsonNode>("tomorrow", "2030-13-40T25:00:00Z", "", "   ", 1_700_000_000, true, new JsonArray(), new JsonObject())),
            ]);
    }

    private HostileRequest LiveChange(string method, string change)
    {
        // Sessions in a state the change refuses (start only from scheduled, nothing changes an ended session): a
        // session this request could really change is never picked.
        var targets = change == "start" ? new[] { W.LiveSession, W.EndedSession } : [W.EndedSession];
        var request = Write(method, $"/api/lives/{{sessionId}}/{change}", W.CreatorA.Key, null, ("sessionId", Pick(targets)));
        request.ContentTypes.Clear();
        if (_random.Next(3) == 0)
        {
            request.Json = new JsonObject { ["status"] = "live", ["productId"] = W.Product };
            request.ContentTypes.Add("application/json");
            request.Mutations.Add("ignored body");
        }
        var choice = _random.Next(4);
        if (choice == 0)
        {
            // Creator B's session with creator A's key, or no session at all.
            Path(request, "sessionId", Pick(W.ScheduledSessionB, "l_0000000000000000000000", Long(24), Long(2500), Pick(PathControlTexts), Pick(ValidTexts)));
        }
        else if (choice == 1)
        {
            request.SetHeader("Authorization", "Bearer " + Pick(platformKey, W.CreatorB.Key, W.BrandA.Key));
            request.Mutations.Add("another party's key");
        }
        else
        {
            request.Mutations.Add("session in a state that refuses " + change);
            Noise(request);
        }
        return request;
    }

    private HostileRequest SetShowcase()
    {
        // The ended session refuses any showcase; the rules aim at the live one with a showcase it must refuse.
        var request = Write("PUT", "/api/lives/{sessionId}/showcase", W.CreatorA.Key, new JsonObject { ["productIds"] = new JsonArray(W.Product) },
            ("sessionId", W.EndedSession));
        void OnTheLiveSession(JsonNode productIds)
        {
            request.PathValues["sessionId"] = Enc(W.LiveSession);
            Set(request, "productIds", productIds);
        }
        return Flaw(request, required: ["productIds"], wrongKeys: [platformKey, W.CreatorB.Key, W.BrandA.Key],
            paths: [() => Path(request, "sessionId", Pick(W.ScheduledSessionB, "l_0000000000000000000000", Long(24), Long(2000)))],
            rules:
            [
                () => OnTheLiveSession(new JsonArray(null, W.Product)),
                () => OnTheLiveSession(new JsonArray(W.Product, Pick(W.ArchivedProduct, "p_0000000000000000000000", Long(3000), Pick(ControlTexts)))),
                () => OnTheLiveSession(new JsonArray(W.Product, W.Product)),
                () => OnTheLiveSession(new JsonArray(Enumerable.Range(0, 101).Select(_ => (JsonNode)W.Product).ToArray())),
                () => OnTheLiveSession(new JsonArray(Enumerable.Range(0, 101).Select(i => (JsonNode)("p_" + i.ToString("D22", CultureInfo.InvariantCulture))).ToArray())),
                () => OnTheLiveSession(new JsonArray(W.Product, Pick<JsonNode>(1, true, new JsonObject(), new JsonArray()))),
                () => OnTheLiveSession(Pick<JsonNode>(W.Product, 1, new JsonObject { ["0"] = W.Product })),
            ]);
    }

    private HostileRequest Pin()
    {
        var request = Write("POST", "/api/lives/{sessionId}/pin", W.CreatorA.Key, new JsonObject { ["productId"] = W.Product }, ("sessionId", W.EndedSession));
        return Flaw(request, required: ["productId"], texts: [("productId", 24)], wrongKeys: [platformKey, W.CreatorB.Key, W.BrandA.Key],
            paths: [() => Path(request, "sessionId", Pick(W.ScheduledSessionB, "l_0000000000000000000000", Long(24), Long(2000)))],
            rules:
            [
                () =>
                {
                    request.PathValues["sessionId"] = Enc(W.LiveSession);
                    Set(request, "productId", Pick(W.ProductB, W.ArchivedProduct, "p_0000000000000000000000"));
                    request.Mutations.Add("a product the live session does not show");
                },
                () => Set(request, "productId", Pick<JsonNode>(Long(3000), Pick(ValidTexts), "p_" + Long(22), 42, new JsonArray(W.Product))),
            ]);
    }

    private HostileRequest Join()
    {
        // Only the ended session: a live or scheduled one counts the viewer.
        var request = Write("POST", "/api/lives/{sessionId}/viewers", platformKey, new JsonObject { ["shopperId"] = Text(128) }, ("sessionId", W.EndedSession));
        return Flaw(request, required: ["shopperId"], texts: [("shopperId", 128)], wrongKeys: [W.BrandA.Key, W.CreatorA.Key],
            paths: [() => Path(request, "sessionId", Pick("l_0000000000000000000000", "l_" + Long(22), Long(24), Long(2000), W.EndedSession + "x"))]);
    }

    private HostileRequest LiveBuy()
    {
        // Sessions that sell nothing now; the rules aim at the live one with a product it does not show.
        var request = Write("POST", "/api/lives/{sessionId}/buy", platformKey, new JsonObject
        {
            ["shopperId"] = Text(128), ["productId"] = W.Product, ["quantity"] = _random.Next(1, 4), ["paymentToken"] = "tok_" + _random.Next(),
        }, ("sessionId", Pick(W.EndedSession, W.ScheduledSessionB)));
        request.Headers.Add(("Idempotency-Key", "hostile-" + _random.Next()));
        return Flaw(request, required: ["shopperId", "productId", "quantity"], texts: [("shopperId", 128), ("productId", 24), ("paymentToken", 256)], ints: ["quantity"],
            wrongKeys: [W.BrandA.Key, W.CreatorA.Key], idempotent: true,
            paths: [() => Path(request, "sessionId", Pick("l_0000000000000000000000", Long(24), Long(1500), W.LiveSession + "x"))],
            rules:
            [
                () => Set(request, "quantity", Pick(0, -1, 10_001, int.MinValue, int.MaxValue)),
                () =>
                {
                    request.PathValues["sessionId"] = Enc(W.LiveSession);
                    Set(request, "productId", Pick(W.ProductB, W.ArchivedProduct, "p_0000000000000000000000"));
                    request.Mutations.Add("a product the live session does not show");
                },
            ]);
    }

    /// <summary>Adds harmless noise, then one flaw the route must refuse (sometimes two).</summary>
    private HostileRequest CreateDeal()
    {
        var request = Write("POST", "/api/products/{productId}/flash-deals", W.BrandA.Key, new JsonObject
        {
            ["sessionId"] = W.LiveSession, ["dealPriceMinor"] = _random.Next(1, 5000), ["units"] = _random.Next(1, 3),
            ["perBuyerLimit"] = 1, ["countdownSeconds"] = _random.Next(0, 60), ["durationSeconds"] = _random.Next(1, 600),
        }, ("productId", W.Product));
        return Flaw(request, required: ["dealPriceMinor", "units", "perBuyerLimit", "durationSeconds"],
            ints: ["units", "perBuyerLimit", "countdownSeconds", "durationSeconds"], longs: ["dealPriceMinor"],
            wrongKeys: [platformKey, W.BrandB.Key, W.CreatorA.Key],
            paths: [() => Path(request, "productId", Pick(W.ProductB, W.ArchivedProduct, "p_0000000000000000000000", Long(25), Long(3000)))],
            rules:
            [
                () => Set(request, "units", Pick(W.ProductAvailable + 1, W.ProductAvailable + 1000, 0, -1, 1_000_001)),
                () => Set(request, "perBuyerLimit", Pick(0, -1, 5, int.MaxValue)),
                () => Set(request, "dealPriceMinor", Pick(0L, -1L, 100_000_000_001L, long.MaxValue)),
                () => Set(request, "countdownSeconds", Pick(-1, 3_601, int.MinValue)),
                () => Set(request, "durationSeconds", Pick(0, -1, 86_401)),
                () => Set(request, "sessionId", Pick<JsonNode>("l_0000000000000000000000", W.LiveSession + "x", Long(200), 5, true, new JsonArray())),
            ]);
    }

    private HostileRequest StartDeal()
    {
        // The world's deal has started: starting it again is refused, and so is any other party's key.
        var request = Write("POST", "/api/flash-deals/{dealId}/start", W.BrandA.Key, null, ("dealId", W.Deal));
        request.ContentTypes.Clear();
        var choice = _random.Next(4);
        if (choice == 0)
        {
            Path(request, "dealId", Pick("f_0000000000000000000000", Long(24), Long(2500), Pick(PathControlTexts), Pick(ValidTexts)));
        }
        else if (choice == 1)
        {
            request.SetHeader("Authorization", "Bearer " + Pick(platformKey, W.BrandB.Key, W.CreatorB.Key));
            request.Mutations.Add("another party's key");
        }
        else
        {
            request.Mutations.Add("a deal that has started");
            Noise(request);
        }
        return request;
    }

    private HostileRequest Flaw(HostileRequest request, string[] required, (string Name, int Max)[]? texts = null, string[]? ints = null,
        string[]? longs = null, string[]? wrongKeys = null, Action[]? paths = null, Action[]? rules = null, bool idempotent = false, bool bodyNullable = false)
    {
        for (var i = _random.Next(3); i > 0; i--)
        {
            Noise(request);
        }
        var flaws = new List<Action>
        {
            () => Auth(request),
            () => BrokenJson(request),
            () => NotAnObject(request, bodyNullable),
            () => WrongContentType(request),
            () => DeepJson(request),
        };
        if (wrongKeys is { Length: > 0 })
        {
            flaws.Add(() =>
            {
                request.SetHeader("Authorization", "Bearer " + Pick(wrongKeys));
                request.Mutations.Add("another party's key");
            });
        }
        if (required.Length > 0)
        {
            flaws.Add(() =>
            {
                var name = Pick(required);
                request.Json!.Remove(name);
                request.Mutations.Add("missing " + name);
            });
        }
        var numbers = (ints ?? []).Select(n => (n, true)).Concat((longs ?? []).Select(n => (n, false))).ToArray();
        if (numbers.Length > 0)
        {
            flaws.Add(() =>
            {
                var (name, isInt) = Pick(numbers);
                var value = isInt
                    ? Pick("2147483648", "-2147483649", "1e400", "1.5", "1e2", "99999999999999999999999", "-0.0001", "0x10", "Infinity", "\"12\"", "true", "[]", "{}")
                    : Pick("9223372036854775808", "-9223372036854775809", "1e400", "2.5", "1E3", "\"5\"", "false", "[1]", "{\"n\":1}");
                SetRaw(request, name, value);
                request.Mutations.Add($"{name}={value}");
            });
        }
        if (texts is { Length: > 0 })
        {
            flaws.Add(() =>
            {
                var (name, max) = Pick(texts);
                switch (_random.Next(6))
                {
                    case 0: Set(request, name, Pick("", " ", "   \t ")); break;
                    case 1: Set(request, name, Pick(ControlTexts) + Text(20)); break;
                    case 2: Set(request, name, Long(max + 1 + _random.Next(0, 4000))); break;
                    case 3: Set(request, name, string.Concat(Enumerable.Repeat("😀", max / 2 + 1))); break;
                    case 4:
                        Set(request, name, "ab" + LonePlaceholder + "cd");
                        var lone = Pick("\\ud800", "\\udfff", "\\ud83d\\u0041");
                        request.TextEdits.Add(text => text.Replace(LonePlaceholder, lone, StringComparison.Ordinal));
                        break;
                    default: SetRaw(request, name, Pick("123", "{}", "[\"a\"]", "true", "12.5")); break;
                }
                request.Mutations.Add($"hostile text in {name}");
            });
        }
        if (idempotent)
        {
            flaws.Add(() =>
            {
                var (value, second, what) = _random.Next(5) switch
                {
                    0 => ((string?)null, (string?)null, "no Idempotency-Key"),
                    1 => ("k-1", "k-2", "two Idempotency-Keys"),
                    2 => (Long(129 + _random.Next(0, 300)), null, "long Idempotency-Key"),
                    3 => (Pick("has space", "", "tab\there", "ключ", "é"), null, "invalid Idempotency-Key"),
                    _ => ("k", "k", "the same Idempotency-Key twice"),
                };
                request.SetHeader("Idempotency-Key", value);
                if (second is not null)
                {
                    request.Headers.Add(("Idempotency-Key", second));
                }
                request.Mutations.Add(what);
            });
        }
        flaws.AddRange(paths ?? []);
        flaws.AddRange(rules?.Select(rule => (Action)(() =>
        {
            rule();
            request.Mutations.Add("rule broken");
        })) ?? []);
        if (_random.Next(200) == 0)
        {
            flaws.Clear();
            flaws.Add(() =>
            {
                request.Json!["padding"] = new string('x', 70_000);
                request.Mutations.Add("body over the limit");
            });
        }
        if (_random.Next(25) == 0)
        {
            flaws.Clear();
            flaws.Add(() => WrongMethod(request));
        }
        // One flaw: two could cancel out (another creator's id in the path and that creator's key make a valid request).
        Pick(flaws.ToArray())();
        return request;
    }

    private void Auth(HostileRequest request)
    {
        var (value, what) = _random.Next(9) switch
        {
            0 => ((string?)null, "no key"),
            1 => ("Bearer " + Identifier(32), "unknown key"),
            2 => ("Bearer b_" + Identifier(22) + "." + Identifier(32), "unknown brand key"),
            3 => ("Bearer c_" + Identifier(22) + "." + Identifier(32), "unknown creator key"),
            4 => ("Bearer " + Long(300), "overlong key"),
            5 => (Pick("Bearer", "Bearer    ", "Token " + platformKey, platformKey, "Bearer" + platformKey), "malformed Authorization"),
            6 => ("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("operator:" + platformKey)), "platform key over Basic"),
            7 => ("Bearer " + platformKey + "\u0001", "key with a control character"),
            _ => ("DUPLICATE", "two Authorization headers"),
        };
        if (value == "DUPLICATE")
        {
            var current = request.Headers.FirstOrDefault(h => h.Name == "Authorization").Value ?? "Bearer " + platformKey;
            request.SetHeader("Authorization", current);
            request.Headers.Add(("Authorization", "Bearer " + platformKey));
        }
        else
        {
            request.SetHeader("Authorization", value);
        }
        request.Mutations.Add(what);
    }

    private void BrokenJson(HostileRequest request)
    {
        request.Json ??= new JsonObject { ["quantity"] = 1 };
        var edit = _random.Next(8);
        var cut = _random.NextDouble();
        // On the trimmed text: cutting only whitespace that noise put around the body would leave it valid.
        request.TextEdits.Add(body =>
        {
            var text = body.Trim();
            return edit switch
            {
                // Keeps at least "{" and always loses the closing "}".
                0 => text[..Math.Max(1, (int)((text.Length - 1) * cut))],
                1 => text.Replace("\"", "'", StringComparison.Ordinal),
                2 => text.TrimEnd('}') + ",}",
                3 => text.Insert(1, "\"x\":NaN,"),
                4 => text.Insert(1, "/* comment */"),
                5 => text.Replace(":", "=", StringComparison.Ordinal),
                6 => text.Insert(Math.Max(1, text.IndexOf('"', 2)), "\u0001"),
                _ => text + text,
            };
        });
        request.Mutations.Add("broken JSON");
    }

    private void NotAnObject(HostileRequest request, bool nullable)
    {
        request.RawBody = nullable ? Pick("[]", "\"text\"", "42", "true", "[{}]", "{") : Pick("[]", "\"text\"", "42", "true", "[{}]", "null", "", " ");
        request.ContentTypes.Clear();
        request.ContentTypes.Add("application/json");
        request.Mutations.Add("body is not an object");
    }

    private void WrongContentType(HostileRequest request)
    {
        request.Json ??= new JsonObject { ["quantity"] = 1 };
        request.ContentTypes.Clear();
        switch (_random.Next(4))
        {
            case 0: request.Mutations.Add("no Content-Type"); break;
            case 1:
                request.ContentTypes.Add("application/json");
                request.ContentTypes.Add("text/plain");
                request.Mutations.Add("two Content-Types");
                break;
            default:
                request.ContentTypes.Add(Pick(WrongContentTypes));
                request.Mutations.Add("wrong Content-Type");
                break;
        }
    }

    private void DeepJson(HostileRequest request)
    {
        request.Json ??= new JsonObject();
        var depth = _random.Next(65, 5000);
        request.TextEdits.Add(text => text.Insert(1, "\"deep\":" + new string('[', depth) + new string(']', depth) + ","));
        request.Mutations.Add($"JSON {depth} deep");
    }

    private void WrongMethod(HostileRequest request)
    {
        if (request.Operation is null)
        {
            return;
        }
        var template = request.Operation![(request.Operation.IndexOf(' ', StringComparison.Ordinal) + 1)..];
        var methods = MethodsByPath[template];
        request.Method = Pick(AllMethods.Except(methods).ToArray());
        request.Path = request.Url();
        request.Query = "";
        request.Operation = null;
        request.Mutations.Add("method the route does not have");
    }

    private void MalformedPathValue(HostileRequest request, string name)
    {
        request.PathValues[name] = Pick(Enc(Long(_random.Next(100, 2500))), Enc(Pick(PathControlTexts)), "%FF%FE", "..%2F..%2Fetc", "%2e%2e", "a%2Fb", "%E2%80%AE", "%C2%85",
            Enc(string.Concat(Enumerable.Repeat("商", 600))), "%20");
        request.Mutations.Add($"malformed {name}");
    }

    private void Noise(HostileRequest request)
    {
        switch (_random.Next(7))
        {
            case 0 when request.Json is not null:
                request.Json["x" + _random.Next(1000)] = Pick<JsonNode>("extra", 1e300, new JsonObject { ["nested"] = new JsonArray(1, "two", null) }, Long(500));
                request.Mutations.Add("unknown property");
                break;
            case 1:
                request.Headers.Add(Pick(("X-Forwarded-For", "10.0.0.1, evil"), ("User-Agent", Long(2000)), ("Accept", "application/xml"),
                    ("traceparent", "00-zzzz-not-a-trace-01"), ("Cookie", "session=" + Long(100)), ("X-Request-Id", Long(1000)), ("Accept-Language", "*;q=0.1, \"")));
                request.Mutations.Add("odd header");
                break;
            case 2 when request.ContentTypes.Count == 1 && request.ContentTypes[0] == "application/json":
                request.ContentTypes[0] = Pick("application/json; charset=utf-8", "application/json;charset=UTF-8", "application/merge-patch+json", "APPLICATION/JSON");
                request.Mutations.Add("JSON content type variant");
                break;
            case 3 when request.Json is not null:
                request.TextEdits.Add(text => "\n\t " + text + " \r\n");
                request.Mutations.Add("whitespace around the body");
                break;
            case 4:
                request.Query = "?" + Uri.EscapeDataString(Pick(ValidTexts)) + "=" + Uri.EscapeDataString(Pick(ValidTexts));
                request.Mutations.Add("query string");
                break;
            case 5 when request.Json is { Count: > 0 } json:
                // The same property twice with its final value; if a flaw removes it later, no copy is left to restore it.
                var key = json.First().Key;
                request.TextEdits.Insert(0, text => json.ContainsKey(key) ? text.Insert(1, $"\"{key}\":{json[key]?.ToJsonString() ?? "null"},") : text);
                request.Mutations.Add("duplicated property");
                break;
            default:
                request.Headers.Add(("X-Vetrina-Test", Pick(ValidTexts.Where(t => t.All(c => c is >= ' ' and < '\u007f')).ToArray())));
                request.Mutations.Add("custom header");
                break;
        }
    }

    private static void Finish(HostileRequest request)
    {
        if (request.Operation is not null)
        {
            foreach (var name in request.PathValues.Keys.ToList().Where(name => !request.PathValues[name].Contains('%', StringComparison.Ordinal)))
            {
                request.PathValues[name] = Enc(request.PathValues[name]);
            }
        }
        request.Freeze();
    }

    private static HostileRequest Get(string template, (string Name, string Value) path, string? key)
    {
        var request = new HostileRequest("GET", "GET " + template, key ?? "");
        if (key is null)
        {
            request.SetHeader("Authorization", null);
        }
        if (path.Name is not null)
        {
            request.PathValues[path.Name] = path.Value;
        }
        return request;
    }

    private static HostileRequest Write(string method, string template, string key, JsonObject? body, params (string Name, string Value)[] path)
    {
        var request = new HostileRequest(method, $"{method} {template}", key) { Json = body };
        foreach (var (name, value) in path)
        {
            request.PathValues[name] = value;
        }
        return request;
    }

    private static void Path(HostileRequest request, string name, string value)
    {
        request.PathValues[name] = Enc(value);
        request.Mutations.Add($"{name} is not one this key may change");
    }

    private static void Set(HostileRequest request, string name, JsonNode? value)
    {
        request.Json ??= new JsonObject();
        request.Json[name] = value;
    }

    private static void SetRaw(HostileRequest request, string name, string json)
    {
        var placeholder = "zzRAW" + name + "zz";
        Set(request, name, placeholder);
        request.TextEdits.Add(text => text.Replace($"\"{placeholder}\"", json, StringComparison.Ordinal));
    }

    private string Text(int max)
    {
        var text = Pick(ValidTexts);
        return text.Length <= max ? text : text[..max];
    }

    private string Long(int length)
    {
        var builder = new StringBuilder(length);
        while (builder.Length < length)
        {
            builder.Append(_random.Next(4) == 0 ? Pick("é", "ß", "-", "_", "~", "Ω") : ((char)('a' + _random.Next(26))).ToString());
        }
        return builder.ToString(0, length);
    }

    private string Identifier(int length) =>
        string.Concat(Enumerable.Range(0, length).Select(_ => "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"[_random.Next(62)]));

    private static string Enc(string value) =>
        string.Concat(Encoding.UTF8.GetBytes(value).Select(b => b is >= (byte)'a' and <= (byte)'z' or >= (byte)'A' and <= (byte)'Z' or >= (byte)'0' and <= (byte)'9'
            or (byte)'-' or (byte)'_' or (byte)'.' or (byte)'~' ? ((char)b).ToString() : "%" + b.ToString("X2", CultureInfo.InvariantCulture)));

    private T Pick<T>(params T[] items) => items[_random.Next(items.Length)];
}
