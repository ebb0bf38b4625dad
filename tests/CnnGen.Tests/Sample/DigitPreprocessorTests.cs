using System;
using System.IO;
using Mnist;

namespace CnnGen.Tests.Sample;

[TestFixture]
public class DigitPreprocessorTests
{
    private static IdxImages? _mnist;

    private static IdxImages Digits => _mnist ??= Idx.ReadImages(SampleFiles.MnistImages);

    /// <summary>Renders MNIST digit <paramref name="index"/> enlarged, on a bigger canvas at an offset.</summary>
    private static GrayImage RenderLarge(int index, int factor, int canvasW, int canvasH, int offX, int offY, bool darkOnLight)
    {
        float[] digit = Digits.ToFloat(index);
        var image = new GrayImage(canvasW, canvasH);
        Array.Fill(image.Pixels, darkOnLight ? 1f : 0f);
        for (int y = 0; y < 28 * factor; y++)
        {
            for (int x = 0; x < 28 * factor; x++)
            {
                float v = digit[(y / factor) * 28 + x / factor];
                image[offX + x, offY + y] = darkOnLight ? 1f - v : v;
            }
        }

        return image;
    }

    private static (double Cx, double Cy) CenterOfMass(float[] p)
    {
        double m = 0, mx = 0, my = 0;
        for (int i = 0; i < p.Length; i++)
        {
            m += p[i];
            mx += p[i] * (i % 28);
            my += p[i] * (i / 28);
        }

        return (mx / m, my / m);
    }

    private static (int W, int H) BoundingBox(float[] p, float threshold = 0f)
    {
        int x0 = 28, y0 = 28, x1 = -1, y1 = -1;
        for (int i = 0; i < p.Length; i++)
        {
            if (p[i] > threshold)
            {
                x0 = Math.Min(x0, i % 28);
                x1 = Math.Max(x1, i % 28);
                y0 = Math.Min(y0, i / 28);
                y1 = Math.Max(y1, i / 28);
            }
        }

        return (x1 - x0 + 1, y1 - y0 + 1);
    }

    /// <summary>Best Pearson correlation over integer shifts of up to 2 pixels.</summary>
    private static double BestCorrelation(float[] a, float[] b)
    {
        double best = -1;
        for (int dy = -2; dy <= 2; dy++)
        {
            for (int dx = -2; dx <= 2; dx++)
            {
                var shifted = new float[784];
                for (int y = 0; y < 28; y++)
                {
                    for (int x = 0; x < 28; x++)
                    {
                        int sx = x + dx, sy = y + dy;
                        if (sx >= 0 && sx < 28 && sy >= 0 && sy < 28)
                        {
                            shifted[y * 28 + x] = b[sy * 28 + sx];
                        }
                    }
                }

                best = Math.Max(best, Correlation(a, shifted));
            }
        }

        return best;
    }

    private static double Correlation(float[] a, float[] b)
    {
        double ma = 0, mb = 0;
        for (int i = 0; i < a.Length; i++)
        {
            ma += a[i];
            mb += b[i];
        }

        ma /= a.Length;
        mb /= b.Length;
        double sab = 0, saa = 0, sbb = 0;
        for (int i = 0; i < a.Length; i++)
        {
            sab += (a[i] - ma) * (b[i] - mb);
            saa += (a[i] - ma) * (a[i] - ma);
            sbb += (b[i] - mb) * (b[i] - mb);
        }

        return sab / Math.Sqrt(saa * sbb);
    }

    [TestCase(0)]
    [TestCase(1)]
    [TestCase(7)]
    [TestCase(42)]
    [TestCase(123)]
    [TestCase(999)]
    [TestCase(1500)]
    public void LargeDarkOnLightDigit_ComesBackMnistLike(int index)
    {
        GrayImage large = RenderLarge(index, factor: 10, canvasW: 400, canvasH: 360, offX: 37, offY: 61, darkOnLight: true);
        float[] result = DigitPreprocessor.ToMnist(large);
        float[] original = Digits.ToFloat(index);

        Assert.That(result, Has.Length.EqualTo(784));
        Assert.That(result, Has.All.InRange(0f, 1f));
        var (cx, cy) = CenterOfMass(result);
        Assert.That(cx, Is.EqualTo(14.0).Within(0.5), "center of mass x");
        Assert.That(cy, Is.EqualTo(14.0).Within(0.5), "center of mass y");
        var (w, h) = BoundingBox(result);
        Assert.That(Math.Max(w, h), Is.EqualTo(20), "larger side of the bounding box");
        Assert.That(BestCorrelation(original, result), Is.GreaterThan(0.85), "resemblance to the original digit");

        // The same digit given directly at MNIST size, and light-on-dark, gives nearly the same input.
        float[] direct = DigitPreprocessor.ToMnist(DigitPreprocessor.FromMnist(original));
        Assert.That(Correlation(direct, result), Is.GreaterThan(0.9), "large vs 28x28 input");
        float[] lightOnDark = DigitPreprocessor.ToMnist(RenderLarge(index, 10, 400, 360, 37, 61, darkOnLight: false));
        Assert.That(Correlation(lightOnDark, result), Is.GreaterThan(0.999), "polarity invariance");
    }

