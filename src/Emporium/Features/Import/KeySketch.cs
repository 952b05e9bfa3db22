using System.IO.Hashing;
using System.Runtime.InteropServices;

namespace Emporium.Features.Import;

/// <summary>
/// A Bloom filter of strings: <see cref="MayContain"/> is false only for a string never <see cref="Add"/>ed, and true for
/// one that was not with a probability of about 1 % while it holds no more than the count it was sized for (more makes
/// that probability grow, never a wrong "no"). Ten bits per expected string, up to <see cref="MaxBits"/>.
/// </summary>
internal sealed class KeySketch
{
    /// <summary>64 MiB bits (8 MiB): about 6.7 million strings at 1 %; beyond that the sketch answers "maybe" more often.</summary>
    public const long MaxBits = 1L << 26;

    private const int BitsPerKey = 10;
    private const int Probes = 7;

    private readonly ulong[] _words;
    private readonly ulong _bits;

    public KeySketch(long expected)
    {
        var bits = Math.Clamp(Math.Max(expected, 1) * BitsPerKey, 64, MaxBits);
        _words = new ulong[(bits + 63) / 64];
        _bits = (ulong)_words.Length * 64;
    }

    public void Add(string key)
    {
        var (h1, h2) = Hash(key);
        for (var i = 0UL; i < Probes; i++)
        {
            var bit = (h1 + i * h2) % _bits;
            _words[bit >> 6] |= 1UL << (int)(bit & 63);
        }
    }

    public bool MayContain(string key)
    {
        var (h1, h2) = Hash(key);
        for (var i = 0UL; i < Probes; i++)
        {
            var bit = (h1 + i * h2) % _bits;
            if ((_words[bit >> 6] & (1UL << (int)(bit & 63))) == 0)
            {
                return false;
            }
        }

        return true;
    }

    // Two halves of one 64-bit hash, the second odd so that the probes never repeat one bit (Kirsch and Mitzenmacher).
    private static (ulong, ulong) Hash(string key)
    {
        var hash = XxHash3.HashToUInt64(MemoryMarshal.AsBytes(key.AsSpan()));
        return (hash & 0xFFFF_FFFF, (hash >> 32) | 1);
    }
}
