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

    public static string ErrorsPartKey(long jobId, int part) => $"{ErrorsPrefixOf(jobId)}{part:D6}.csv";
}

/// <summary>
/// errors.csv in the file store, written in parts (an object store cannot append): part 0 is the heading, then every part
/// holds rejected rows in file order. A part is stored at each checkpoint that has new rows, and whenever
/// <see cref="PartBytes"/> pile up between checkpoints, so memory stays bounded. The checkpoint records how many parts its
/// rows fill: an attempt that resumes from it deletes the parts after them (written for rows that will be read again), so
/// no row is listed twice. GET errors.csv streams the parts in order.
/// </summary>
internal sealed class ErrorReport
{
    /// <summary>Rejected rows held before a part is stored regardless of checkpoints.</summary>
    public const int PartBytes = 1024 * 1024;

    private readonly IFileStore _store;
    private readonly long _jobId;
    private readonly StringBuilder _pending = new();

    private ErrorReport(IFileStore store, long jobId, int parts)
    {
        _store = store;
        _jobId = jobId;
        Parts = parts;
    }

    /// <summary>Parts stored so far, the heading included.</summary>
    public int Parts { get; private set; }

    /// <summary>
    /// Opens the report of <paramref name="jobId"/> as a checkpoint left it (<paramref name="committedParts"/>, 0 for a fresh
    /// start): later parts go, and a fresh report gets its heading, "error" then the file's own header.
    /// </summary>
    public static async Task<ErrorReport> OpenAsync(
        IFileStore store, long jobId, IReadOnlyList<string> header, int committedParts, CancellationToken cancellationToken)
    {
        foreach (var part in await PartsAsync(store, jobId, cancellationToken))
        {
            if (NumberOf(part) >= Math.Max(committedParts, 1))
            {
                await store.DeleteAsync(part, cancellationToken);
            }
        }

        var report = new ErrorReport(store, jobId, Math.Max(committedParts, 1));
        if (committedParts == 0)
        {
            await Put(store, ImportFiles.ErrorsPartKey(jobId, 0), CsvCells.Line(["error", .. header]) + "\r\n", cancellationToken);
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
        _pending.Append(CsvCells.Line([$"{where}: {row.Reason}", .. row.Cells ?? []])).Append("\r\n");
        if (_pending.Length >= PartBytes)
        {
            await FlushAsync(cancellationToken);
        }
    }

    /// <summary>Stores the rows held as the next part; answers the parts stored, which a checkpoint records.</summary>
    public async Task<int> FlushAsync(CancellationToken cancellationToken)
    {
        if (_pending.Length > 0)
        {
            await Put(_store, ImportFiles.ErrorsPartKey(_jobId, Parts), _pending.ToString(), cancellationToken);
            Parts++;
            _pending.Clear();
        }

        return Parts;
    }

    private static async Task Put(IFileStore store, string key, string text, CancellationToken cancellationToken)
    {
        await using var content = new MemoryStream(new UTF8Encoding(encoderShouldEmitUTF8Identifier: false).GetBytes(text));
        await store.PutAsync(key, content, "text/csv", cancellationToken);
    }

    private static int NumberOf(string key) => int.Parse(Path.GetFileNameWithoutExtension(key), System.Globalization.CultureInfo.InvariantCulture);

    private static async Task DeleteAllAsync(IFileStore store, Task<List<string>> parts, CancellationToken cancellationToken)
    {
        foreach (var part in await parts)
        {
            await store.DeleteAsync(part, cancellationToken);
        }
    }
}
