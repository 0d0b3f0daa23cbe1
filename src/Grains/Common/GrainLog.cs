using Microsoft.Extensions.Logging;

namespace Vetrina.Grains.Common;

internal static partial class GrainLog
{
    [LoggerMessage(EventId = 1001, Level = LogLevel.Error, Message = "Checkout {CheckoutId} asked to release a confirmed hold on {ProductId}; ignored")]
    public static partial void ReleaseOfConfirmedHold(this ILogger logger, string checkoutId, string productId);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Warning, Message = "Order {OrderId} could not deliver its effects; retrying later")]
    public static partial void EffectsDeferred(this ILogger logger, Exception exception, string orderId);
}
