using System.ComponentModel.DataAnnotations;

using Emporium.Features.Catalog;

namespace Emporium.Features.Import;

/// <summary>Import settings (section Import).</summary>
public sealed class ImportSettings
{
    public const string Section = "Import";

    /// <summary>Rows written by one statement: the unit the reading stage hands over and the writing stage upserts.</summary>
    [Range(1, 100_000)]
    public int BatchSize { get; set; } = 5_000;

    /// <summary>
    /// Connections that write an import's batches at once, each batch in a transaction of its own, while its checkpoints
    /// still commit in file order. On PostgreSQL each runs on a server process of its own, so two write a 500,000-row
    /// import in about two thirds of the time of one (docs/benchmarks.md); SQLite has one writer, and a dry run uses one.
    /// </summary>
    [Range(1, 16)]
    public int WriterConnections { get; set; } = 2;

    /// <summary>
    /// How long a batch's write waits for a row another transaction holds (PostgreSQL) before the attempt fails and the
    /// job retries from its last checkpoint. With several writing connections, one of them waits for the batch before it
    /// to commit, so a wait that runs through another writer back to that batch is a deadlock the server cannot see: this
    /// ends it. Waits for other writers' batches are normally well under a second.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan LockTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// With one writing connection (SQLite, a dry run, or Import:WriterConnections = 1): how long one transaction goes on
    /// taking batches before it commits (with the checkpoint to resume from and the job's progress). A commit writes every page the transaction changed, and consecutive batches change many of the same
    /// (index leaves, the search index's structure), so on SQLite fewer, larger commits save ~2.5 s of a 500,000-row import
    /// (docs/benchmarks.md). Zero commits each batch on its own. Progress shows at each commit, so keep it under a second.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:01:00")]
    public TimeSpan CommitInterval { get; set; } = TimeSpan.FromMilliseconds(750);

    /// <summary>
    /// SKU entries held in memory while the first pass finds the last row of each SKU, at 24 bytes each (the default,
    /// 524,288, takes 12 MB). A file with more valid rows spills the rest to a file in the system temp directory (up to
    /// 24 bytes per row, deleted when the import ends), so memory stays the same whatever the file size; one bit per
    /// data row comes on top.
    /// </summary>
    [Range(1_024, 16_777_216)]
    public int DedupBufferRows { get; set; } = 524_288;

    /// <summary>Rejected rows kept in the result; the counts stay exact beyond it (<see cref="ImportOptions.OnRejected"/> sees every one).</summary>
    [Range(0, 1_000_000)]
    public int MaxRejectionsKept { get; set; } = 10_000;

    /// <summary>Per-field changes a dry run lists for updated products.</summary>
    [Range(0, 10_000)]
    public int DryRunChangeSample { get; set; } = 50;

    /// <summary>Largest upload POST /api/products/upload accepts (413 beyond it).</summary>
    [Range(typeof(long), "1", "9223372036854775807")]
    public long MaxUploadBytes { get; set; } = 1L << 30;

    /// <summary>
    /// How long after an import job finishes its errors.csv (and the upload of a job that did not complete, kept for a
    /// manual retry) stay on disk; then the sweep deletes them and errors.csv answers 410.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "3650.00:00:00")]
    public TimeSpan RetainFilesFor { get; set; } = TimeSpan.FromDays(30);

    /// <summary>How often worker processes look for import files past <see cref="RetainFilesFor"/>.</summary>
    [Range(typeof(TimeSpan), "00:00:00.1", "1.00:00:00")]
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromHours(1);
}

public sealed record ImportOptions
{
    /// <summary>Validate and classify every row, write nothing.</summary>
    public bool DryRun { get; init; }

    /// <summary>
    /// Whose import this is (decision 0013): new products are owned by <see cref="CatalogScope.UserId"/>, and a seller's
    /// rows whose SKU belongs to a product it does not own are rejected, never written.
    /// </summary>
    public CatalogScope Scope { get; init; } = CatalogScope.WholeCatalog(null);

