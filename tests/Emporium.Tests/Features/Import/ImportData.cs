using System.IO.Compression;
using System.Text;
using Emporium.Features.Import;

namespace Emporium.Tests.Features.Import;

internal static class ImportData
{
    public static string PathOf(string file) => Path.Combine(AppContext.BaseDirectory, "Features", "Import", "Data", file);

    /// <summary>The gzipped test file, decompressed while it is read (as an upload would stream).</summary>
    public static Stream Gzipped(string file) => new GZipStream(File.OpenRead(PathOf(file)), CompressionMode.Decompress);

    public static Stream Text(string csv) => new MemoryStream(Encoding.UTF8.GetBytes(csv));

    /// <summary>A stream that hands out at most <paramref name="chunk"/> bytes per read, to cross buffer boundaries everywhere.</summary>
    public static Stream Trickle(byte[] bytes, int chunk) => new TrickleStream(bytes, chunk);

    public static async Task<List<CsvRecord>> ReadAllAsync(Stream stream, int bufferSize = 64 * 1024)
    {
        var reader = new CsvRowReader(stream, bufferSize);
        var records = new List<CsvRecord>();
        while (await reader.ReadAsync() is { } record)
        {
            records.Add(record);
        }

        return records;
    }

    private sealed class TrickleStream(byte[] bytes, int chunk) : MemoryStream(bytes)
    {
        public override int Read(byte[] buffer, int offset, int count) => base.Read(buffer, offset, Math.Min(count, chunk));

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(buffer.Length, chunk)], cancellationToken);
    }
}
