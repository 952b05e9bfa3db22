using System.ComponentModel.DataAnnotations;

namespace Emporium.Features.Commerce.Carts;

/// <summary>Body of POST /api/cart/items: a variant by id or by SKU, and how many to add.</summary>
public sealed record CartItemRequest
{
    [Description("The variant to add; give this or sku.")]
    public long? VariantId { get; init; }

    [Description("The variant's SKU (any case); give this or variant_id.")]
    public string? Sku { get; init; }

    [Required]
    [Description("Units to add, at least 1. A variant already in the cart gets this many more; a line holds at most Commerce:MaxQuantity (default 100).")]
    public int? Quantity { get; init; }
}

/// <summary>Body of PATCH /api/cart/items/{id}.</summary>
public sealed record CartQuantityRequest
{
    [Required]
    [Description("The line's new quantity, 1 to Commerce:MaxQuantity (default 100); remove a line with DELETE.")]
    public int? Quantity { get; init; }
}

/// <summary>The signed-in user's cart, priced now.</summary>
public sealed record CartResponse(
    IReadOnlyList<CartLineResponse> Items,
    [property: Description("One total per currency in the cart (a checkout needs exactly one).")] IReadOnlyList<MoneyTotal> Totals,
    [property: Description("Units over all lines.")] int ItemCount);

public sealed record CartLineResponse(
    long Id,
    long VariantId,
    long ProductId,
    string Sku,
    [property: Description("The product's name.")] string Name,
    [property: Description("Attribute slug to value slug.")] IReadOnlyDictionary<string, string> Attributes,
    [property: Description("The price of one unit now.")] decimal UnitPrice,
    string Currency,
    int Quantity,
    decimal LineTotal,
    [property: Description("Units a customer could buy now (0 when the variant or its product is no longer sold). Informative: checkout decides.")] int AvailableQuantity,
    [property: Description("Whether the line could be bought in full now.")] bool Available);

public sealed record MoneyTotal(string Currency, decimal Amount);
