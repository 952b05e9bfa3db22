using System.Diagnostics;
using Emporium.Features.Catalog.Images;
using Microsoft.Extensions.Options;
using NetVips;

namespace Emporium.Tests.Features.Catalog.Images;

/// <summary>libvips through the renderer, without a service: which files it takes, and what it refuses before decoding.</summary>
public sealed class ImageRendererTests
{
    private static readonly ImageRenderer Renderer = new(Options.Create(new MediaOptions()));

    public static TheoryData<string> Formats => ["jpeg", "png", "gif", "webp", "tiff", "avif"];

    private static byte[] Encode(string format)
    {
        using var image = Image.Black(500, 300, bands: 3).Linear([1, 1, 1], [200, 40, 90]).Cast(Enums.BandFormat.Uchar);
        return format switch
        {
            "jpeg" => image.JpegsaveBuffer(),
            "png" => image.PngsaveBuffer(),
            "gif" => image.GifsaveBuffer(),
            "webp" => image.WebpsaveBuffer(),
            "tiff" => image.TiffsaveBuffer(),
            "avif" => image.HeifsaveBuffer(compression: Enums.ForeignHeifCompression.Av1),
            _ => throw new ArgumentOutOfRangeException(nameof(format)),
        };
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public void Every_accepted_format_is_recognised_by_its_bytes_and_rendered(string format)
    {
        var bytes = Encode(format);
        ImageFormats.Detect(bytes.AsSpan(0, ImageFormats.SniffLength))!.Name.Should().Be(format);

        var result = Renderer.Render(bytes);

        (result.Width, result.Height).Should().Be((500, 300));
        result.Renditions.Select(r => (r.Name, r.Format, r.Width)).Should().Equal(
            ("large", "webp", 500), ("large", "jpeg", 500), ("medium", "webp", 500), ("medium", "jpeg", 500),
            ("small", "webp", 320), ("small", "jpeg", 320), ("thumb", "webp", 160), ("thumb", "jpeg", 160));
    }

    [Fact]
    public void A_photo_in_another_colour_space_is_converted_to_srgb_before_its_profile_is_stripped()
    {
        double[] srgb = [200, 60, 40];
        using var flat = Image.Black(300, 200, bands: 3).Linear([1, 1, 1], srgb).Cast(Enums.BandFormat.Uchar).Copy(interpretation: Enums.Interpretation.Srgb);
        using var p3 = flat.IccTransform("p3", inputProfile: "srgb");
        var p3Pixel = p3.Getpoint(10, 10);
        p3Pixel.Zip(srgb).Should().Contain(pair => Math.Abs(pair.First - pair.Second) > 6, "the same colour has other numbers in Display P3");
        var bytes = p3.JpegsaveBuffer(q: 95, keep: Enums.ForeignKeep.Icc);

        var result = Renderer.Render(bytes);

        using var thumb = Image.NewFromBuffer(result.Renditions.First(r => r.Format == "jpeg").Bytes);
        thumb.GetFields().Should().NotContain("icc-profile-data");
        thumb.Getpoint(10, 10).Zip(srgb).Should().AllSatisfy(pair => Math.Abs(pair.First - pair.Second).Should().BeLessThan(5));
    }

    [Fact]
    public void A_decompression_bomb_is_refused_in_under_a_second_without_being_decoded()
    {
        var bomb = TestImages.Bomb.Value;
        bomb.Length.Should().BeLessThan(2_000_000, "a small file that declares 400 megapixels");

        var clock = Stopwatch.StartNew();
        var refused = () => Renderer.Render(bomb);

        refused.Should().Throw<ImageRejectedException>().WithMessage("*20000x20000 (400,000,000 pixels)*Media:MaxPixels (50,000,000)*");
        clock.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(1));
    }

    [Fact]
    public void Loaders_outside_the_accepted_types_are_blocked_even_when_the_bytes_reach_libvips()
    {
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\"/>"u8.ToArray();
        var matrix = "2 2\n1 2\n3 4\n"u8.ToArray();
        var csv = "1,2,3\n4,5,6\n"u8.ToArray();
        foreach (var bytes in new[] { svg, matrix, csv })
        {
            ImageFormats.Detect(bytes).Should().BeNull();
            var render = () => Renderer.Render(bytes);
            render.Should().Throw<ImageRejectedException>().WithMessage("*cannot be decoded*");
        }
    }

    [Fact]
    public void HEIC_is_refused_at_once_and_AVIF_named_by_a_generic_HEIF_brand_is_AVIF()
    {
        // What an iPhone writes: the bundled libvips cannot decode HEVC, so it is refused before it is stored.
        byte[] heic = [0, 0, 0, 24, .. "ftypheic"u8, 0, 0, 0, 0, .. "mif1heic"u8];
        byte[] generic = [0, 0, 0, 28, .. "ftypmif1"u8, 0, 0, 0, 0, .. "mif1miafavif"u8];
        byte[] genericHevc = [0, 0, 0, 24, .. "ftypmif1"u8, 0, 0, 0, 0, .. "mif1heic"u8];

        ImageFormats.Detect(heic).Should().BeNull();
        ImageFormats.Detect(generic)!.Name.Should().Be("avif");
        ImageFormats.Detect(genericHevc).Should().BeNull();
        ImageFormats.Accepted.Should().NotContain("HEIC");
    }
}
