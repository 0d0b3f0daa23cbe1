using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Vetrina.Grains.Common;
using Vetrina.Grains.ExactlyOnce;
using Vetrina.Grains.Creators;
using Vetrina.Grains.Journal;
using Vetrina.Grains.Links;
using Vetrina.Grains.Live;
using Vetrina.Grains.Orders;
using Vetrina.Grains.Reports;
using Vetrina.Grains.Sales;

namespace Vetrina.Grains.Projections;

/// <summary>Configuration section <c>Vetrina:Journal</c>.</summary>
public sealed class JournalOptions
{
    /// <summary>A writer whose silo has not marked it for this long is taken over by another silo, which projects what it left.</summary>
    public TimeSpan WriterStaleAfter { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How often each silo looks for stale writers.</summary>
    public TimeSpan WriterCheckInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// The shortest time between two projection rounds of a silo: batches committed meanwhile go in the next round,
    /// so a hot creator, link and brand take one write per interval at most, not one per commit window. Aggregates
    /// lag an answered buy by about this much.
    /// </summary>
    public TimeSpan RoundInterval { get; set; } = TimeSpan.FromMilliseconds(100);
}

/// <summary>
/// This silo's journal writer and its projection. The writer numbers the batches its desk commits. The projection
/// carries what they sold into creators' ledgers, links' stats and brands' sales, off the buy path: one call per
/// target for everything committed since the last round, not one per order. Rounds go out in journal order and each
/// target's share is repeated until it lands, which lets a target keep a watermark per writer
/// (<see cref="JournalWatermarks"/>) instead of a set of applied ids. Before each round the writer's row says which
/// batches it covers, so that when a silo dies another one re-sends exactly that round and then the rest, from the
/// journal: nothing a dead silo committed is lost from the aggregates, and nothing is counted twice.
/// </summary>
public sealed class SalesProjector(IGrainFactory grains, ISalesJournal journal, IReportBook reports, IOptions<JournalOptions> options, ILogger<SalesProjector> logger) : BackgroundService
{
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(5);
    private readonly Channel<(JournalPosition Position, IReadOnlyList<OrderDraft> Orders)> _committed =
        Channel.CreateUnbounded<(JournalPosition, IReadOnlyList<OrderDraft>)>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Lock _lock = new();
    private Task<Writer>? _writer;

    /// <summary>The position of the next batch this silo commits (its writer is opened first, once).</summary>
    public async Task<JournalPosition> NextPositionAsync()
    {
        var writer = await CurrentWriterAsync();
        return new JournalPosition(writer.Id, Interlocked.Increment(ref writer.Sequence));
    }

    /// <summary>The writer was closed under this silo (taken for dead): later batches go to a new one.</summary>
    public Task ReplaceWriterAsync(string closedWriterId)
    {
        lock (_lock)
        {
            if (_writer is { IsCompletedSuccessfully: true } current && current.Result.Id == closedWriterId)
            {
                _writer = null;
            }
        }
        return CurrentWriterAsync();
    }

    /// <summary>Orders one journal batch of this silo committed; batches must come in the order of their positions.</summary>
    public void Committed(JournalPosition position, IReadOnlyList<OrderDraft> orders) => _committed.Writer.TryWrite((position, orders));

    private Task<Writer> CurrentWriterAsync()
    {
        lock (_lock)
        {
            if (_writer is null or { IsFaulted: true } or { IsCanceled: true })
            {
                _writer = OpenAsync();
            }
            return _writer;
        }
    }

    private async Task<Writer> OpenAsync()
    {
        var writer = new Writer("w_" + Identifiers.RandomBase62(16));
        await journal.OpenWriterAsync(writer.Id);
        return writer;
    }

    private Task? _projecting;

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _projecting = ProjectAsync(stoppingToken);
        return Task.WhenAll(_projecting, HeartbeatAsync(stoppingToken), TakeOverStaleWritersAsync(stoppingToken));
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        // What was committed before the stop still reaches its targets, while the silo can still call them: the
        // projection drains before the loops are cancelled (or the host's stop timeout ends the wait).
        _committed.Writer.TryComplete();
        if (_projecting is { } projecting)
        {
            await projecting.WaitAsync(cancellationToken).ContinueWith(_ => { }, TaskScheduler.Default);
        }
        await base.StopAsync(cancellationToken);
    }

