using System.Text;
using System.Text.Json;
using Emporium.Features.Catalog;
using Emporium.Features.Jobs;
using Emporium.Infrastructure.Persistence;
using Emporium.Platform;
using Microsoft.Extensions.Options;

namespace Emporium.Features.Import;

/// <summary>Where uploads and their rejected rows live: {Emporium:DataDirectory}/imports.</summary>
public static class ImportFiles
{
    public static string Directory(EmporiumOptions options) => Path.Combine(Path.GetFullPath(options.DataDirectory), "imports");

    public static string ErrorsPath(EmporiumOptions options, long jobId) => Path.Combine(Directory(options), $"{jobId}-errors.csv");
}

/// <summary>
/// catalog.import: runs <see cref="CatalogImporter"/> over an uploaded file. Each batch saves a checkpoint (the importer's
/// checkpoint line, the counts so far and the length of errors.csv) in the transaction that commits it, so an attempt
/// taken after a crash resumes exactly after the last committed batch, counts every row once and writes no rejected row
/// twice.
/// </summary>
/// <param name="db">The scope's DbContext, which <paramref name="importer"/> writes its batches through: the checkpoint joins their transactions.</param>
internal sealed class CatalogImportJobHandler(CatalogImporter importer, EmporiumDbContext db, IOptions<EmporiumOptions> emporium)
    : IJobHandler, IJobOutcomeEvents
{
    public const string KindName = "catalog.import";

    /// <param name="RequestedBy">Owner of the products the import creates; null for jobs queued before owners were recorded.</param>
    /// <param name="OwnProductsOnly">A seller's import: rows naming another owner's SKU are rejected (decision 0013).</param>
    public sealed record Payload(string Path, bool DryRun, string? FileName, long Bytes, long? RequestedBy = null, bool OwnProductsOnly = false);

    /// <param name="Finished">Every row of the file is settled: the counts are the result.</param>
    /// <param name="UnknownColumns">The header's unknown columns, for the result when the upload is gone.</param>
    public sealed record Checkpoint(
        long Line,
        long ErrorsBytes,
        int Created,
        int Updated,
        int Unchanged,
        int Rejected,
        int Duplicates,
        bool Finished = false,
        IReadOnlyList<string>? UnknownColumns = null);

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

    public string Kind => KindName;

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
        if (!File.Exists(payload.Path))
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
        var errorsPath = ImportFiles.ErrorsPath(emporium.Value, context.Id);
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(errorsPath)!);

        await using var upload = new FileStream(payload.Path, FileMode.Open, FileAccess.Read, FileShare.Read, 64 * 1024, FileOptions.Asynchronous | FileOptions.SequentialScan);
        var header = await new CsvRowReader(upload).ReadAsync(cancellationToken);
        upload.Position = 0;
        var unknownColumns = header is null ? [] : ImportHeader.Parse(header).Header?.Unknown ?? [];

        ImportResult result;
        await using (var errors = new ErrorsFile(errorsPath, resume?.ErrorsBytes ?? 0, header?.Fields ?? []))
        {
            result = await importer.ImportAsync(
                upload,
                new ImportOptions
                {
                    DryRun = payload.DryRun,
                    Scope = new CatalogScope(payload.RequestedBy, payload.OwnProductsOnly),
                    StartAfterLine = resume?.Line ?? 0,
                    OnRejected = errors.AppendAsync,
                    OnCheckpoint = (value, token) => SaveCheckpointAsync(context, errors, resume, unknownColumns, value, token),
                    OnProgress = (value, token) => context.ReportProgressAsync(value.RowsProcessed, value.TotalRows, Message(value), token),
                },
                cancellationToken);
        }

        if (result.Outcome == ImportOutcome.Failed)
        {
            File.Delete(errorsPath);
            // The file itself is at fault, so no retry can use it: free the space now.
            File.Delete(payload.Path);
            throw new PermanentJobFailure(result.Error ?? "The file cannot be imported.");
        }

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
        File.Delete(payload.Path);
    }

    /// <summary>
    /// Runs inside the batch's transaction, before it commits: rejected rows so far are flushed to errors.csv first, and
    /// the checkpoint records its length then, so a resumed attempt cuts off what later batches appended.
    /// </summary>
    private Task SaveCheckpointAsync(
        JobContext context, ErrorsFile errors, Checkpoint? resume, IReadOnlyList<string> unknownColumns, ImportProgress value, CancellationToken cancellationToken)
    {
        var c = value.Counts;
        var checkpoint = new Checkpoint(
            value.CheckpointLine ?? throw new InvalidOperationException("A checkpoint needs its line."),
            errors.Flush(),
            (resume?.Created ?? 0) + c.Created,
            (resume?.Updated ?? 0) + c.Updated,
            (resume?.Unchanged ?? 0) + c.Unchanged,
            (resume?.Rejected ?? 0) + c.Rejected,
            (resume?.Duplicates ?? 0) + c.Duplicates,
            Finished: value.RowsProcessed >= value.TotalRows,
            unknownColumns);
        return context.SaveCheckpointAsync(
            value.RowsProcessed, value.TotalRows, Message(value), JsonSerializer.Serialize(checkpoint, JobJson.Options), db, cancellationToken);
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

    /// <summary>
    /// errors.csv: "error" then the file's header, then each rejected row's error then its original cells. Cells are
    /// neutralised against formula injection like the export's (<see cref="CsvCells"/>), so opening the file in a
    /// spreadsheet runs nothing, and a corrected file re-imports as written (the importer strips the added quote; the
    /// error column is reported as unknown and ignored).
    /// </summary>
    private sealed class ErrorsFile : IAsyncDisposable
    {
        private readonly FileStream _stream;
        private readonly StreamWriter _writer;

        public ErrorsFile(string path, long keepBytes, IReadOnlyList<string> header)
        {
            _stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.Write, FileShare.Read);
            // Rows written after the last checkpoint belong to batches that will be read again: drop them.
            _stream.SetLength(Math.Min(keepBytes, _stream.Length));
            _stream.Seek(0, SeekOrigin.End);
            _writer = new StreamWriter(_stream, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false)) { NewLine = "\r\n" };
            if (_stream.Length == 0)
            {
                _writer.WriteLine(CsvCells.Line(["error", .. header]));
            }
        }

        /// <summary>The error comes first, so it stays under its heading even when the row has more or fewer cells than the header.</summary>
        public async ValueTask AppendAsync(RejectedRow row)
        {
            var where = row.Column is null ? $"line {row.Line}" : $"line {row.Line}, column {row.Column}";
            await _writer.WriteLineAsync(CsvCells.Line([$"{where}: {row.Reason}", .. row.Cells ?? []]));
        }

        /// <summary>Writes what is buffered and answers the file's length.</summary>
        public long Flush()
        {
            _writer.Flush();
            return _stream.Length;
        }

        public async ValueTask DisposeAsync()
        {
            await _writer.DisposeAsync();
            await _stream.DisposeAsync();
        }
    }
}
