namespace Vetrina.Grains.Catalog;

/// <summary>A product's terms. Its stock counts live in the sales journal, which sells from them.</summary>
[GenerateSerializer, Alias("vetrina.product-state")]
public sealed class ProductState
{
    [Id(0)] public ProductDefinition? Definition { get; set; }
    [Id(1)] public string Title { get; set; } = "";
    [Id(2)] public long PriceMinor { get; set; }
    [Id(3)] public int CommissionBps { get; set; }
    [Id(4)] public ProductStatus Status { get; set; }

    /// <summary>Flash deals open on the product (created and not yet ended), for live buys to find.</summary>
    [Id(5)] public List<Deals.DealRef> Deals { get; set; } = [];

    /// <summary>Changes of the product's own rate the rate lock can still reach (see <see cref="Collaborations.CommissionTerms"/>).</summary>
    [Id(6)] public List<Collaborations.RateChange> RateChanges { get; set; } = [];

    /// <summary>Collaboration plans covering the product that have not ended, or ended early within the lock.</summary>
    [Id(7)] public List<Collaborations.PlanRate> Plans { get; set; } = [];
}
