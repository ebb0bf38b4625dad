using System;
using System.IO;
using System.IO.Compression;
using System.Linq;
using Mnist;

namespace CnnGen.Tests.Sample;

[TestFixture]
public class IdxTests
{
    // Per-class counts of the 2,000 test digits (shared/data/mnist/mnist_info.json, "test_class_counts").
    private static readonly int[] TestClassCounts = [208, 223, 211, 206, 187, 163, 216, 205, 176, 205];

    private string _dir = string.Empty;

    [SetUp]
    public void SetUp() => _dir = SampleFiles.NewTempDir();

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    [Test]
    public void ReadsMnistTestImages()
    {
        IdxImages images = Idx.ReadImages(SampleFiles.MnistImages);
        Assert.Multiple(() =>
        {
            Assert.That(images.Count, Is.EqualTo(2000));
            Assert.That(images.Rows, Is.EqualTo(28));
            Assert.That(images.Cols, Is.EqualTo(28));
            Assert.That(images.Pixels, Has.Length.EqualTo(2000 * 784));
            Assert.That(images.Image(1999).Length, Is.EqualTo(784));
        });

        // Real digits: dark background corners, some full-intensity ink, a plausible amount of ink.
        for (int i = 0; i < images.Count; i += 97)
        {
            ReadOnlySpan<byte> img = images.Image(i);
            Assert.That(img[0], Is.EqualTo(0), $"image {i} corner");
            Assert.That(img.ToArray().Max(), Is.GreaterThan(200), $"image {i} max");
            int ink = img.ToArray().Count(b => b > 127);
            Assert.That(ink, Is.InRange(20, 400), $"image {i} ink pixels");
        }

        var floats = new float[784];
        images.ToFloat(3, floats);
        ReadOnlySpan<byte> third = images.Image(3);
        for (int k = 0; k < 784; k++)
        {
            Assert.That(floats[k], Is.EqualTo(third[k] / 255f));
        }

        Assert.That(images.ToFloat(3), Is.EqualTo(floats));
        Assert.Throws<ArgumentOutOfRangeException>(() => images.Image(2000));
    }

    [Test]
    public void ReadsMnistTestLabels_WithExpectedClassCounts()
    {
        byte[] labels = Idx.ReadLabels(SampleFiles.MnistLabels);
        Assert.That(labels, Has.Length.EqualTo(2000));
        Assert.That(labels, Has.All.InRange(0, 9));
        int[] counts = new int[10];
        foreach (byte l in labels)
        {
            counts[l]++;
        }

        Assert.That(counts, Is.EqualTo(TestClassCounts));
    }

    [Test]
    public void DigitSet_LoadsTheSamplesTrainingAndTestDigits()
    {
        var data = new DataFolder(Path.Combine(TestContext.CurrentContext.TestDirectory, "data"));

        DigitSet training = DigitSet.LoadTraining(data);
        DigitSet test = DigitSet.LoadTest(data);

        int[] counts = new int[10];
        foreach (byte l in training.Labels)
        {
            counts[l]++;
        }

        Assert.Multiple(() =>
        {
            Assert.That(training.Count, Is.EqualTo(8000));
            Assert.That(training.Inputs, Has.Length.EqualTo(8000 * 784));
            // shared/data/mnist/mnist_info.json: train_class_counts.
            Assert.That(counts, Is.EqualTo(new[] { 793, 904, 780, 826, 793, 700, 798, 865, 768, 773 }));
            Assert.That(training.Input(7999).ToArray(), Is.EqualTo(training.Images.ToFloat(7999)));
            Assert.That(training.Inputs.Min(), Is.Zero);
            Assert.That(training.Inputs.Max(), Is.EqualTo(1f));
            Assert.That(test.Count, Is.EqualTo(2000));
            Assert.That(test.Labels, Is.EqualTo(Idx.ReadLabels(SampleFiles.MnistLabels)));
        });
    }

    [Test]
    public void ReadsUncompressedIdx()
    {
        string plain = Path.Combine(_dir, "images.idx3");
        using (var gz = new GZipStream(File.OpenRead(SampleFiles.MnistImages), CompressionMode.Decompress))
        using (var output = File.Create(plain))
        {
            gz.CopyTo(output);
        }

        IdxImages fromPlain = Idx.ReadImages(plain);
        IdxImages fromGzip = Idx.ReadImages(SampleFiles.MnistImages);
        Assert.That(fromPlain.Count, Is.EqualTo(2000));
        Assert.That(fromPlain.Pixels, Is.EqualTo(fromGzip.Pixels));
    }

