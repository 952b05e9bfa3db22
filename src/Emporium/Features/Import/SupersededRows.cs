using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Emporium.Features.Import;

/// <summary>
/// Which valid rows of an import a later valid row of the same SKU replaces, found in memory that does not grow with
/// the number of distinct SKUs (a dictionary of the last row per SKU takes ~20 MB at 500,000 SKUs and ~200 MB at 5
/// million). The first pass <see cref="Add"/>s a (SKU hash, ordinal) pair per valid row into a fixed buffer; a full
/// buffer is sorted, the pairs a later one of the same hash replaces are marked at once, and the rest go to a temp
/// file grouped by the hash's top bits. <see cref="Seal"/> settles one group at a time, which leaves one bit per data
/// row, read by the second pass through <see cref="IsSuperseded"/>.
/// </summary>
/// <remarks>
/// The I/O is synchronous: it is a sequential write of at most one buffer per spill and one read per group at the end,
/// to a local temp file, and a synchronous <see cref="Add"/> keeps the per-row call free of a state machine.
/// </remarks>
internal sealed class SupersededRows : IDisposable
{
    /// <summary>Groups on disk (by the top bits of the hash): <see cref="Seal"/> holds one at a time, ~1/64 of the spilled pairs.</summary>
    private const int PartitionBits = 6;

    private const int Partitions = 1 << PartitionBits;

    private static readonly int EntryBytes = Unsafe.SizeOf<Entry>();

    private readonly int _bufferEntries;
    private readonly string _tempDirectory;

    // Byte offsets in the temp file of each spill's groups: group p of a spill spans [offsets[p], offsets[p + 1]).
    private readonly List<long[]> _spills = [];
    private Entry[]? _buffer;
    private int _count;
    private long _lastOrdinal = -1;
    private ulong[] _superseded = [];
    private long _totalRows = -1; // until sealed
    private SafeFileHandle? _file;
    private long _fileLength;
    private bool _disposed;

