using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http.HttpResults;
using Vetrina.Api.Auth;
using Vetrina.Api.Http;
using Vetrina.Api.Pages.Layout;
using Vetrina.Grains.Common;
using Vetrina.Grains.Creators;
using Vetrina.Grains.Orders;
using Vetrina.Grains.Reports;

namespace Vetrina.Api.Pages.Console;

/// <summary>The brand console: products and stock, orders to ship and deliver, sales, flash deals, campaigns.</summary>
public static class BrandConsoleEndpoints
{
    private const int MaxCampaigns = 50;
    private const int MaxListedOrders = 20;

    public static RouteGroupBuilder MapBrandConsole(this RouteGroupBuilder brand)
    {
        brand.MapGet("", BrandHome);
        brand.MapPost("/products/{productId}/stock", ChangeStockAsync);
        brand.MapPost("/orders/{orderId}/{step}", ChangeOrderAsync);
        return brand;
    }

    private static readonly Dictionary<string, string> Done = new(StringComparer.Ordinal)
    {
        ["stock"] = "Stock changed.",
        ["ship"] = "Order marked shipped.",
        ["deliver"] = "Order marked delivered; its return window has started.",
    };

    private static Task<RazorComponentResult> BrandHome(HttpContext context, ClaimsPrincipal user, string? orderId, string? done, [AsParameters] BrandConsoleServices services, CancellationToken cancellationToken) =>
        BrandPageAsync(context, user.BrandId()!, orderId, done is not null && Done.TryGetValue(done, out var notice) ? notice : null, failure: null, services, cancellationToken);

    private static async Task<IResult> ChangeStockAsync(HttpContext context, ClaimsPrincipal user, string productId, [AsParameters] BrandConsoleServices services, CancellationToken cancellationToken)
    {
        var grains = services.Grains;
        var brandId = user.BrandId()!;
        if (!await PageAnswers.IsGenuineFormAsync(context))
        {
            return await BrandPageAsync(context, brandId, null, null, Failure.Invalid("This form was not sent from its page. Reload the page and try again."), services, cancellationToken, StatusCodes.Status400BadRequest);
        }
        var form = await context.Request.ReadFormAsync(cancellationToken);
        if (!int.TryParse(form["delta"], System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var delta) || delta == 0)
        {
            return await BrandPageAsync(context, brandId, null, null, Failure.Invalid("Type a whole number of units to add (or, with a minus, remove)."), services, cancellationToken, StatusCodes.Status400BadRequest);
        }
        var changed = Input.IsProductId(productId)
            ? await grains.GetGrain<Vetrina.Grains.Catalog.IProductGrain>(productId).AdjustStockAsync(brandId, delta)
            : Failure.NotFound($"Product '{productId}'");
        return changed.Failure is { } failure
            ? await BrandPageAsync(context, brandId, null, null, failure, services, cancellationToken)
            : TypedResults.Redirect("/console/brand?done=stock");
    }

    private static async Task<IResult> ChangeOrderAsync(HttpContext context, ClaimsPrincipal user, string orderId, string step, [AsParameters] BrandConsoleServices services, CancellationToken cancellationToken)
    {
        var grains = services.Grains;
        var brandId = user.BrandId()!;
        if (!await PageAnswers.IsGenuineFormAsync(context))
        {
            return await BrandPageAsync(context, brandId, null, null, Failure.Invalid("This form was not sent from its page. Reload the page and try again."), services, cancellationToken, StatusCodes.Status400BadRequest);
        }
        var actor = new Vetrina.Grains.Orders.OrderActor(brandId);
        var order = grains.GetGrain<Vetrina.Grains.Orders.IOrderGrain>(Input.IsOrderId(orderId) ? orderId : IdPrefixes.Order + "0");
        var changed = !Input.IsOrderId(orderId) ? Failure.NotFound($"Order '{orderId}'")
            : step == "ship" ? await order.ShipAsync(actor)
            : step == "deliver" ? await order.DeliverAsync(actor)
            : Failure.NotFound($"Step '{step}'");
        return changed.Failure is { } failure
            ? await BrandPageAsync(context, brandId, Input.IsOrderId(orderId) ? orderId : null, null, failure, services, cancellationToken)
            : TypedResults.Redirect($"/console/brand?orderId={orderId}&done={step}");
    }

