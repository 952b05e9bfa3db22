using System.ComponentModel.DataAnnotations;

namespace Emporium.Features.Import;

/// <summary>Import settings (section Import).</summary>
public sealed class ImportSettings
{
    public const string Section = "Import";

    /// <summary>Rows per transaction: each batch is committed (and is a checkpoint) on its own.</summary>
    [Range(1, 100_000)]
    public int BatchSize { get; set; } = 5_000;

    /// <summary>Rejected rows kept in the result; the counts stay exact beyond it (<see cref="ImportOptions.OnRejected"/> sees every one).</summary>
    [Range(0, 1_000_000)]
    public int MaxRejectionsKept { get; set; } = 10_000;

    /// <summary>Per-field changes a dry run lists for updated products.</summary>
    [Range(0, 10_000)]
    public int DryRunChangeSample { get; set; } = 50;

    /// <summary>Largest upload POST /api/products/upload accepts (413 beyond it).</summary>
    [Range(typeof(long), "1", "9223372036854775807")]
    public long MaxUploadBytes { get; set; } = 1L << 30;
}

public sealed record ImportOptions
{
    /// <summary>Validate and classify every row, write nothing.</summary>
    public bool DryRun { get; init; }

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
    /// true: inside the batch's transaction just before it commits (on the importer's DbContext, so whatever it writes
    /// there commits or rolls back with the batch), or, when the last rows wrote nothing, after them. Not on a dry run.
    /// </summary>
    public Func<ImportProgress, CancellationToken, Task>? OnCheckpoint { get; init; }
}

/// <summary>
/// Progress after each batch. Rows count data rows of the whole file (those before a resume point included), so
/// RowsProcessed / TotalRows is the share done. <see cref="CheckpointLine"/> is the last physical line whose row is
/// settled (committed, rejected or superseded); a resumed import passes it as <see cref="ImportOptions.StartAfterLine"/>.
/// <see cref="Counts"/> covers this run only.
/// </summary>
public sealed record ImportProgress(
    long RowsProcessed, long TotalRows, long BytesRead, long TotalBytes, long CheckpointLine, ImportCounts Counts);

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

/// <summary>Which optional columns the file has; a present column is authoritative for every row (an empty cell takes the default).</summary>
public sealed record ImportColumns(bool Description, bool Price, bool Active, bool Brand, bool Categories);

/// <summary>A validated row, ready for the upsert (brand and categories resolved to ids).</summary>
public sealed record ImportRow(
    long Line,
    string Sku,
    string SkuKey,
    string Name,
    string? Description,
    decimal Price,
    bool IsActive,
    string? Brand,
    IReadOnlyList<long> CategoryIds)
{
    /// <summary>Set by the importer: a fresh unique slug for rows whose SKU is new.</summary>
    public string Slug { get; set; } = "";

    public long? BrandId { get; set; }
}
