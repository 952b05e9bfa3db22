#:package NetVips
#:package NetVips.Native.linux-x64
// Writes COUNT photo-like JPEGs of WIDTH x HEIGHT into FOLDER for bench/images.sh: smooth colour gradients (different
// per file) under sensor-like noise, quality 88, so they compress and decode like camera pictures rather than flat fills.
//   dotnet run bench/lib/make-photos.cs -- FOLDER COUNT WIDTH HEIGHT
using NetVips;

var (folder, count, width, height) = (args[0], int.Parse(args[1]), int.Parse(args[2]), int.Parse(args[3]));
Directory.CreateDirectory(folder);
NetVips.NetVips.Concurrency = Environment.ProcessorCount;
using var xyz = Image.Xyz(width, height);
using var x = xyz[0] / width;
using var y = xyz[1] / height;
for (var i = 0; i < count; i++)
{
    var path = Path.Combine(folder, $"photo-{i:D4}.jpg");
    if (File.Exists(path))
    {
        continue;
    }

    var hue = i * 37 % 255;
    using var noise = Image.Gaussnoise(width, height, mean: 0, sigma: 10, seed: i);
    using var r = (x * 180) + (y * 40) + hue + noise;
    using var g = (y * 160) + ((1 - x) * 60) + (255 - hue) / 2 + noise;
    using var b = ((x + y) * 90) + 30 + noise;
    using var rgb = r.Bandjoin(g, b).Cast(Enums.BandFormat.Uchar).Copy(interpretation: Enums.Interpretation.Srgb);
    rgb.Jpegsave(path + ".tmp", q: 88);
    File.Move(path + ".tmp", path);
}

Console.Error.WriteLine($"[bench] {count} photos of {width}x{height} in {folder}");
