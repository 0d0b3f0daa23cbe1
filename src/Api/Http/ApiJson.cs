using System.Text.Json;
using System.Text.Json.Serialization;
using Vetrina.Api.Endpoints;
using Vetrina.Grains.Carts;
using Vetrina.Grains.Catalog;
using Vetrina.Grains.Checkout;
using Vetrina.Grains.Links;
using Vetrina.Grains.Orders;

namespace Vetrina.Api.Http;

/// <summary>
/// Serialization code generated at build time for what the busiest routes read and write (buy, click, cart,
/// product, order), first in the resolver chain; other types fall back to reflection. The options of the
/// application (enum names, nulls left out, strict numbers) still apply.
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(BuyRequest))]
[JsonSerializable(typeof(ClickRequest))]
[JsonSerializable(typeof(ClickResponse))]
[JsonSerializable(typeof(CheckoutBody))]
[JsonSerializable(typeof(SetQuantityRequest))]
[JsonSerializable(typeof(OrderView))]
[JsonSerializable(typeof(CheckoutReceipt))]
[JsonSerializable(typeof(CartView))]
[JsonSerializable(typeof(ProductView))]
[JsonSerializable(typeof(LinkView))]
internal sealed partial class ApiJson : JsonSerializerContext;
