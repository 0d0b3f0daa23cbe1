using System.Text.Json;
using System.Text.Json.Serialization;
using Vetrina.Grains.Common;
using Vetrina.Grains.Orders;

namespace Vetrina.Grains.Journal;

/// <summary>A product's stock as the journal has it: units ever put on sale and units sold, with the row's version.</summary>
[GenerateSerializer, Immutable, Alias("vetrina.stock-counts")]
public sealed record StockCounts(
    [property: Id(0)] int Stocked,
    [property: Id(1)] int Sold,
    [property: Id(2)] long Version);

/// <summary>Where a batch sits in the journal: the writer (one silo's desk, for one run of the silo) and its batch number.</summary>
[GenerateSerializer, Immutable, Alias("vetrina.journal-position")]
public sealed record JournalPosition(
    [property: Id(0)] string WriterId,
    [property: Id(1)] long Sequence);

/// <summary>
/// The outcome of one checkout as journalled: its orders when it was paid, or why it was refused (stock, payment).
/// The first record of a checkout id is the only one: a replay answers from it.
/// </summary>
[GenerateSerializer, Immutable, Alias("vetrina.checkout-record")]
public sealed record CheckoutRecord(
    [property: Id(0)] string CheckoutId,
    [property: Id(1)] IReadOnlyList<OrderDraft> Orders,
    [property: Id(2)] Failure? Failure)
{
    /// <summary>Units each product sells through this checkout (none when it was refused).</summary>
    public IEnumerable<(string ProductId, int Units)> UnitsSold() =>
        Failure is not null ? [] : Orders.SelectMany(o => o.Lines).Select(l => (l.ProductId, l.Quantity));
}

/// <summary>All checkouts one desk decided in one commit window, written in one database transaction.</summary>
public sealed record JournalBatch(JournalPosition Position, IReadOnlyList<CheckoutRecord> Checkouts);

/// <summary>
/// What the transaction did: the checkouts it found already journalled (with their first record, which stands), and
/// each product's stock after the units of the newly journalled checkouts were sold.
/// </summary>
public sealed record JournalCommit(
    IReadOnlyDictionary<string, CheckoutRecord> AlreadyJournalled,
    IReadOnlyDictionary<string, StockCounts> Stock);

/// <summary>The database refused a batch because it would sell more of a product than was stocked; nothing was written.</summary>
public sealed class StockExhaustedException(string? productId)
    : Exception($"The journal refused to sell more of product '{productId ?? "(one of the batch)"}' than was stocked.")
{
    /// <summary>The product, when the database said which one.</summary>
    public string? ProductId { get; } = productId;
}

/// <summary>
/// The sales journal: the durable record of every checkout and the stock counts it sells from, in tables of our own.
/// Orders are rows here, not grains; the database keeps a product's <c>sold</c> within its <c>stocked</c> by a
/// conditional update, so the promise of no oversell rests on the database, not on any silo's memory.
/// </summary>
public interface ISalesJournal
{
    /// <summary>Writes a batch in one transaction. Throws <see cref="StockExhaustedException"/> (writing nothing) if it would oversell.</summary>
    Task<JournalCommit> CommitAsync(JournalBatch batch, CancellationToken cancellationToken = default);

    Task<CheckoutRecord?> FindCheckoutAsync(string checkoutId, CancellationToken cancellationToken = default);

    Task<OrderDraft?> FindOrderAsync(string orderId, CancellationToken cancellationToken = default);

    Task<StockCounts?> ReadStockAsync(string productId, CancellationToken cancellationToken = default);

    /// <summary>Puts a new product's stock on sale; a repeat (a retried creation) sets it again while nothing is sold.</summary>
    Task<StockCounts> OpenStockAsync(string productId, int stocked, CancellationToken cancellationToken = default);

    /// <summary>Changes the units on sale; null (and no change) when <c>stocked</c> would fall below <c>sold</c> + <paramref name="keepFree"/>.</summary>
    Task<StockCounts?> AdjustStockAsync(string productId, int delta, int keepFree, CancellationToken cancellationToken = default);

    /// <summary>Takes units back from sold (a cancellation or refund); idempotent by operation id: null when done before.</summary>
    Task<StockCounts?> RestockAsync(string operationId, string productId, int quantity, CancellationToken cancellationToken = default);
}

/// <summary>How journal rows hold a checkout's record: JSON, generated at build time.</summary>
[JsonSerializable(typeof(CheckoutRecord))]
[JsonSerializable(typeof(OrderDraft))]
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
public sealed partial class JournalJson : JsonSerializerContext
{
    public static string Write(CheckoutRecord record) => JsonSerializer.Serialize(record, Default.CheckoutRecord);

    public static CheckoutRecord Read(string json) =>
        JsonSerializer.Deserialize(json, Default.CheckoutRecord) ?? throw new InvalidDataException("An empty checkout record in the journal.");

    public static string WriteOrder(OrderDraft order) => JsonSerializer.Serialize(order, Default.OrderDraft);

    public static OrderDraft ReadOrder(string json) =>
        JsonSerializer.Deserialize(json, Default.OrderDraft) ?? throw new InvalidDataException("An empty order in the journal.");
}
