using Emporium.Features.Catalog;
using Emporium.Features.Catalog.Products;
using Emporium.Features.Catalog.Variants;

namespace Emporium.Features.Import;

/// <summary>The header of an import file: where each known column is, and which columns are unknown.</summary>
public sealed class ImportHeader
{
    public static readonly string[] Known = ["sku", "name", "description", "price", "currency", "active", "brand", "categories", "product_sku", "stock"];

    /// <summary>The prefix of a variant's attribute column: attribute:size holds the value slug of the attribute size.</summary>
    public const string AttributePrefix = "attribute:";

    private ImportHeader(int fieldCount, Dictionary<string, int> positions, List<string> unknown)
    {
        FieldCount = fieldCount;
        Positions = positions;
        Unknown = unknown;
        Columns = new ImportColumns(
            positions.ContainsKey("description"),
            positions.ContainsKey("price"),
            positions.ContainsKey("currency"),
            positions.ContainsKey("active"),
            positions.ContainsKey("brand"),
            positions.ContainsKey("categories"))
        {
            ProductSku = positions.ContainsKey("product_sku"),
            Stock = positions.ContainsKey("stock"),
            Attributes = positions.Keys.Where(name => name.StartsWith(AttributePrefix, StringComparison.Ordinal))
                .Select(name => name[AttributePrefix.Length..]).Order(StringComparer.Ordinal).ToList(),
        };
    }

    public int FieldCount { get; }

    public IReadOnlyDictionary<string, int> Positions { get; }

    public IReadOnlyList<string> Unknown { get; }

    public ImportColumns Columns { get; }

    /// <summary>The header, or the file-level error that makes the file unusable.</summary>
    public static (ImportHeader? Header, string? Error) Parse(CsvRecord record)
    {
        if (record.Error is not null)
        {
            return (null, $"The header row cannot be read: {record.Error}");
        }

        var positions = new Dictionary<string, int>(StringComparer.Ordinal);
        var unknown = new List<string>();
        for (var i = 0; i < record.Fields.Length; i++)
        {
            var name = record.Fields[i].Trim().ToLowerInvariant();
            if (name.StartsWith(AttributePrefix, StringComparison.Ordinal) && Slugs.Problem(name[AttributePrefix.Length..]) is { } slugProblem)
            {
                return (null, $"The column '{record.Fields[i]}' must name an attribute by its slug, as in attribute:size ({slugProblem}).");
            }

            if (!Known.Contains(name) && !name.StartsWith(AttributePrefix, StringComparison.Ordinal))
            {
                unknown.Add(record.Fields[i]);
            }
            else if (!positions.TryAdd(name, i))
            {
                return (null, $"The header names the column '{name}' twice.");
            }
        }

        var missing = new[] { "sku", "name" }.Where(required => !positions.ContainsKey(required)).ToList();
        if (missing.Count > 0)
        {
            return (null,
                $"The header lacks the required column(s) {string.Join(" and ", missing)}; the first row must name the columns, " +
                $"e.g. sku,name,description,price,currency,active,brand,categories (found: {string.Join(",", record.Fields)}).");
        }

        return (new ImportHeader(record.Fields.Length, positions, unknown), null);
    }

    /// <summary>The known column at <paramref name="index"/>, or null for an unknown one.</summary>
    public string? ColumnAt(int index) => Positions.FirstOrDefault(pair => pair.Value == index).Key;

    public string? Field(CsvRecord record, string column) =>
        Positions.TryGetValue(column, out var index) ? CsvCells.Unneutralise(record.Fields[index]) : null;
}

/// <summary>
/// Known categories for rows that name them: by slug as written (what the export writes), then by name and by slug in any
/// case. A slug as written names its own category even where it is also another category's name in lower case; a name
/// shared by two categories (in different branches) cannot pick one, and is -1.
/// </summary>
public sealed class CategoryLookup
{
    private readonly Dictionary<string, long> _bySlug = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _byName = new(StringComparer.Ordinal);

    public CategoryLookup(IEnumerable<(long Id, string Name, string Slug)> categories)
    {
        foreach (var (id, name, slug) in categories)
        {
            _bySlug[slug] = id;
            var key = name.Trim().ToLowerInvariant();
            if (!_byName.TryAdd(key, id) && _byName[key] != id)
            {
                _byName[key] = -1;
            }
        }
    }

