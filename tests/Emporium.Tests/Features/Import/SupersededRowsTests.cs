using System.Buffers.Binary;
using System.IO.Hashing;
using Emporium.Features.Import;

namespace Emporium.Tests.Features.Import;

/// <summary>
/// The bounded-memory answer to "which valid rows does a later row of the same SKU replace", checked against the
/// dictionary of last rows it replaces. Tiny buffers make it spill after a few rows, as a multi-million-row file does.
/// </summary>
public sealed class SupersededRowsTests : IDisposable
{
    private readonly DirectoryInfo _temp = Directory.CreateTempSubdirectory("emporium-superseded-test-");

    public void Dispose() => _temp.Delete(recursive: true);

    [Theory]
    [InlineData(10_000)]
    [InlineData(8)]
    public void Supersedes_nothing_when_every_key_is_distinct(int bufferEntries)
    {
        using var superseded = new SupersededRows(bufferEntries, _temp.FullName);
        for (var ordinal = 0L; ordinal < 1_000; ordinal++)
        {
            superseded.Add(Hash(ordinal), ordinal);
        }

        superseded.Seal(1_000);

        Enumerable.Range(0, 1_000).Where(o => superseded.IsSuperseded(o)).Should().BeEmpty();
    }

    [Theory]
    [InlineData(10_000)]
    [InlineData(1)]
    public void Supersedes_every_row_of_a_key_but_the_last_valid_one(int bufferEntries)
    {
        // Hashes that share their high or low half: only the whole 128 bits make a key.
        var a = new UInt128(1, 1);
        var b = new UInt128(1, 2);
        var c = new UInt128(2, 1);
        using var superseded = new SupersededRows(bufferEntries, _temp.FullName);
        superseded.Add(a, 0);
        superseded.Add(b, 1);
        superseded.Add(a, 2);
        // 3: an invalid row (of any key) is never added.
        superseded.Add(c, 4);
        superseded.Add(a, 5);
        superseded.Add(c, 6);
        // 7: invalid, after the last valid row.
        superseded.Seal(8);

        Enumerable.Range(0, 8).Where(o => superseded.IsSuperseded(o)).Should().Equal(0, 2, 4);
    }

    [Theory]
    [InlineData(100_000, false)]
    [InlineData(100, false)]
    [InlineData(8, false)]
    [InlineData(1, false)]
    [InlineData(100, true)]
    [InlineData(8, true)]
    public void Agrees_with_a_dictionary_of_last_rows_whatever_the_buffer_size(int bufferEntries, bool sameTopBits)
    {
        var random = new Random(20_240_611);
        const int rows = 20_000;
        var keys = new UInt128?[rows];
        for (var ordinal = 0; ordinal < rows; ordinal++)
        {
            // A fifth of the rows are invalid; the rest draw from 3,000 keys, so most keys repeat, some do not.
            if (random.Next(5) > 0)
            {
                var key = Hash(random.Next(3_000));
                // All in one group on disk when the top bits are equal: that group outgrows the buffer.
                keys[ordinal] = sameTopBits ? key >> 8 : key;
            }
        }

        var last = new Dictionary<UInt128, long>();
        using var superseded = new SupersededRows(bufferEntries, _temp.FullName);
        for (var ordinal = 0; ordinal < rows; ordinal++)
        {
            if (keys[ordinal] is { } key)
            {
                superseded.Add(key, ordinal);
                last[key] = ordinal;
            }
        }

        superseded.Seal(rows);

        var expected = Enumerable.Range(0, rows).Where(o => keys[o] is { } key && last[key] != o).ToList();
        Enumerable.Range(0, rows).Where(o => superseded.IsSuperseded(o)).Should().Equal(expected);
        expected.Should().HaveCountGreaterThan(rows / 2, "the data must have duplicates for the comparison to mean anything");
    }

    [Fact]
    public void Spills_to_a_file_that_has_no_name_and_is_gone_once_sealed()
    {
        using var superseded = new SupersededRows(bufferEntries: 8, _temp.FullName);
        for (var ordinal = 0L; ordinal < 1_000; ordinal++)
        {
            superseded.Add(Hash(ordinal % 300), ordinal);
        }

        OpenFilesIn(_temp).Should().NotBeEmpty("a full buffer of distinct keys spills");
        if (!OperatingSystem.IsWindows())
        {
            _temp.GetFileSystemInfos().Should().BeEmpty("the file loses its name at once, so even a killed process leaves nothing");
        }

        superseded.Seal(1_000);

        OpenFilesIn(_temp).Should().BeEmpty();
        _temp.GetFileSystemInfos().Should().BeEmpty();
        superseded.IsSuperseded(0).Should().BeTrue();
        superseded.IsSuperseded(999).Should().BeFalse();
    }

    [Fact]
    public void Dispose_without_seal_leaves_no_file_behind()
    {
        var superseded = new SupersededRows(bufferEntries: 8, _temp.FullName);
        for (var ordinal = 0L; ordinal < 1_000; ordinal++)
        {
            superseded.Add(Hash(ordinal), ordinal);
        }

        OpenFilesIn(_temp).Should().NotBeEmpty();

        superseded.Dispose();

        OpenFilesIn(_temp).Should().BeEmpty();
        _temp.GetFileSystemInfos().Should().BeEmpty();
    }

    [Fact]
    public void Memory_does_not_grow_with_the_number_of_distinct_keys()
    {
        const int rows = 400_000;
        const int bufferEntries = 8_192;
        // Add and Seal run on this thread, so its allocation counter sees every array they make.
        var before = GC.GetAllocatedBytesForCurrentThread();
        using (var superseded = new SupersededRows(bufferEntries, _temp.FullName))
        {
            for (var ordinal = 0L; ordinal < rows; ordinal++)
            {
                superseded.Add(Hash(ordinal), ordinal);
            }

            superseded.Seal(rows);
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        // One 24-byte pair per key in memory (as a dictionary of last rows keeps) would be 9.6 MB; the buffer is 196 KB.
        allocated.Should().BeLessThan(rows * 24L / 10);
    }

    [Fact]
    public void Refuses_ordinals_that_do_not_increase()
    {
        using var superseded = new SupersededRows(bufferEntries: 8, _temp.FullName);
        superseded.Add(Hash(1), 5);

        var again = () => superseded.Add(Hash(2), 5);

        again.Should().Throw<ArgumentOutOfRangeException>("the same row added twice would supersede itself");
    }

    /// <summary>A key hash as the importer makes it (XxHash128), without allocating.</summary>
    private static UInt128 Hash(long key)
    {
        Span<byte> bytes = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, key);
        return XxHash128.HashToUInt128(bytes);
    }

    /// <summary>Files this process holds open in a directory, named or not (Linux: /proc/self/fd).</summary>
    private static List<string> OpenFilesIn(DirectoryInfo directory)
    {
        var prefix = directory.FullName + Path.DirectorySeparatorChar;
        return new DirectoryInfo("/proc/self/fd").EnumerateFileSystemInfos()
            .Select(Target)
            .OfType<string>()
            .Where(target => target.StartsWith(prefix, StringComparison.Ordinal))
            .ToList();

        // Other tests open and close files meanwhile.
        static string? Target(FileSystemInfo fd)
        {
            try
            {
                return fd.LinkTarget;
            }
            catch (IOException)
            {
                return null;
            }
        }
    }
}