    private static async Task<RazorComponentResult> BrandPageAsync(HttpContext context, string brandId, string? orderId, string? notice, Failure? failure,
        BrandConsoleServices services, CancellationToken cancellationToken, int? status = null)
    {
        var (grains, reports, fulfilment, clock) = services;
        var brand = await grains.GetGrain<Vetrina.Grains.Brands.IBrandGrain>(brandId).GetAsync();
        var productIds = await grains.GetGrain<Vetrina.Grains.Brands.IBrandGrain>(brandId).ProductIdsAsync();
        var products = (await Task.WhenAll(productIds.Select(id => grains.GetGrain<Vetrina.Grains.Catalog.IProductGrain>(id).GetAsync()))).OfType<Vetrina.Grains.Catalog.ProductView>().ToList();
        var deals = new List<Vetrina.Grains.Deals.FlashDealView>();
        foreach (var product in products)
        {
            foreach (var deal in (await grains.GetGrain<Vetrina.Grains.Catalog.IProductGrain>(product.ProductId).QuoteAsync())?.Deals ?? [])
            {
                if (await grains.GetGrain<Vetrina.Grains.Deals.IFlashDealGrain>(deal.DealId).GetAsync() is { } view)
                {
                    deals.Add(view);
                }
            }
        }
        var order = orderId is not null && Input.IsOrderId(orderId)
            ? (await grains.GetGrain<Vetrina.Grains.Orders.IOrderGrain>(orderId).GetAsync(new Vetrina.Grains.Orders.OrderActor(brandId))).Value
            : null;
        if (orderId is not null && order is null && failure is null && notice is null)
        {
            failure = Failure.NotFound($"Order '{orderId}' of this brand");
        }
        var currencies = await reports.CurrenciesAsync(brandId, cancellationToken);
        var (period, _) = ReportPeriod.Of(ReportInterval.Day, null, null, clock.UtcNow);
        var report = await reports.ReadAsync(brandId, period!, currencies.Count > 0 ? currencies[0] : null, new Dictionary<string, (string, int)>
        {
            ["channels"] = (ReportDimensions.ChannelPrefix, Enum.GetValues<SalesChannel>().Length),
        }, cancellationToken);
        var toShip = await fulfilment.ListAsync(brandId, FulfilmentStage.ToShip, MaxListedOrders, cancellationToken);
        var toDeliver = await fulfilment.ListAsync(brandId, FulfilmentStage.ToDeliver, MaxListedOrders, cancellationToken);
        var campaigns = new List<Vetrina.Grains.Ads.CampaignView>();
        var shards = await Task.WhenAll(Enumerable.Range(0, Vetrina.Grains.Ads.ICampaignShardGrain.Shards).Select(s => grains.GetGrain<Vetrina.Grains.Ads.ICampaignShardGrain>(s).AllAsync()));
        foreach (var terms in shards.SelectMany(s => s).Where(t => t.BrandId == brandId).OrderByDescending(t => t.CreatedAt).Take(MaxCampaigns))
        {
            if ((await grains.GetGrain<Vetrina.Grains.Ads.ICampaignGrain>(terms.CampaignId).GetAsync(brandId)).Value is { } view)
            {
                campaigns.Add(view);
            }
        }
        var (field, token) = PageAnswers.Antiforgery(context);
        return PageAnswers.Page<BrandConsolePage>(context, new()
        {
            ["Brand"] = brand!,
            ["Products"] = products,
            ["Order"] = order,
            ["ToShip"] = toShip,
            ["ToDeliver"] = toDeliver,
            ["Report"] = report,
            ["Sales"] = await grains.GetGrain<Vetrina.Grains.Sales.IBrandSalesGrain>(brandId).GetReportAsync(),
            ["Deals"] = deals,
            ["Campaigns"] = campaigns,
            ["Notice"] = failure?.Detail ?? notice,
            ["NoticeIsError"] = failure is not null,
            ["AntiforgeryField"] = field,
            ["AntiforgeryToken"] = token,
        }, status ?? (failure is null ? StatusCodes.Status200OK : Problems.From(failure).StatusCode));
    }
}

/// <summary>What the brand console reads: grains, the report projection and the fulfilment book.</summary>
public readonly record struct BrandConsoleServices(IGrainFactory Grains, ReportReader Reports, IFulfilmentBook Fulfilment, CommerceClock Clock);
