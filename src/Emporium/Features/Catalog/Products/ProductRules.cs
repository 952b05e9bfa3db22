namespace Emporium.Features.Catalog.Products;

/// <summary>Field rules for a product body, checked the same way for POST, PUT and PATCH.</summary>
internal static class ProductRules
{
    public const int MaxCategories = 100;

    /// <summary>
    /// The one text rule the API and the importer share, so that exporting and importing again changes nothing: SKU and
    /// name lose surrounding whitespace (spaces, tabs, line breaks), and an empty description is no description. Everything
    /// else is kept exactly as sent.
    /// </summary>
    public static ProductRequest Normalize(ProductRequest request) => request with
    {
        Sku = request.Sku?.Trim(),
        Name = request.Name?.Trim(),
        Description = request.Description is { Length: 0 } ? null : request.Description,
    };

    /// <summary>Checks the fields that need no database; the caller then resolves brand and categories.</summary>
    public static void Check(ProductRequest request, ValidationErrors errors)
    {
        if (Skus.Problem(request.Sku) is { } skuProblem)
        {
            errors.Add("sku", skuProblem);
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

        var currency = request.Currency ?? Money.DefaultCurrency;
        var currencyProblem = Money.CurrencyProblem(currency);
        if (currencyProblem is not null)
        {
            errors.Add("currency", currencyProblem);
        }

        if (request.Price is not { } price)
        {
            errors.Add("price", "price is required.");
        }
        else if (Money.Problem(price, currency, "price") is { } priceProblem)
        {
            errors.Add("price", priceProblem);
        }

        errors.When(request.Categories is { Count: > MaxCategories }, "categories",
            $"a product may be in at most {MaxCategories} categories.");
    }
}
