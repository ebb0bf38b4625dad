using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using Mnist;

namespace CnnGen.Tests.Sample;

[TestFixture]
public class PngTests
{
    private static readonly string[] FixtureNames =
    [
        "gray1", "gray2", "gray4", "gray8", "gray16", "gray8_trns",
        "rgb8", "rgb16", "rgb8_trns",
        "pal1", "pal4", "pal8_trns",
        "graya8", "graya16", "rgba8", "rgba16",
        "rgba8_adam7", "gray1_adam7", "pal4_adam7_trns", "gray16_adam7_3x2", "rgb8_adam7_1x1",
        "rgb8_multi_idat",
    ];

    [Test]
    public void Gray_EncodeDecode_RoundTrips()
    {
        const int w = 37, h = 23;
        var rng = new Random(1);
        var pixels = new byte[w * h];
        rng.NextBytes(pixels);

        byte[] png = Png.Encode(w, h, pixels, PngColor.Gray);
        GrayImage image = Png.Decode(png);

        Assert.Multiple(() =>
        {
            Assert.That(image.Width, Is.EqualTo(w));
            Assert.That(image.Height, Is.EqualTo(h));
            Assert.That(image.ToBytes(), Is.EqualTo(pixels));
            Assert.That(image.Pixels[5], Is.EqualTo(pixels[5] / 255f).Within(1e-6f));
        });
    }

    [Test]
    public void Rgb_EncodeDecode_GivesLuminance()
    {
        const int w = 19, h = 31;
        var rng = new Random(2);
        var rgb = new byte[w * h * 3];
        rng.NextBytes(rgb);

        using var ms = new MemoryStream();
        Png.Encode(ms, w, h, rgb, PngColor.Rgb);
        ms.Position = 0;
        GrayImage image = Png.Decode(ms);

        Assert.That(image.Width, Is.EqualTo(w));
        Assert.That(image.Height, Is.EqualTo(h));
        for (int i = 0; i < w * h; i++)
        {
            float expected = (0.299f * rgb[3 * i] + 0.587f * rgb[3 * i + 1] + 0.114f * rgb[3 * i + 2]) / 255f;
            Assert.That(image.Pixels[i], Is.EqualTo(expected).Within(1e-5f), $"pixel {i}");
        }
    }

    [Test]
    public void Save_ThenLoad_FromFile()
    {
        string dir = SampleFiles.NewTempDir();
        try
        {
            string path = Path.Combine(dir, "x.png");
            byte[] pixels = [0, 64, 128, 255, 1, 2];
            Png.Save(path, 3, 2, pixels, PngColor.Gray);
            GrayImage image = Png.Load(path);
            Assert.That(image.ToBytes(), Is.EqualTo(pixels));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Test]
    public void Encode_RejectsWrongBufferSize()
    {
        Assert.Throws<ArgumentException>(() => Png.Encode(4, 4, new byte[15], PngColor.Gray));
        Assert.Throws<ArgumentException>(() => Png.Encode(4, 4, new byte[16], PngColor.Rgb));
    }

    [Test]
    public void FixtureList_CoversEveryFixturePng()
    {
        string[] onDisk = Directory.GetFiles(Path.GetDirectoryName(SampleFiles.Image("x"))!, "*.png")
            .Select(p => Path.GetFileNameWithoutExtension(p)!)
            .Order(StringComparer.Ordinal)
            .ToArray();
        Assert.That(onDisk, Is.EquivalentTo(FixtureNames));
    }

    [TestCaseSource(nameof(FixtureNames))]
    public void Decodes_ForeignEncoderFixture(string name)
    {
        GrayImage image = Png.Load(SampleFiles.Image(name + ".png"));
        (int w, int h, float[] expected) = ReadExpected(SampleFiles.Image(name + ".expected.txt"));

        // stb_image decodes 16-bit samples to their high byte: up to 1/255 off (before alpha compositing).
        float tolerance = name.Contains("16", StringComparison.Ordinal) ? 1.5f / 255f : 2e-5f;
        Assert.That(image.Width, Is.EqualTo(w));
        Assert.That(image.Height, Is.EqualTo(h));
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.That(image.Pixels[i], Is.EqualTo(expected[i]).Within(tolerance), $"{name}: pixel ({i % w}, {i / w})");
        }
    }

