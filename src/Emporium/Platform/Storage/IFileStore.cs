using System.Text.RegularExpressions;

namespace Emporium.Platform.Storage;

/// <summary>A stored file as a listing sees it.</summary>
public sealed record StoredFile(string Key, long Size, DateTimeOffset LastModified);

/// <summary>
/// Where files live (import uploads, error reports, product images): a folder on the embedded default, S3-compatible object
/// storage in production, chosen by Storage:Provider (decision 0014). API and worker processes share nothing else: a file
/// one process puts, any other can open. Keys are relative paths of safe segments (<see cref="FileKeys"/>).
/// </summary>
public interface IFileStore
{
    /// <summary>
    /// Stores <paramref name="content"/> under <paramref name="key"/>, replacing what was there, reading it once and never
    /// holding all of it in memory; answers the bytes stored. Readers see the old file or the whole new one, never a part.
    /// An exception from <paramref name="content"/> (a size limit, a cut connection) stores nothing and is rethrown.
    /// </summary>
    Task<long> PutAsync(string key, Stream content, string contentType, CancellationToken cancellationToken);

    /// <summary>The file's bytes from the start, or null when nothing is stored under <paramref name="key"/>.</summary>
    Task<Stream?> OpenReadAsync(string key, CancellationToken cancellationToken);

    /// <summary>Removes the file; removing a missing file is not an error.</summary>
    Task DeleteAsync(string key, CancellationToken cancellationToken);

    /// <summary>Every file whose key starts with <paramref name="prefix"/>, in no particular order.</summary>
    IAsyncEnumerable<StoredFile> ListAsync(string prefix, CancellationToken cancellationToken);

    /// <summary>
    /// A URL a client can fetch the file from without going through the API, valid for about <paramref name="lifetime"/>
    /// (a presigned URL on S3), or null where files are served through the API only (the local folder).
    /// </summary>
    Uri? DirectUrl(string key, TimeSpan lifetime);

    /// <summary>Throws when the store cannot be written and read now (readiness).</summary>
    Task CheckAsync(CancellationToken cancellationToken);
}

/// <summary>
/// File keys: '/'-separated segments of letters, digits, dot, dash and underscore, at most 255 each (a file name's limit on
/// Linux, and more than any key the service makes); no empty, "." or ".." segment.
/// </summary>
public static partial class FileKeys
{
    public static string Check(string key) =>
        IsValid(key) ? key : throw new ArgumentException($"'{key}' is not a valid file key.", nameof(key));

    /// <summary>The longest key: S3's limit, well inside every file system's longest path.</summary>
    public const int MaxLength = 1024;

    public static bool IsValid(string key) =>
        key.Length <= MaxLength && ValidKey().IsMatch(key) && !key.Split('/').Any(segment => segment is "." or ".." || segment.Length > 255);

    [GeneratedRegex("^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$")]
    private static partial Regex ValidKey();
}
