namespace Emporium.Platform.Storage;

/// <summary>Thrown by <see cref="LengthLimitedStream"/> when its source holds more than the limit.</summary>
public sealed class ContentTooLargeException(long limit)
    : IOException($"The content is larger than {limit:N0} bytes.")
{
    public long Limit { get; } = limit;
}

/// <summary>
/// Thrown in place of an <see cref="IOException"/> of the file store itself (a full disk) while it stores an upload, so the
/// endpoint's handling of a client's cut-short body (also an IOException) does not answer it with a 400: it is a server
/// fault, logged and answered 500.
/// </summary>
public sealed class FileStoreException(string message, Exception inner) : Exception(message, inner)
{
    /// <summary>
    /// Stores <paramref name="content"/> with <paramref name="put"/>; an IOException that did not come from reading the
    /// upload (or from its limit) becomes a <see cref="FileStoreException"/>.
    /// </summary>
    public static async Task<long> Guard(LengthLimitedStream content, Func<LengthLimitedStream, Task<long>> put)
    {
        try
        {
            return await put(content);
        }
        catch (IOException exception) when (!content.SourceFailed && exception is not ContentTooLargeException)
        {
            throw new FileStoreException("The file store could not store the upload.", exception);
        }
    }
}

/// <summary>
/// Reads a source (an upload) through to a consumer (the file store) and throws <see cref="ContentTooLargeException"/> as
/// soon as more than <paramref name="limit"/> bytes arrive, so an oversized upload is refused while it streams, without
/// holding it anywhere, and the store keeps nothing of it. <paramref name="head"/>: bytes already read from
/// <paramref name="source"/> (to decide its type), handed out first so the consumer receives the file whole.
/// </summary>
public sealed class LengthLimitedStream(Stream source, long limit, ReadOnlyMemory<byte> head = default) : Stream
{
    private ReadOnlyMemory<byte> _head = head;
    private long _read;

    public long BytesRead => _read;

    /// <summary>Reading the source threw (a client's body cut short, say): an error the store reports after it is the client's.</summary>
    public bool SourceFailed { get; private set; }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => _read;
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        try
        {
            return _head.IsEmpty ? Count(source.Read(buffer)) : Count(Replay(buffer));
        }
        catch (Exception exception) when (exception is not ContentTooLargeException)
        {
            SourceFailed = true;
            throw;
        }
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        try
        {
            return _head.IsEmpty ? Count(await source.ReadAsync(buffer, cancellationToken)) : Count(Replay(buffer.Span));
        }
        catch (Exception exception) when (exception is not ContentTooLargeException)
        {
            SourceFailed = true;
            throw;
        }
    }

    private int Replay(Span<byte> buffer)
    {
        var n = Math.Min(buffer.Length, _head.Length);
        _head.Span[..n].CopyTo(buffer);
        _head = _head[n..];
        return n;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    private int Count(int read)
    {
        _read += read;
        return _read > limit ? throw new ContentTooLargeException(limit) : read;
    }
}
