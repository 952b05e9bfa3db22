using System.Text.Json.Serialization;

namespace Emporium.Features.Commerce.Orders;

/// <summary>Body of POST /api/orders (optional): checks out the caller's cart.</summary>
public sealed record CheckoutRequest
{
    [Description("The total the customer was shown, in the cart's currency. When given and the cart now costs something else, nothing " +
        "changes and the answer is 409 with the current total: a price change never charges a customer more than they saw.")]
    public decimal? ExpectedTotal { get; init; }

    [Description("The currency the customer was shown (ISO 4217, any case). When given and the cart's lines are now priced in another, " +
        "nothing changes and the answer is 409 with the current total and currency: send it with expected_total, which alone compares the number only.")]
    // Left out of the idempotency hash when absent, so a request a key was first given for still matches it after an upgrade.
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? ExpectedCurrency { get; init; }
}

/// <summary>An order as clients see it.</summary>
public sealed record OrderResponse(
    [property: Description("The order number.")] long Id,
    OrderStatus Status,
    [property: Description("The customer; null when their account was deleted since.")] long? UserId,
    [property: Description("Where the confirmation went.")] string Email,
    string Currency,
    [property: Description("The sum of the line totals, exact in the currency's decimal places.")] decimal Total,
    [property: Description("Units over all lines.")] int ItemCount,
    [property: Description("The lines as bought, in variant order.")] IReadOnlyList<OrderLineResponse> Lines,
    DateTime CreatedAt,
    DateTime UpdatedAt,
    DateTime? PaidAt,
    DateTime? FulfilledAt,
    DateTime? CancelledAt,
    [property: Description("When the confirmation email was handed to the mail server (or written to the mail folder).")] DateTime? ConfirmationSentAt)
{
    internal static OrderResponse From(Order order) => new(
        order.Id,
        order.Status,
        order.UserId,
        order.Email,
        order.Currency,
        Catalog.Money.Normalize(order.Total, order.Currency),
        order.ItemCount,
        order.Lines.OrderBy(l => l.VariantId).Select(l => OrderLineResponse.From(l, order.Currency)).ToList(),
        order.CreatedAt,
        order.UpdatedAt,
        order.PaidAt,
        order.FulfilledAt,
        order.CancelledAt,
        order.ConfirmationSentAt);
}

/// <summary>A line as it was bought: later catalog changes never touch it.</summary>
public sealed record OrderLineResponse(
    long Id,
    long VariantId,
    long ProductId,
    string Sku,
    [property: Description("The product's name at checkout.")] string Name,
    [property: Description("Attribute slug to value slug at checkout.")] IReadOnlyDictionary<string, string> Attributes,
    decimal UnitPrice,
    int Quantity,
    decimal LineTotal)
{
    internal static OrderLineResponse From(OrderLine line, string currency) => new(
        line.Id,
        line.VariantId,
        line.ProductId,
        line.Sku,
        line.Name,
        JsonSerializer.Deserialize<Dictionary<string, string>>(line.Attributes) ?? [],
        Catalog.Money.Normalize(line.UnitPrice, currency),
        line.Quantity,
        Catalog.Money.Normalize(line.LineTotal, currency));
}

/// <summary>A cart line a checkout could not fill: what was asked for and what was there.</summary>
public sealed record ShortLine(string Sku, int Requested, int Available);

/// <summary>Filters of GET /api/orders.</summary>
public sealed record OrderListQuery(
    [property: Description("Only orders in this status: pending, paid, fulfilled or cancelled.")]
    [FromQuery(Name = "status")] string? Status,
    [property: Description("Staff and admins: one customer's orders. Customers always see only their own.")]
    [FromQuery(Name = "user_id")] long? UserId,
    [property: Description("ISO 8601 instant: orders placed at or after it.")]
    [FromQuery(Name = "created_from")] string? CreatedFrom,
    [property: Description("ISO 8601 instant: orders placed before it.")]
    [FromQuery(Name = "created_to")] string? CreatedTo);
