using Emporium.Features.Catalog.Variants;

namespace Emporium.Features.Catalog.Attributes;

public static class AttributeEndpoints
{
    /// <summary>Most values one attribute may list.</summary>
    public const int MaxValues = 1_000;

    /// <summary>
    /// Held, keyed by the attribute's id, by the attribute's own writes and by every variant write that names one of its
    /// values: removing a value (or deleting the attribute) checks that no live variant uses it, and a variant written
    /// meanwhile would otherwise lose the value to the cascade or fail on its foreign key.
    /// </summary>
    public const string ValuesLock = "attribute";

    private static readonly TaxonomyKind<ProductAttribute, AttributeRequest, AttributeResponse> Attributes = new(
        "attribute",
        "/api/attributes",
        AttributeResponse.From,
        blank: now => new ProductAttribute { Name = "", Slug = "", CreatedAt = now, UpdatedAt = now },
        current: attribute => new AttributeRequest
        {
            Name = attribute.Name,
            Slug = attribute.Slug,
            Values = attribute.Values.OrderBy(v => v.Position).Select(v => new AttributeValueRequest { Name = v.Name, Slug = v.Slug }).ToList(),
        },
        ApplyValuesAsync,
        including: rows => rows.Include(a => a.Values),
        writeLock: (ValuesLock, attribute => attribute.Id),
        inUse: db => (
            attribute => db.Set<VariantValue>().Any(vv => vv.AttributeId == attribute.Id && db.Set<Variant>().Any(v => v.Id == vv.VariantId && v.DeletedAt == null)),
            async attribute => await UsedByAsync(db, attribute.Id) is { } sku
                ? Problems.Conflict($"The attribute '{attribute.Slug}' is used by the variant {sku} (and perhaps others); change or delete those variants before deleting it.")
                : null));

    public static IEndpointRouteBuilder MapAttributes(this IEndpointRouteBuilder app)
    {
        Attributes.MapOperations(app.MapGroup("/api/attributes").WithTags("Attributes"), "Attribute", "Attributes", new TaxonomyTexts(
            List: new("List attributes", "What product variants differ by (size, color), each with its values; paged; filter by name fragment; staff may add include_deleted=true."),
            Get: new("Get an attribute by id or slug", "With its values in order. Answers with an ETag; If-None-Match with the current tag gives 304. Deleted attributes are visible to staff only."),
            Create: new("Create an attribute", "Slugs are generated from names when absent (the attribute's across attributes, each value's within its attribute). Staff or admin."),
            Replace: new("Replace an attribute", "Replaces the name and the list of values (absent values clear it); a value whose slug stays keeps its id. An absent slug keeps the current one. Honours If-Match."),
            Patch: new("Change some fields of an attribute", "JSON merge patch: only the fields present change; values, when present, replace the list; \"slug\": null derives a new slug from the name. Honours If-Match."),
            Delete: new("Soft-delete an attribute", "Not while a live variant has one of its values (409: change or delete those variants first). Honours If-Match. Deleting a deleted attribute is a no-op."),
            Restore: new("Undo an attribute's soft delete", "Restoring a live attribute is a no-op. Honours If-Match.")),
            CreateAttribute, ReplaceAttribute);
        return app;
    }

    public static Task<Results<Created<AttributeResponse>, ValidationProblem, ProblemHttpResult>> CreateAttribute(AttributeRequest request, [AsParameters] RequestScope scope) =>
        Attributes.CreateAsync(scope, request);

    public static Task<Results<Ok<AttributeResponse>, ValidationProblem, ProblemHttpResult>> ReplaceAttribute(
        [FromRoute(Name = "ref")] string reference, AttributeRequest request, [AsParameters] RequestScope scope) =>
        Attributes.ReplaceAsync(scope, reference, request);

