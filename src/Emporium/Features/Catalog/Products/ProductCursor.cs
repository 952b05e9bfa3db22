using System.Buffers.Text;
using System.Text.Json.Serialization;

namespace Emporium.Features.Catalog.Products;

/// <summary>
/// Keyset position in a product list: the sort, the direction to read, the sort value and id of the row
/// the page starts after, and the page number it leads to. Offset paging reads and discards every earlier
/// row (a second at page 2,500 of 500,000 products); a cursor seeks straight to its row through the
/// (sort column, id) index. Opaque to clients; tampering only moves where a page starts.
/// </summary>
internal sealed record ProductCursor(
    [property: JsonPropertyName("s")] string Sort,
    [property: JsonPropertyName("b")] bool Backward,
    [property: JsonPropertyName("v")] string Value,
    [property: JsonPropertyName("i")] long Id,
    [property: JsonPropertyName("p")] int Page)
{
    public static ProductCursor After(string sort, ProductRow last, int page) => new(sort, false, ValueOf(sort, last), last.Id, page);

    public static ProductCursor Before(string sort, ProductRow first, int page) => new(sort, true, ValueOf(sort, first), first.Id, page);

    public string Encode() => Base64Url.EncodeToString(JsonSerializer.SerializeToUtf8Bytes(this));

    public static ProductCursor? Parse(string? text, string sort, ValidationErrors errors)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        ProductCursor? cursor = null;
        try
        {
            cursor = JsonSerializer.Deserialize<ProductCursor>(Base64Url.DecodeFromChars(text.Trim()));
        }
        catch (Exception exception) when (exception is FormatException or JsonException)
        {
        }

        // A decoded cursor is the client's text: its sort and value may be missing however the record declares them.
        if (cursor is null || cursor.Sort is null || cursor.Value is null || cursor.Page < 1 || !cursor.ValueParses())
        {
            errors.Add("cursor", "cursor is not valid; use the next or previous link of a list response.");
            return null;
        }

        if (cursor.Sort != sort)
        {
            errors.Add("cursor", $"cursor was made for sort={cursor.Sort}; send the same sort or start again without a cursor.");
            return null;
        }

        return cursor;
    }

    /// <summary>Rows strictly beyond the cursor in the reading direction (index-friendly: a range, then the tie-break).</summary>
    public IQueryable<Product> Apply(IQueryable<Product> products)
    {
        var ascending = !Sort.StartsWith('-') ^ Backward;
        var id = Id;
        switch (Sort.TrimStart('-'))
        {
            case "name":
                var name = Value;
                return ascending
                    ? products.Where(p => string.Compare(p.Name, name) >= 0 && (string.Compare(p.Name, name) > 0 || p.Id > id))
                    : products.Where(p => string.Compare(p.Name, name) <= 0 && (string.Compare(p.Name, name) < 0 || p.Id < id));
            case "price":
                var price = decimal.Parse(Value, CultureInfo.InvariantCulture);
                return ascending
                    ? products.Where(p => p.Price >= price && (p.Price > price || p.Id > id))
                    : products.Where(p => p.Price <= price && (p.Price < price || p.Id < id));
            case "updated_at":
                var updated = ParseTime(Value);
                return ascending
                    ? products.Where(p => p.UpdatedAt >= updated && (p.UpdatedAt > updated || p.Id > id))
                    : products.Where(p => p.UpdatedAt <= updated && (p.UpdatedAt < updated || p.Id < id));
            default:
                var created = ParseTime(Value);
                return ascending
                    ? products.Where(p => p.CreatedAt >= created && (p.CreatedAt > created || p.Id > id))
                    : products.Where(p => p.CreatedAt <= created && (p.CreatedAt < created || p.Id < id));
        }
    }

    /// <summary>The order rows are read in: the list's sort, reversed when reading backwards.</summary>
    [JsonIgnore]
    public string ReadingSort => Backward ? (Sort.StartsWith('-') ? Sort[1..] : "-" + Sort) : Sort;

    private bool ValueParses() => Sort.TrimStart('-') switch
    {
        // A NUL is refused by PostgreSQL's text (a 500); no name is longer than the limit.
        "name" => !Value.Contains('\0', StringComparison.Ordinal) && Value.Length <= CatalogLimits.NameLength,
        "price" => decimal.TryParse(Value, NumberStyles.Number, CultureInfo.InvariantCulture, out var price) && Math.Abs(price) <= Money.Max,
        "created_at" or "updated_at" => DateTime.TryParse(Value, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out _),
        _ => false,
    };

    private static string ValueOf(string sort, ProductRow row) => sort.TrimStart('-') switch
    {
        "name" => row.Name,
        "price" => row.Price.ToString(CultureInfo.InvariantCulture),
        "updated_at" => row.UpdatedAt.ToString("O", CultureInfo.InvariantCulture),
        _ => row.CreatedAt.ToString("O", CultureInfo.InvariantCulture),
    };

    private static DateTime ParseTime(string value) =>
        DateTime.SpecifyKind(DateTime.Parse(value, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind).ToUniversalTime(), DateTimeKind.Utc);
}
