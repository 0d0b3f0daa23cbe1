using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Vetrina.Grains.Common;
using Vetrina.Grains.Creators;

namespace Vetrina.Grains.Payouts;

[GenerateSerializer, Alias("vetrina.payout-run-state")]
public sealed class PayoutRunState
{
    [Id(0)] public string? Currency { get; set; }
    [Id(1)] public long MinimumMinor { get; set; }
    [Id(2)] public DateTimeOffset CreatedAt { get; set; }

    /// <summary>The last creator of the last page paid: the run resumes after it.</summary>
    [Id(3)] public string? Cursor { get; set; }
    [Id(4)] public long CreatorsVisited { get; set; }
    [Id(5)] public DateTimeOffset? CompletedAt { get; set; }
}

public sealed class PayoutRunGrain(
    [PersistentState("payout-run", StateStorage.Name)] IPersistentState<PayoutRunState> state,
    ICreatorBooks books,
    CommerceClock clock,
    IOptions<PayoutOptions> options,
    ILogger<PayoutRunGrain> logger) : Grain, IPayoutRunGrain, IRemindable
{
    private const string ResumeReminder = "resume";
    private readonly TaskCompletionSource _finished = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private IGrainTimer? _pages;

    private PayoutRunState S => state.State;
    private string RunId => this.GetPrimaryKeyString();

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (S.CompletedAt is not null)
        {
            _finished.TrySetResult();
        }
        return Task.CompletedTask;
    }

    public async Task<Outcome<PayoutRunView>> StartAsync(string currency, long minimumMinor)
    {
        if (S.Currency is null)
        {
            S.Currency = currency;
            S.MinimumMinor = minimumMinor;
            S.CreatedAt = clock.UtcNow;
            // The reminder exists before the run does, so that no crash leaves a started run without one.
            await state.SaveAsync(this, () => this.RegisterOrUpdateReminder(ResumeReminder, options.Value.ResumeInterval, options.Value.ResumeInterval));
        }
        else if (S.Currency != currency || S.MinimumMinor != minimumMinor)
        {
            return Failure.Conflict("This Idempotency-Key started a payout run with other terms.");
        }
        Resume();
        return Outcome<PayoutRunView>.Ok(View());
    }

    public async Task<PayoutRunView?> WaitAsync(TimeSpan within)
    {
        if (S.Currency is null)
        {
            DeactivateOnIdle();
            return null;
        }
        try
        {
            // Real time, not the commerce clock: this is how long a caller waits, not a business rule.
            await _finished.Task.WaitAsync(within);
        }
        catch (TimeoutException)
        {
        }
        return View();
    }

    public async Task<PayoutRunResult?> GetResultAsync()
    {
        if (S.CompletedAt is null)
        {
            // An unknown run is let go by WaitAsync, which the route asks next: deactivating here raced that call.
            return null;
        }
        return new PayoutRunResult(View(), await books.RunPayoutsAsync(RunId));
    }

    public Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName == ResumeReminder)
        {
            Resume();
        }
        return Task.CompletedTask;
    }

    /// <summary>Pays page after page on a grain timer (one tick for the whole run), so calls that read progress are answered meanwhile.</summary>
    private void Resume()
    {
        if (S.Currency is null || S.CompletedAt is not null || _pages is not null)
        {
            return;
        }
        _pages = this.RegisterGrainTimer(PayPagesAsync, new GrainTimerCreationOptions(TimeSpan.Zero, Timeout.InfiniteTimeSpan)
        {
            Interleave = true,
            KeepAlive = true,
        });
    }

    private async Task PayPagesAsync(CancellationToken cancellationToken)
    {
        try
        {
            var order = new PayoutOrder(RunId, S.Currency!, S.MinimumMinor, S.CreatedAt);
            while (S.CompletedAt is null)
            {
                var page = await books.CreatorsAsync(S.Currency!, S.Cursor, options.Value.PageSize, cancellationToken);
                if (page.Count == 0)
                {
                    S.CompletedAt = clock.UtcNow;
                    await state.SaveAsync(this);
                    break;
                }
                foreach (var chunk in page.Chunk(Math.Max(1, options.Value.Parallelism)))
                {
                    await Task.WhenAll(chunk.Select(creatorId => GrainFactory.GetGrain<ICreatorGrain>(creatorId).PayOutAsync(order)));
                }
                S.Cursor = page[^1];
                S.CreatorsVisited += page.Count;
                await state.SaveAsync(this);
                if (options.Value.PagePause > TimeSpan.Zero)
                {
                    await Task.Delay(options.Value.PagePause, cancellationToken);
                }
            }
            _finished.TrySetResult();
            if (await this.GetReminder(ResumeReminder, CancellationToken.None) is { } reminder)
            {
                await this.UnregisterReminder(reminder, CancellationToken.None);
            }
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            // The reminder resumes the run from its last durable page; creators of this page that were paid answer
            // the same payout then.
            logger.PayoutRunStopped(exception, RunId);
        }
        finally
        {
            _pages?.Dispose();
            _pages = null;
        }
    }

    private PayoutRunView View() =>
        new(RunId, S.Currency!, S.MinimumMinor, S.CreatedAt, S.CompletedAt is not null, S.CreatorsVisited, S.CompletedAt);
}

internal static partial class PayoutRunLog
{
    [LoggerMessage(EventId = 6001, Level = LogLevel.Warning, Message = "Payout run {RunId} stopped; its reminder resumes it")]
    public static partial void PayoutRunStopped(this ILogger logger, Exception exception, string runId);
}
