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
}
