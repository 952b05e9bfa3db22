using Emporium.Features.Catalog;
using Emporium.Features.Jobs;
using Emporium.Platform.Storage;

namespace Emporium.Features.Import;

/// <summary>
/// catalog.import: runs <see cref="CatalogImporter"/> over an upload in the file store. Each batch saves a checkpoint (the
/// importer's checkpoint line, the counts so far and the parts of errors.csv) in the transaction that commits it, so an attempt
/// taken after a crash resumes exactly after the last committed batch, counts every row once and writes no rejected row
/// twice.
/// </summary>
internal sealed class CatalogImportJobHandler(CatalogImporter importer, IFileStore store)
    : IJobHandler, IJobOutcomeEvents
{
    public const string KindName = "catalog.import";

    /// <param name="Key">The upload in the file store.</param>
    /// <param name="RequestedBy">Owner of the products the import creates; null for jobs queued before owners were recorded.</param>
    /// <param name="OwnProductsOnly">A seller's import: rows naming another owner's SKU are rejected (decision 0013).</param>
    /// <param name="Path">Jobs queued before the file store kept the upload at this local path instead of a key.</param>
    public sealed record Payload(
        string? Key, bool DryRun, string? FileName, long Bytes, long? RequestedBy = null, bool OwnProductsOnly = false, string? Path = null);

    /// <param name="Finished">Every row of the file is settled: the counts are the result.</param>
    /// <param name="UnknownColumns">The header's unknown columns, for the result when the upload is gone.</param>
    /// <param name="ErrorParts">How many parts of errors.csv hold the rows settled up to <paramref name="Line"/> (<see cref="ErrorReport"/>).</param>
    /// <param name="ErrorPartKeys">Those parts' keys, in order; absent in checkpoints written before parts had writers.</param>
    public sealed record Checkpoint(
        long Line,
        int ErrorParts,
        int Created,
        int Updated,
        int Unchanged,
        int Rejected,
        int Duplicates,
        bool Finished = false,
        IReadOnlyList<string>? UnknownColumns = null,
        IReadOnlyList<string>? ErrorPartKeys = null);

    public sealed record Result(
        int Created,
        int Updated,
        int Unchanged,
        int Rejected,
        int Duplicates,
        long Rows,
        IReadOnlyList<string> UnknownColumns,
        bool DryRun,
        string ErrorsUrl,
        IReadOnlyList<ProductChange> ChangeSample);


    /// <summary>A dry run announces itself too: its result says dry_run, and a receiver may want the counts either way.</summary>
    public string CompletedEventType => Events.EventTypes.ImportCompleted;

    /// <summary>File-level failures (FAILED) and imports that ran out of attempts (DEAD).</summary>
    public string? FailedEventType => Events.EventTypes.ImportFailed;

    public async Task HandleAsync(JobContext context, CancellationToken cancellationToken)
    {
        var payload = context.ReadPayload<Payload>();
        // A dry run commits nothing, so it has nothing to resume from.
        var resume = !payload.DryRun && context.Checkpoint is { } json
            ? JsonSerializer.Deserialize<Checkpoint>(json, JobJson.Options)
            : null;
        await using var stored = await OpenUploadAsync(payload, cancellationToken);
        if (stored is null)
        {
            if (resume is { Finished: true })
            {
                // Every row was settled and the upload removed, but the completion was not recorded (its write failed, or
                // the lease ran out first): the checkpoint holds the whole result.
                context.SetResult(ResultOf(context, resume, resume.UnknownColumns ?? [], dryRun: false, []));
                return;
            }

            throw new PermanentJobFailure("The uploaded file is no longer stored; upload it again.");
        }

        // Two passes read the file: an object store's stream is read once, into a local temporary copy.
        await using var spool = stored.CanSeek ? null : await SpoolAsync(stored, cancellationToken);
        var upload = spool ?? stored;
        var header = await new CsvRowReader(upload).ReadAsync(cancellationToken);
        upload.Position = 0;
        var unknownColumns = header is null ? [] : ImportHeader.Parse(header).Header?.Unknown ?? [];

        var errors = await ErrorReport.OpenAsync(store, context.Id, header?.Fields ?? [], resume?.ErrorPartKeys, resume?.ErrorParts ?? 0, cancellationToken);
        var result = await importer.ImportAsync(
            upload,
            new ImportOptions
            {
                DryRun = payload.DryRun,
                Scope = new CatalogScope(payload.RequestedBy, payload.OwnProductsOnly),
                StartAfterLine = resume?.Line ?? 0,
                OnRejected = row => errors.AppendAsync(row, cancellationToken),
                OnCheckpoint = (value, batchDb, token) => SaveCheckpointAsync(context, errors, resume, unknownColumns, value, batchDb, token),
                OnProgress = (value, token) => context.ReportProgressAsync(value.RowsProcessed, value.TotalRows, Message(value), token),
            },
            cancellationToken);

        if (result.Outcome == ImportOutcome.Failed)
        {
            await ErrorReport.DeleteAsync(store, context.Id, cancellationToken);
            // The file itself is at fault, so no retry can use it: free the space now.
            await DeleteUploadAsync(payload, cancellationToken);
            throw new PermanentJobFailure(result.Error ?? "The file cannot be imported.");
        }

        await errors.FlushAsync(cancellationToken);
        var c = result.Counts;
        var total = new Checkpoint(
            0,
            0,
            (resume?.Created ?? 0) + c.Created,
            (resume?.Updated ?? 0) + c.Updated,
            (resume?.Unchanged ?? 0) + c.Unchanged,
            (resume?.Rejected ?? 0) + c.Rejected,
            (resume?.Duplicates ?? 0) + c.Duplicates);
        context.SetResult(ResultOf(context, total, result.UnknownColumns, payload.DryRun, result.ChangeSample));

        // The catalog holds the rows now; the upload is not needed again.
        await DeleteUploadAsync(payload, cancellationToken);
    }

    private async Task<Stream?> OpenUploadAsync(Payload payload, CancellationToken cancellationToken)
    {
        if (payload.Key is { } key)
        {
            return await store.OpenReadAsync(key, cancellationToken);
        }

        return payload.Path is { } path && File.Exists(path)
            ? new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 64 * 1024, FileOptions.Asynchronous | FileOptions.SequentialScan)
            : null;
    }

    private async Task DeleteUploadAsync(Payload payload, CancellationToken cancellationToken)
    {
        if (payload.Key is { } key)
        {
            await store.DeleteAsync(key, cancellationToken);
        }
        else if (payload.Path is { } path)
        {
            File.Delete(path);
        }
    }

    private static async Task<FileStream> SpoolAsync(Stream source, CancellationToken cancellationToken)
    {
        var spool = new FileStream(
            System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"emporium-import-{Guid.NewGuid():N}.csv"),
            FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 64 * 1024, FileOptions.DeleteOnClose | FileOptions.Asynchronous);
        await source.CopyToAsync(spool, cancellationToken);
        spool.Position = 0;
        return spool;
    }

    /// <summary>
    /// Runs inside the batch's transaction, before it commits: rejected rows so far are stored as a part of errors.csv
    /// first, and the checkpoint records the parts then, so a resumed attempt drops what later batches added.
    /// </summary>
    private async Task SaveCheckpointAsync(
        JobContext context,
        ErrorReport errors,
        Checkpoint? resume,
        IReadOnlyList<string> unknownColumns,
        ImportProgress value,
        EmporiumDbContext batchDb,
        CancellationToken cancellationToken)
    {
        var c = value.Counts;
        var parts = await errors.FlushAsync(cancellationToken);
        var checkpoint = new Checkpoint(
            value.CheckpointLine ?? throw new InvalidOperationException("A checkpoint needs its line."),
            parts.Count,
            (resume?.Created ?? 0) + c.Created,
            (resume?.Updated ?? 0) + c.Updated,
            (resume?.Unchanged ?? 0) + c.Unchanged,
            (resume?.Rejected ?? 0) + c.Rejected,
            (resume?.Duplicates ?? 0) + c.Duplicates,
            Finished: value.RowsProcessed >= value.TotalRows,
            unknownColumns,
            parts);
        await context.SaveCheckpointAsync(
            value.RowsProcessed, value.TotalRows, Message(value), JsonSerializer.Serialize(checkpoint, JobJson.Options), batchDb, cancellationToken);
    }

    private static Result ResultOf(JobContext context, Checkpoint counts, IReadOnlyList<string> unknownColumns, bool dryRun, IReadOnlyList<ProductChange> changeSample) =>
        new(
            counts.Created,
            counts.Updated,
            counts.Unchanged,
            counts.Rejected,
            counts.Duplicates,
            (long)counts.Created + counts.Updated + counts.Unchanged + counts.Rejected + counts.Duplicates,
            unknownColumns,
            dryRun,
            $"/api/jobs/{context.Id}/errors.csv",
            changeSample);

    private static string Message(ImportProgress value) => value.Phase == ImportPhase.Counting
        ? $"counting rows: {value.BytesRead * 100 / Math.Max(1, value.TotalBytes)} % of the file read, about {value.TotalRows:N0} rows"
        : $"{value.RowsProcessed:N0} of {value.TotalRows:N0} rows";
}
