using System;
using System.IO;
using System.Text;
using Mnist;

namespace CnnGen.Tests.Sample;

[TestFixture]
public class PgmTests
{
    [Test]
    public void P2_WithComments_FromFixture()
    {
        GrayImage image = Pgm.Load(SampleFiles.Image("small_p2.pgm"));
        int[] expected = [0, 5, 10, 15, 15, 10, 5, 0, 3, 3, 3, 3];
        Assert.That(image.Width, Is.EqualTo(4));
        Assert.That(image.Height, Is.EqualTo(3));
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.That(image.Pixels[i], Is.EqualTo(expected[i] / 15f).Within(1e-6f), $"pixel {i}");
        }
    }

    [Test]
    public void P5_8Bit()
    {
        byte[] header = Encoding.ASCII.GetBytes("P5\n# comment line\n3 2\n255\n");
        byte[] data = [.. header, 0, 128, 255, 10, 20, 30];
        GrayImage image = Pgm.Decode(data);
        Assert.That(image.Width, Is.EqualTo(3));
        Assert.That(image.Height, Is.EqualTo(2));
        Assert.That(image.ToBytes(), Is.EqualTo(new byte[] { 0, 128, 255, 10, 20, 30 }));
    }

    [Test]
    public void P5_16Bit_BigEndian()
    {
        byte[] header = Encoding.ASCII.GetBytes("P5 2 2 1000 ");
        byte[] data = [.. header, 0x03, 0xE8, 0x01, 0xF4, 0x00, 0x00, 0x00, 0x0A];
        GrayImage image = Pgm.Decode(data);
        Assert.That(image.Pixels, Is.EqualTo(new[] { 1f, 0.5f, 0f, 0.01f }).Within(1e-6f));
    }

    [Test]
    public void P5_MaxvalBelow255_IsScaled()
    {
        byte[] data = [.. Encoding.ASCII.GetBytes("P5\n2 1\n7\n"), 7, 1];
        GrayImage image = Pgm.Decode(data);
        Assert.That(image.Pixels, Is.EqualTo(new[] { 1f, 1f / 7f }).Within(1e-6f));
    }

    [Test]
    public void Save_ThenLoad_RoundTrips()
    {
        string dir = SampleFiles.NewTempDir();
        try
        {
            var rng = new Random(7);
            var bytes = new byte[17 * 9];
            rng.NextBytes(bytes);
            GrayImage original = GrayImage.FromBytes(17, 9, bytes);
            string path = Path.Combine(dir, "round.pgm");
            Pgm.Save(path, original);
            GrayImage loaded = ImageLoader.Load(path);
            Assert.That(loaded.Width, Is.EqualTo(17));
            Assert.That(loaded.Height, Is.EqualTo(9));
            Assert.That(loaded.ToBytes(), Is.EqualTo(bytes));
            Assert.That(File.ReadAllBytes(path)[..2], Is.EqualTo("P5"u8.ToArray()));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [TestCase("P5\n2 2\n255\n\u0001\u0002\u0003", "truncated")]
    [TestCase("P2\n2 2\n255\n1 2 3", "truncated")]
    [TestCase("P2\n2 1\n10\n5 11", "exceeds maxval")]
    [TestCase("P2\n2 1\n0\n0 0", "maxval")]
    [TestCase("P2\n2 1\n70000\n0 0", "maxval")]
    [TestCase("P2\n2", "missing height")]
    [TestCase("P2\n0 5\n255\n", "dimensions")]
    [TestCase("P2\n20000 5\n255\n", "limit")]
    [TestCase("P2\n99999999999 5\n255\n", "too large")]
    [TestCase("P2\n2 1\n255\n1 x", "unexpected character")]
    [TestCase("P3\n1 1\n255\n0 0 0", "not a PGM")]
    [TestCase("P5", "not a PGM")]
    public void Malformed_ThrowsInvalidData(string text, string messagePart)
    {
        byte[] data = Encoding.Latin1.GetBytes(text);
        var ex = Assert.Throws<InvalidDataException>(() => Pgm.Decode(data));
        Assert.That(ex!.Message, Does.Contain(messagePart));
    }

    [Test]
    public void P5_16Bit_SampleAboveMaxval_Throws()
    {
        byte[] data = [.. Encoding.ASCII.GetBytes("P5 1 1 300\n"), 0x01, 0x2D];
        Assert.Throws<InvalidDataException>(() => Pgm.Decode(data));
    }
}

[TestFixture]
public class ImageLoaderTests
{
    [Test]
    public void ChoosesFormatBySignature_NotExtension()
    {
        string dir = SampleFiles.NewTempDir();
        try
        {
            byte[] pixels = [0, 50, 100, 150, 200, 250];
            string pngNamedPgm = Path.Combine(dir, "really-png.pgm");
            Png.Save(pngNamedPgm, 3, 2, pixels, PngColor.Gray);
            string pgmNamedPng = Path.Combine(dir, "really-pgm.png");
            Pgm.Save(pgmNamedPng, GrayImage.FromBytes(3, 2, pixels));

            Assert.That(ImageLoader.Load(pngNamedPgm).ToBytes(), Is.EqualTo(pixels));
            Assert.That(ImageLoader.Load(pgmNamedPng).ToBytes(), Is.EqualTo(pixels));
            Assert.That(ImageLoader.Load(SampleFiles.Image("rgba8.png")).Width, Is.EqualTo(13));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Test]
    public void UnknownFormat_AndMissingFile_HaveClearErrors()
    {
        string dir = SampleFiles.NewTempDir();
        try
        {
            string path = Path.Combine(dir, "photo.jpg");
            File.WriteAllBytes(path, [0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10]);
            var ex = Assert.Throws<InvalidDataException>(() => ImageLoader.Load(path));
            Assert.That(ex!.Message, Does.StartWith(path).And.Contain("PNG or PGM"));

            string corrupt = Path.Combine(dir, "corrupt.pgm");
            File.WriteAllText(corrupt, "P5\n4 4\n255\nab");
            var ex2 = Assert.Throws<InvalidDataException>(() => ImageLoader.Load(corrupt));
            Assert.That(ex2!.Message, Does.StartWith(corrupt + ": ").And.Contain("truncated"));

            string missing = Path.Combine(dir, "nope.png");
            var ex3 = Assert.Throws<FileNotFoundException>(() => ImageLoader.Load(missing));
            Assert.That(ex3!.Message, Does.Contain(missing));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
