namespace Emporium.Features.Import;

/// <summary>
/// Streams a CSV file into the catalog: reads records one at a time, validates each into an <see cref="ImportRow"/>,
/// and upserts them by SKU in batches, each transaction taking batches for Import:CommitInterval. Memory holds a few
/// batches, a fixed buffer for finding in-file duplicates (<see cref="SupersededRows"/>), one bit per data row, and the
/// look-ahead's filters of the catalog's keys (<see cref="KeySketch"/>, at most 8 MB each).
/// </summary>
/// <param name="services">The import's scope: its DbContext, bulk upsert and event outbox write the first lane's batches.</param>
/// <param name="scopes">A scope for each further lane (Import:WriterConnections).</param>
public sealed class CatalogImporter(
    EmporiumDbContext db,
    DbContextOptions<EmporiumDbContext> dbOptions,
    IProductBulkUpsert bulkUpsert,
    IServiceProvider services,
    IServiceScopeFactory scopes,
    IOptions<ImportSettings> settings,
    TimeProvider clock,
    Platform.Telemetry.EmporiumMetrics metrics)
{
    /// <summary>Progress is reported at least this often, between commits and during the first pass too.</summary>
    public static readonly TimeSpan ReportEvery = TimeSpan.FromMilliseconds(250);

    private readonly ImportSettings _settings = settings.Value;

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

        using var superseded = new SupersededRows(_settings.DedupBufferRows, Path.GetTempPath());
        var references = await ImportReferences.LoadAsync(db, header.Columns, cancellationToken);
        var progressClock = new ProgressClock(clock);
        var totalRows = await LastRowPass.RunAsync(
            scan,
            header,
            references.Categories,
            superseded,
            progressClock,
            // A resumed attempt reports nothing while it counts again: its job shows the earlier attempt's progress until the
            // writing resumes, rather than falling to 0 and then leaping back (a pace of hundreds of thousands of rows a second).
            options.OnProgress is not { } onProgress || options.StartAfterLine > 0 ? null : (rows, read) =>
            {
                // Rows so far, scaled by the share of bytes read: a fair guess for files of similar rows.
                var estimate = read > 0 ? Math.Max(rows, (long)(rows * ((double)totalBytes / read))) : rows;
                return onProgress(new ImportProgress(ImportPhase.Counting, 0, estimate, read, totalBytes, null, new ImportCounts(0, 0, 0, 0, 0)), cancellationToken);
            },
            cancellationToken);

        source.Position = start;
        var reader = new CsvRowReader(source);
        await reader.ReadAsync(cancellationToken);
        // A dry run rolls back each transaction, and a later batch may use a brand an earlier one created: one lane.
        var laneCount = options.DryRun ? 1 : Math.Min(_settings.WriterConnections, bulkUpsert.MaxWriters);
        var rejectedProducts = new RejectedProducts(header);
        await using var lanes = await WriterLanes.OpenAsync(
            laneCount, _settings.LockTimeout, services, scopes, header.Columns, options.Scope, rejectedProducts, cancellationToken);
        // The writer's transactions, should a failure leave any open, roll back before the connections are put back.
        await using var writer = new BatchWriter(lanes.All, _settings, clock, header, options, references, totalRows, totalBytes, metrics, cancellationToken);
        var reading = new ReadingStage(header, options, _settings.BatchSize, references, rejectedProducts, superseded, progressClock, totalRows, () => writer.BatchesCommitted);
        // Two stages that overlap: the reading stage (on its own task, with its own connection for look-ups) parses and
        // validates the next rows while the writer writes the batches before them. Segments go through a channel of one:
        // reading is the faster stage, so a longer queue would only hold more rows (about three batches a lane are in
        // memory). A reading failure ends the segments early, and nothing after the last complete batch is written.
        await using var lookups = new EmporiumDbContext(dbOptions);
        await TwoStages.RunAsync<Segment>(
            capacity: 1,
            (output, token) => reading.ReadAsync(reader, lookups, output, token),
            segment => writer.ApplyAsync(segment, cancellationToken),
            () => writer.FinishAsync(cancellationToken),
            cancellationToken);
        return writer.Result();
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
}