    public long? Find(string value)
    {
        var key = value.ToLowerInvariant();
        return _bySlug.TryGetValue(value, out var id) || _byName.TryGetValue(key, out id) || _bySlug.TryGetValue(key, out id) ? id : null;
    }
}

/// <summary>Turns a data record into an <see cref="ImportRow"/>, or says why it cannot be imported.</summary>
public static class ImportRowParser
{
    private const int MaxReportedValue = 200;

    public static (ImportRow? Row, RejectedRow? Rejection) Parse(CsvRecord record, ImportHeader header, CategoryLookup categories)
    {
        if (record.Error is { } error)
        {
            return Reject(record, null, null, error);
        }

        if (record.Fields.Length != header.FieldCount)
        {
            return Reject(record, null, null,
                $"the row has {record.Fields.Length} field(s) but the header has {header.FieldCount}.");
        }

        // No text field stores NUL (PostgreSQL cannot, and the API refuses it), so a NUL anywhere is this row's fault alone.
        for (var i = 0; i < record.Fields.Length; i++)
        {
            if (record.Fields[i].Contains('\0', StringComparison.Ordinal))
            {
                var column = header.ColumnAt(i);
                return Reject(record, column, null,
                    $"{column ?? $"field {i + 1}"} contains the NUL character (U+0000), which no text field may hold.");
            }
        }

        var sku = header.Field(record, "sku")!.Trim();
        if (sku.Length == 0)
        {
            return Reject(record, "sku", sku, "sku is required.");
        }

        if (sku.Length > CatalogLimits.SkuLength)
        {
            return Reject(record, "sku", sku, $"sku must be at most {CatalogLimits.SkuLength} characters.");
        }

        if (sku.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
        {
            return Reject(record, "sku", sku, "sku must not contain spaces or control characters.");
        }

        var productSku = header.Field(record, "product_sku")?.Trim();
        if (productSku is { Length: > 0 } && Product.KeyOf(productSku) != Product.KeyOf(sku))
        {
            return ParseVariant(record, header, sku, productSku);
        }

        int? stock = null;
        if (ParseStock(record, header) is { } stockProblem)
        {
            return stockProblem;
        }
        else if (header.Field(record, "stock")?.Trim() is { Length: > 0 } stockText)
        {
            stock = int.Parse(stockText, CultureInfo.InvariantCulture);
        }

        var name = header.Field(record, "name")!.Trim();
        if (name.Length == 0)
        {
            return Reject(record, "name", name, "name is required.");
        }

        if (name.Length > CatalogLimits.NameLength)
        {
            return Reject(record, "name", name, $"name must be at most {CatalogLimits.NameLength} characters.");
        }

        // Descriptions are kept exactly as written (line breaks included); only an empty one becomes "none".
        var description = header.Field(record, "description");
        if (description is { Length: > CatalogLimits.DescriptionLength })
        {
            return Reject(record, "description", description,
                $"description must be at most {CatalogLimits.DescriptionLength:N0} characters.");
        }

        // An absent currency column keeps a stored product's currency (USD for a new one): the price's places are then
        // checked against it once the importer knows which products exist (ImportRow.Currency is null).
        string? currency = null;
        if (header.Columns.Currency)
        {
            currency = header.Field(record, "currency")!.Trim();
            currency = currency.Length == 0 ? Money.DefaultCurrency : currency;
            if (Money.CurrencyProblem(currency) is { } currencyProblem)
            {
                return Reject(record, "currency", currency, currencyProblem);
            }
        }

        var price = 0m;
        if (header.Field(record, "price")?.Trim() is { Length: > 0 } priceText)
        {
            if (!decimal.TryParse(priceText, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out price))
            {
                return Reject(record, "price", priceText, "price must be a number such as 12.50 (a dot before the decimals, no thousands separators, not negative).");
            }

            if (Money.Problem(price, currency, "price") is { } priceProblem)
            {
                return Reject(record, "price", priceText, priceProblem);
            }
        }

        var active = true;
        if (header.Field(record, "active")?.Trim().ToLowerInvariant() is { Length: > 0 } activeText)
        {
            switch (activeText)
            {
                case "true" or "1" or "yes":
                    active = true;
                    break;
                case "false" or "0" or "no":
                    active = false;
                    break;
                default:
                    return Reject(record, "active", activeText, "active must be true, false, 1, 0, yes or no.");
            }
        }

        var brand = header.Field(record, "brand")?.Trim();
        if (brand is { Length: > CatalogLimits.NameLength })
        {
            return Reject(record, "brand", brand, $"brand must be at most {CatalogLimits.NameLength} characters.");
        }

        var categoryIds = new List<long>();
        if (header.Field(record, "categories") is { } categoriesText)
        {
            var names = categoriesText.Split(['|', ';'], StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            if (names.Length > ProductRules.MaxCategories)
            {
                return Reject(record, "categories", categoriesText, $"a product may be in at most {ProductRules.MaxCategories} categories.");
            }

            foreach (var category in names)
            {
                switch (categories.Find(category))
                {
                    case null:
                        return Reject(record, "categories", category,
                            $"unknown category '{category}': categories are matched by slug or name and are not created by an import.");
                    case -1:
                        return Reject(record, "categories", category,
                            $"several categories are named '{category}': use the slug of the one you mean.");
                    case { } id when !categoryIds.Contains(id):
                        categoryIds.Add(id);
                        break;
                }
            }
        }

        return (new ImportRow(
            record.Line,
            sku,
            Product.KeyOf(sku),
            name,
            string.IsNullOrEmpty(description) ? null : description,
            price,
            currency,
            active,
            string.IsNullOrEmpty(brand) ? null : brand,
            categoryIds) { Stock = stock }, null);
    }

    /// <summary>
    /// A variant row (decision 0016): its SKU is the variant's, product_sku names its product; only price (the variant's
    /// own, empty for the product's), stock and the attribute:{slug} cells count, so product columns repeated on every row
    /// are ignored. Whether the product and the attribute values exist is settled when the row is written.
    /// </summary>
    private static (ImportRow? Row, RejectedRow? Rejection) ParseVariant(CsvRecord record, ImportHeader header, string sku, string productSku)
    {
        if (Skus.Problem(productSku) is { } productSkuProblem)
        {
            return Reject(record, "product_sku", productSku, productSkuProblem.Replace("sku", "product_sku", StringComparison.Ordinal));
        }

        decimal? price = null;
        if (header.Field(record, "price")?.Trim() is { Length: > 0 } priceText)
        {
            if (!decimal.TryParse(priceText, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var parsed))
            {
                return Reject(record, "price", priceText, "price must be a number such as 12.50 (a dot before the decimals, no thousands separators, not negative).");
            }

            price = parsed;
        }

        if (ParseStock(record, header) is { } stockProblem)
        {
            return stockProblem;
        }

        var stockText = header.Field(record, "stock")?.Trim();
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var attribute in header.Columns.Attributes)
        {
            if (header.Field(record, ImportHeader.AttributePrefix + attribute)?.Trim() is { Length: > 0 } value)
            {
                values[attribute] = value.ToLowerInvariant();
            }
        }

        if (values.Count > VariantLimits.MaxAttributes)
        {
            return Reject(record, null, null, $"a variant combines at most {VariantLimits.MaxAttributes} attributes; this row gives {values.Count}.");
        }

        return (new ImportRow(record.Line, sku, Product.KeyOf(sku), "", null, 0, null, true, null, [])
        {
            ProductSku = productSku,
            ProductSkuKey = Product.KeyOf(productSku),
            VariantPrice = price,
            Stock = stockText is { Length: > 0 } ? int.Parse(stockText, CultureInfo.InvariantCulture) : null,
            AttributeValues = values,
        }, null);
    }

    /// <summary>The rejection of a stock cell that is not a whole number of units in range; null when it is fine or empty.</summary>
    private static (ImportRow?, RejectedRow?)? ParseStock(CsvRecord record, ImportHeader header)
    {
        if (header.Field(record, "stock")?.Trim() is not { Length: > 0 } text)
        {
            return null;
        }

        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var stock) && stock <= VariantLimits.MaxOnHand
            ? null
            : Reject(record, "stock", text, $"stock must be a whole number of units, 0 to {VariantLimits.MaxOnHand:N0}.");
    }

    private static (ImportRow?, RejectedRow?) Reject(CsvRecord record, string? column, string? value, string reason) =>
        (null, new RejectedRow(record.Line, column, value is { Length: > MaxReportedValue } ? value[..MaxReportedValue] + "…" : value, reason));
}
