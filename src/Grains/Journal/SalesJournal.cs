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
    /// <summary>Whether journalling this record as the checkout's first settles its charge intent: paid, or declined.</summary>
    [JsonIgnore]
    public bool SettlesCharge => Failure is null || Failure.Kind == FailureKind.PaymentDeclined;

    /// <remarks>
    /// Keyed by stock row: a product's own, or for a line bought in a flash deal the deal's row (keyed by the deal id).
    /// </remarks>
    public IEnumerable<(string ProductId, int Units)> UnitsSold() =>
        Failure is not null ? [] : Orders.SelectMany(o => o.Lines).Select(l => (l.DealId ?? l.ProductId, l.Quantity));

    /// <summary>Units each flash deal sells to this checkout's shopper (none when it was refused).</summary>
    public IEnumerable<(string DealId, string ShopperId, int Units)> DealUnits() =>
        Failure is not null ? [] : Orders.SelectMany(o => o.Lines.Where(l => l.DealId is not null).Select(l => (l.DealId!, o.ShopperId, l.Quantity)));
}

/// <summary>A flash deal's stock row and its buyers' units, as the journal has them.</summary>
[GenerateSerializer, Immutable, Alias("vetrina.deal-counts")]
public sealed record DealCounts(
    [property: Id(0)] StockCounts Stock,
    [property: Id(1)] IReadOnlyDictionary<string, int> Buyers);

/// <summary>The database refused a batch because a shopper would get more units of a deal than its per-buyer limit.</summary>
public sealed class DealLimitExceededException(string? dealId)
    : Exception($"The journal refused to sell more of deal '{dealId ?? "(one of the batch)"}' to a shopper than its per-buyer limit.")
{
    public string? DealId { get; } = dealId;
}

/// <summary>A charge about to be made for a checkout, recorded before it is made (see <see cref="ISalesJournal.RecordChargesAsync"/>).</summary>
public sealed record ChargeIntent(string CheckoutId, long AmountMinor, string Currency, DateTimeOffset At);

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

/// <summary>A desk's journal writer was closed (another silo took over its projection): the desk must start a new writer.</summary>
public sealed class WriterClosedException(string writerId) : Exception($"Journal writer '{writerId}' is closed.")
{
    public string WriterId { get; } = writerId;
}

/// <summary>How far a writer's batches reached the aggregates: all through <c>ProjectedThrough</c>, and a round up to <c>SendingThrough</c> under way.</summary>
public sealed record WriterMarks(long ProjectedThrough, long SendingThrough);

/// <summary>
/// The sales journal: the durable record of every checkout and the stock counts it sells from, in tables of our own.
/// Orders are rows here, not grains; the database keeps a product's <c>sold</c> within its <c>stocked</c> by a
/// conditional update, so the promise of no oversell rests on the database, not on any silo's memory.
/// </summary>
public interface ISalesJournal
{
    /// <summary>
    /// Writes a batch in one transaction. Throws <see cref="StockExhaustedException"/> (writing nothing) if it would
    /// oversell, and <see cref="WriterClosedException"/> (writing nothing) if its writer was closed.
    /// </summary>
    Task<JournalCommit> CommitAsync(JournalBatch batch, CancellationToken cancellationToken = default);

    Task<CheckoutRecord?> FindCheckoutAsync(string checkoutId, CancellationToken cancellationToken = default);

    /// <summary>The first records of those of the checkouts that are journalled, by checkout id.</summary>
    Task<IReadOnlyDictionary<string, CheckoutRecord>> FindCheckoutsAsync(IReadOnlyCollection<string> checkoutIds, CancellationToken cancellationToken = default);

    /// <summary>
    /// Records the charges a window is about to make, before it makes them: a charge whose checkout never reaches the
    /// journal (its silo died in between and the shopper never retried) is found here and voided. A commit removes
    /// the intents of the checkouts it journals first that took no money to give back (paid, or declined); others are
    /// removed once their money is back (<see cref="ForgetChargeAsync"/>). A repeat of an intent renews its time.
    /// </summary>
    Task RecordChargesAsync(IReadOnlyList<ChargeIntent> intents, CancellationToken cancellationToken = default);

    /// <summary>Intents recorded before <paramref name="before"/> whose checkouts were never journalled.</summary>
    Task<IReadOnlyList<ChargeIntent>> UnsettledChargesAsync(DateTimeOffset before, CancellationToken cancellationToken = default);

    /// <summary>The intent is dealt with (voided, or its checkout was journalled after all).</summary>
    Task ForgetChargeAsync(string checkoutId, CancellationToken cancellationToken = default);

    Task<OrderDraft?> FindOrderAsync(string orderId, CancellationToken cancellationToken = default);

