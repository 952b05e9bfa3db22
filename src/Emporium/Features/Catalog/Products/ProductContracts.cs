using System.ComponentModel.DataAnnotations;
using System.Text.Json.Serialization;
using Emporium.Features.Catalog.Images;
using Emporium.Features.Catalog.Variants;

namespace Emporium.Features.Catalog.Products;

/// <summary>A product as clients see it.</summary>
public sealed record ProductResponse(
    long Id,
    string Sku,
    string Slug,
    string Name,
    string? Description,
    decimal Price,
    string Currency,
    bool IsActive,
    CatalogItemRef? Brand,
    IReadOnlyList<CatalogItemRef> Categories,
    long? OwnerId,
    DateTime CreatedAt,
    DateTime UpdatedAt,
    DateTime? DeletedAt)
{
    /// <summary>Absent from list items (not null): only a product's own read, its writes and its events carry them.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    [Description("The live variants, the default first: in a product's own read, its writes and its events; lists leave it out.")]
    public IReadOnlyList<VariantResponse>? Variants { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    [Description("The images in order, with status and renditions: in a product's own read, its writes and its events; lists leave it out.")]
    public IReadOnlyList<ImageResponse>? Images { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    [Description("The first ready image's smallest rendition: in list items asked for with include=thumbnail, when the product has one.")]
    public ThumbnailRef? Thumbnail { get; init; }
}

/// <summary>A brand or category as embedded in a product.</summary>
public sealed record CatalogItemRef(long Id, string Slug, string Name);

/// <summary>Body of POST and PUT. PUT replaces every field: an absent optional field is reset to its default.</summary>
public sealed record ProductRequest
{
    [Required]
    [Description("Stock keeping unit, unique regardless of case; kept as entered (surrounding spaces removed).")]
    public string? Sku { get; init; }

    [Required]
    [Description("1-255 characters (surrounding spaces removed).")]
    public string? Name { get; init; }

    [Description("URL slug; generated from the name when absent on create, kept when absent on replace.")]
    public string? Slug { get; init; }

    public string? Description { get; init; }

    [Required]
    [Description("Price in the currency's major unit, >= 0, with at most the currency's decimal places (USD 2, JPY 0, KWD 3).")]
    public decimal? Price { get; init; }

    [Description("An active ISO 4217 code in upper case; default USD.")]
    public string? Currency { get; init; }

    [Description("Default true.")]
    public bool? IsActive { get; init; }

    [Description("Brand id or slug.")]
    public IdOrSlug? Brand { get; init; }

    [Description("Category ids or slugs.")]
    public IReadOnlyList<IdOrSlug>? Categories { get; init; }

    [Description("Image URLs (http or https) to download in the background: an image is added for each URL the product has no image " +
        "from yet; none is removed (DELETE /api/images/{id} does). Hosts must resolve to public addresses.")]
    public IReadOnlyList<string>? ImageUrls { get; init; }
}

/// <summary>A reference to a brand or category in a request body: a JSON number (id) or string (id or slug).</summary>
[JsonConverter(typeof(IdOrSlugJsonConverter))]
public readonly record struct IdOrSlug(string Value)
{
    public CatalogRef Parse() => CatalogRef.Parse(Value);

    public override string ToString() => Value;
}

internal sealed class IdOrSlugJsonConverter : JsonConverter<IdOrSlug>
{
    public override IdOrSlug Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType switch
        {
            JsonTokenType.Number when reader.TryGetInt64(out var id) => new IdOrSlug(id.ToString(CultureInfo.InvariantCulture)),
            JsonTokenType.String => new IdOrSlug(reader.GetString()!),
            _ => throw new JsonException("Expected an id (integer) or a slug (string)."),
        };

    public override void Write(Utf8JsonWriter writer, IdOrSlug value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value.Value);
}