    [Test]
    public void TruncatedGzip_Throws()
    {
        byte[] all = File.ReadAllBytes(SampleFiles.MnistImages);
        string path = Path.Combine(_dir, "cut.gz");
        File.WriteAllBytes(path, all.AsSpan(0, all.Length / 2).ToArray());
        var ex = Assert.Throws<InvalidDataException>(() => Idx.ReadImages(path));
        Assert.That(ex!.Message, Does.StartWith(path + ": "));
        Assert.That(ex.Message, Does.Not.Contain("\n"));
    }

    [Test]
    public void TruncatedPlainData_Throws()
    {
        string path = Path.Combine(_dir, "short.idx3");
        File.WriteAllBytes(path, [.. Header(images: true, 3, 28, 28), .. new byte[784 * 2 + 100]]);
        var ex = Assert.Throws<InvalidDataException>(() => Idx.ReadImages(path));
        Assert.That(ex!.Message, Does.StartWith(path).And.Contain("truncated"));

        string labels = Path.Combine(_dir, "short.idx1");
        File.WriteAllBytes(labels, [0, 0, 8, 1, 0, 0, 0, 5, 1, 2]);
        Assert.That(() => Idx.ReadLabels(labels), Throws.InstanceOf<InvalidDataException>().With.Message.Contain("truncated"));

        string header = Path.Combine(_dir, "header.idx3");
        File.WriteAllBytes(header, [0, 0, 8, 3, 0, 0]);
        Assert.That(() => Idx.ReadImages(header), Throws.InstanceOf<InvalidDataException>().With.Message.Contain("truncated"));
    }

    [Test]
    public void WrongMagic_Throws()
    {
        // A label file is not an image file and vice versa.
        var ex = Assert.Throws<InvalidDataException>(() => Idx.ReadImages(SampleFiles.MnistLabels));
        Assert.That(ex!.Message, Does.Contain("magic").And.Contain(SampleFiles.MnistLabels));
        Assert.Throws<InvalidDataException>(() => Idx.ReadLabels(SampleFiles.MnistImages));
    }

    [TestCase(-1, 28, 28)]
    [TestCase(10, 0, 28)]
    [TestCase(10, 28, 100000)]
    [TestCase(int.MaxValue, 4096, 4096)]
    public void AbsurdDimensions_Throw(int count, int rows, int cols)
    {
        string path = Path.Combine(_dir, "absurd.idx3");
        File.WriteAllBytes(path, [.. Header(images: true, count, rows, cols), 1, 2, 3]);
        var ex = Assert.Throws<InvalidDataException>(() => Idx.ReadImages(path));
        Assert.That(ex!.Message, Does.Contain("dimensions"));
    }

    [Test]
    public void NotGzipNorIdx_Throws()
    {
        string path = Path.Combine(_dir, "text.gz");
        File.WriteAllText(path, "hello, this is not an IDX file");
        var ex = Assert.Throws<InvalidDataException>(() => Idx.ReadImages(path));
        Assert.That(ex!.Message, Does.StartWith(path));

        string badGzip = Path.Combine(_dir, "bad.gz");
        File.WriteAllBytes(badGzip, [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4]);
        Assert.Throws<InvalidDataException>(() => Idx.ReadLabels(badGzip));
    }

    [Test]
    public void LabelOutOfRange_Throws()
    {
        string path = Path.Combine(_dir, "labels.idx1");
        File.WriteAllBytes(path, [0, 0, 8, 1, 0, 0, 0, 3, 1, 12, 3]);
        var ex = Assert.Throws<InvalidDataException>(() => Idx.ReadLabels(path));
        Assert.That(ex!.Message, Does.Contain("label 12"));
        Assert.That(Idx.ReadLabels(path, classes: 13), Is.EqualTo(new byte[] { 1, 12, 3 }));
    }

    [Test]
    public void MissingFile_ThrowsFileNotFound()
    {
        string path = Path.Combine(_dir, "none.gz");
        var ex = Assert.Throws<FileNotFoundException>(() => Idx.ReadImages(path));
        Assert.That(ex!.Message, Does.Contain(path));
        Assert.Throws<FileNotFoundException>(() => Idx.ReadLabels(path));
    }

    private static byte[] Header(bool images, int count, int rows, int cols)
    {
        var h = new byte[16];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(h, images ? Idx.ImagesMagic : Idx.LabelsMagic);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(h.AsSpan(4), count);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(h.AsSpan(8), rows);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(h.AsSpan(12), cols);
        return h;
    }
}
