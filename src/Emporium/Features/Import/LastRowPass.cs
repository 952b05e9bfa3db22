using System.IO.Hashing;
using System.Runtime.InteropServices;

namespace Emporium.Features.Import;

/// <summary>
/// The first pass: counts the data rows and marks, in <see cref="SupersededRows"/>, every valid row that a later valid row
/// of the same SKU replaces, so that only the last one is ever written (writing the others would bump versions on a
/// re-import). SKUs are told apart by a 128-bit hash of their key: a collision (two SKUs of one file sharing 128 bits) is
/// beyond any realistic file. Nothing is written before it ends and the second core would idle, so the file is split into
/// records on its own task while this flow validates and hashes them, a chunk at a time.
/// </summary>
internal static class LastRowPass
{
    /// <summary>Records per chunk: about half a megabyte of text, so two chunks in the channel hold little.</summary>
    private const int ChunkSize = 1_000;

    /// <returns>The number of data rows in the file.</returns>
    public static async Task<long> RunAsync(
        CsvRowReader scan,
        ImportHeader header,
        CategoryLookup categories,
        SupersededRows superseded,
        ProgressClock clock,
        Func<long, long, Task>? onCounted,
        CancellationToken cancellationToken)
    {
        var rows = 0L;
        await TwoStages.RunAsync<Chunk>(
            capacity: 2,
            async (output, token) =>
            {
                // This stage keeps the time: a chunk also ends when a progress report is due, and says so.
                var records = new List<CsvRecord>(ChunkSize);
                while (await scan.ReadAsync(token) is { } record)
                {
                    records.Add(record);
                    var due = clock.ReportDue();
                    if (records.Count == ChunkSize || due)
                    {
                        await output.WriteAsync(new Chunk(records, scan.BytesConsumed, due), token);
                        records = new List<CsvRecord>(ChunkSize);
                    }
                }

                await output.WriteAsync(new Chunk(records, scan.BytesConsumed, ReportDue: false), token);
            },
            async chunk =>
            {
                foreach (var record in chunk.Records)
                {
                    var ordinal = rows++;
                    if (ImportRowParser.Parse(record, header, categories).Row is { } row)
                    {
                        superseded.Add(XxHash128.HashToUInt128(MemoryMarshal.AsBytes(row.SkuKey.AsSpan())), ordinal);
                    }
                }

                if (chunk.ReportDue && onCounted is not null)
                {
                    await onCounted(rows, chunk.BytesConsumed);
                }
            },
            finish: () => Task.CompletedTask,
            cancellationToken);

        superseded.Seal(rows, cancellationToken);
        return rows;
    }

    /// <summary>
    /// Records in file order; <see cref="BytesConsumed"/> is how far into the file they reach, and <see cref="ReportDue"/>
    /// says progress is due once they are counted.
    /// </summary>
    private sealed record Chunk(List<CsvRecord> Records, long BytesConsumed, bool ReportDue);
}

/// <summary>Says when a progress report is due: at most every <see cref="CatalogImporter.ReportEvery"/>.</summary>
internal sealed class ProgressClock(TimeProvider clock)
{
    private long _lastReport = clock.GetTimestamp();

    public bool ReportDue()
    {
        var now = clock.GetTimestamp();
        if (clock.GetElapsedTime(_lastReport, now) < CatalogImporter.ReportEvery)
        {
            return false;
        }

        _lastReport = now;
        return true;
    }
}
