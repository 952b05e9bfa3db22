using System.Collections.Frozen;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using System.Threading.Channels;
using Emporium.Features.Catalog;
using Microsoft.EntityFrameworkCore.Storage;

namespace Emporium.Features.Import;

/// <summary>
/// Streams a CSV file into the catalog: reads records one at a time, validates each into an <see cref="ImportRow"/>,
/// and upserts them by SKU in batches, each transaction taking batches for Import:CommitInterval. Memory holds a few
/// batches, a fixed buffer for finding in-file duplicates (<see cref="SupersededRows"/>) and one bit per data row,
/// whatever the file size.
/// </summary>
public sealed class CatalogImporter(
    EmporiumDbContext db,
    DbContextOptions<EmporiumDbContext> dbOptions,
    IProductBulkUpsert bulkUpsert,
    IOptions<ImportSettings> settings,
    TimeProvider clock)
{
    /// <summary>Progress is reported at least this often, between commits and during the first pass too.</summary>
    public static readonly TimeSpan ReportEvery = TimeSpan.FromMilliseconds(250);

    private const string ExistingSlugMarker = "!";

    private EmporiumDbContext Db { get; } = db;

    /// <summary>For the reading stage's own context: its look-ups run beside the writing stage's transaction.</summary>
    private DbContextOptions<EmporiumDbContext> DbOptions { get; } = dbOptions;

    private IProductBulkUpsert BulkUpsert { get; } = bulkUpsert;

    private ImportSettings Settings { get; } = settings.Value;

    private TimeProvider Clock { get; } = clock;

    public async Task<ImportResult> ImportAsync(
        Stream csv,
        ImportOptions options,
        CancellationToken cancellationToken = default)
    {
        // Two passes: the first finds the last valid row of every SKU, so that earlier rows for it are never written
        // (writing them would bump versions on a re-import). A stream that cannot rewind is spooled to a temp file.
        await using var spool = csv.CanSeek ? null : await SpoolAsync(csv, cancellationToken);
        var source = spool ?? csv;
        var start = source.Position;
        var totalBytes = options.TotalBytes ?? source.Length - start;

        var scan = new CsvRowReader(source);
        var first = await scan.ReadAsync(cancellationToken);
        if (scan.LooksBinary)
        {
            return ImportResult.FileFailure("The file is not text (it contains NUL bytes): upload a UTF-8 CSV file.", options.DryRun);
        }

        if (first is null)
        {
            return ImportResult.FileFailure(
                "The file is empty: it needs a header row (sku,name,...) and at least one data row.", options.DryRun);
        }

        var (header, headerError) = ImportHeader.Parse(first);
        if (header is null)
        {
            return ImportResult.FileFailure(headerError!, options.DryRun);
        }

        using var superseded = new SupersededRows(Settings.DedupBufferRows, Path.GetTempPath());
        var run = new Run(this, header, options, totalBytes, superseded);
        await run.LoadReferenceDataAsync(cancellationToken);
        await run.FindLastRowsAsync(scan, cancellationToken);

        source.Position = start;
        var reader = new CsvRowReader(source);
        await reader.ReadAsync(cancellationToken);
        await using (await BulkUpsert.BeginImportAsync(cancellationToken))
        {
            await run.ImportRowsAsync(reader, cancellationToken);
        }

        return run.Result();
    }

    private static async Task<FileStream> SpoolAsync(Stream csv, CancellationToken cancellationToken)
    {
        var spool = new FileStream(
            Path.Combine(Path.GetTempPath(), $"emporium-import-{Guid.NewGuid():N}.csv"),
            FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 64 * 1024, FileOptions.DeleteOnClose | FileOptions.Asynchronous);
        await csv.CopyToAsync(spool, cancellationToken);
        spool.Position = 0;
        return spool;
    }

    /// <summary>The state of one import, from the header to the last batch.</summary>
    private sealed class Run(
        CatalogImporter importer,
        ImportHeader header,
        ImportOptions options,
        long totalBytes,
        SupersededRows superseded)
    {
        private readonly EmporiumDbContext _db = importer.Db;
        private readonly ImportSettings _settings = importer.Settings;
        // Unique by SKU key: only the last valid row of a SKU is ever added.
        private readonly List<ImportRow> _batch = [];
        private readonly List<RejectedRow> _rejections = [];
        private readonly List<ProductChange> _changes = [];
        // Brands by lower-cased name and by slug. The reading stage checks rows against a frozen copy taken before the
        // import (it runs beside the writing stage, which adds the brands the import creates to the live one).
        private readonly Dictionary<string, BrandEntry> _brands = new(StringComparer.Ordinal);
        private FrozenDictionary<string, BrandEntry> _knownBrands = FrozenDictionary<string, BrandEntry>.Empty;
        private readonly Dictionary<long, string> _brandNames = [];
        private CategoryLookup _categories = new([]);
        private int _created;
        private int _updated;
        private int _unchanged;
        private int _rejected;
        private int _duplicates;
        private long _processed;
        private long _checkpointLine;
        private long _totalRows;
        private long _bytesRead;
        private long _lastReport = importer.Clock.GetTimestamp();
        // Batches the writing stage has committed (or, in a dry run, rolled back); the reading stage reads it.
        private long _batchesCommitted;
        // The writing stage's open transaction, which takes batches until Import:CommitInterval has passed.
        private IDbContextTransaction? _transaction;
        private long _transactionStarted;
        private int _batchesInTransaction;
        // Keys of the brands the open transaction created: a dry run's rollback forgets them.
        private readonly List<string> _createdBrands = [];
        // The reading stage's: slugs it gave to batches not committed yet, which its own connection cannot see.
        private readonly Queue<(long Batch, List<string> Slugs)> _uncommittedSlugs = new();
        private long _batchesRead;

        private sealed record BrandEntry(long Id, bool Deleted);

        public async Task LoadReferenceDataAsync(CancellationToken cancellationToken)
        {
            var categories = await _db.Set<Category>().AsNoTracking()
                .Where(c => c.DeletedAt == null)
                .Select(c => new { c.Id, c.Name, c.Slug })
                .ToListAsync(cancellationToken);
            _categories = new CategoryLookup(categories.Select(c => (c.Id, c.Name, c.Slug)));

            if (header.Columns.Brand)
            {
                var brands = await _db.Set<Brand>().AsNoTracking()
                    .Select(b => new { b.Id, b.Name, b.Slug, b.DeletedAt })
                    .ToListAsync(cancellationToken);
                foreach (var brand in brands)
                {
                    RememberBrand(brand.Id, brand.Name, brand.Slug, brand.DeletedAt is not null);
                }

                _knownBrands = _brands.ToFrozenDictionary(StringComparer.Ordinal);
            }
        }

        /// <summary>
        /// First pass: counts the data rows and finds the valid rows that a later valid row of the same SKU replaces.
        /// SKUs are told apart by a 128-bit hash of their key: a collision (two SKUs of one file sharing 128 bits) is
        /// beyond any realistic file. Nothing is written before it ends and the second core would idle, so the file is
        /// split into records on its own task while this flow validates and hashes them, a chunk at a time.
        /// </summary>
        public async Task FindLastRowsAsync(CsvRowReader scan, CancellationToken cancellationToken)
        {
            await TwoStages.RunAsync<RecordChunk>(
                capacity: 2,
                async (output, token) =>
                {
                    // This stage keeps the time: a chunk also ends when a progress report is due, and says so.
                    var records = new List<CsvRecord>(RecordChunk.Size);
                    while (await scan.ReadAsync(token) is { } record)
                    {
                        records.Add(record);
                        var due = ReportDue();
                        if (records.Count == RecordChunk.Size || due)
                        {
                            await output.WriteAsync(new RecordChunk(records, scan.BytesConsumed, due), token);
                            records = new List<CsvRecord>(RecordChunk.Size);
                        }
                    }

                    await output.WriteAsync(new RecordChunk(records, scan.BytesConsumed, ReportDue: false), token);
                },
                async chunk =>
                {
                    foreach (var record in chunk.Records)
                    {
                        var ordinal = _totalRows++;
                        if (ImportRowParser.Parse(record, header, _categories).Row is { } row)
                        {
                            superseded.Add(KeyOf(row.SkuKey), ordinal);
                        }
                    }

                    if (chunk.ReportDue && options.OnProgress is { } onProgress)
                    {
                        // Rows so far, scaled by the share of bytes read: a fair guess for files of similar rows.
                        var read = chunk.BytesConsumed;
                        var estimate = read > 0 ? Math.Max(_totalRows, (long)(_totalRows * ((double)totalBytes / read))) : _totalRows;
                        await onProgress(new ImportProgress(ImportPhase.Counting, 0, estimate, read, totalBytes, null, Counts()), cancellationToken);
                    }
                },
                cancellationToken);

            superseded.Seal(_totalRows, cancellationToken);
        }

        /// <summary>
        /// Second pass, in two stages that overlap: a reader (on its own task) parses and validates the next rows while
        /// this flow writes the batch before them. The reader hands over <see cref="Segment"/>s in file order through a
        /// channel of one: it is the faster stage, so a longer queue would only hold more rows (about three batches are
        /// in memory). Everything with a side effect (errors.csv, the database, progress, checkpoints) happens here, in
        /// file order, exactly as when one loop did both.
        /// </summary>
        public async Task ImportRowsAsync(CsvRowReader reader, CancellationToken cancellationToken)
        {
            try
            {
                // A reading failure ends the segments early, and nothing after the last complete batch is written.
                await TwoStages.RunAsync<Segment>(
                    capacity: 1,
                    (output, token) => ReadSegmentsAsync(reader, output, token),
                    segment => ApplyAsync(segment, cancellationToken),
                    cancellationToken);
            }
            finally
            {
                // Rolls back the batches of a transaction that a failure left open.
                if (_transaction is not null)
                {
                    await _transaction.DisposeAsync();
                    _transaction = null;
                }
            }
        }

        /// <summary>
        /// The reading stage: parses, validates and de-duplicates rows into segments. A segment ends a batch when it
        /// brings the batch to Import:BatchSize rows (or ends the file); in between, one goes out every
        /// <see cref="ReportEvery"/> so that progress shows rows read before a commit. Before a batch's last segment goes,
        /// it looks the batch's SKUs and slugs up on its own connection (<see cref="LookAheadAsync"/>). It shares nothing
        /// with the writing stage but the count of committed batches: brands are checked against the ones loaded before
        /// the import (those created by it are never deleted).
        /// </summary>
        private async Task ReadSegmentsAsync(CsvRowReader reader, ChannelWriter<Segment> output, CancellationToken cancellationToken)
        {
            await using var lookups = new EmporiumDbContext(importer.DbOptions);
            var segment = new Segment();
            var batch = new List<ImportRow>();
            var processed = 0L;
            while (await reader.ReadAsync(cancellationToken) is { } record)
            {
                processed++;
                if (record.Line > options.StartAfterLine)
                {
                    // Records up to the resume point were settled (and counted) by an earlier run.
                    var (row, rejection) = ImportRowParser.Parse(record, header, _categories);
                    if (row is not null && row.Brand is { } brand)
                    {
                        rejection = ResolveBrand(row, brand, record.Line);
                    }

                    if (rejection is not null || row is null)
                    {
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
                var full = batch.Count >= _settings.BatchSize;
                if (full)
                {
                    await LookAheadAsync(batch, lookups, cancellationToken);
                    batch = [];
                }

                if (ReportDue() || full)
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

        /// <summary>The writing stage: takes one segment's rejections, duplicates and rows, and writes the batch it ends.</summary>
        private async Task ApplyAsync(Segment segment, CancellationToken cancellationToken)
        {
            foreach (var rejection in segment.Rejections)
            {
                await RejectAsync(rejection);
            }

            _duplicates += segment.Duplicates;
            _batch.AddRange(segment.Rows);

            _processed = segment.Processed;
            _bytesRead = segment.BytesRead;
            _checkpointLine = segment.CheckpointLine;
            if (segment.EndsBatch)
            {
                await FlushAsync(segment.EndsFile, cancellationToken);
            }
            else if (_transaction is null && options.OnProgress is { } onProgress)
            {
                // Between commits: no checkpoint, since the rows read since the last commit are not settled yet. Not while a
                // transaction is open: on SQLite a write on another connection would wait for it to commit, and it waits on this.
                await onProgress(new ImportProgress(ImportPhase.Importing, _processed, _totalRows, _bytesRead, totalBytes, null, Counts()), cancellationToken);
            }
        }

        public ImportResult Result() => new(
            ImportOutcome.Completed,
            null,
            Counts(),
            _rejections,
            header.Unknown,
            _changes,
            options.DryRun);

        private ImportCounts Counts() => new(_created, _updated, _unchanged, _rejected, _duplicates);

        private async Task RejectAsync(RejectedRow rejection)
        {
            _rejected++;
            if (_rejections.Count < _settings.MaxRejectionsKept)
            {
                _rejections.Add(rejection with { Cells = null });
            }

            if (options.OnRejected is { } onRejected)
            {
                await onRejected(rejection);
            }
        }

        /// <summary>
        /// Brands known before the import get their id now; others are created (or found among those this import created)
        /// with the batch. Deleted brands reject the row.
        /// </summary>
        private RejectedRow? ResolveBrand(ImportRow row, string brand, long line)
        {
            if (FindBrand(_knownBrands, brand) is not { } entry)
            {
                // Brands are the store's (staff create them); a seller's file may only name existing ones.
                return options.Scope.OwnProductsOnly
                    ? new RejectedRow(line, "brand", brand, $"brand '{brand}' does not exist; ask the store's staff to create it, or name an existing brand.")
                    : null;
            }

            if (entry.Deleted)
            {
                return new RejectedRow(line, "brand", brand, $"brand '{brand}' is deleted; restore it first or name another brand.");
            }

            row.BrandId = entry.Id;
            return null;
        }

        /// <summary>By lower-cased name first, then by the slug the name would get.</summary>
        private static BrandEntry? FindBrand(IReadOnlyDictionary<string, BrandEntry> brands, string name) =>
            brands.TryGetValue(name.ToLowerInvariant(), out var entry) || brands.TryGetValue(Slugs.FromName(name, "brand"), out entry)
                ? entry
                : null;

        private void RememberBrand(long id, string name, string slug, bool deleted)
        {
            var entry = new BrandEntry(id, deleted);
            foreach (var key in new[] { slug, name.Trim().ToLowerInvariant() })
            {
                // A live brand wins over a deleted one of the same name.
                if (!_brands.TryGetValue(key, out var known) || (known.Deleted && !deleted))
                {
                    _brands[key] = entry;
                }
            }

            _brandNames[id] = name;
        }

        /// <summary>
        /// Writes a complete batch into the open transaction (opening one if needed), and ends the transaction once
        /// Import:CommitInterval has passed since it began, or at the end of the file.
        /// </summary>
        private async Task FlushAsync(bool endOfFile, CancellationToken cancellationToken)
        {
            if (_batch.Count > 0)
            {
                if (_transaction is null)
                {
                    _transaction = await _db.Database.BeginTransactionAsync(cancellationToken);
                    _transactionStarted = importer.Clock.GetTimestamp();
                }

                await WriteBatchAsync(cancellationToken);
                _batch.Clear();
            }

            if (_transaction is not null && !endOfFile && importer.Clock.GetElapsedTime(_transactionStarted) < _settings.CommitInterval)
            {
                return;
            }

            await EndTransactionAsync(cancellationToken);
            if (options.OnProgress is { } onProgress)
            {
                await onProgress(Progress(), cancellationToken);
            }
        }

        /// <summary>
        /// Commits the open transaction with its checkpoint, or rolls it back on a dry run. With no transaction open (the
        /// rows since the last commit were all rejected or superseded) the checkpoint is saved on its own.
        /// </summary>
        private async Task EndTransactionAsync(CancellationToken cancellationToken)
        {
            if (options.DryRun)
            {
                if (_transaction is not null)
                {
                    await _transaction.RollbackAsync(cancellationToken);
                }

                foreach (var key in _createdBrands)
                {
                    _brands.Remove(key);
                }
            }
            else
            {
                if (options.OnCheckpoint is { } onCheckpoint)
                {
                    await onCheckpoint(Progress(), cancellationToken);
                }

                if (_transaction is not null)
                {
                    await _transaction.CommitAsync(cancellationToken);
                }
            }

            if (_transaction is not null)
            {
                await _transaction.DisposeAsync();
                _transaction = null;
            }

            _createdBrands.Clear();
            // The reading stage's connection sees these batches now (or, after a rollback, knows they are gone).
            Interlocked.Add(ref _batchesCommitted, _batchesInTransaction);
            _batchesInTransaction = 0;
        }

        private static UInt128 KeyOf(string skuKey) => XxHash128.HashToUInt128(MemoryMarshal.AsBytes(skuKey.AsSpan()));

        private bool ReportDue()
        {
            var now = importer.Clock.GetTimestamp();
            if (importer.Clock.GetElapsedTime(_lastReport, now) < ReportEvery)
            {
                return false;
            }

            _lastReport = now;
            return true;
        }

        private ImportProgress Progress() => new(ImportPhase.Importing, _processed, _totalRows, _bytesRead, totalBytes, _checkpointLine, Counts());

        private async Task WriteBatchAsync(CancellationToken cancellationToken)
        {
            var now = importer.Clock.GetUtcNow().UtcDateTime;
            var rows = new List<ImportRow>(_batch.Count);
            foreach (var row in _batch)
            {
                if (row.Rejection is { } rejection)
                {
                    await RejectAsync(rejection with { Cells = row.Cells });
                }
                else
                {
                    rows.Add(row);
                }
            }

            // Only a dry run shows before/after values, read here, inside the batch's transaction.
            var keys = options.DryRun ? rows.Select(row => row.SkuKey).ToList() : null;
            var before = keys is not null
                ? await _db.Set<Product>().AsNoTracking()
                    .Where(p => EF.Parameter(keys).Contains(p.SkuKey))
                    .Select(p => new ExistingProduct(p.Id, p.SkuKey, p.Sku, p.Name, p.Description, p.Price, p.Currency, p.IsActive, p.BrandId, p.DeletedAt))
                    .ToDictionaryAsync(p => p.SkuKey, StringComparer.Ordinal, cancellationToken)
                : null;

            await CreateMissingBrandsAsync(rows, _createdBrands, now, cancellationToken);

            var changing = rows.Where(row => !row.Unchanged).ToList();
            var written = (await importer.BulkUpsert.UpsertAsync(changing, header.Columns, options.Scope, now, cancellationToken))
                .ToDictionary(w => w.SkuKey, StringComparer.Ordinal);
            var outOfReach = await OutOfReachAsync(rows, written, cancellationToken);

            if (header.Columns.Categories)
            {
                await SyncCategoriesAsync(rows.Where(row => !outOfReach.Contains(row.SkuKey)).ToList(), written, now, cancellationToken);
            }

            foreach (var row in rows)
            {
                if (outOfReach.Contains(row.SkuKey))
                {
                    await RejectAsync(new RejectedRow(row.Line, "sku", row.Sku,
                        $"sku '{row.Sku}' belongs to a product you do not own; it was left unchanged.") { Cells = row.Cells });
                }
                else if (!written.TryGetValue(row.SkuKey, out var outcome))
                {
                    _unchanged++;
                }
                else if (outcome.Created)
                {
                    _created++;
                }
                else
                {
                    _updated++;
                    if (before is not null && _changes.Count < _settings.DryRunChangeSample && before.TryGetValue(row.SkuKey, out var was))
                    {
                        _changes.Add(new ProductChange(row.Line, row.Sku, Diff(was, row)));
                    }
                }
            }

            _batchesInTransaction++;
            _db.ChangeTracker.Clear();
        }

        /// <summary>
        /// A seller's rows that the upsert left alone because another owner created the SKU after the look-ahead (the upsert
        /// never updates a product out of the scope's reach): those are rejections, not unchanged rows.
        /// </summary>
        private async Task<HashSet<string>> OutOfReachAsync(List<ImportRow> rows, Dictionary<string, UpsertedProduct> written, CancellationToken cancellationToken)
        {
            var unexpected = options.Scope.OwnProductsOnly
                ? rows.Where(row => row.ExistingId is null && !written.ContainsKey(row.SkuKey)).Select(row => row.SkuKey).ToList()
                : [];
            if (unexpected.Count == 0)
            {
                return [];
            }

            var owners = await _db.Set<Product>().AsNoTracking()
                .Where(p => EF.Parameter(unexpected).Contains(p.SkuKey))
                .Select(p => new { p.SkuKey, p.OwnerId })
                .ToListAsync(cancellationToken);
            return owners.Where(p => !options.Scope.Reaches(p.OwnerId)).Select(p => p.SkuKey).ToHashSet(StringComparer.Ordinal);
        }

        /// <summary>Brands are created on first mention (name as written, slug from the name), inside the batch's transaction.</summary>
        private async Task CreateMissingBrandsAsync(List<ImportRow> rows, List<string> createdKeys, DateTime now, CancellationToken cancellationToken)
        {
            foreach (var row in rows)
            {
                if (row.Brand is not { } name || row.BrandId is not null)
                {
                    continue;
                }

                // Unknown before the import, so never deleted: perhaps an earlier batch created it.
                if (FindBrand(_brands, name) is { } known)
                {
                    row.BrandId = known.Id;
                    continue;
                }

                var key = name.ToLowerInvariant();

                var slug = await Slugs.UniqueAsync(
                    Slugs.FromName(name, "brand"),
                    candidate => _db.Set<Brand>().AnyAsync(b => b.Slug == candidate, cancellationToken));
                var brand = new Brand { Name = name, Slug = slug, CreatedAt = now, UpdatedAt = now };
                _db.Add(brand);
                await _db.SaveChangesAsync(cancellationToken);
                RememberBrand(brand.Id, name, slug, deleted: false);
                createdKeys.Add(key);
                createdKeys.Add(slug);
                row.BrandId = brand.Id;
            }
        }

        /// <summary>
        /// The reading stage's look-ahead for a complete batch, on its own connection while the writing stage writes the
        /// batches before it: which SKUs exist (their rows take the update path), and a slug for each new product. A new
        /// product's slug comes from its name; when that is taken (in the table, by a batch handed over but not written
        /// yet, or earlier in this batch) the SKU is appended, then a number. Each round asks the database about all
        /// remaining candidates at once.
        /// Another writer can still create one of these SKUs or take one of these slugs before the batch is written: the
        /// SKU's row then updates it (as the upsert decides by SKU in its own statement), and a slug taken that way fails the
        /// batch's insert on the unique index, so the job's next attempt resumes from the last checkpoint and looks again.
        /// </summary>
        private async Task LookAheadAsync(List<ImportRow> rows, EmporiumDbContext lookups, CancellationToken cancellationToken)
        {
            if (rows.Count == 0)
            {
                return;
            }

            var keys = rows.Select(row => row.SkuKey).ToList();
            // EF.Parameter: one array parameter; EF Core 10 would otherwise send 5,000 scalar parameters per look-up.
            var existing = await lookups.Set<Product>().AsNoTracking()
                .Where(p => EF.Parameter(keys).Contains(p.SkuKey))
                .Select(p => new StoredProduct(p.SkuKey, p.Id, p.OwnerId, p.Sku, p.Name, p.Description, p.Price, p.Currency, p.IsActive, p.BrandId, p.DeletedAt))
                .ToDictionaryAsync(p => p.SkuKey, StringComparer.Ordinal, cancellationToken);

            var pending = new List<ImportRow>();
            foreach (var row in rows)
            {
                var stored = existing.GetValueOrDefault(row.SkuKey);
                if (Refuse(row, stored) is { } rejection)
                {
                    row.Rejection = rejection;
                    continue;
                }

                if (stored is not null)
                {
                    row.ExistingId = stored.Id;
                    row.Unchanged = Holds(stored, row);
                    // Never inserted (the SKU exists, so the row takes the update path): a value no real slug can have.
                    row.Slug = ExistingSlugMarker + row.SkuKey;
                    continue;
                }

                pending.Add(row);
            }

            // Batches committed by now are visible to the queries below, so their slugs need no remembering: read the
            // count before querying.
            var committed = Interlocked.Read(ref _batchesCommitted);
            while (_uncommittedSlugs.TryPeek(out var oldest) && oldest.Batch < committed)
            {
                _uncommittedSlugs.Dequeue();
            }

            var used = _uncommittedSlugs.SelectMany(batch => batch.Slugs).ToHashSet(StringComparer.Ordinal);
            var given = new List<string>();
            for (var attempt = 0; pending.Count > 0; attempt++)
            {
                var candidates = pending.Select(row => Candidate(row.SlugSources, attempt)).ToList();
                var slugs = candidates.Distinct().ToList();
                var taken = (await lookups.Set<Product>().AsNoTracking()
                    .Where(p => EF.Parameter(slugs).Contains(p.Slug))
                    .Select(p => p.Slug)
                    .ToListAsync(cancellationToken)).ToHashSet(StringComparer.Ordinal);

                var next = new List<ImportRow>();
                for (var i = 0; i < candidates.Count; i++)
                {
                    if (!taken.Contains(candidates[i]) && used.Add(candidates[i]))
                    {
                        pending[i].Slug = candidates[i];
                        given.Add(candidates[i]);
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

        /// <summary>
        /// Why a valid row still cannot be written once its stored product is known: the product is out of the import's
        /// scope (a seller's row naming another owner's SKU, decision 0013), or, when the file has no currency column, the
        /// price has more decimal places than the currency the product keeps (USD for a new one) allows.
        /// </summary>
        private RejectedRow? Refuse(ImportRow row, StoredProduct? stored)
        {
            if (stored is not null && !options.Scope.Reaches(stored.OwnerId))
            {
                return new RejectedRow(row.Line, "sku", row.Sku,
                    $"sku '{row.Sku}' belongs to a product you do not own; it was left unchanged.");
            }

            if (header.Columns.Price && row.Currency is null)
            {
                var currency = stored?.Currency ?? Money.DefaultCurrency;
                if (Money.Problem(row.Price, currency, "price") is { } problem)
                {
                    return new RejectedRow(row.Line, "price", row.Price.ToString(CultureInfo.InvariantCulture), problem);
                }
            }

            return null;
        }

        /// <summary>
        /// True when the live stored product already has every value the row supplies (the columns the file has), so the
        /// row would change nothing. A brand this import creates has no id yet and never matches: such a row goes to the
        /// upsert, whose own check then finds it unchanged.
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

        /// <summary>
        /// A present categories column replaces each product's categories. A product whose only change is its
        /// categories still gets a new version and counts as updated.
        /// </summary>
        private async Task SyncCategoriesAsync(
            List<ImportRow> rows,
            Dictionary<string, UpsertedProduct> written,
            DateTime now,
            CancellationToken cancellationToken)
        {
            var ids = new Dictionary<string, long>(StringComparer.Ordinal);
            var unknown = new List<string>();
            foreach (var row in rows)
            {
                if ((written.TryGetValue(row.SkuKey, out var w) ? w.Id : row.ExistingId) is { } id)
                {
                    ids[row.SkuKey] = id;
                }
                else
                {
                    // Created by another writer after the look-ahead, and left unchanged by this row.
                    unknown.Add(row.SkuKey);
                }
            }

            if (unknown.Count > 0)
            {
                foreach (var product in await _db.Set<Product>().AsNoTracking()
                    .Where(p => EF.Parameter(unknown).Contains(p.SkuKey))
                    .Select(p => new { p.SkuKey, p.Id })
                    .ToListAsync(cancellationToken))
                {
                    ids[product.SkuKey] = product.Id;
                }
            }

            var productIds = ids.Values.ToList();
            var current = (await _db.Set<Dictionary<string, object>>("product_categories").AsNoTracking()
                    .Where(pc => EF.Parameter(productIds).Contains(EF.Property<long>(pc, "product_id")))
                    .Select(pc => new { ProductId = EF.Property<long>(pc, "product_id"), CategoryId = EF.Property<long>(pc, "category_id") })
                    .ToListAsync(cancellationToken))
                .ToLookup(pc => pc.ProductId, pc => pc.CategoryId);

            var replace = new List<(long ProductId, IReadOnlyList<long> CategoryIds)>();
            var bump = new List<long>();
            foreach (var row in rows)
            {
                var id = ids[row.SkuKey];
                if (current[id].ToHashSet().SetEquals(row.CategoryIds))
                {
                    continue;
                }

                replace.Add((id, row.CategoryIds));
                if (!written.ContainsKey(row.SkuKey))
                {
                    bump.Add(id);
                    written[row.SkuKey] = new UpsertedProduct(row.SkuKey, id, Created: false);
                }
            }

            if (replace.Count == 0)
            {
                return;
            }

            // Ids are numbers from our own queries, so inlining them is safe and keeps this one statement per chunk.
            foreach (var chunk in replace.Chunk(1_000))
            {
                var list = string.Join(",", chunk.Select(r => r.ProductId.ToString(CultureInfo.InvariantCulture)));
                var delete = $"DELETE FROM product_categories WHERE product_id IN ({list})";
                await _db.Database.ExecuteSqlRawAsync(delete, cancellationToken);
                var pairs = chunk
                    .SelectMany(r => r.CategoryIds.Select(c => string.Create(CultureInfo.InvariantCulture, $"({r.ProductId},{c})")))
                    .ToList();
                if (pairs.Count > 0)
                {
                    var insert = $"INSERT INTO product_categories (product_id, category_id) VALUES {string.Join(",", pairs)}";
                    await _db.Database.ExecuteSqlRawAsync(insert, cancellationToken);
                }
            }

            if (bump.Count > 0)
            {
                await _db.Set<Product>()
                    .Where(p => EF.Parameter(bump).Contains(p.Id))
                    .ExecuteUpdateAsync(set => set
                        .SetProperty(p => p.UpdatedAt, now)
                        .SetProperty(p => p.Version, p => p.Version + 1), cancellationToken);
            }
        }

        private List<FieldChange> Diff(ExistingProduct before, ImportRow after)
        {
            var changes = new List<FieldChange>();
            void Compare(string field, string? from, string? to)
            {
                if (!string.Equals(from, to, StringComparison.Ordinal))
                {
                    changes.Add(new FieldChange(field, from, to));
                }
            }

            if (before.DeletedAt is not null)
            {
                changes.Add(new FieldChange("deleted", "true", "false"));
            }

            Compare("sku", before.Sku, after.Sku);
            Compare("name", before.Name, after.Name);
            if (header.Columns.Description)
            {
                Compare("description", before.Description, after.Description);
            }

            if (header.Columns.Price)
            {
                Compare("price", Price(before.Price), Price(after.Price));
            }

            if (header.Columns.Currency)
            {
                Compare("currency", before.Currency, after.Currency);
            }

            if (header.Columns.Active)
            {
                Compare("active", before.IsActive ? "true" : "false", after.IsActive ? "true" : "false");
            }

            if (header.Columns.Brand)
            {
                Compare("brand", BrandName(before.BrandId), after.Brand is null ? null : BrandName(after.BrandId) ?? after.Brand);
            }

            if (changes.Count == 0 && header.Columns.Categories)
            {
                changes.Add(new FieldChange("categories", null, string.Join("|", after.CategoryIds)));
            }

            return changes;

            static string Price(decimal price) => (price / 1.0000m).ToString("0.####", CultureInfo.InvariantCulture);
        }

        private string? BrandName(long? id) => id is { } value && _brandNames.TryGetValue(value, out var name) ? name : null;
    }

    /// <summary>
    /// Consecutive rows of the file as the reading stage classified them. <see cref="CheckpointLine"/> is the last line
    /// read after the resume point; <see cref="Processed"/> counts data rows from the start of the file.
    /// </summary>
    private sealed class Segment
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

    /// <summary>
    /// First-pass records, in file order; <see cref="BytesConsumed"/> is how far into the file they reach, and
    /// <see cref="ReportDue"/> says progress is due once they are counted.
    /// </summary>
    private sealed record RecordChunk(List<CsvRecord> Records, long BytesConsumed, bool ReportDue)
    {
        /// <summary>Records per chunk: about half a megabyte of text, so two chunks in the channel hold little.</summary>
        public const int Size = 1_000;
    }

    private sealed record StoredProduct(
        string SkuKey, long Id, long? OwnerId, string Sku, string Name, string? Description, decimal Price, string Currency, bool IsActive, long? BrandId, DateTime? DeletedAt);

    private sealed record ExistingProduct(
        long Id, string SkuKey, string Sku, string Name, string? Description, decimal Price, string Currency, bool IsActive, long? BrandId, DateTime? DeletedAt);
}
