namespace Emporium.Features.Catalog.Products;

/// <summary>
/// JSON merge patch (RFC 7396) of a product: members present in the patch replace the current value,
/// null clears the optional ones (description, brand, categories) and is a field error for required ones.
/// Read-only members (id, timestamps, owner) and unknown members are ignored, as on PUT.
/// </summary>
internal static class MergePatch
{
    public static ProductRequest Apply(ProductRequest current, JsonElement patch, JsonSerializerOptions options)
    {
        var errors = new ValidationErrors();
        if (patch.ValueKind != JsonValueKind.Object)
        {
            errors.Add("body", "A merge patch must be a JSON object.");
            throw new MergePatchException(errors);
        }

        var result = current;
        foreach (var member in patch.EnumerateObject())
        {
            var value = member.Value;
            var isNull = value.ValueKind == JsonValueKind.Null;
            switch (member.Name)
            {
                case "sku":
                    result = result with { Sku = Required<string>(member, options, errors) };
                    break;
                case "name":
                    result = result with { Name = Required<string>(member, options, errors) };
                    break;
                case "slug":
                    result = result with { Slug = Required<string>(member, options, errors) };
                    break;
                case "price":
                    result = result with { Price = Required<decimal>(member, options, errors) };
                    break;
                case "currency":
                    result = result with { Currency = Required<string>(member, options, errors) };
                    break;
                case "is_active":
                    result = result with { IsActive = Required<bool>(member, options, errors) };
                    break;
                case "description":
                    result = result with { Description = isNull ? null : Read<string>(member, options, errors) };
                    break;
                case "brand":
                    result = result with { Brand = isNull ? null : Read<IdOrSlug>(member, options, errors) };
                    break;
                case "categories":
                    result = result with { Categories = isNull ? [] : Read<List<IdOrSlug>>(member, options, errors) ?? [] };
                    break;
            }
        }

        return errors.IsEmpty ? result : throw new MergePatchException(errors);
    }

    private static T? Required<T>(JsonProperty member, JsonSerializerOptions options, ValidationErrors errors)
    {
        if (member.Value.ValueKind == JsonValueKind.Null)
        {
            errors.Add(member.Name, $"{member.Name} cannot be null; it is required (omit it to keep the current value).");
            return default;
        }

        return Read<T>(member, options, errors);
    }

    private static T? Read<T>(JsonProperty member, JsonSerializerOptions options, ValidationErrors errors)
    {
        try
        {
            return member.Value.Deserialize<T>(options);
        }
        catch (JsonException invalid)
        {
            errors.Add(member.Name, $"{member.Name} has the wrong type: {invalid.Message}");
            return default;
        }
    }
}

internal sealed class MergePatchException(ValidationErrors errors) : Exception("The merge patch is invalid.")
{
    public ValidationErrors Errors { get; } = errors;
}
