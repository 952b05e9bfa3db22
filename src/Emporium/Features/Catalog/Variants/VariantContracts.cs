using System.ComponentModel.DataAnnotations;

namespace Emporium.Features.Catalog.Variants;

/// <summary>Body of POST /api/products/{ref}/variants, and the shape a PATCH of a variant is merged into.</summary>
public sealed record VariantRequest
{
    [Required]
    [Description("Stock keeping unit, unique regardless of case across every product and variant; kept as entered (surrounding spaces removed).")]
    public string? Sku { get; init; }

    [Description("The variant's own price in the product's currency, >= 0 with at most the currency's decimal places; absent or null sells at the product's price.")]
    public decimal? Price { get; init; }

    [Description("Attribute slug to value slug, e.g. {\"size\": \"m\", \"color\": \"red\"}: at most 10, one value per attribute. " +
        "The combination is unique among the product's live variants. A PATCH that names attributes replaces the whole combination.")]
    public IReadOnlyDictionary<string, string>? Attributes { get; init; }

    [Description("Units on hand to start with (POST only, default 0), recorded as a stock movement; later changes go through the stock endpoints.")]
    public int? Stock { get; init; }
}

/// <summary>A variant as clients see it.</summary>
public sealed record VariantResponse(
    long Id,
    long ProductId,
    string Sku,
    [property: Description("What one unit sells for: the variant's own price, or the product's.")] decimal Price,
    [property: Description("The variant's own price, or null when it sells at the product's price.")] decimal? PriceOverride,
    string Currency,
    [property: Description("Attribute slug to value slug; empty for a default variant that has none.")] IReadOnlyDictionary<string, string> Attributes,
    [property: Description("Units in stock (never negative).")] int OnHand,
    [property: Description("Whether a customer can buy it now: in stock, not deleted, and its product active and not deleted. Informative; checkout decides.")] bool Available,
    [property: Description("The variant created with the product; it holds the product's SKU and cannot be deleted.")] bool IsDefault,
    DateTime CreatedAt,
    DateTime UpdatedAt,
    [property: Description("Set when the variant is soft-deleted.")] DateTime? DeletedAt);

/// <summary>Body of PUT /api/variants/{id}/stock: the level counted on the shelf.</summary>
public sealed record StockLevelRequest
{
    [Description("The new number of units on hand, available to sell, 0 to 1,000,000,000. Give on_hand or counted, not both.")]
    public int? OnHand { get; init; }

    [Description("Units counted on the shelf, 0 to 1,000,000,000: on_hand becomes this less the units of orders pending or paid, " +
        "sold but still on the shelf until fulfilled (409 when fewer were counted than those). Give on_hand or counted, not both.")]
    public int? Counted { get; init; }

    [Required]
    [Description("Why the level changed (\"stock count\", \"delivery 4711\"), 1-200 characters; kept in the movement.")]
    public string? Reason { get; init; }
}

/// <summary>Body of POST /api/variants/{id}/stock/adjustments: units added (a delivery) or removed (breakage).</summary>
public sealed record StockAdjustmentRequest
{
    [Required]
    [Description("Units to add (positive) or remove (negative); not 0. Stock never goes below 0: a removal of more than is on hand is 409.")]
    public int? Delta { get; init; }

    [Required]
    [Description("Why, 1-200 characters; kept in the movement.")]
    public string? Reason { get; init; }
}

/// <summary>One recorded change of a variant's stock.</summary>
public sealed record StockMovementResponse(
    long Id,
    long VariantId,
    [property: Description("Units added (positive) or removed (negative).")] int Delta,
    [property: Description("The level right after the change.")] int OnHand,
    string Reason,
    [property: Description("Who made the change; null for a change made by the system or by a user since deleted.")] long? UserId,
    [property: Description("The order that sold or returned the units, if any.")] long? OrderId,
    DateTime CreatedAt)
{
    internal static StockMovementResponse From(StockMovement movement) => new(
        movement.Id, movement.VariantId, movement.Delta, movement.OnHand, movement.Reason, movement.UserId, movement.OrderId, movement.CreatedAt);
}

/// <summary>The answer to a stock change: the level now, and the movement that recorded it (none when the level was already that).</summary>
public sealed record StockResponse(long VariantId, string Sku, int OnHand, StockMovementResponse? Movement);

/// <summary>Data of the stock.changed event.</summary>
public sealed record StockChanged(long VariantId, long ProductId, string Sku, int OnHand, int Delta, string Reason, long? OrderId);
