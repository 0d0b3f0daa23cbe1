using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Vetrina.Grains.Common;

namespace Vetrina.Grains.Links;

/// <summary>
/// Where a silo takes clicks: no grain call and no activation per click. The link's terms come from
/// <see cref="ClickTally"/>'s cache, the click is written to the <see cref="IClickJournal"/> with every other click
/// that arrived while the previous write was in flight (one write per batch, answered after it lands, so a checkout
/// on any silo sees the click once it is answered), and only then is it counted in the link's tally.
/// </summary>
public sealed partial class ClickDesk(
    ClickTally tally,
    IClickJournal journal,
    CommerceClock clock,
    IOptions<ClickOptions> options,
    ILogger<ClickDesk> logger) : BackgroundService
{
    private readonly Lock _lock = new();
    private List<ShopperClick> _pending = [];
    private TaskCompletionSource? _pendingWritten;
    private bool _writing;

    /// <summary>Records a shopper's click on a link: what it attributes, and until when.</summary>
    public async Task<Outcome<Click>> ClickAsync(string code, string shopperId)
    {
        var click = await tally.ClickAsync(code);
        if (click.Value is not { } recorded)
        {
            return click;
        }
        try
        {
            await WrittenAsync(new ShopperClick(shopperId, recorded));
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            LogClickWriteFailed(exception);
            return new Failure(FailureKind.Unavailable, "Click unavailable", "The click could not be recorded; send it again.");
        }
        tally.Count(code, shopperId);
        return click;
    }

    /// <summary>Records a click that was decided elsewhere (an ad's), answered once the click journal has it.</summary>
    public Task RecordAsync(ShopperClick click) => WrittenAsync(click);

    /// <summary>The shopper's clicks that attribute each of these products now (the latest per product).</summary>
    public Task<IReadOnlyDictionary<string, Click>> AttributionAsync(string shopperId, IReadOnlyCollection<string> productIds) =>
        productIds.Count == 0
            ? Task.FromResult<IReadOnlyDictionary<string, Click>>(new Dictionary<string, Click>())
            : journal.LatestAsync(shopperId, productIds, clock.UtcNow);

    private Task WrittenAsync(ShopperClick click)
    {
        Task written;
        lock (_lock)
        {
            _pending.Add(click);
            _pendingWritten ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            written = _pendingWritten.Task;
            if (_writing)
            {
                return written;
            }
            _writing = true;
        }
        _ = WriteAsync();
        return written;
    }

    private async Task WriteAsync()
    {
        while (true)
        {
            List<ShopperClick> batch;
            TaskCompletionSource written;
            lock (_lock)
            {
                if (_pending.Count == 0)
                {
                    _writing = false;
                    return;
                }
                (batch, _pending) = (_pending, []);
                written = _pendingWritten!;
                _pendingWritten = null;
            }
            try
            {
                await journal.RecordAsync(Latest(batch));
                written.SetResult();
            }
            catch (Exception exception)
            {
                written.SetException(exception);
            }
        }
    }

    /// <summary>One row per shopper and product in a write (a database upsert may touch a row only once).</summary>
    private static List<ShopperClick> Latest(List<ShopperClick> batch)
    {
        if (batch.Count == 1)
        {
            return batch;
        }
        var latest = new Dictionary<(string, string), ShopperClick>(batch.Count);
        foreach (var click in batch)
        {
            var key = (click.ShopperId, click.Click.ProductId);
            if (!latest.TryGetValue(key, out var kept) || kept.Click.ClickedAt <= click.Click.ClickedAt)
            {
                latest[key] = click;
            }
        }
        return latest.Count == batch.Count ? batch : [.. latest.Values];
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.ForgetExpiredInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    var forgotten = await journal.ForgetExpiredAsync(clock.UtcNow, stoppingToken);
                    if (forgotten > 0)
                    {
                        LogForgotten(forgotten);
                    }
                }
                catch (Exception exception) when (exception is not OperationCanceledException)
                {
                    LogForgetFailed(exception);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "A batch of clicks could not be written to the click journal; they were answered 503")]
    private partial void LogClickWriteFailed(Exception exception);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Forgot {Count} clicks whose attribution window ended")]
    private partial void LogForgotten(int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Expired clicks could not be forgotten; the next round tries again")]
    private partial void LogForgetFailed(Exception exception);
}
