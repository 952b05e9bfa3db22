using Emporium.Features.Catalog;
using Emporium.Features.Catalog.Attributes;
using Emporium.Features.Catalog.Variants;
using Emporium.Features.Events;

namespace Emporium.Features.Import;

/// <summary>
/// The variant part of a batch (decision 0016), written after the batch's products and in the same transaction: each
/// variant row creates, updates or restores the variant with its SKU under the product its product_sku names (stored, or
/// written by an earlier row), and a stock cell sets the level of the row's variant (a product row's default variant) through
/// <see cref="StockLedger"/>, which records the movement and announces stock.changed. What only the database can settle
/// (the product, the attribute values, a combination another variant has) is settled here, and a row that fails is
/// rejected with the column at fault; the rest of the batch goes on.
/// </summary>
internal sealed class VariantRows(
    EmporiumDbContext db, IEventOutbox events, ImportColumns columns, CatalogScope scope, RejectedProducts rejectedProducts)
{
    private const string Reason = "import";

    private Dictionary<string, ProductAttribute>? _attributes;

    /// <summary>
    /// On a dry run, the combinations its variant rows gave each product (by SKU key), which the batches it rolled back took
    /// out of sight of the later ones (a product only such a batch created also has its default variant's: none).
    /// </summary>
    private readonly Dictionary<string, HashSet<string>> _dryRunCombinations = new(StringComparer.Ordinal);

    /// <summary>Reads the file's attributes again at their next use (a new transaction holds their locks).</summary>
    public void ForgetAttributes() => _attributes = null;

    /// <summary>What the batch's variant rows and stock cells did, by SKU key: written rows and rejected ones.</summary>
    public sealed record Outcome(Dictionary<string, UpsertOutcome> Written, List<(ImportRow Row, RejectedRow Rejection)> Rejected);

    /// <param name="rolledBack">
    /// On a dry run, the SKU keys (with their currencies) of products that earlier batches created in transactions since rolled
    /// back: a variant row naming one finds no product, where the real run (which committed that batch) would create the variant.
    /// </param>
    public async Task<Outcome> WriteAsync(
        IReadOnlyList<ImportRow> productRows,
        IReadOnlyList<ImportRow> variantRows,
        DateTime now,
        IReadOnlyDictionary<string, string>? rolledBack,
        CancellationToken cancellationToken)
    {
        var outcome = new Outcome(new Dictionary<string, UpsertOutcome>(StringComparer.Ordinal), []);
        if (!columns.Variants)
        {
            return outcome;
        }

        var cause = new StockLedger.Cause(Reason, scope.UserId, null, now);
        if (columns.Stock)
        {
            await SetProductStockAsync(productRows.Where(row => row.Stock is not null).ToList(), cause, outcome, cancellationToken);
        }

        if (variantRows.Count > 0)
        {
            await WriteVariantsAsync(variantRows, cause, rolledBack, outcome, cancellationToken);
        }

        return outcome;
    }

    /// <summary>A product row's stock cell sets its default variant's level; a change makes an otherwise unchanged row updated.</summary>
    private async Task SetProductStockAsync(List<ImportRow> rows, StockLedger.Cause cause, Outcome outcome, CancellationToken cancellationToken)
    {
        if (rows.Count == 0)
        {
            return;
        }

        var keys = rows.ConvertAll(row => row.SkuKey);
        var defaults = await db.Set<Variant>().AsNoTracking()
            .Where(v => v.IsDefault && EF.Parameter(keys).Contains(v.Product!.SkuKey))
            .Select(v => new { v.Id, v.Product!.SkuKey, v.OnHand, v.Product.OwnerId })
            .ToDictionaryAsync(v => v.SkuKey, StringComparer.Ordinal, cancellationToken);
        foreach (var row in rows)
        {
            // A row the upsert refused (another owner's product) has no default variant of its own to set.
            if (defaults.GetValueOrDefault(row.SkuKey) is { } variant && scope.Reaches(variant.OwnerId) && variant.OnHand != row.Stock
                && (await StockLedger.SetAsync(db, events, variant.Id, row.Stock!.Value, null, cause, cancellationToken)).Movement is not null)
            {
                outcome.Written[row.SkuKey] = UpsertOutcome.Updated;
            }
        }
    }

    private async Task WriteVariantsAsync(
        IReadOnlyList<ImportRow> rows, StockLedger.Cause cause, IReadOnlyDictionary<string, string>? rolledBack, Outcome outcome, CancellationToken cancellationToken)
    {
        var productKeys = rows.Select(row => row.ProductSkuKey!).Distinct().ToList();
        var products = await db.Set<Product>().AsNoTracking()
            .Where(p => EF.Parameter(productKeys).Contains(p.SkuKey))
            .Select(p => new { p.Id, p.SkuKey, p.OwnerId, p.Currency, p.DeletedAt })
            .ToDictionaryAsync(p => p.SkuKey, StringComparer.Ordinal, cancellationToken);
        var skuKeys = rows.Select(row => row.SkuKey).ToList();
        var existing = await db.Set<Variant>().Include(v => v.Values)
            .Where(v => EF.Parameter(skuKeys).Contains(v.SkuKey))
            .ToDictionaryAsync(v => v.SkuKey, StringComparer.Ordinal, cancellationToken);
        var productIds = products.Values.Select(p => p.Id).ToList();
        var combinations = (await db.Set<Variant>().AsNoTracking()
                .Where(v => EF.Parameter(productIds).Contains(v.ProductId) && v.DeletedAt == null)
                .Select(v => new { v.ProductId, v.Signature, v.SkuKey, v.Sku })
                .ToListAsync(cancellationToken))
            .ToDictionary(v => (v.ProductId, v.Signature), v => (v.SkuKey, v.Sku));
        var live = combinations.Keys.CountBy(key => key.ProductId).ToDictionary();
        var attributes = await AttributesAsync(cancellationToken);
        var covered = attributes.Values.Select(a => a.Id).ToHashSet();
        var tooMany = string.Create(CultureInfo.InvariantCulture, $"the product already has {VariantLimits.MaxVariantsPerProduct:N0} live variants, the most one product may have.");

        var levels = new List<(ImportRow Row, Variant Variant)>();
        foreach (var row in rows)
        {
            var product = products.GetValueOrDefault(row.ProductSkuKey!);
            RejectedRow? Refuse(string column, string? value, string reason) => new(row.Line, column, value, reason);
            if (product is null && rolledBack?.GetValueOrDefault(row.ProductSkuKey!) is { } unseenCurrency)
            {
                // A dry run's product, created by a batch it rolled back: checked as the real run would check it, against the
                // combinations given to it so far (its default variant has none).
                var unseenValues = new List<(long AttributeId, long ValueId)>();
                var given = _dryRunCombinations.TryGetValue(row.ProductSkuKey!, out var taken) ? taken : _dryRunCombinations[row.ProductSkuKey!] = [];
                given.Add(""); // the new product's default variant
                var refused = existing.ContainsKey(row.SkuKey)
                    ? Refuse("sku", row.Sku, $"sku '{row.Sku}' is the SKU of a variant of another product; it was left unchanged.")
                    : row.VariantPrice is { } unseenPrice && Money.Problem(unseenPrice, unseenCurrency, "price") is { } unseenPriceProblem
                        ? Refuse("price", unseenPrice.ToString(CultureInfo.InvariantCulture), unseenPriceProblem)
                        : Resolve(row, attributes, unseenValues);
                if (refused is null && given.Count >= VariantLimits.MaxVariantsPerProduct)
                {
                    refused = Refuse("product_sku", row.ProductSku, tooMany);
                }
                else if (refused is null && !given.Add(Variant.SignatureOf(unseenValues)))
                {
                    refused = Refuse("attributes", null, "another variant of this product already has these attribute values.");
                }

                if (refused is not null)
                {
                    outcome.Rejected.Add((row, refused));
                }
                else
                {
                    outcome.Written[row.SkuKey] = UpsertOutcome.Created;
                }

                continue;
            }

            var values = new List<(long AttributeId, long ValueId)>();
            var rejection = product switch
            {
                null when rejectedProducts.LineOf(row.ProductSkuKey!) is { } productLine => Refuse("product_sku", row.ProductSku,
                    $"the row of the product '{row.ProductSku}' (line {productLine}) was rejected, so it has no variants yet: fix that row."),
                null => Refuse("product_sku", row.ProductSku,
                    $"no product has the SKU '{row.ProductSku}': a variant row must follow its product's row, or name a product in the catalog."),
                // Ownership first: another owner's product, deleted or not, leaks nothing (decision 0013).
                _ when !scope.Reaches(product.OwnerId) => Refuse("product_sku", row.ProductSku,
                    $"product_sku '{row.ProductSku}' belongs to a product you do not own; the row was left unchanged."),
                { DeletedAt: not null } => Refuse("product_sku", row.ProductSku, $"the product '{row.ProductSku}' is deleted; restore it first."),
                _ when existing.GetValueOrDefault(row.SkuKey) is { } held && (held.IsDefault || held.ProductId != product.Id) => Refuse("sku", row.Sku,
                    held.IsDefault
                        ? $"sku '{row.Sku}' is a product's own SKU, so it cannot name a variant."
                        : $"sku '{row.Sku}' is the SKU of a variant of another product; it was left unchanged."),
                _ when row.VariantPrice is { } price && Money.Problem(price, product.Currency, "price") is { } priceProblem =>
                    Refuse("price", price.ToString(CultureInfo.InvariantCulture), priceProblem),
                _ => Resolve(row, attributes, values),
            };
            // A column the file does not have leaves what it would hold alone (decision 0005), as on product rows: an
            // existing variant keeps its own price without a price column, and its values of attributes the file has no
            // column for (a stock update with one attribute column must not drop the others).
            var current = rejection is null ? existing.GetValueOrDefault(row.SkuKey) : null;
            if (current is not null)
            {
                values.AddRange(current.Values.Where(v => !covered.Contains(v.AttributeId)).Select(v => (v.AttributeId, v.ValueId)));
            }

            var variantPrice = columns.Price || current is null ? row.VariantPrice : current.Price;
            var signature = Variant.SignatureOf(values);
            if (rejection is null && combinations.TryGetValue((product!.Id, signature), out var twin) && twin.SkuKey != row.SkuKey)
            {
                rejection = Refuse("attributes", null, $"the variant {twin.Sku} of this product already has these attribute values.");
            }
            else if (rejection is null && rolledBack is not null && _dryRunCombinations.GetValueOrDefault(row.ProductSkuKey!)?.Contains(signature) == true)
            {
                rejection = Refuse("attributes", null, "another variant of this product already has these attribute values.");
            }
            else if (rejection is null && existing.GetValueOrDefault(row.SkuKey) is null or { DeletedAt: not null }
                && live.GetValueOrDefault(product!.Id) >= VariantLimits.MaxVariantsPerProduct)
            {
                rejection = Refuse("product_sku", row.ProductSku, tooMany);
            }

            if (rejection is not null)
            {
                outcome.Rejected.Add((row, rejection));
                continue;
            }

            var variant = existing.GetValueOrDefault(row.SkuKey);
            if (variant is null || variant.DeletedAt is not null)
            {
                live[product!.Id] = live.GetValueOrDefault(product.Id) + 1;
            }

            if (variant is null)
            {
                variant = new Variant { ProductId = product!.Id, Sku = row.Sku, SkuKey = row.SkuKey, CreatedAt = cause.At };
                db.Set<Variant>().Add(variant);
                existing[row.SkuKey] = variant;
                outcome.Written[row.SkuKey] = UpsertOutcome.Created;
            }
            else if (variant.DeletedAt is not null || variant.Sku != row.Sku || variant.Price != variantPrice || variant.Signature != signature)
            {
                combinations.Remove((variant.ProductId, variant.Signature));
                variant.Version++;
                variant.DeletedAt = null;
                outcome.Written[row.SkuKey] = UpsertOutcome.Updated;
            }
            else
            {
                levels.Add((row, variant));
                continue;
            }

            variant.Sku = row.Sku;
            variant.Price = variantPrice;
            variant.UpdatedAt = cause.At;
            variant.SetValues(values);
            combinations[(product!.Id, signature)] = (row.SkuKey, row.Sku);
            if (rolledBack is not null)
            {
                (_dryRunCombinations.TryGetValue(row.ProductSkuKey!, out var written) ? written : _dryRunCombinations[row.ProductSkuKey!] = []).Add(signature);
            }
            levels.Add((row, variant));
        }

        await db.SaveChangesAsync(cancellationToken);
        foreach (var (row, variant) in levels)
        {
            if (row.Stock is { } stock && variant.OnHand != stock
                && (await StockLedger.SetAsync(db, events, variant.Id, stock, null, cause, cancellationToken)).Movement is not null)
            {
                outcome.Written.TryAdd(row.SkuKey, UpsertOutcome.Updated);
            }
        }
    }

    /// <summary>The row's attribute values as ids, or the rejection naming the attribute:{slug} column at fault.</summary>
    private static RejectedRow? Resolve(ImportRow row, Dictionary<string, ProductAttribute> attributes, List<(long AttributeId, long ValueId)> values)
    {
        foreach (var (slug, valueSlug) in row.AttributeValues)
        {
            var column = ImportHeader.AttributePrefix + slug;
            if (!attributes.TryGetValue(slug, out var attribute))
            {
                return new RejectedRow(row.Line, column, valueSlug, $"no attribute '{slug}' exists; attributes are not created by an import.");
            }

            if (attribute.Values.Find(v => v.Slug == valueSlug) is not { } value)
            {
                return new RejectedRow(row.Line, column, valueSlug, $"the attribute '{slug}' has no value '{valueSlug}'.");
            }

            values.Add((attribute.Id, value.Id));
        }

        return null;
    }

    /// <summary>The live attributes the file's attribute:{slug} columns name, with their values: read once per import.</summary>
    private async Task<Dictionary<string, ProductAttribute>> AttributesAsync(CancellationToken cancellationToken)
    {
        if (_attributes is null)
        {
            var slugs = columns.Attributes.ToList();
            _attributes = await db.Set<ProductAttribute>().AsNoTracking().Include(a => a.Values)
                .Where(a => EF.Parameter(slugs).Contains(a.Slug) && a.DeletedAt == null)
                .ToDictionaryAsync(a => a.Slug, StringComparer.Ordinal, cancellationToken);
        }

        return _attributes;
    }
}
