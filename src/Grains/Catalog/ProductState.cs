namespace Vetrina.Grains.Catalog;

[GenerateSerializer, Alias("vetrina.product-state")]
public sealed class ProductState
{
    [Id(0)] public ProductDefinition? Definition { get; set; }
    [Id(1)] public string Title { get; set; } = "";
    [Id(2)] public long PriceMinor { get; set; }
    [Id(3)] public int CommissionBps { get; set; }
    [Id(4)] public ProductStatus Status { get; set; }

    /// <summary>Units ever put on sale, net of brand adjustments and restocks: Available + Reserved + Sold.</summary>
    [Id(5)] public int Stocked { get; set; }
    [Id(6)] public int Available { get; set; }
    [Id(7)] public int Reserved { get; set; }
    [Id(8)] public int Sold { get; set; }

    /// <summary>Stock held per checkout id; a confirmed hold stays until its checkout says it is finished.</summary>
    [Id(9)] public Dictionary<string, StockHold> Holds { get; set; } = new(StringComparer.Ordinal);

    [Id(10)] public Common.AppliedOperations Restocks { get; set; } = new();
}

[GenerateSerializer, Alias("vetrina.stock-hold")]
public sealed class StockHold
{
    [Id(0)] public int Quantity { get; set; }
    [Id(1)] public DateTimeOffset ExpiresAt { get; set; }
    [Id(2)] public bool Confirmed { get; set; }
    [Id(3)] public DateTimeOffset ConfirmedAt { get; set; }
}
