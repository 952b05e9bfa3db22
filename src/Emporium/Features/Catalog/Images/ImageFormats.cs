namespace Emporium.Features.Catalog.Images;

/// <summary>An image type recognised from a file's bytes.</summary>
public sealed record ImageFormat(string Name, string ContentType);

/// <summary>
/// Decides an image's type from its first bytes (magic numbers), never from its name or Content-Type: a file that does
/// not start like one of the accepted types is refused, whatever it is called (decision 0017).
/// </summary>
public static class ImageFormats
{
    /// <summary>How many leading bytes <see cref="Detect"/> needs.</summary>
    public const int SniffLength = 64;

    public static readonly ImageFormat Jpeg = new("jpeg", "image/jpeg");
    public static readonly ImageFormat Png = new("png", "image/png");
    public static readonly ImageFormat Gif = new("gif", "image/gif");
    public static readonly ImageFormat Webp = new("webp", "image/webp");
    public static readonly ImageFormat Tiff = new("tiff", "image/tiff");
    public static readonly ImageFormat Avif = new("avif", "image/avif");

    /// <summary>
    /// What the API names as accepted, for messages and documentation. Not HEIC: the bundled libvips decodes HEIF with AV1
    /// only (AVIF), never HEVC, so an iPhone's HEIC photo would be accepted and then always fail.
    /// </summary>
    public const string Accepted = "JPEG, PNG, GIF, WebP, TIFF or AVIF";

    public static ImageFormat? Detect(ReadOnlySpan<byte> head)
    {
        if (head.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xD8, 0xFF]))
        {
            return Jpeg;
        }

        if (head.StartsWith((ReadOnlySpan<byte>)[0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]))
        {
            return Png;
        }

        if (head.StartsWith("GIF87a"u8) || head.StartsWith("GIF89a"u8))
        {
            return Gif;
        }

        if (head.Length >= 12 && head.StartsWith("RIFF"u8) && head[8..12].SequenceEqual("WEBP"u8))
        {
            return Webp;
        }

        if (head.StartsWith("II*\0"u8) || head.StartsWith("MM\0*"u8))
        {
            return Tiff;
        }

        // ISO base media: a box of type ftyp first, whose brands name the image kind. AVIF is its major brand, or a
        // compatible brand of a generic HEIF one (mif1, msf1); HEVC-coded HEIF (HEIC) is not accepted.
        if (head.Length >= 12 && head[4..8].SequenceEqual("ftyp"u8))
        {
            var brand = head[8..12];
            if (IsAvifBrand(brand))
            {
                return Avif;
            }

            if (brand.SequenceEqual("mif1"u8) || brand.SequenceEqual("msf1"u8))
            {
                var boxEnd = Math.Min(head.Length, (int)Math.Min(System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(head), int.MaxValue));
                for (var at = 16; at + 4 <= boxEnd; at += 4)
                {
                    if (IsAvifBrand(head[at..(at + 4)]))
                    {
                        return Avif;
                    }
                }
            }
        }

        return null;
    }

    private static bool IsAvifBrand(ReadOnlySpan<byte> brand) => brand.SequenceEqual("avif"u8) || brand.SequenceEqual("avis"u8);
}
