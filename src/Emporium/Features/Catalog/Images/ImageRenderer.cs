using NetVips;

namespace Emporium.Features.Catalog.Images;

/// <summary>An image that will never process, whatever the retries: its reason is shown on the image.</summary>
public sealed class ImageRejectedException(string message) : Exception(message);

/// <summary>One rendition made of an image: a format's bytes at a size.</summary>
public sealed record RenderedImage(string Name, string Format, int Width, int Height, byte[] Bytes)
{
    public string Extension => Format == "jpeg" ? "jpg" : Format;

    public string ContentType => $"image/{Format}";
}

/// <summary>What processing made of one original: its own size and every rendition, largest first.</summary>
public sealed record RenderResult(int Width, int Height, IReadOnlyList<RenderedImage> Renditions);

/// <summary>
/// Turns an original into the configured renditions with libvips (decision 0017), in this process through NetVips' bundled
/// build. Only the loaders of the accepted types can run (every other libvips loader is blocked, untrusted ones included);
/// the header is read and the pixel count checked before anything is decoded; the largest rendition is decoded with
/// shrink-on-load, auto-rotated by its EXIF orientation and converted to sRGB, and the smaller ones are made from it.
/// Outputs carry no metadata (EXIF, XMP, ICC, comments).
/// </summary>
public sealed class ImageRenderer(IOptions<MediaOptions> options)
{
    private static readonly string[] AcceptedLoaders =
        ["VipsForeignLoadJpeg", "VipsForeignLoadPng", "VipsForeignLoadNsgif", "VipsForeignLoadWebp", "VipsForeignLoadTiff", "VipsForeignLoadHeif"];

    private static readonly Lazy<bool> Initialized = new(() =>
    {
        NetVips.NetVips.BlockUntrusted = true;
        Operation.Block("VipsForeignLoad", true);
        foreach (var loader in AcceptedLoaders)
        {
            Operation.Block(loader, false);
        }

        // Parallelism comes from Jobs:Concurrency, which bounds memory; libvips' operation cache would only hold pixels.
        NetVips.NetVips.Concurrency = 1;
        Cache.Max = 0;
        return true;
    });

    public RenderResult Render(byte[] original)
    {
        _ = Initialized.Value;
        var settings = options.Value;
        try
        {
            int width, height;
            bool profiled;
            using (var header = Image.NewFromBuffer(original, access: Enums.Access.Sequential))
            {
                (width, height, profiled) = (header.Width, header.Height, header.Contains("icc-profile-data"));
                // The size is reported upright, as the renditions are: EXIF orientations 5 to 8 (most phone portraits) turn the
                // stored pixels a quarter, so a 4032x3024 sensor image is a 3024x4032 photo.
                if (header.Contains("orientation") && header.Get("orientation") is int orientation && orientation is >= 5 and <= 8)
                {
                    (width, height) = (height, width);
                }
            }

            var pixels = (long)width * height;
            if (pixels > settings.MaxPixels)
            {
                throw new ImageRejectedException(
                    $"The image is {width}x{height} ({pixels:N0} pixels), more than Media:MaxPixels ({settings.MaxPixels:N0}); it was not decoded.");
            }

            var sizes = settings.Sizes;
            var renditions = new List<RenderedImage>(sizes.Count * 2);
            // An embedded ICC profile (Display P3, Adobe RGB, CMYK) is converted to sRGB by the thumbnail itself, before the
            // profile is stripped; images without one are taken as what their interpretation says (a colour transform of
            // every pixel would cost a third of the time for nothing).
            using var decoded = profiled
                ? Image.ThumbnailBuffer(original, sizes[0].Size, height: sizes[0].Size, size: Enums.Size.Down, outputProfile: "srgb")
                : Image.ThumbnailBuffer(original, sizes[0].Size, height: sizes[0].Size, size: Enums.Size.Down);
            using var largest = InSrgb(decoded);
            foreach (var size in sizes)
            {
                using var rendition = size == sizes[0]
                    ? largest.Copy()
                    : Materialized(largest.ThumbnailImage(size.Size, height: size.Size, size: Enums.Size.Down));
                renditions.Add(new RenderedImage(size.Name, "webp", rendition.Width, rendition.Height,
                    rendition.WebpsaveBuffer(q: settings.WebpQuality, keep: Enums.ForeignKeep.None)));
                using var opaque = rendition.HasAlpha() ? rendition.Flatten(background: [255, 255, 255]) : rendition.Copy();
                renditions.Add(new RenderedImage(size.Name, "jpeg", rendition.Width, rendition.Height,
                    opaque.JpegsaveBuffer(q: settings.JpegQuality, keep: Enums.ForeignKeep.None, optimizeCoding: true, interlace: true)));
            }

            return new RenderResult(width, height, renditions);
        }
        catch (VipsException exception)
        {
            var reason = exception.Message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            throw new ImageRejectedException($"The file cannot be decoded as an image ({string.Join("; ", reason.Take(3))}).");
        }
    }

    /// <summary>The decoded image in 8-bit sRGB, in memory (it is encoded several times).</summary>
    private static Image InSrgb(Image decoded)
    {
        if (decoded.Interpretation is Enums.Interpretation.Srgb && decoded.Format == Enums.BandFormat.Uchar)
        {
            return decoded.CopyMemory();
        }

        using var srgb = decoded.Colourspace(Enums.Interpretation.Srgb);
        using var bytes = srgb.Cast(Enums.BandFormat.Uchar);
        return bytes.CopyMemory();
    }

    /// <summary>A pipeline's result in memory, the pipeline released at once rather than by the finalizer.</summary>
    private static Image Materialized(Image pipeline)
    {
        using (pipeline)
        {
            return pipeline.CopyMemory();
        }
    }
}
