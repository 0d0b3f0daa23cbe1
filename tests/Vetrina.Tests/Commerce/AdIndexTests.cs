using Vetrina.Grains.Ads;

namespace Vetrina.Tests.Commerce;

/// <summary>
/// The placement index's search: only campaigns with a product on sale whose title holds the query, highest bid first,
/// each once however many of its products match.
/// </summary>
public sealed class AdIndexTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 9, 0, 0, TimeSpan.Zero);

    [Fact]
    public void A_search_lists_the_campaigns_of_matching_products_once_each_in_bid_order()
    {
        var listings = new Dictionary<string, ProductListing>(StringComparer.Ordinal)
        {
            ["red"] = Listing("red", "Red Lamp"),
            ["blue"] = Listing("blue", "Blue lamp"),
            ["chair"] = Listing("chair", "Green chair"),
            ["gone"] = Listing("gone", "Sold-out lamp", onSale: false),
        };
        var campaigns = new[]
        {
            Terms("low", 10, "blue"),
            Terms("both", 30, "red", "blue"),
            Terms("chair", 90, "chair"),
            Terms("gone", 80, "gone"),
            Terms("high", 50, "red"),
        };
        var spent = campaigns.ToDictionary(c => c.CampaignId, c => new AdSpend(c.CampaignId, 0, 0, DateOnly.FromDateTime(Now.UtcDateTime), 0, new AdBudget(1_000, null)),
            StringComparer.Ordinal);
        var index = AdIndex.Of(campaigns, spent, listings);

        Assert.Equal(["high", "both", "low"], index.Matching("LAMP").Select(e => e.Terms.CampaignId));
        Assert.Equal(["chair"], index.Matching("chair").Select(e => e.Terms.CampaignId));
        Assert.Empty(index.Matching("umbrella"));
        Assert.Empty(index.Matching(null));
        Assert.Empty(AdIndex.Empty.Matching("lamp"));
    }

    private static ProductListing Listing(string id, string title, bool onSale = true) => new(id, title, 2500, "EUR", onSale, 168);

    private static CampaignTerms Terms(string id, long bid, params string[] productIds) =>
        new(id, "brand", id, productIds, bid, "EUR", 1_000, null, Now.AddDays(-1), null, Paused: false, CreatedAt: Now.AddDays(-1));
}
