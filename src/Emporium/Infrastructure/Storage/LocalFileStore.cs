using System.Runtime.CompilerServices;
using Emporium.Platform.Storage;

namespace Emporium.Infrastructure.Storage;

/// <summary>
/// Files in a folder: the embedded default. A put writes a temporary file beside the target and renames it over the
/// target, so a reader sees the old file or the whole new one. A temporary file a listing meets that is older than
/// <see cref="AbandonedAfter"/> was left by a process killed mid-put (no put takes that long): it is deleted then, so
/// the sweeps that list the store clear them as they go.
/// </summary>
internal sealed class LocalFileStore(string root) : IFileStore
{
    private const string TemporaryPrefix = ".put-";

    public static readonly TimeSpan AbandonedAfter = TimeSpan.FromDays(1);

    public string Root { get; } = Path.GetFullPath(root);

    public async Task<long> PutAsync(string key, Stream content, string contentType, CancellationToken cancellationToken)
    {
        var path = PathOf(key);
        var folder = Path.GetDirectoryName(path)!;
        var temporary = Path.Combine(folder, $"{TemporaryPrefix}{Guid.NewGuid():N}");
        var stored = false;
        try
        {
            long length;
            await using (var target = CreateIn(folder, temporary))
            {
                await content.CopyToAsync(target, 80 * 1024, cancellationToken);
                length = target.Length;
            }

            File.Move(temporary, path, overwrite: true);
            stored = true;
            return length;
        }
        finally
        {
            if (!stored)
            {
                // A refused or failed put leaves neither its temporary file nor a folder it made for nothing.
                DeleteQuietly(temporary);
                RemoveEmptyFolders(folder);
            }
        }
    }

    public Task<Stream?> OpenReadAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            // Delete sharing: a sweep may remove the file while a download streams it (the open handle keeps the bytes).
            Stream stream = new FileStream(PathOf(key), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 64 * 1024,
                FileOptions.Asynchronous | FileOptions.SequentialScan);
            return Task.FromResult<Stream?>(stream);
        }
        catch (Exception missing) when (missing is FileNotFoundException or DirectoryNotFoundException or PathTooLongException)
        {
            return Task.FromResult<Stream?>(null);
        }
    }

    /// <summary>The new file, in a folder made for it; made again when a delete took the folder away as it emptied it.</summary>
    private static FileStream CreateIn(string folder, string file)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                Directory.CreateDirectory(folder);
                return new FileStream(file, FileMode.CreateNew, FileAccess.Write, FileShare.None, 64 * 1024, FileOptions.Asynchronous);
            }
            catch (DirectoryNotFoundException) when (attempt < 5)
            {
            }
        }
    }

    /// <summary>Deletes the file, then the folders it leaves empty (an image's own folder, then its product's).</summary>
    public Task DeleteAsync(string key, CancellationToken cancellationToken)
    {
        var path = PathOf(key);
        if (DeleteQuietly(path))
        {
            RemoveEmptyFolders(Path.GetDirectoryName(path)!);
        }

        return Task.CompletedTask;
    }

    /// <summary>Deletes a file; false when its folder is gone already (an earlier delete emptied it), so the file is too.</summary>
    private static bool DeleteQuietly(string path)
    {
        try
        {
            File.Delete(path);
            return true;
        }
        catch (DirectoryNotFoundException)
        {
            return false;
        }
    }

    /// <summary><paramref name="folder"/> and the folders above it, up to the root, while each is empty.</summary>
    private void RemoveEmptyFolders(string folder)
    {
        var root = Path.TrimEndingDirectorySeparator(Root);
        for (var current = folder; current.Length > root.Length && current.StartsWith(root, StringComparison.Ordinal); current = Path.GetDirectoryName(current)!)
        {
            try
            {
                // Refused (IOException) when not empty: another file arrived or stays, and the folders above stay too.
                Directory.Delete(current);
            }
            catch (IOException)
            {
                break;
            }
        }
    }

    public async IAsyncEnumerable<StoredFile> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // The deepest folder the prefix names in full; files below it are matched against the whole prefix.
        var slash = prefix.LastIndexOf('/');
        var directory = slash < 0 ? Root : Path.Combine(Root, prefix[..slash]);
        if (!Directory.Exists(directory))
        {
            yield break;
        }

        // A delete may take the folder (or one below it) away as it empties it: what is gone is simply not listed.
        using var files = Directory.EnumerateFiles(directory, "*", new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = false, AttributesToSkip = 0 })
            .GetEnumerator();
        while (true)
        {
            string path;
            try
            {
                if (!files.MoveNext())
                {
                    break;
                }

                path = files.Current;
            }
            catch (DirectoryNotFoundException)
            {
                break;
            }

            cancellationToken.ThrowIfCancellationRequested();
            var info = new FileInfo(path);
            if (info.Name.StartsWith(TemporaryPrefix, StringComparison.Ordinal))
            {
                if (info.Exists && DateTime.UtcNow - info.LastWriteTimeUtc > AbandonedAfter)
                {
                    DeleteQuietly(path);
                    RemoveEmptyFolders(info.DirectoryName!);
                }

                continue;
            }

            var key = Path.GetRelativePath(Root, path).Replace(Path.DirectorySeparatorChar, '/');
            if (key.StartsWith(prefix, StringComparison.Ordinal) && info.Exists)
            {
                yield return new StoredFile(key, info.Length, info.LastWriteTimeUtc);
            }
        }

        await Task.CompletedTask;
    }

    /// <summary>Files in a folder are served through the API, never directly.</summary>
    public Uri? DirectUrl(string key, TimeSpan lifetime) => null;

    public async Task CheckAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Root);
        var probe = Path.Combine(Root, $"{TemporaryPrefix}ready-{Guid.NewGuid():N}");
        await File.WriteAllTextAsync(probe, "ok", cancellationToken);
        File.Delete(probe);
    }

    private string PathOf(string key) => Path.Combine(Root, FileKeys.Check(key).Replace('/', Path.DirectorySeparatorChar));
}
