using Microsoft.Extensions.Logging;

namespace Vetrina.Grains.Common;

public static partial class GrainLog
{
    [LoggerMessage(EventId = 1002, Level = LogLevel.Warning, Message = "Order {OrderId} could not deliver its effects; retrying later")]
    public static partial void EffectsDeferred(this ILogger logger, Exception exception, string orderId);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Warning, Message = "A journal projection did not reach its target; retrying")]
    public static partial void ProjectionDeferred(this ILogger logger, Exception exception);

    [LoggerMessage(EventId = 1004, Level = LogLevel.Warning, Message = "The journal refused a window of {Count} checkouts as it would oversell {ProductId}; committing them one by one")]
    public static partial void WindowOversold(this ILogger logger, int count, string productId);

    [LoggerMessage(EventId = 1005, Level = LogLevel.Error, Message = "A commit window of {Count} checkouts failed; its outcome is unknown until a retry or the products' next read")]
    public static partial void WindowFailed(this ILogger logger, Exception exception, int count);

    [LoggerMessage(EventId = 1006, Level = LogLevel.Warning, Message = "Took over journal writer {WriterId}, whose silo stopped marking it, and projected its {Batches} unprojected batches")]
    public static partial void WriterTakenOver(this ILogger logger, string writerId, int batches);

    [LoggerMessage(EventId = 1007, Level = LogLevel.Warning, Message = "Voided {Count} charges whose checkouts never reached the journal")]
    public static partial void AbandonedChargesVoided(this ILogger logger, int count);

    [LoggerMessage(EventId = 1008, Level = LogLevel.Warning, Message = "Could not look for abandoned charges; trying again later")]
    public static partial void AbandonedChargesDeferred(this ILogger logger, Exception exception);

    [LoggerMessage(EventId = 1009, Level = LogLevel.Warning, Message = "A checkout step ({Step}) failed for {Count} checkouts; they answer 503, or the step is left to the stale-reservation sweep or the charge reconciler")]
    public static partial void CheckoutStepDeferred(this ILogger logger, Exception exception, string step, int count);
}
