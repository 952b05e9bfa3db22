using System.Threading.Channels;
using Emporium.Features.Catalog;
using Emporium.Features.Catalog.Variants;

namespace Emporium.Features.Import;

/// <summary>
/// The second pass's reading stage, on its own task: parses, validates and de-duplicates rows into <see cref="Segment"/>s
/// for the <see cref="BatchWriter"/>. A segment ends a batch when it brings the batch to Import:BatchSize rows (or ends the
/// file); in between, one goes out every <see cref="CatalogImporter.ReportEvery"/> so that progress shows rows read before
/// a commit. Before a batch's last segment goes, it looks the batch's SKUs and slugs up on its own connection
/// (<see cref="LookAheadAsync"/>), asking only about those its sketch of the catalog (<see cref="KeySketch"/>) may hold.
/// It shares nothing with the writing stage but the count of committed batches: brands are checked against the ones
/// loaded before the import (those created by it are never deleted).
/// </summary>
internal sealed class ReadingStage(
    ImportHeader header,
    ImportOptions options,
    int batchSize,
    ImportReferences references,
    RejectedProducts rejectedProducts,
    SupersededRows superseded,
    ProgressClock clock,
    long totalRows,
    Func<long> batchesCommitted)
{
    private const string ExistingSlugMarker = "!";
    private const int TakenSlugsKept = 65_536;
    private const int CatalogRowsPerFileRow = 4;
    private const int CatalogRowsAlwaysLoaded = 100_000;

    // Slugs given to batches not committed yet, which this stage's own connection cannot see.
    private readonly Queue<(long Batch, List<string> Slugs)> _uncommittedSlugs = new();
    private long _batchesRead;

    // What the catalog may hold, loaded after the first batch's look-up when most of its rows were new, then kept up with
    // this import's own rows and slugs: a SKU key or a SKU-bearing slug they have never seen is not looked up. Until then
    // (and for good when the first batch's rows mostly exist, as in a re-import, where a sketch would answer "maybe" to
    // nearly every key, or when the catalog is much larger than the file) every key is looked up. SKU keys come from
    // variants, which hold every product's SKU (its default variant).
    private KeySketch? _skuKeys;
    private KeySketch? _slugs;
    private bool _sketchDecided;

    // Slugs a look-up found taken, up to TakenSlugsKept: a name that many rows share is asked about once, not once a batch.
    private readonly HashSet<string> _takenSlugs = new(StringComparer.Ordinal);

    public async Task ReadAsync(
        CsvRowReader reader, EmporiumDbContext lookups, ChannelWriter<Segment> output, CancellationToken cancellationToken)
    {
        // A resumed run that finds no record past the resume point still checkpoints there, not at line 0 (which would
        // make a later attempt import the whole file again, counting every row twice).
        var segment = new Segment { CheckpointLine = options.StartAfterLine };
        var batch = new List<ImportRow>();
        var processed = 0L;
        while (await reader.ReadAsync(cancellationToken) is { } record)
        {
            processed++;
            if (record.Line > options.StartAfterLine)
            {
                // Records up to the resume point were settled (and counted) by an earlier run.
                var (row, rejection) = ImportRowParser.Parse(record, header, references.Categories);
                if (row is not null && row.Brand is { } brand)
                {
                    rejection = references.Resolve(row, brand, options.Scope);
                }

                if (rejection is not null || row is null)
                {
                    rejectedProducts.Note(record, rejection!);
                    segment.Rejections.Add(rejection! with { Cells = record.Fields });
                }
                else if (superseded.IsSuperseded(processed - 1))
                {
                    // The last valid row for a SKU wins; the earlier ones are never written.
                    segment.Duplicates++;
                }
                else
                {
                    row.SlugSources = (Slugs.FromName(row.Name, "product"), Slugs.FromName(row.Sku, "sku"));
                    row.Cells = record.Fields;
                    segment.Rows.Add(row);
                    batch.Add(row);
                }

                segment.CheckpointLine = record.Line;
            }

            segment.Processed = processed;
            segment.BytesRead = reader.BytesConsumed;
            var full = batch.Count >= batchSize;
            if (full)
            {
                await LookAheadAsync(batch, lookups, cancellationToken);
                batch = [];
            }

            if (clock.ReportDue() || full)
            {
                segment.EndsBatch = full;
                await output.WriteAsync(segment, cancellationToken);
                segment = new Segment { CheckpointLine = segment.CheckpointLine };
            }
        }

        await LookAheadAsync(batch, lookups, cancellationToken);
        segment.Processed = processed;
        segment.BytesRead = reader.BytesRead;
        segment.EndsBatch = true;
        segment.EndsFile = true;
        await output.WriteAsync(segment, cancellationToken);
    }

    /// <summary>
    /// Reads every SKU key and slug the catalog holds into the two sketches, sized for those and the file's rows, and adds
    /// the slugs given to batches not committed yet; unless the catalog holds more than <see cref="CatalogRowsPerFileRow"/>
    /// times the file's rows (and more than <see cref="CatalogRowsAlwaysLoaded"/>, a tenth of a second's reading), since
    /// reading a key costs about as much as one of the three probes a new row saves. A key
    /// another writer adds later is missed; what the look-ahead would have settled for it the database settles at the
    /// write, as it does for keys added after a look-up (see <see cref="LookAheadAsync"/>).
    /// </summary>
    private async Task LoadSketchesAsync(EmporiumDbContext lookups, CancellationToken cancellationToken)
    {
        // Counted up to the bound only: variants hold every product's SKU, so there are at least as many as products.
        var bound = (int)Math.Min(Math.Max(CatalogRowsPerFileRow * totalRows, CatalogRowsAlwaysLoaded), int.MaxValue - 1);
        var catalog = await lookups.Set<Variant>().Take(bound + 1).LongCountAsync(cancellationToken);
        if (catalog > bound)
        {
            return;
        }

        _skuKeys = await SketchAsync(lookups.Set<Variant>().Select(v => v.SkuKey), []);
        _slugs = await SketchAsync(lookups.Set<Product>().Select(p => p.Slug), _uncommittedSlugs.SelectMany(batch => batch.Slugs));

        async Task<KeySketch> SketchAsync(IQueryable<string> stored, IEnumerable<string> more)
        {
            var sketch = new KeySketch(catalog + totalRows);
            await foreach (var key in stored.AsAsyncEnumerable().WithCancellation(cancellationToken))
            {
                sketch.Add(key);
            }

            foreach (var key in more)
            {
                sketch.Add(key);
            }

            return sketch;
        }
    }

    private static bool MayHold(KeySketch? sketch, string key) => sketch?.MayContain(key) ?? true;

    /// <summary>A rejection for a row whose SKU another owner's product holds (decision 0013).</summary>
    public static RejectedRow NotOwned(ImportRow row) =>
        new(row.Line, "sku", row.Sku, $"sku '{row.Sku}' belongs to a product you do not own; it was left unchanged.");

    /// <summary>
    /// Settles, for a complete batch, what only the database knows, while the writing stage writes the batches before it:
    /// which SKUs exist (their rows take the update path, or are unchanged), and a slug for each new product. A new
    /// product's slug comes from its name; when that is taken (in the table, by a batch handed over but not written yet,
    /// or earlier in this batch) the SKU is appended, then a number. Each round asks the database about all remaining
    /// candidates at once.
    /// Another writer can still create one of these SKUs or take one of these slugs before the batch is written: the SKU's
    /// row then updates it (as the upsert decides by SKU in its own statement), and a slug taken that way fails the batch's
    /// insert on the unique index, so the job's next attempt resumes from the last checkpoint and looks again.
    /// </summary>
    private async Task LookAheadAsync(List<ImportRow> batch, EmporiumDbContext lookups, CancellationToken cancellationToken)
    {
        // Variant rows are settled when they are written, after their batch's products (VariantRows).
        var rows = batch.Where(row => !row.IsVariantRow).ToList();
        if (batch.Count == 0)
        {
            return;
        }

        if (rows.Count == 0)
        {
            // A batch of variant rows alone is still a batch the writer counts when it commits.
            _uncommittedSlugs.Enqueue((_batchesRead++, []));
            AddSkuKeys(batch);
            return;
        }

        var keys = rows.Select(row => row.SkuKey).Where(key => MayHold(_skuKeys, key)).ToList();
        // EF.Parameter: one array parameter; EF Core 10 would otherwise send 5,000 scalar parameters per look-up.
        var existing = keys.Count == 0
            ? []
            : await lookups.Set<Product>().AsNoTracking()
                .Where(p => EF.Parameter(keys).Contains(p.SkuKey))
                .Select(p => new StoredProduct(p.SkuKey, p.Id, p.OwnerId, p.Sku, p.Name, p.Description, p.Price, p.Currency, p.IsActive, p.BrandId, p.DeletedAt))
                .ToDictionaryAsync(p => p.SkuKey, StringComparer.Ordinal, cancellationToken);
        if (!_sketchDecided)
        {
            _sketchDecided = true;
            if (existing.Count * 2 < rows.Count)
            {
                await LoadSketchesAsync(lookups, cancellationToken);
            }
        }

        var ownPrices = await OwnPricesOfCurrencyChangesAsync(rows, existing, lookups, cancellationToken);
        var pending = new List<ImportRow>();
        foreach (var row in rows)
        {
            var stored = existing.GetValueOrDefault(row.SkuKey);
            if (Refuse(row, stored, ownPrices) is { } rejection)
            {
                row.Rejection = rejection;
                rejectedProducts.Note(row);
            }
            else if (stored is not null)
            {
                row.ExistingId = stored.Id;
                row.Unchanged = Holds(stored, row);
                // Never inserted (the SKU exists, so the row takes the update path): a value no real slug can have.
                row.Slug = ExistingSlugMarker + row.SkuKey;
            }
            else
            {
                pending.Add(row);
            }
        }

        pending = await WithoutVariantSkusAsync(pending, lookups, cancellationToken);
        AddSkuKeys(batch);

        // Batches committed by now are visible to the queries below, so their slugs need no remembering: read the count
        // before querying.
        var committed = batchesCommitted();
        while (_uncommittedSlugs.TryPeek(out var oldest) && oldest.Batch < committed)
        {
            _uncommittedSlugs.Dequeue();
        }

        var used = _uncommittedSlugs.SelectMany(batch => batch.Slugs).ToHashSet(StringComparer.Ordinal);
        var given = new List<string>();
        for (var attempt = 0; pending.Count > 0; attempt++)
        {
            var candidates = pending.Select(row => Candidate(row.SlugSources, attempt)).ToList();
            // A name's own slug is always asked about (unless known taken): another import may be giving the same name's
            // slug right now. The sketch answers for the candidates after it, which carry the row's SKU.
            var slugs = candidates.Where(slug => !_takenSlugs.Contains(slug) && (attempt == 0 || MayHold(_slugs, slug))).Distinct().ToList();
            var taken = slugs.Count == 0
                ? []
                : (await lookups.Set<Product>().AsNoTracking()
                    .Where(p => EF.Parameter(slugs).Contains(p.Slug))
                    .Select(p => p.Slug)
                    .ToListAsync(cancellationToken)).ToHashSet(StringComparer.Ordinal);
            foreach (var slug in taken.TakeWhile(_ => _takenSlugs.Count < TakenSlugsKept))
            {
                _takenSlugs.Add(slug);
            }

            var next = new List<ImportRow>();
            for (var i = 0; i < candidates.Count; i++)
            {
                if (!taken.Contains(candidates[i]) && !_takenSlugs.Contains(candidates[i]) && used.Add(candidates[i]))
                {
                    pending[i].Slug = candidates[i];
                    given.Add(candidates[i]);
                    _slugs?.Add(candidates[i]);
                }
                else
                {
                    next.Add(pending[i]);
                }
            }

            pending = next;
        }

        _uncommittedSlugs.Enqueue((_batchesRead++, given));
    }

    // A batch's SKU keys, its variant rows' too, are the catalog's once it is written.
    private void AddSkuKeys(List<ImportRow> batch)
    {
        foreach (var row in batch)
        {
            _skuKeys?.Add(row.SkuKey);
        }
    }

    /// <summary>
    /// New products whose SKU a variant of another product already holds cannot be created (one SKU namespace, decision
    /// 0016): each such row is rejected with the reason, the rest go on.
    /// </summary>
    private async Task<List<ImportRow>> WithoutVariantSkusAsync(List<ImportRow> rows, EmporiumDbContext lookups, CancellationToken cancellationToken)
    {
        var keys = rows.Select(row => row.SkuKey).Where(key => MayHold(_skuKeys, key)).ToList();
        if (keys.Count == 0)
        {
            return rows;
        }

        var held = (await lookups.Set<Variant>().AsNoTracking()
                .Where(v => EF.Parameter(keys).Contains(v.SkuKey))
                .Select(v => v.SkuKey)
                .ToListAsync(cancellationToken))
            .ToHashSet(StringComparer.Ordinal);
        if (held.Count == 0)
        {
            return rows;
        }

        foreach (var row in rows.Where(row => held.Contains(row.SkuKey)))
        {
            row.Rejection = new RejectedRow(row.Line, "sku", row.Sku, $"sku '{row.Sku}' is the SKU of a variant of another product; it was left unchanged.");
            rejectedProducts.Note(row);
        }

        return rows.Where(row => !held.Contains(row.SkuKey)).ToList();
    }

    /// <summary>
    /// Why a valid row still cannot be written once its stored product is known: the product is out of the import's scope
    /// (a seller's row naming another owner's SKU); when the file has no currency column, the price has more decimal
    /// places than the currency the product keeps (USD for a new one) allows; or, as the API refuses it, a new currency
    /// cannot express the price the product keeps (the file has no price column) or a variant's own price.
    /// </summary>
    private RejectedRow? Refuse(ImportRow row, StoredProduct? stored, Dictionary<long, List<(string Sku, decimal Price)>> ownPrices)
    {
        if (stored is not null && !options.Scope.Reaches(stored.OwnerId))
        {
            return NotOwned(row);
        }

        if (row.BrandDeleted && stored?.BrandId != row.BrandId)
        {
            return ImportReferences.DeletedBrand(row);
        }

        if (header.Columns.Price && row.Currency is null && Money.Problem(row.Price, stored?.Currency ?? Money.DefaultCurrency, "price") is { } problem)
        {
            return new RejectedRow(row.Line, "price", row.Price.ToString(CultureInfo.InvariantCulture), problem);
        }

        if (stored is not null && row.Currency is { } currency && currency != stored.Currency)
        {
            if (!header.Columns.Price && Money.Problem(stored.Price, currency, "price") is not null)
            {
                return new RejectedRow(row.Line, "currency", currency,
                    $"the product's price {stored.Price.ToString(CultureInfo.InvariantCulture)} cannot be expressed in {currency}; add a price column, or change the price first.");
            }

            foreach (var (sku, price) in ownPrices.GetValueOrDefault(stored.Id) ?? [])
            {
                if (Money.Problem(price, currency, "price") is not null)
                {
                    return new RejectedRow(row.Line, "currency", currency,
                        $"the variant {sku} has its own price {price.ToString(CultureInfo.InvariantCulture)}, which {currency} cannot express; change that price first.");
                }
            }
        }

        return null;
    }

    /// <summary>The variants' own prices of the stored products whose currency a row changes (rare: one query only then).</summary>
    private static async Task<Dictionary<long, List<(string Sku, decimal Price)>>> OwnPricesOfCurrencyChangesAsync(
        List<ImportRow> rows, Dictionary<string, StoredProduct> existing, EmporiumDbContext lookups, CancellationToken cancellationToken)
    {
        var ids = rows
            .Select(row => (row, stored: existing.GetValueOrDefault(row.SkuKey)))
            .Where(pair => pair.stored is not null && pair.row.Currency is { } currency && currency != pair.stored.Currency)
            .Select(pair => pair.stored!.Id)
            .ToList();
        if (ids.Count == 0)
        {
            return [];
        }

        return (await lookups.Set<Variant>().AsNoTracking()
                .Where(v => EF.Parameter(ids).Contains(v.ProductId) && v.DeletedAt == null && v.Price != null)
                .Select(v => new { v.ProductId, v.Sku, v.Price })
                .ToListAsync(cancellationToken))
            .GroupBy(v => v.ProductId)
            .ToDictionary(g => g.Key, g => g.Select(v => (v.Sku, v.Price!.Value)).ToList());
    }

    /// <summary>
    /// True when the live stored product already has every value the row supplies (the columns the file has), so the row
    /// would change nothing. A brand this import creates has no id yet and never matches: such a row goes to the upsert,
    /// whose own check then finds it unchanged.
    /// </summary>
    private bool Holds(StoredProduct stored, ImportRow row)
    {
        var columns = header.Columns;
        return stored.DeletedAt is null
            && string.Equals(stored.Sku, row.Sku, StringComparison.Ordinal)
            && string.Equals(stored.Name, row.Name, StringComparison.Ordinal)
            && (!columns.Description || string.Equals(stored.Description, row.Description, StringComparison.Ordinal))
            && (!columns.Price || stored.Price == row.Price)
            && (!columns.Currency || string.Equals(stored.Currency, row.Currency, StringComparison.Ordinal))
            && (!columns.Active || stored.IsActive == row.IsActive)
            && (!columns.Brand || (row.Brand is null ? stored.BrandId is null : row.BrandId is { } brandId && stored.BrandId == brandId));
    }

    private static string Candidate((string Name, string Sku) sources, int attempt)
    {
        var (baseSlug, skuPart) = sources;
        const int room = CatalogLimits.SlugLength - 12;
        return attempt switch
        {
            0 => baseSlug,
            1 => Trim($"{baseSlug}-{skuPart}", room),
            _ => $"{Trim($"{baseSlug}-{skuPart}", room)}-{attempt}",
        };

        static string Trim(string slug, int length) => slug.Length <= length ? slug : slug[..length].TrimEnd('-');
    }

    private sealed record StoredProduct(
        string SkuKey, long Id, long? OwnerId, string Sku, string Name, string? Description, decimal Price, string Currency, bool IsActive, long? BrandId, DateTime? DeletedAt);
}

/// <summary>
/// Consecutive rows of the file as the reading stage classified them. <see cref="CheckpointLine"/> is the last line read
/// after the resume point; <see cref="Processed"/> counts data rows from the start of the file.
/// </summary>
internal sealed class Segment
{
    public List<ImportRow> Rows { get; } = [];

    public List<RejectedRow> Rejections { get; } = [];

    public int Duplicates { get; set; }

    public long Processed { get; set; }

    public long CheckpointLine { get; set; }

    public long BytesRead { get; set; }

    /// <summary>The batch is complete (Import:BatchSize rows, or the end of the file): write it.</summary>
    public bool EndsBatch { get; set; }

    /// <summary>The last segment of the file: commit whatever the transaction holds.</summary>
    public bool EndsFile { get; set; }
}
