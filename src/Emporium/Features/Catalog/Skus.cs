namespace Emporium.Features.Catalog;

/// <summary>The SKU rule products and variants share: one namespace, so one rule (decision 0016).</summary>
public static class Skus
{
    /// <summary>Why <paramref name="sku"/> (already trimmed) cannot be a SKU, or null when it can.</summary>
    public static string? Problem(string? sku) => sku switch
    {
        null or "" => "sku is required.",
        { Length: > CatalogLimits.SkuLength } => $"sku must be at most {CatalogLimits.SkuLength} characters.",
        _ when sku.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)) => "sku must not contain spaces or control characters.",
        _ => null,
    };
}