    /// <summary>
    /// Resume point: records starting on or before this physical line were settled by an earlier run. They still
    /// decide which row of a SKU is the last, but are neither counted nor written again.
    /// </summary>
    public long StartAfterLine { get; init; }

    /// <summary>Overrides the byte total that progress reports (default: the length of the stream, or of its spooled copy).</summary>
    public long? TotalBytes { get; init; }

    /// <summary>Sees every rejected row, also those beyond Import:MaxRejectionsKept (e.g. to write errors.csv).</summary>
    public Func<RejectedRow, ValueTask>? OnRejected { get; init; }

    /// <summary>
    /// Called when the rows up to <see cref="ImportProgress.CheckpointLine"/> are settled, with the progress that makes
    /// true and the DbContext whose transaction is about to commit them: whatever it writes through that context commits
    /// or rolls back with the batch. When the last rows wrote nothing, it comes after them, with no transaction open. Not
    /// on a dry run.
    /// </summary>
    public Func<ImportProgress, EmporiumDbContext, CancellationToken, Task>? OnCheckpoint { get; init; }

    /// <summary>
    /// Progress (<see cref="ImportProgress"/>), awaited in the import's own flow, after the commit it reports, so whatever
    /// it writes is ordered with the checkpoints. With several writing connections, other batches' transactions may be
    /// open meanwhile and the import's own DbContext may be writing one: this and <see cref="OnRejected"/> must not use
    /// it (the job writes progress through its own connections).
    /// </summary>
    public Func<ImportProgress, CancellationToken, Task>? OnProgress { get; init; }
}

/// <summary>
/// Progress (<see cref="ImportOptions.OnProgress"/>), reported after each committed batch and, with one writing
/// connection, at least every <see cref="CatalogImporter.ReportEvery"/> in between while no transaction is open (also
/// while the first pass counts rows). With several, each batch commits on its own, so the commits pace the reports. Rows count data rows of the whole file (those before a resume point
/// included), so RowsProcessed / TotalRows is the share done; while <see cref="Phase"/> is Counting, RowsProcessed is 0
/// and TotalRows an estimate from the bytes read so far. <see cref="CheckpointLine"/> is set only on the report that
/// follows a commit: the last physical line whose row is settled (committed, rejected or superseded), which a resumed
/// import passes as <see cref="ImportOptions.StartAfterLine"/>; reports between commits leave it null. <see cref="Counts"/>
/// covers this run only.
/// </summary>
public sealed record ImportProgress(
    ImportPhase Phase, long RowsProcessed, long TotalRows, long BytesRead, long TotalBytes, long? CheckpointLine, ImportCounts Counts);

public enum ImportPhase
{
    /// <summary>First pass: counting rows and finding the last row of every SKU.</summary>
    Counting,

    /// <summary>Second pass: validating and writing rows in batches.</summary>
    Importing,
}

public sealed record ImportCounts(int Created, int Updated, int Unchanged, int Rejected, int Duplicates)
{
    public int DataRows => Created + Updated + Unchanged + Rejected + Duplicates;
}

/// <summary>A row that was not imported. Column is null when the whole row is at fault (e.g. its field count).</summary>
public sealed record RejectedRow(long Line, string? Column, string? Value, string Reason)
{
    /// <summary>The row's original cells; set only for <see cref="ImportOptions.OnRejected"/> (the result does not keep them).</summary>
    public IReadOnlyList<string>? Cells { get; init; }
}

/// <summary>One field of an updated product, before and after (dry run sample).</summary>
public sealed record FieldChange(string Field, string? From, string? To);

public sealed record ProductChange(long Line, string Sku, IReadOnlyList<FieldChange> Changes);

public enum ImportOutcome
{
    Completed,

    /// <summary>A file-level problem (empty, not text, no required header): nothing was written.</summary>
    Failed,
}

