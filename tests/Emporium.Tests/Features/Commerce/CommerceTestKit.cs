using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Emporium.Tests.Infrastructure;

namespace Emporium.Tests.Features.Commerce;

/// <summary>A product for sale with a stock of its own, and the steps of buying it.</summary>
internal static class CommerceTestKit
{
    public sealed record ForSale(long ProductId, long VariantId, string Sku);

    public static async Task<ForSale> ProductForSaleAsync(this HttpClient staff, decimal price, int stock, string currency = "USD", bool active = true)
    {
        var sku = $"BUY-{Guid.NewGuid():N}"[..24];
        var product = await (await staff.PostJson("/api/products", new { sku, name = $"For sale {sku}", price, currency, is_active = active }))
            .ShouldBe(HttpStatusCode.Created);
        var variantId = product.GetProperty("variants")[0].GetProperty("id").GetInt64();
        if (stock > 0)
        {
            await (await staff.PutJson($"/api/variants/{variantId}/stock", new { on_hand = stock, reason = "test stock" })).ShouldBe(HttpStatusCode.OK);
        }

        return new ForSale(product.GetProperty("id").GetInt64(), variantId, sku);
    }

    public static async Task<JsonElement> AddToCartAsync(this HttpClient customer, long variantId, int quantity) =>
        await (await customer.PostJson("/api/cart/items", new { variant_id = variantId, quantity })).ShouldBe(HttpStatusCode.OK);

    public static Task<HttpResponseMessage> CheckoutAsync(this HttpClient customer, string? idempotencyKey = null, object? body = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/orders") { Content = JsonContent.Create(body ?? new { }) };
        if (idempotencyKey is not null)
        {
            request.Headers.TryAddWithoutValidation("Idempotency-Key", idempotencyKey);
        }

        return customer.SendAsync(request);
    }

    /// <summary>Puts <paramref name="quantity"/> units in the cart and checks out; the new order's id.</summary>
    public static async Task<long> PlaceOrderAsync(this HttpClient customer, long variantId, int quantity)
    {
        await customer.AddToCartAsync(variantId, quantity);
        return (await (await customer.CheckoutAsync()).ShouldBe(HttpStatusCode.Created)).GetProperty("id").GetInt64();
    }

    public static async Task<int> OnHandAsync(this EmporiumApp app, long variantId) =>
        await app.WithDbAsync(db => db.Set<Emporium.Features.Catalog.Variants.Variant>().Where(v => v.Id == variantId).Select(v => v.OnHand).FirstAsync());
}
