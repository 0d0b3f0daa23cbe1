using Microsoft.Extensions.Options;
using Vetrina.Grains.Catalog;
using Vetrina.Grains.Common;
using Vetrina.Grains.Links;
using Vetrina.Grains.Orders;
using Vetrina.Grains.Payments;

namespace Vetrina.Grains.Checkout;

public enum CheckoutStage
{
    /// <summary>Nothing durable yet: holds may exist but no money moved, so undoing is always safe.</summary>
    New = 0,

    /// <summary>Written before the charge: from here the checkout can only go forward (the charge is idempotent).</summary>
    Paying = 1,
    Completed = 2,
    Failed = 3,
}

[GenerateSerializer, Alias("vetrina.checkout-state")]
public sealed class CheckoutState
{
    [Id(0)] public CheckoutStage Stage { get; set; }
    [Id(1)] public string? PaymentToken { get; set; }
    [Id(2)] public List<string> ProductIds { get; set; } = [];
    [Id(3)] public List<OrderDraft> Orders { get; set; } = [];
    [Id(4)] public CheckoutReceipt? Receipt { get; set; }
    [Id(5)] public Failure? Failure { get; set; }
}

public sealed class CheckoutGrain(
    [PersistentState("checkout", StateStorage.Name)] IPersistentState<CheckoutState> state,
    CommerceClock clock,
    IPaymentGateway payments,
    IOptions<CheckoutOptions> options) : Grain, ICheckoutGrain
{
    private CheckoutState S => state.State;
    private string CheckoutId => this.GetPrimaryKeyString();

    // For metrics only: a checkout finished by a product's hold sweep, not by a request, is "recovered".
    private string _kind = "recovered";

    public async Task<Outcome<CheckoutReceipt>> RunAsync(CheckoutRequest request)
    {
        _kind = request.BuyLinkCode is null ? "cart" : "buy";
        return S.Stage switch
        {
            CheckoutStage.Completed => Outcome<CheckoutReceipt>.Ok(S.Receipt!),
            CheckoutStage.Failed => S.Failure!,
            CheckoutStage.Paying => await PayAndPlaceAsync(),
            _ => await StartAsync(request),
        };
    }

    public async Task ResolveAsync(string productId)
    {
        var product = GrainFactory.GetGrain<IProductGrain>(productId);
        // From Paying on, the product list is durable and is all this checkout charges for. A hold on any other
        // product was left by an earlier attempt with another cart and must go back to stock, never be sold.
        var charged = S.ProductIds.Contains(productId, StringComparer.Ordinal);
        switch (S.Stage)
        {
            case CheckoutStage.Paying when charged:
                await PayAndPlaceAsync();
                break;
            case CheckoutStage.Completed when charged:
                await product.ConfirmAsync(CheckoutId);
                await product.ForgetAsync(CheckoutId);
                break;
            default:
                await product.ReleaseAsync(CheckoutId);
                break;
        }
    }

    private async Task<Outcome<CheckoutReceipt>> StartAsync(CheckoutRequest request)
    {
        var items = request.Items;
        if (request.BuyLinkCode is not null)
        {
            var click = await GrainFactory.GetGrain<IClickTallyGrain>(0).CountAsync(request.BuyLinkCode, request.ShopperId);
            if (!click.Succeeded)
            {
                VetrinaMetrics.CheckoutDecided(_kind, click.Failure);
                return click.Failure!;
            }
            items = [new CheckoutItem(click.Value!.ProductId, request.BuyQuantity, click.Value)];
        }
        if (ItemsError(items) is { } invalid)
        {
            return await FailAsync(Failure.Invalid(invalid));
        }

        var now = clock.UtcNow;
        var expiresAt = now + options.Value.ReservationTimeout;
        var holds = await Task.WhenAll(items.Select(i => GrainFactory.GetGrain<IProductGrain>(i.ProductId).HoldAsync(CheckoutId, i.Quantity, expiresAt)));
        S.ProductIds = items.Select(i => i.ProductId).ToList();
        if (holds.FirstOrDefault(h => !h.Succeeded) is { } refused)
        {
            await ReleaseHoldsAsync();
            return await FailAsync(refused.Failure!);
        }
        var quotes = holds.Select(h => h.Value!).ToArray();
        if (quotes.Select(q => q.Currency).Distinct().Count() > 1)
        {
            await ReleaseHoldsAsync();
            return await FailAsync(Failure.Invalid("All products of one checkout must be priced in the same currency."));
        }

        S.Orders = items.Zip(quotes)
            .GroupBy(pair => pair.Second.BrandId, StringComparer.Ordinal)
            .Select(brand => new OrderDraft(
                Identifiers.Derived(IdPrefixes.Order, CheckoutId, brand.Key), CheckoutId, request.ShopperId, brand.Key,
                quotes[0].Currency, PaymentId: "", now, brand.First().Second.Terms.ReturnWindowDays,
                brand.Select(pair => Line(pair.First, pair.Second, request.ShopperId, now)).ToArray()))
            .ToList();
        S.PaymentToken = request.PaymentToken;
        S.Stage = CheckoutStage.Paying;
        await state.SaveAsync(this);
        return await PayAndPlaceAsync();
    }

    private async Task<Outcome<CheckoutReceipt>> PayAndPlaceAsync()
    {
        var total = S.Orders.Sum(o => o.TotalMinor);
        var payment = await payments.ChargeAsync(CheckoutId, total, S.Orders[0].Currency, S.PaymentToken);
        if (!payment.Approved)
        {
            await ReleaseHoldsAsync();
            return await FailAsync(new Failure(FailureKind.PaymentDeclined, "Payment declined", payment.DeclineReason ?? "The payment was declined."));
        }
        var orders = await Task.WhenAll(S.Orders.Select(o =>
            GrainFactory.GetGrain<IOrderGrain>(o.OrderId).PlaceAsync(o with { PaymentId = payment.PaymentId! })));
        S.Receipt = new CheckoutReceipt(CheckoutId, orders);
        S.Stage = CheckoutStage.Completed;
        S.PaymentToken = null;
        // The confirmations and the Completed write go together, as either may land without the other: a hold left
        // unconfirmed is swept to ResolveAsync, which confirms it for a Completed checkout; a checkout still Paying
        // in storage is swept through its confirmed hold (kept until the Forget below) and places and completes again.
        await Task.WhenAll(S.ProductIds
            .Select(p => GrainFactory.GetGrain<IProductGrain>(p).ConfirmAsync(CheckoutId))
            .Append(state.SaveAsync(this)));
        VetrinaMetrics.CheckoutDecided(_kind, failure: null);
        foreach (var productId in S.ProductIds)
        {
            GrainFactory.GetGrain<IProductGrain>(productId).ForgetAsync(CheckoutId).Ignore();
        }
        return Outcome<CheckoutReceipt>.Ok(S.Receipt);
    }

    private static OrderLine Line(CheckoutItem item, ProductQuote quote, string shopperId, DateTimeOffset now)
    {
        // Direct attribution only: the click must be on a link for this very product, inside its window, by someone else.
        var click = item.Click;
        return click is not null && click.ProductId == item.ProductId && click.Attributes(shopperId, now)
            ? new OrderLine(item.ProductId, item.Quantity, quote.UnitPriceMinor, click.Code, click.CreatorId, quote.CommissionBps)
            : new OrderLine(item.ProductId, item.Quantity, quote.UnitPriceMinor, null, null, null);
    }

    private static string? ItemsError(IReadOnlyList<CheckoutItem> items) =>
        items.Count == 0 ? "The cart is empty."
        : items.Count > CheckoutIds.MaxLines ? $"A checkout holds at most {CheckoutIds.MaxLines} lines."
        : items.Any(i => i.Quantity is <= 0 or > CheckoutIds.MaxQuantity) ? $"Each quantity must be between 1 and {CheckoutIds.MaxQuantity}."
        : items.Select(i => i.ProductId).Distinct(StringComparer.Ordinal).Count() != items.Count ? "Each product may appear once."
        : null;

    private Task ReleaseHoldsAsync() =>
        Task.WhenAll(S.ProductIds.Select(p => GrainFactory.GetGrain<IProductGrain>(p).ReleaseAsync(CheckoutId)));

    private async Task<Outcome<CheckoutReceipt>> FailAsync(Failure failure)
    {
        S.Stage = CheckoutStage.Failed;
        S.Failure = failure;
        S.PaymentToken = null;
        await state.SaveAsync(this);
        VetrinaMetrics.CheckoutDecided(_kind, failure);
        return failure;
    }
}