public sealed record ImportResult(
    ImportOutcome Outcome,
    string? Error,
    ImportCounts Counts,
    IReadOnlyList<RejectedRow> Rejections,
    IReadOnlyList<string> UnknownColumns,
    IReadOnlyList<ProductChange> ChangeSample,
    bool DryRun)
{
    public static ImportResult FileFailure(string error, bool dryRun) =>
        new(ImportOutcome.Failed, error, new ImportCounts(0, 0, 0, 0, 0), [], [], [], dryRun);
}

/// <summary>
/// Which optional columns the file has; a present column is authoritative for every row (an empty cell takes the default).
/// The variant columns (decision 0016) are the exception: an empty product_sku makes a product row, an empty stock leaves
/// the level alone, an empty attribute cell gives the variant no value for that attribute.
/// </summary>
public sealed record ImportColumns(bool Description, bool Price, bool Currency, bool Active, bool Brand, bool Categories)
{
    public bool ProductSku { get; init; }

    public bool Stock { get; init; }

    /// <summary>The attribute slugs of the file's attribute:{slug} columns.</summary>
    public IReadOnlyList<string> Attributes { get; init; } = [];

    public bool Variants => ProductSku || Stock || Attributes.Count > 0;
}

/// <summary>A validated row, ready for the upsert (brand and categories resolved to ids).</summary>
public sealed record ImportRow(
    long Line,
    string Sku,
    string SkuKey,
    string Name,
    string? Description,
    decimal Price,
    string? Currency,
    bool IsActive,
    string? Brand,
    IReadOnlyList<long> CategoryIds)
{
    /// <summary>Set by the importer: a fresh unique slug for rows whose SKU is new.</summary>
    public string Slug { get; set; } = "";

    /// <summary>Set by the importer when the SKU was found in the catalog: that product's id.</summary>
    public long? ExistingId { get; set; }

    /// <summary>
    /// Set by the importer's look-ahead when the stored product already holds exactly this row's values (and is live):
    /// the row is counted as unchanged and never sent to the database.
    /// </summary>
    public bool Unchanged { get; set; }

    /// <summary>
    /// Set by the importer's reading stage, off the writing stage's path: the slug the name gives, and the SKU's, which
    /// is appended when the name's is taken.
    /// </summary>
    public (string Name, string Sku) SlugSources { get; set; } = ("", "");

    public long? BrandId { get; set; }

    /// <summary>
    /// Set by the importer's look-ahead when the row turns out to be unusable once the stored product is known (another
    /// owner's SKU, a price with more places than the stored currency allows): the writer rejects it instead of writing it.
    /// </summary>
    public RejectedRow? Rejection { get; set; }

    /// <summary>Set when <see cref="BrandId"/> names a deleted brand: allowed only for a product that already has it.</summary>
    public bool BrandDeleted { get; set; }

    /// <summary>The record's original cells, for errors.csv should the row be rejected after the reading stage.</summary>
    public IReadOnlyList<string>? Cells { get; set; }

    /// <summary>
    /// A variant row's product (the upper-cased product_sku): the row's SKU is then the variant's, and only its price,
    /// attribute values and stock count. Null for a product row.
    /// </summary>
    public string? ProductSkuKey { get; init; }

    public string? ProductSku { get; init; }

    public bool IsVariantRow => ProductSkuKey is not null;

    /// <summary>A variant row's own price; null sells at the product's.</summary>
    public decimal? VariantPrice { get; init; }

    /// <summary>The level to set: the default variant's for a product row, the variant's for a variant row; null leaves it.</summary>
    public int? Stock { get; init; }

    /// <summary>A variant row's attribute values, attribute slug to value slug (empty cells left out).</summary>
    public IReadOnlyDictionary<string, string> AttributeValues { get; init; } = EmptyValues;

    private static readonly IReadOnlyDictionary<string, string> EmptyValues = new Dictionary<string, string>();
}