    /// <param name="bufferEntries">
    /// Pairs held in memory (from the first <see cref="Add"/> to <see cref="Seal"/>) before they spill to disk, at 24
    /// bytes each: 524,288 take 12 MB, and a file with fewer valid rows never touches disk. <see cref="Seal"/> needs
    /// more only when one of the 64 groups of spilled pairs is larger than the buffer, i.e. beyond ~64 times as many
    /// distinct SKUs (33 million at 524,288); it then holds 24 bytes per SKU of that group. One bit per data row comes
    /// on top (62 KB at 500,000 rows), and the spill file takes up to 24 bytes per valid row on disk.
    /// </param>
    /// <param name="tempDirectory">Where the spill file goes; it is deleted on <see cref="Dispose"/>, and on Unix its name at once.</param>
    public SupersededRows(int bufferEntries, string tempDirectory)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bufferEntries, 1);
        ArgumentException.ThrowIfNullOrEmpty(tempDirectory);
        _bufferEntries = bufferEntries;
        _tempDirectory = tempDirectory;
    }

    /// <summary>Records a valid row; <paramref name="ordinal"/> (the row's index among all data rows) must increase from call to call.</summary>
    public void Add(UInt128 skuKeyHash, long ordinal)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_totalRows >= 0)
        {
            throw new InvalidOperationException("Rows cannot be added once the set is sealed.");
        }

        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(ordinal, _lastOrdinal);
        _lastOrdinal = ordinal;
        _buffer ??= new Entry[_bufferEntries];
        _buffer[_count++] = new Entry((ulong)(skuKeyHash >> 64), (ulong)skuKeyHash, ordinal);
        if (_count < _buffer.Length)
        {
            return;
        }

        // Many duplicates shrink the buffer enough to go on without touching disk.
        _count = Collapse(_buffer.AsSpan(0, _count));
        if (_count > _buffer.Length / 2)
        {
            Spill();
        }
    }

    /// <summary>
    /// Settles every added row: afterwards <see cref="IsSuperseded"/> answers for ordinals below
    /// <paramref name="totalDataRows"/>, and the buffer and the temp file are gone.
    /// </summary>
    public void Seal(long totalDataRows, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_totalRows >= 0)
        {
            throw new InvalidOperationException("The set is already sealed.");
        }

        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(totalDataRows, _lastOrdinal);
        if (_buffer is not null)
        {
            _count = Collapse(_buffer.AsSpan(0, _count));
            if (_spills.Count > 0)
            {
                Spill();
                SettleSpills(cancellationToken);
            }
        }

        _buffer = null;
        _file?.Dispose();
        _file = null;
        Array.Resize(ref _superseded, (int)((totalDataRows + 63) / 64));
        _totalRows = totalDataRows;
    }

    /// <summary>Whether a later valid row of the same SKU replaces the row; false for rows never added.</summary>
    public bool IsSuperseded(long ordinal)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_totalRows < 0)
        {
            throw new InvalidOperationException("Seal the set before asking about rows.");
        }

        ArgumentOutOfRangeException.ThrowIfNegative(ordinal);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(ordinal, _totalRows);
        return (_superseded[ordinal >> 6] & (1UL << (int)(ordinal & 63))) != 0;
    }

    public void Dispose()
    {
        _file?.Dispose();
        _file = null;
        _buffer = null;
        _superseded = [];
        _disposed = true;
    }

    /// <summary>
    /// Sorts the pairs by hash, marks every pair that a later one of the same hash replaces, and keeps only the last
    /// of each hash (still sorted) at the front; answers how many it kept.
    /// </summary>
    private int Collapse(Span<Entry> entries)
    {
        entries.Sort();
        var kept = 0;
        for (var i = 0; i < entries.Length; i++)
        {
            if (i + 1 < entries.Length && entries[i + 1].SameHash(entries[i]))
            {
                Mark(entries[i].Ordinal);
            }
            else
            {
                entries[kept++] = entries[i];
            }
        }

        return kept;
    }

    private void Mark(long ordinal)
    {
        var word = ordinal >> 6;
        if (word >= _superseded.Length)
        {
            // Ordinals only grow, so this doubles a handful of times; Seal trims it to the row count.
            Array.Resize(ref _superseded, (int)Math.Max(word + 1, Math.Min(2L * _superseded.Length, Array.MaxLength)));
        }

        _superseded[word] |= 1UL << (int)(ordinal & 63);
    }

    /// <summary>Appends the collapsed (so sorted, so grouped) buffer to the temp file in one write, and empties it.</summary>
    private void Spill()
    {
        if (_count == 0)
        {
            return;
        }

        _file ??= CreateTempFile();
        var entries = _buffer.AsSpan(0, _count);
        var offsets = new long[Partitions + 1];
        var next = 0;
        for (var p = 0; p < Partitions; p++)
        {
            offsets[p] = _fileLength + ((long)next * EntryBytes);
            while (next < entries.Length && entries[next].Partition == p)
            {
                next++;
            }
        }

        offsets[Partitions] = _fileLength + ((long)entries.Length * EntryBytes);
        RandomAccess.Write(_file, MemoryMarshal.AsBytes(entries), _fileLength);
        _fileLength = offsets[Partitions];
        _spills.Add(offsets);
        _count = 0;
    }

    /// <summary>Reads each group back from all spills at once, into the buffer (grown if a group is larger), and collapses it.</summary>
    private void SettleSpills(CancellationToken cancellationToken)
    {
        for (var p = 0; p < Partitions; p++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var bytes = 0L;
            foreach (var offsets in _spills)
            {
                bytes += offsets[p + 1] - offsets[p];
            }

            var entries = checked((int)(bytes / EntryBytes));
            if (entries > _buffer!.Length)
            {
                // Dropped first, so that a collection the new array triggers can take the old one.
                _buffer = null;
                _buffer = new Entry[entries];
            }

            var target = MemoryMarshal.AsBytes(_buffer.AsSpan(0, entries));
            foreach (var offsets in _spills)
            {
                var length = (int)(offsets[p + 1] - offsets[p]);
                ReadExactly(offsets[p], target[..length]);
                target = target[length..];
            }

            Collapse(_buffer.AsSpan(0, entries));
        }
    }

    private void ReadExactly(long offset, Span<byte> target)
    {
        while (target.Length > 0)
        {
            var read = RandomAccess.Read(_file!, target, offset);
            if (read == 0)
            {
                throw new EndOfStreamException("The spill file is shorter than what was written to it.");
            }

            offset += read;
            target = target[read..];
        }
    }

    private SafeFileHandle CreateTempFile()
    {
        var path = Path.Combine(_tempDirectory, $"emporium-superseded-{Guid.NewGuid():N}.tmp");
        var file = File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, FileOptions.DeleteOnClose);
        if (!OperatingSystem.IsWindows())
        {
            // The open handle keeps the data; without a name, not even a killed process leaves the file behind (on
            // Windows, DeleteOnClose already covers that).
            File.Delete(path);
        }

        return file;
    }

    /// <summary>24 bytes: the hash as two halves, since UInt128 is 16-byte aligned and would pad the pair to 32.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private readonly struct Entry(ulong high, ulong low, long ordinal) : IComparable<Entry>
    {
        private readonly ulong _high = high;
        private readonly ulong _low = low;

        public long Ordinal { get; } = ordinal;

        public int Partition => (int)(_high >> (64 - PartitionBits));

        public bool SameHash(Entry other) => _high == other._high && _low == other._low;

        public int CompareTo(Entry other)
        {
            var byHigh = _high.CompareTo(other._high);
            if (byHigh != 0)
            {
                return byHigh;
            }

            var byLow = _low.CompareTo(other._low);
            return byLow != 0 ? byLow : Ordinal.CompareTo(other.Ordinal);
        }
    }
}