    [Test]
    public void Fixtures_ExerciseTransparency()
    {
        // Sanity check that the tRNS fixtures really contain transparent pixels (decoded as white).
        Assert.That(ReadExpected(SampleFiles.Image("gray8_trns.expected.txt")).Pixels, Has.Some.EqualTo(1f));
        Assert.That(ReadExpected(SampleFiles.Image("pal8_trns.expected.txt")).Pixels.Distinct().Count(), Is.GreaterThan(50));
    }

    [Test]
    public void Interlaced_DecodesSameAsItsPixelsNonInterlaced()
    {
        // Build the same 9 x 7 gray image both ways, with our own raw data.
        const int w = 9, h = 7;
        var rng = new Random(5);
        var pixels = new byte[w * h];
        rng.NextBytes(pixels);
        var raw = new List<byte>();
        (int X0, int Y0, int DX, int DY)[] passes =
            [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)];
        foreach (var (x0, y0, dx, dy) in passes)
        {
            if (x0 >= w || y0 >= h)
            {
                continue;
            }

            for (int y = y0; y < h; y += dy)
            {
                raw.Add(0);
                for (int x = x0; x < w; x += dx)
                {
                    raw.Add(pixels[y * w + x]);
                }
            }
        }

        byte[] png = SampleFiles.BuildPng(
            ("IHDR", SampleFiles.Ihdr(w, h, 8, 0, interlace: 1)),
            ("IDAT", SampleFiles.Zlib(raw.ToArray())),
            ("IEND", []));
        Assert.That(Png.Decode(png).ToBytes(), Is.EqualTo(pixels));
    }

    [Test]
    public void BadSignature_Throws()
    {
        byte[] png = Png.Encode(2, 2, new byte[4], PngColor.Gray);
        png[1] = (byte)'X';
        var ex = Assert.Throws<InvalidDataException>(() => Png.Decode(png));
        Assert.That(ex!.Message, Does.Contain("signature"));
        Assert.Throws<InvalidDataException>(() => Png.Decode(Array.Empty<byte>()));
    }

    [Test]
    public void BadCrc_Throws()
    {
        byte[] png = Png.Encode(8, 8, new byte[64], PngColor.Gray);
        var idat = SampleFiles.Chunks(png).Single(c => c.Type == "IDAT");
        png[idat.Offset + 8 + idat.Length / 2] ^= 0x40;
        var ex = Assert.Throws<InvalidDataException>(() => Png.Decode(png));
        Assert.That(ex!.Message, Does.Contain("CRC").And.Contain("IDAT"));
    }

    [Test]
    public void EveryTruncation_ThrowsInvalidData()
    {
        var rng = new Random(3);
        var rgb = new byte[6 * 5 * 3];
        rng.NextBytes(rgb);
        byte[] png = Png.Encode(6, 5, rgb, PngColor.Rgb);
        for (int len = 0; len < png.Length; len++)
        {
            byte[] cut = png.AsSpan(0, len).ToArray();
            Assert.Throws<InvalidDataException>(() => Png.Decode(cut), $"length {len} of {png.Length}");
        }
    }

    [TestCase(20000u, 10u, "limit")]
    [TestCase(10u, 16385u, "limit")]
    [TestCase(16384u, 16384u, "pixels")]
    [TestCase(0u, 10u, "dimensions")]
    [TestCase(0x80000000u, 1u, "limit")]
    public void AbsurdDimensions_Throw(uint width, uint height, string messagePart)
    {
        byte[] png = SampleFiles.BuildPng(
            ("IHDR", SampleFiles.Ihdr(width, height, 8, 0)),
            ("IDAT", SampleFiles.Zlib(new byte[16])),
            ("IEND", []));
        var ex = Assert.Throws<InvalidDataException>(() => Png.Decode(png));
        Assert.That(ex!.Message, Does.Contain(messagePart));
    }

    [TestCase((byte)3, (byte)0)]
    [TestCase((byte)16, (byte)3)]
    [TestCase((byte)4, (byte)2)]
    [TestCase((byte)1, (byte)6)]
    [TestCase((byte)8, (byte)5)]
    public void InvalidBitDepthOrColorType_Throws(byte depth, byte colorType)
    {
        byte[] png = SampleFiles.BuildPng(
            ("IHDR", SampleFiles.Ihdr(2, 2, depth, colorType)),
            ("IDAT", SampleFiles.Zlib(new byte[64])),
            ("IEND", []));
        var ex = Assert.Throws<InvalidDataException>(() => Png.Decode(png));
        Assert.That(ex!.Message, Does.Contain($"bit depth {depth} for color type {colorType}"));
    }

    [Test]
    public void StructuralErrors_Throw()
    {
        // Found by Png.CheckStructure before stb_image sees the file.
        byte[] ihdr = SampleFiles.Ihdr(2, 2, 8, 0);
        byte[] goodData = SampleFiles.Zlib([0, 1, 2, 0, 3, 4]);
        var cases = new (string Name, string MessagePart, byte[] Png)[]
        {
            ("no IDAT", "no IDAT", SampleFiles.BuildPng(("IHDR", ihdr), ("IEND", []))),
            ("missing IEND", "missing IEND", SampleFiles.BuildPng(("IHDR", ihdr), ("IDAT", goodData))),
            ("IDAT first", "expected IHDR", SampleFiles.BuildPng(("IDAT", goodData), ("IHDR", ihdr), ("IEND", []))),
            ("short IHDR", "IHDR chunk length", SampleFiles.BuildPng(("IHDR", ihdr[..12]), ("IDAT", goodData), ("IEND", []))),
            ("bad interlace method", "interlace", SampleFiles.BuildPng(("IHDR", SampleFiles.Ihdr(2, 2, 8, 0, interlace: 2)), ("IDAT", goodData), ("IEND", []))),
            ("duplicate IHDR", "duplicate IHDR", SampleFiles.BuildPng(("IHDR", ihdr), ("IHDR", ihdr), ("IDAT", goodData), ("IEND", []))),
            ("bad chunk type", "invalid chunk type", SampleFiles.BuildPng(("IHDR", ihdr), ("AB1D", [1]), ("IDAT", goodData), ("IEND", []))),
            ("huge chunk length", "truncated", [.. SampleFiles.BuildPng(("IHDR", ihdr)), 0xFF, 0xFF, 0xFF, 0xF0, (byte)'I', (byte)'D', (byte)'A', (byte)'T', 0, 0, 0, 0]),
        };

        foreach (var (name, part, png) in cases)
        {
            var ex = Assert.Throws<InvalidDataException>(() => Png.Decode(png), name);
            Assert.That(ex!.Message, Does.Contain(part).And.Not.Contain("\n"), name);
        }
    }

    [Test]
    public void MalformedImageData_ThrowsWithStbImagesReason()
    {
        // Structurally sound files (every CRC right) whose content stb_image rejects.
        byte[] ihdr = SampleFiles.Ihdr(2, 2, 8, 0);
        byte[] goodData = SampleFiles.Zlib([0, 1, 2, 0, 3, 4]);
        var cases = new (string Name, byte[] Png)[]
        {
            ("unknown critical chunk", SampleFiles.BuildPng(("IHDR", ihdr), ("ABCD", [1]), ("IDAT", goodData), ("IEND", []))),
            ("too little image data", SampleFiles.BuildPng(("IHDR", ihdr), ("IDAT", SampleFiles.Zlib([0, 1, 2])), ("IEND", []))),
            ("not zlib", SampleFiles.BuildPng(("IHDR", ihdr), ("IDAT", [1, 2, 3, 4, 5, 6, 7, 8]), ("IEND", []))),
            ("bad filter type", SampleFiles.BuildPng(("IHDR", ihdr), ("IDAT", SampleFiles.Zlib([7, 1, 2, 0, 3, 4])), ("IEND", []))),
            ("palette without PLTE", SampleFiles.BuildPng(("IHDR", SampleFiles.Ihdr(2, 2, 8, 3)), ("IDAT", goodData), ("IEND", []))),
            ("PLTE length", SampleFiles.BuildPng(
                ("IHDR", SampleFiles.Ihdr(2, 2, 8, 3)), ("PLTE", [1, 2, 3, 4]), ("IDAT", goodData), ("IEND", []))),
            ("tRNS longer than palette", SampleFiles.BuildPng(
                ("IHDR", SampleFiles.Ihdr(2, 2, 8, 3)), ("PLTE", [1, 2, 3]), ("tRNS", [1, 2]), ("IDAT", SampleFiles.Zlib(new byte[6])), ("IEND", []))),
        };

        foreach (var (name, png) in cases)
        {
            var ex = Assert.Throws<InvalidDataException>(() => Png.Decode(png), name);
            Assert.That(ex!.Message, Does.Match(@"^corrupt PNG \(.+\)$"), name);
        }
    }

    [Test]
    public void RandomCorruption_OnlyEverThrowsInvalidData()
    {
        var rng = new Random(4);
        var rgb = new byte[10 * 9 * 3];
        rng.NextBytes(rgb);
        byte[] original = Png.Encode(10, 9, rgb, PngColor.Rgb);
        int decoded = 0, rejected = 0;
        for (int trial = 0; trial < 2000; trial++)
        {
            byte[] png = (byte[])original.Clone();
            int flips = 1 + rng.Next(4);
            for (int k = 0; k < flips; k++)
            {
                png[8 + rng.Next(png.Length - 8)] = (byte)rng.Next(256);
            }

            // Half the time repair the CRCs so the corruption reaches the header/zlib/filter code.
            if (trial % 2 == 0)
            {
                foreach (var c in SampleFiles.Chunks(png))
                {
                    SampleFiles.FixCrc(png, c.Offset, c.Length);
                }
            }

            try
            {
                GrayImage image = Png.Decode(png);
                Assert.That(image.Pixels, Has.All.InRange(0f, 1f));
                decoded++;
            }
            catch (InvalidDataException)
            {
                rejected++;
            }
        }

        Assert.That(rejected, Is.GreaterThan(100));
        Assert.That(decoded + rejected, Is.EqualTo(2000));
    }

    [Test]
    public void Load_MissingFile_ThrowsFileNotFound()
    {
        string path = Path.Combine(SampleFiles.NewTempDir(), "missing.png");
        var ex = Assert.Throws<FileNotFoundException>(() => Png.Load(path));
        Assert.That(ex!.Message, Does.Contain(path));
    }

    [Test]
    public void Load_CorruptFile_MessageNamesFile()
    {
        string dir = SampleFiles.NewTempDir();
        try
        {
            string path = Path.Combine(dir, "bad.png");
            byte[] png = Png.Encode(4, 4, new byte[16], PngColor.Gray);
            File.WriteAllBytes(path, png.AsSpan(0, png.Length - 5).ToArray());
            var ex = Assert.Throws<InvalidDataException>(() => Png.Load(path));
            Assert.That(ex!.Message, Does.StartWith(path + ": ").And.Contain("truncated"));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    internal static (int Width, int Height, float[] Pixels) ReadExpected(string path)
    {
        string[] lines = File.ReadAllLines(path);
        string[] dims = lines[0].Split(' ');
        int w = int.Parse(dims[0], CultureInfo.InvariantCulture);
        int h = int.Parse(dims[1], CultureInfo.InvariantCulture);
        float[] values = lines.Skip(1)
            .SelectMany(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Select(s => float.Parse(s, CultureInfo.InvariantCulture))
            .ToArray();
        Assert.That(values, Has.Length.EqualTo(w * h), path);
        return (w, h, values);
    }
}
