using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Vetrina.Grains.Common;

namespace Vetrina.Grains.Checkout;

/// <summary>Each silo, now and then, voids charges whose checkouts never reached the journal (see <see cref="CheckoutDesk.VoidAbandonedChargesAsync"/>).</summary>
public sealed class AbandonedCharges(CheckoutDesk desk, CommerceClock clock, IOptions<CheckoutOptions> options, ILogger<AbandonedCharges> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.AbandonedChargeCheckInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    if (await desk.VoidAbandonedChargesAsync(clock.UtcNow - options.Value.AbandonedChargeAfter, stoppingToken) is > 0 and var voided)
                    {
                        logger.AbandonedChargesVoided(voided);
                    }
                }
                catch (Exception exception) when (exception is not OperationCanceledException)
                {
                    logger.AbandonedChargesDeferred(exception);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