    Task<StockCounts?> ReadStockAsync(string productId, CancellationToken cancellationToken = default);

    /// <summary>Puts a new product's stock on sale; a repeat (a retried creation) sets it again while nothing is sold.</summary>
    Task<StockCounts> OpenStockAsync(string productId, int stocked, CancellationToken cancellationToken = default);

    /// <summary>Changes the units on sale; null (and no change) when <c>stocked</c> would fall below <c>sold</c> + <paramref name="keepFree"/>.</summary>
    Task<StockCounts?> AdjustStockAsync(string productId, int delta, int keepFree, CancellationToken cancellationToken = default);

    /// <summary>Starts a writer (one per desk and run of a silo); its batches may be committed from now on.</summary>
    Task OpenWriterAsync(string writerId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Before a projection round: all batches through <paramref name="projectedThrough"/> reached the aggregates and
    /// those up to <paramref name="sendingThrough"/> are being sent (also a heartbeat). By the writer's own silo
    /// (<paramref name="takenOver"/> false) it answers false once the writer was closed: its rounds are then another
    /// silo's to send; by that silo (true), after it took the writer over.
    /// </summary>
    Task<bool> MarkProjectionAsync(string writerId, long projectedThrough, long sendingThrough, bool takenOver, CancellationToken cancellationToken = default);

    /// <summary>The writer's silo is alive; false once the writer was closed.</summary>
    Task<bool> HeartbeatAsync(string writerId, CancellationToken cancellationToken = default);

    /// <summary>Writers whose heartbeat is older than <paramref name="staleAfter"/> and whose batches may not all be projected.</summary>
    Task<IReadOnlyList<string>> StaleWritersAsync(TimeSpan staleAfter, CancellationToken cancellationToken = default);

    /// <summary>
    /// Closes a stale writer so that it can commit nothing more (it waits for a commit under way) and takes over its
    /// projection; null when it is not stale any more (another silo took it, or it is alive).
    /// </summary>
    Task<WriterMarks?> TakeOverWriterAsync(string writerId, TimeSpan staleAfter, CancellationToken cancellationToken = default);

    /// <summary>The orders of a writer's batches after <paramref name="afterSequence"/>, by batch, in order.</summary>
    Task<IReadOnlyList<(long Sequence, IReadOnlyList<OrderDraft> Orders)>> ReadBatchesAsync(string writerId, long afterSequence, CancellationToken cancellationToken = default);

    /// <summary>Every batch of the closed writer reached the aggregates: it needs no more attention.</summary>
    Task RetireWriterAsync(string writerId, CancellationToken cancellationToken = default);

    /// <summary>Takes units back from sold (a cancellation or refund); idempotent by operation id: null when done before.</summary>
    Task<StockCounts?> RestockAsync(string operationId, string productId, int quantity, CancellationToken cancellationToken = default);

    /// <summary>
    /// In one transaction: takes <paramref name="units"/> from the product's stock (keeping <paramref name="keepFree"/>
    /// units free beyond what is sold) into a stock row of the deal's own, with its per-buyer limit. Idempotent by deal
    /// id: a deal carved before is not carved again. Answers the product's counts, or null when too few units are free.
    /// </summary>
    Task<StockCounts?> CarveDealAsync(string dealId, string productId, int units, int perBuyerLimit, int keepFree, CancellationToken cancellationToken = default);

    /// <summary>
    /// In one transaction: gives the deal's unsold units back to the product, but for <c>keep</c> units still held by
    /// windows in flight (given back by a later call once they settle or go stale).
    /// Safe to repeat: each call moves what is unsold at that moment, so a unit comes back once (a later refund of a
    /// deal line is given back by the next call). Answers the units moved and both rows' counts.
    /// </summary>
    Task<(int Returned, StockCounts Deal, StockCounts Product)> CloseDealAsync(string dealId, string productId, int keep, CancellationToken cancellationToken = default);

    /// <summary>The deal's row and its buyers' units; null for a deal never carved.</summary>
    Task<DealCounts?> ReadDealAsync(string dealId, CancellationToken cancellationToken = default);
}

public static class JournalBatches
{
    /// <summary>Paid checkouts' records, in batch order, as each batch's orders.</summary>
    public static IReadOnlyList<(long Sequence, IReadOnlyList<OrderDraft> Orders)> ByBatch(IEnumerable<(long Sequence, CheckoutRecord Record)> rows) =>
        rows.GroupBy(r => r.Sequence)
            .OrderBy(g => g.Key)
            .Select(g => (g.Key, (IReadOnlyList<OrderDraft>)g.SelectMany(r => r.Record.Orders).ToArray()))
            .ToArray();
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
