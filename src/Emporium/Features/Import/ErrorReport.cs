using System.Text;
using Emporium.Platform.Storage;

namespace Emporium.Features.Import;

/// <summary>Where an import's files live in the file store (decision 0014).</summary>
public static class ImportFiles
{
    public const string UploadsPrefix = "imports/uploads/";

    public const string ErrorsPrefix = "imports/errors/";

    public static string UploadKey(Guid id) => $"{UploadsPrefix}{id:N}.csv";

    public static string ErrorsPrefixOf(long jobId) => $"{ErrorsPrefix}{jobId}/";

    /// <summary>
    /// Part <paramref name="part"/> as written by one attempt (<paramref name="writer"/>), so an attempt whose lease has
    /// run out can never overwrite a part the attempt that took over wrote. Reports written before parts had writers
    /// named them by number alone (<paramref name="writer"/> null).
    /// </summary>
    public static string ErrorsPartKey(long jobId, int part, string? writer) =>
        writer is null ? $"{ErrorsPrefixOf(jobId)}{part:D6}.csv" : $"{ErrorsPrefixOf(jobId)}{part:D6}-{writer}.csv";
}

/// <summary>
/// errors.csv in the file store, written in parts (an object store cannot append): part 0 is the heading, then every part
/// holds rejected rows in file order. A part is stored at each checkpoint that has new rows, and whenever
/// <see cref="PartBytes"/> pile up between checkpoints, so memory stays bounded. Each attempt names its parts with a
/// token of its own, and the checkpoint records the keys of the parts its rows fill: an attempt that resumes from it
/// deletes every other part (written for rows that will be read again, or by an attempt whose lease ran out), and GET
/// errors.csv streams the recorded parts in order, so no row is listed twice or lost to a stale attempt's overwrite.
/// </summary>
internal sealed class ErrorReport
{
    /// <summary>Rejected rows held before a part is stored regardless of checkpoints.</summary>
    public const int PartBytes = 1024 * 1024;

    private readonly IFileStore _store;
    private readonly long _jobId;
    private readonly string _writer = Guid.NewGuid().ToString("N")[..12];
    private readonly List<string> _keys;
    private readonly StringBuilder _pending = new();

    private ErrorReport(IFileStore store, long jobId, List<string> keys)
    {
        _store = store;
        _jobId = jobId;
        _keys = keys;
    }

    /// <summary>
    /// Opens the report of <paramref name="jobId"/> as a checkpoint left it: <paramref name="committedKeys"/>, or for a
    /// checkpoint written before parts had writers its first <paramref name="committedParts"/> parts; none for a fresh
    /// start. Every other part goes, and a fresh report gets its heading, "error" then the file's own header.
    /// </summary>
    public static async Task<ErrorReport> OpenAsync(
        IFileStore store, long jobId, IReadOnlyList<string> header, IReadOnlyList<string>? committedKeys, int committedParts, CancellationToken cancellationToken)
    {
        var kept = committedKeys?.ToList()
            ?? Enumerable.Range(0, committedParts).Select(part => ImportFiles.ErrorsPartKey(jobId, part, writer: null)).ToList();
        foreach (var part in await PartsAsync(store, jobId, cancellationToken))
        {
            if (!kept.Contains(part, StringComparer.Ordinal))
            {
                await store.DeleteAsync(part, cancellationToken);
            }
        }

        var report = new ErrorReport(store, jobId, kept);
        if (kept.Count == 0)
        {
            var heading = ImportFiles.ErrorsPartKey(jobId, 0, report._writer);
            await Put(store, heading, CsvCells.Line(["error", .. header]) + "\r\n", cancellationToken);
            kept.Add(heading);
        }

        return report;
    }

    /// <summary>The stored parts of a job's report, in order; none when it has no report (yet, or any more).</summary>
    public static async Task<List<string>> PartsAsync(IFileStore store, long jobId, CancellationToken cancellationToken)
    {
        var parts = new List<string>();
        await foreach (var file in store.ListAsync(ImportFiles.ErrorsPrefixOf(jobId), cancellationToken))
        {
            parts.Add(file.Key);
        }

        parts.Sort(StringComparer.Ordinal);
        return parts;
    }

    public static Task DeleteAsync(IFileStore store, long jobId, CancellationToken cancellationToken) =>
        DeleteAllAsync(store, PartsAsync(store, jobId, cancellationToken), cancellationToken);

    /// <summary>One rejected row: where and why first, so it stays under its heading whatever the row's width; then its cells.</summary>
    public async ValueTask AppendAsync(RejectedRow row, CancellationToken cancellationToken)
    {
        var where = row.Column is null ? $"line {row.Line}" : $"line {row.Line}, column {row.Column}";
        // The cells as the import read them (a quote the file's own export added is stripped, then added again once), so
        // a corrected errors.csv imports the same values as the original file.
        _pending.Append(CsvCells.Line([$"{where}: {row.Reason}", .. (row.Cells ?? []).Select(CsvCells.Unneutralise)])).Append("\r\n");
        if (_pending.Length >= PartBytes)
        {
            await FlushAsync(cancellationToken);
        }
    }

    /// <summary>Stores the rows held as the next part; answers the keys of the parts stored, which a checkpoint records.</summary>
    public async Task<IReadOnlyList<string>> FlushAsync(CancellationToken cancellationToken)
    {
        if (_pending.Length > 0)
        {
            var key = ImportFiles.ErrorsPartKey(_jobId, _keys.Count, _writer);
            await Put(_store, key, _pending.ToString(), cancellationToken);
            _keys.Add(key);
            _pending.Clear();
        }

        return [.. _keys];
    }

    private static async Task Put(IFileStore store, string key, string text, CancellationToken cancellationToken)
    {
        await using var content = new MemoryStream(new UTF8Encoding(encoderShouldEmitUTF8Identifier: false).GetBytes(text));
        await store.PutAsync(key, content, "text/csv", cancellationToken);
    }

    private static async Task DeleteAllAsync(IFileStore store, Task<List<string>> parts, CancellationToken cancellationToken)
    {
        foreach (var part in await parts)
        {
            await store.DeleteAsync(part, cancellationToken);
        }
    }
}