    [Test]
    public void MnistDigits_AreNearlyUnchanged()
    {
        // MNIST digits are already normalised; preprocessing them again should barely move them.
        for (int i = 0; i < 200; i += 10)
        {
            float[] original = Digits.ToFloat(i);
            float[] result = DigitPreprocessor.ToMnist(DigitPreprocessor.FromMnist(original));
            Assert.That(BestCorrelation(original, result), Is.GreaterThan(0.8), $"digit {i}");
            var (cx, cy) = CenterOfMass(result);
            Assert.That(Math.Abs(cx - 14) <= 0.5 && Math.Abs(cy - 14) <= 0.5, Is.True, $"digit {i}: COM ({cx:F2}, {cy:F2})");
        }
    }

    [Test]
    public void AspectRatio_IsPreserved()
    {
        // A 10 x 100 vertical bar in a 300 x 300 white image -> a 2 x 20 bar.
        var image = new GrayImage(300, 300);
        Array.Fill(image.Pixels, 1f);
        for (int y = 100; y < 200; y++)
        {
            for (int x = 50; x < 60; x++)
            {
                image[x, y] = 0.05f;
            }
        }

        float[] result = DigitPreprocessor.ToMnist(image);
        var (w, h) = BoundingBox(result);
        Assert.That(h, Is.EqualTo(20));
        Assert.That(w, Is.InRange(2, 3));
        Assert.That(CenterOfMass(result).Cx, Is.EqualTo(14.0).Within(0.5));
        Assert.That(result, Has.Some.EqualTo(1f));
    }

    [Test]
    public void NoisyLowContrastPhoto_StillFindsDigit()
    {
        // Gray paper (0.75 +- noise) with a darker stroke (0.35): polarity, contrast stretch and noise threshold.
        var rng = new Random(9);
        var image = new GrayImage(200, 240);
        for (int i = 0; i < image.Pixels.Length; i++)
        {
            image.Pixels[i] = 0.75f + (float)(rng.NextDouble() - 0.5) * 0.08f;
        }

        for (int y = 60; y < 180; y++)
        {
            for (int x = 95; x < 112; x++)
            {
                image[x, y] = 0.35f;
            }
        }

        float[] result = DigitPreprocessor.ToMnist(image);
        var (w, h) = BoundingBox(result);
        Assert.That(h, Is.EqualTo(20));
        Assert.That(w, Is.InRange(2, 4));
        int background = 0;
        foreach (float v in result)
        {
            background += v == 0f ? 1 : 0;
        }

        Assert.That(background, Is.GreaterThan(700), "paper noise must not survive as ink");
    }

    [TestCase(1f)]
    [TestCase(0f)]
    [TestCase(0.5f)]
    public void BlankImage_Throws(float level)
    {
        var image = new GrayImage(64, 48);
        Array.Fill(image.Pixels, level);
        var ex = Assert.Throws<InvalidDataException>(() => DigitPreprocessor.ToMnist(image));
        Assert.That(ex!.Message, Does.Contain("no digit found"));
    }

    [Test]
    public void SingleSpeck_IsNotADigit()
    {
        var image = new GrayImage(50, 50);
        Array.Fill(image.Pixels, 1f);
        image[20, 30] = 0f;
        Assert.That(() => DigitPreprocessor.ToMnist(image), Throws.InstanceOf<InvalidDataException>().With.Message.Contain("no digit found"));
    }

    [Test]
    public void FromMnist_Wraps784Values()
    {
        float[] values = Digits.ToFloat(5);
        GrayImage image = DigitPreprocessor.FromMnist(values);
        Assert.That(image.Width, Is.EqualTo(28));
        Assert.That(image.Height, Is.EqualTo(28));
        Assert.That(image.Pixels, Is.EqualTo(values));
        Assert.Throws<ArgumentException>(() => DigitPreprocessor.FromMnist(new float[783]));
    }
}