    private async Task ProjectAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (await _committed.Reader.WaitToReadAsync(CancellationToken.None))
            {
                var started = Stopwatch.GetTimestamp();
                // Batches of one writer in a row go in one round; a round never mixes writers.
                var round = new Round();
                while (_committed.Reader.TryPeek(out var next) && (round.Position is null || round.Position.WriterId == next.Position.WriterId))
                {
                    _committed.Reader.TryRead(out var batch);
                    round.Add(batch.Position, batch.Orders);
                }
                try
                {
                    await ProjectOwnAsync(round, stoppingToken);
                }
                catch (Exception exception) when (exception is not OperationCanceledException)
                {
                    // Its writer could not even be opened: the round's batches are in the journal, and a writer this
                    // silo cannot mark goes stale and is taken over.
                    logger.ProjectionDeferred(exception);
                }
                var rest = options.Value.RoundInterval - Stopwatch.GetElapsedTime(started);
                if (rest > TimeSpan.Zero && !_committed.Reader.Completion.IsCompleted)
                {
                    await Task.Delay(rest, stoppingToken);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task ProjectOwnAsync(Round round, CancellationToken stoppingToken)
    {
        var writer = await CurrentWriterAsync();
        if (writer.Id != round.Position!.WriterId)
        {
            // A writer this silo replaced: it was taken over, and its rounds are the taker's to send.
            return;
        }
        if (!await UntilDoneAsync(() => journal.MarkProjectionAsync(writer.Id, writer.ProjectedThrough, round.Position.Sequence, takenOver: false, stoppingToken), stoppingToken))
        {
            return;
        }
        await SendAsync(round, stoppingToken);
        writer.ProjectedThrough = round.Position.Sequence;
    }

    /// <summary>Marks this silo's writer as alive, on its own loop so that nothing else delays it.</summary>
    private Task HeartbeatAsync(CancellationToken stoppingToken) => EveryIntervalAsync(async () =>
    {
        if (_writer is { IsCompletedSuccessfully: true } current)
        {
            await journal.HeartbeatAsync(current.Result.Id, stoppingToken);
        }
    }, stoppingToken);

    /// <summary>Takes over the writers of silos that stopped marking theirs.</summary>
    private Task TakeOverStaleWritersAsync(CancellationToken stoppingToken) => EveryIntervalAsync(async () =>
    {
        var staleAfter = options.Value.WriterStaleAfter;
        foreach (var stale in await journal.StaleWritersAsync(staleAfter, stoppingToken))
        {
            if (stale != (_writer is { IsCompletedSuccessfully: true } mine ? mine.Result.Id : null))
            {
                await TakeOverAsync(stale, staleAfter, stoppingToken);
            }
        }
    }, stoppingToken);

    private async Task EveryIntervalAsync(Func<Task> work, CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.WriterCheckInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await work();
                }
                catch (Exception exception) when (exception is not OperationCanceledException)
                {
                    logger.ProjectionDeferred(exception);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>
    /// Projects what a dead writer left: first the round it had under way, exactly as it was (targets that got it
    /// skip it by their watermark), then every later batch, each round marked before it is sent as the writer would.
    /// </summary>
    private async Task TakeOverAsync(string writerId, TimeSpan staleAfter, CancellationToken stoppingToken)
    {
        if (await journal.TakeOverWriterAsync(writerId, staleAfter, stoppingToken) is not { } marks)
        {
            return;
        }
        var batches = await journal.ReadBatchesAsync(writerId, marks.ProjectedThrough, stoppingToken);
        var projected = marks.ProjectedThrough;
        foreach (var part in new[] { batches.Where(b => b.Sequence <= marks.SendingThrough), batches.Where(b => b.Sequence > marks.SendingThrough) })
        {
            var round = new Round();
            foreach (var (sequence, orders) in part)
            {
                round.Add(new JournalPosition(writerId, sequence), orders);
            }
            if (round.Position is null)
            {
                continue;
            }
            await journal.MarkProjectionAsync(writerId, projected, round.Position.Sequence, takenOver: true, stoppingToken);
            await SendAsync(round, stoppingToken);
            projected = round.Position.Sequence;
        }
        await journal.MarkProjectionAsync(writerId, projected, projected, takenOver: true, stoppingToken);
        await journal.RetireWriterAsync(writerId, stoppingToken);
        logger.WriterTakenOver(writerId, batches.Count);
    }

    private Task SendAsync(Round round, CancellationToken stoppingToken)
    {
        var position = round.Position!;
        var sends = new List<Task>();
        foreach (var (creatorId, entries) in round.Creators)
        {
            var ledger = entries.Values.Select(e => e.Entry()).ToArray();
            sends.Add(UntilDoneAsync(() => grains.GetGrain<ICreatorGrain>(creatorId).ProjectAsync(position, ledger), stoppingToken));
        }
        foreach (var (code, entry) in round.Links)
        {
            sends.Add(UntilDoneAsync(() => grains.GetGrain<ILinkGrain>(code).ProjectAsync(position, entry), stoppingToken));
        }
        foreach (var (sessionId, entry) in round.Sessions)
        {
            sends.Add(UntilDoneAsync(() => grains.GetGrain<ILiveSessionGrain>(sessionId).ProjectAsync(position, entry), stoppingToken));
        }
        foreach (var (brandId, sales) in round.Brands)
        {
            var entry = new SalesEntry(position.ToString(), sales.Products.Values.ToArray(), sales.Creators.Values.ToArray());
            sends.Add(UntilDoneAsync(() => grains.GetGrain<IBrandSalesGrain>(brandId).ProjectAsync(position, entry), stoppingToken));
        }
        if (round.Report.Count > 0)
        {
            // Named by the round's position: a round re-sent after a takeover is the same round, and adds nothing twice.
            var cells = ReportCell.Sum(round.Report);
            sends.Add(UntilDoneAsync(() => reports.ApplyAsync($"journal/{position}", cells, stoppingToken), stoppingToken));
        }
        return Task.WhenAll(sends);
    }

    private Task<bool> UntilDoneAsync(Func<Task> send, CancellationToken stoppingToken) => UntilDoneAsync(async () =>
    {
        await send();
        return true;
    }, stoppingToken);

    private async Task<T> UntilDoneAsync<T>(Func<Task<T>> send, CancellationToken stoppingToken)
    {
        var delay = TimeSpan.FromMilliseconds(50);
        while (true)
        {
            try
            {
                return await send();
            }
            catch (Exception exception) when (exception is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                logger.ProjectionDeferred(exception);
                await Task.Delay(delay, stoppingToken);
                delay = delay * 2 < MaxRetryDelay ? delay * 2 : MaxRetryDelay;
            }
        }
    }

    private sealed class Writer(string id)
    {
        public string Id { get; } = id;

        public long Sequence;

        public long ProjectedThrough { get; set; }
    }

    /// <summary>One creator's entries of a round in one currency, summed, with every movement they carry.</summary>
    private sealed class LedgerSum(string operationId, string currency)
    {
        private readonly List<LedgerMovement> _movements = [];
        private long _pending, _settled, _reversed, _frozen;

        public void Add(LedgerEntry entry)
        {
            _pending += entry.PendingDelta;
            _settled += entry.SettledDelta;
            _reversed += entry.ReversedDelta;
            _frozen += entry.FrozenDelta;
            _movements.AddRange(entry.Movements ?? []);
        }

        public LedgerEntry Entry() => new(operationId, currency, _pending, _settled, _reversed, _frozen, _movements);
    }

    /// <summary>The sum of what a run of batches adds to each target, from each order's contribution (<see cref="OrderAccounting"/>).</summary>
    private sealed class Round
    {
        private static readonly OrderAccounting Nothing = OrderAccounting.Of(new OrderState());

        /// <summary>The last batch in the round: its position is the round's.</summary>
        public JournalPosition? Position { get; private set; }

        public Dictionary<string, Dictionary<string, LedgerSum>> Creators { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, LinkSaleEntry> Links { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, LiveSaleEntry> Sessions { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, (Dictionary<string, ProductSales> Products, Dictionary<string, CreatorSales> Creators)> Brands { get; } = new(StringComparer.Ordinal);

        public List<ReportCell> Report { get; } = [];

        public void Add(JournalPosition position, IReadOnlyList<OrderDraft> orders)
        {
            Position = position;
            var id = position.ToString();
            foreach (var order in orders)
            {
                var placed = new OrderChange(order.OrderId, $"{order.OrderId}/placed", order.CreatedAt);
                foreach (var effect in OrderAccounting.Difference(Nothing, OrderAccounting.Of(OrderState.Placed(order)), id, order.BrandId, order.Currency, placed))
                {
                    switch (effect.Kind)
                    {
                        case OrderEffectKind.CreatorLedger:
                            AddLedger(effect.TargetId, effect.Ledger!);
                            break;
                        case OrderEffectKind.LinkSales:
                            var sale = effect.LinkSale!;
                            Links[effect.TargetId] = Links.TryGetValue(effect.TargetId, out var link)
                                ? link with { OrdersDelta = link.OrdersDelta + sale.OrdersDelta, UnitsDelta = link.UnitsDelta + sale.UnitsDelta, GmvDelta = link.GmvDelta + sale.GmvDelta, CommissionDelta = link.CommissionDelta + sale.CommissionDelta }
                                : sale;
                            break;
                        case OrderEffectKind.BrandSales:
                            AddSales(effect.TargetId, effect.Sales!);
                            break;
                        case OrderEffectKind.LiveSales:
                            AddLive(effect.TargetId, effect.LiveSale!);
                            break;
                        case OrderEffectKind.Report:
                            Report.AddRange(effect.Report!);
                            break;
                    }
                }
            }
        }

        private void AddLive(string sessionId, LiveSaleEntry entry)
        {
            if (!Sessions.TryGetValue(sessionId, out var sum))
            {
                Sessions[sessionId] = entry;
                return;
            }
            var products = sum.ProductDeltas.Concat(entry.ProductDeltas).GroupBy(p => p.ProductId, StringComparer.Ordinal)
                .Select(g => new ProductSales(g.Key, g.Sum(p => p.Units), g.Sum(p => p.GmvMinor))).ToArray();
            Sessions[sessionId] = sum with
            {
                OrdersDelta = sum.OrdersDelta + entry.OrdersDelta,
                UnitsDelta = sum.UnitsDelta + entry.UnitsDelta,
                GmvDelta = sum.GmvDelta + entry.GmvDelta,
                CommissionDelta = sum.CommissionDelta + entry.CommissionDelta,
                ProductDeltas = products,
            };
        }

        private void AddLedger(string creatorId, LedgerEntry entry)
        {
            if (!Creators.TryGetValue(creatorId, out var byCurrency))
            {
                Creators[creatorId] = byCurrency = new(StringComparer.Ordinal);
            }
            if (!byCurrency.TryGetValue(entry.Currency, out var sum))
            {
                byCurrency[entry.Currency] = sum = new LedgerSum(entry.OperationId, entry.Currency);
            }
            sum.Add(entry);
        }

        private void AddSales(string brandId, SalesEntry entry)
        {
            if (!Brands.TryGetValue(brandId, out var sales))
            {
                Brands[brandId] = sales = (new(StringComparer.Ordinal), new(StringComparer.Ordinal));
            }
            foreach (var p in entry.ProductDeltas)
            {
                sales.Products[p.ProductId] = sales.Products.TryGetValue(p.ProductId, out var sum)
                    ? sum with { Units = sum.Units + p.Units, GmvMinor = sum.GmvMinor + p.GmvMinor }
                    : p;
            }
            foreach (var c in entry.CreatorDeltas)
            {
                sales.Creators[c.CreatorId] = sales.Creators.TryGetValue(c.CreatorId, out var sum)
                    ? sum with { Orders = sum.Orders + c.Orders, Units = sum.Units + c.Units, GmvMinor = sum.GmvMinor + c.GmvMinor, CommissionMinor = sum.CommissionMinor + c.CommissionMinor }
                    : c;
            }
        }
    }
}
