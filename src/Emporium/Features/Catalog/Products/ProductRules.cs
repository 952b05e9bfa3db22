using System.Text.RegularExpressions;
using Emporium.Platform.Problems;

namespace Emporium.Features.Catalog.Products;

/// <summary>Field rules for a product body, checked the same way for POST, PUT and PATCH.</summary>
internal static partial class ProductRules
{
    public const decimal MaxPrice = 99_999_999_999_999m;
    public const int PriceDecimals = 4;
    public const int MaxCategories = 100;
    public const string DefaultCurrency = "USD";

    /// <summary>Checks the fields that need no database; the caller then resolves brand and categories.</summary>
    public static void Check(ProductRequest request, ValidationErrors errors)
    {
        if (string.IsNullOrEmpty(request.Sku))
        {
            errors.Add("sku", "sku is required.");
        }
        else
        {
            errors.When(request.Sku.Length > CatalogLimits.SkuLength, "sku", $"sku must be at most {CatalogLimits.SkuLength} characters.");
            errors.When(request.Sku.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)), "sku",
                "sku must not contain spaces or control characters.");
        }

        if (string.IsNullOrWhiteSpace(request.Name))
        {
            errors.Add("name", "name is required.");
        }
        else
        {
            errors.When(request.Name.Length > CatalogLimits.NameLength, "name", $"name must be at most {CatalogLimits.NameLength} characters.");
        }

        errors.When(request.Description is { Length: > CatalogLimits.DescriptionLength }, "description",
            $"description must be at most {CatalogLimits.DescriptionLength:N0} characters.");

        if (request.Slug is { } slug && Slugs.Problem(slug) is { } slugProblem)
        {
            errors.Add("slug", slugProblem);
        }

        if (request.Price is not { } price)
        {
            errors.Add("price", "price is required.");
        }
        else
        {
            errors.When(price < 0, "price", "price must be 0 or more.");
            errors.When(price > MaxPrice, "price", $"price must be at most {MaxPrice:N0}.");
            errors.When(decimal.Round(price, PriceDecimals) != price, "price", $"price may have at most {PriceDecimals} decimal places.");
        }

        errors.When(request.Currency is { } currency && !CurrencyCode().IsMatch(currency), "currency",
            "currency must be a 3-letter upper-case ISO 4217 code such as USD.");
        errors.When(request.Categories is { Count: > MaxCategories }, "categories",
            $"a product may be in at most {MaxCategories} categories.");
    }

    [GeneratedRegex("^[A-Z]{3}$")]
    private static partial Regex CurrencyCode();
}