    /// <summary>
    /// Checks the values (field errors name them as values[i].name or values[i].slug) and, when all are acceptable, makes the
    /// row's list the one sent: a value whose slug was there before keeps its row (and id), the others are added or removed.
    /// </summary>
    private static async Task<IResult?> ApplyValuesAsync(
        EmporiumDbContext db, ProductAttribute attribute, AttributeRequest request, ValidationErrors errors, CancellationToken cancellationToken)
    {
        var given = request.Values ?? [];
        if (given.Count > MaxValues)
        {
            errors.Add("values", $"values may list at most {MaxValues} values.");
            return null;
        }

        var wanted = new List<(string Slug, string Name)>(given.Count);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var valid = true;
        for (var i = 0; i < given.Count; i++)
        {
            var field = $"values[{i}]";
            var value = given[i];
            if (value is null)
            {
                errors.Add(field, $"{field} must be an object with a name.");
                valid = false;
                continue;
            }

            var name = value.Name?.Trim();
            if (string.IsNullOrEmpty(name) || name.Length > CatalogLimits.NameLength)
            {
                errors.Add($"{field}.name", $"{field}.name is required, 1-{CatalogLimits.NameLength} characters.");
                valid = false;
                continue;
            }

            var slug = value.Slug ?? Slugs.FromName(name, "value");
            if (Slugs.Problem(slug) is { } problem)
            {
                errors.Add($"{field}.slug", problem);
                valid = false;
            }
            else if (!seen.Add(slug))
            {
                errors.Add($"{field}.slug", $"Another value of this attribute already has the slug '{slug}'.");
                valid = false;
            }

            wanted.Add((slug, name));
        }

        if (valid && await RemovedValueInUseAsync(db, attribute, seen, cancellationToken) is { } inUse)
        {
            return inUse;
        }

        if (valid)
        {
            var existing = attribute.Values.ToDictionary(v => v.Slug, StringComparer.Ordinal);
            var values = wanted.Select((value, position) =>
            {
                var row = existing.GetValueOrDefault(value.Slug) ?? new AttributeValue { Slug = value.Slug, Name = value.Name };
                row.Name = value.Name;
                row.Position = position;
                return row;
            }).ToList();
            attribute.Values.Clear();
            attribute.Values.AddRange(values);
        }

        return null;
    }

    /// <summary>The SKU of a live variant that has a value of the attribute, or null: an export would write a column for it
    /// that no import could read once the attribute is deleted.</summary>
    private static Task<string?> UsedByAsync(EmporiumDbContext db, long attributeId) =>
        db.Set<VariantValue>().AsNoTracking()
            .Where(vv => vv.AttributeId == attributeId)
            .Join(db.Set<Variant>().Where(v => v.DeletedAt == null), vv => vv.VariantId, v => v.Id, (vv, v) => v.Sku)
            .FirstOrDefaultAsync();

    /// <summary>A 409 naming a value the request leaves out while a live variant still has it (decision 0016); null when none is.</summary>
    private static async Task<IResult?> RemovedValueInUseAsync(
        EmporiumDbContext db, ProductAttribute attribute, HashSet<string> kept, CancellationToken cancellationToken)
    {
        var removed = attribute.Values.Where(v => !kept.Contains(v.Slug)).Select(v => v.Id).Where(id => id != 0).ToList();
        if (removed.Count == 0)
        {
            return null;
        }

        var used = await db.Set<VariantValue>().AsNoTracking()
            .Where(vv => EF.Parameter(removed).Contains(vv.ValueId))
            .Join(db.Set<Variant>().Where(v => v.DeletedAt == null), vv => vv.VariantId, v => v.Id, (vv, v) => new { Value = vv.Value!.Slug, v.Sku })
            .FirstOrDefaultAsync(cancellationToken);
        if (used is null)
        {
            return null;
        }

        var message = $"The value '{used.Value}' is used by the variant {used.Sku} (and perhaps others); change or delete those variants before removing it.";
        return Problems.OfField(StatusCodes.Status409Conflict, "Conflict.", message, "values", message);
    }
}
