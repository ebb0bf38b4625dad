using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Mnist;

namespace CnnGen.Tests.Sample;

[TestFixture]
public class RenderTests
{
    [Test]
    public void Font_HasEveryCaptionCharacter_AndDistinctGlyphs()
    {
        const string needed = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 :.%/";
        foreach (char c in needed)
        {
            Assert.That(Font5x7.IsKnown(c), Is.True, $"'{c}'");
        }

        Assert.That(Font5x7.IsKnown('a'), Is.True, "lowercase maps to uppercase");
        var shapes = new HashSet<string>();
        foreach (char c in needed)
        {
            var bits = new char[35];
            for (int i = 0; i < 35; i++)
            {
                bits[i] = Font5x7.IsInk(c, i % 5, i / 5) ? '#' : '.';
            }

            Assert.That(shapes.Add(new string(bits)), Is.True, $"glyph '{c}' duplicates another");
            Assert.That(bits.Contains('#'), Is.EqualTo(c != ' '), $"'{c}' ink");
        }

        Assert.That(Font5x7.MeasureWidth("7 OK"), Is.EqualTo(4 * 6 - 1));
    }

    [Test]
    public void DigitsGrid_SizeColorsAndPngRoundTrip()
    {
        IdxImages mnist = Idx.ReadImages(SampleFiles.MnistImages);
        var digits = Enumerable.Range(0, 12).Select(mnist.ToFloat).ToList();
        var captions = Enumerable.Range(0, 12).Select(i => i % 2 == 0 ? $"{i % 10} OK" : $"pred {i % 10} true 5").ToList();
        bool[] correct = Enumerable.Range(0, 12).Select(i => i % 2 == 0).ToArray();
        const int scale = 3, columns = 5;

        RgbCanvas canvas = Render.DigitsGrid(digits, captions, correct, scale, columns);

        int fontScale = Render.CaptionScale(scale);
        int cellW = Math.Max(28 * scale, Font5x7.MeasureWidth("pred 1 true 5") * fontScale);
        int captionH = 7 * fontScale + 2 * fontScale + 2;
        int cellH = 28 * scale + captionH;
        Assert.That(canvas.Width, Is.EqualTo(Render.Gap + columns * (cellW + Render.Gap)));
        Assert.That(canvas.Height, Is.EqualTo(Render.Gap + 3 * (cellH + Render.Gap)));
        Assert.That(canvas.Rgb, Has.Length.EqualTo(canvas.Width * canvas.Height * 3));

        // Digit 0's pixels appear enlarged in cell 0.
        int imgX = Render.Gap + (cellW - 28 * scale) / 2;
        for (int p = 0; p < 784; p += 37)
        {
            byte expected = (byte)Math.Round(digits[0][p] * 255);
            var (r, g, b) = canvas.GetPixel(imgX + (p % 28) * scale + 1, Render.Gap + (p / 28) * scale + 1);
            Assert.That((r, g, b), Is.EqualTo((expected, expected, expected)), $"pixel {p}");
        }

        // Caption colors: green under a correct prediction, red under a wrong one.
        Assert.That(CaptionColors(canvas, 0, cellW, cellH, columns), Does.Contain(((byte)80, (byte)220, (byte)80)).And.Not.Contain(((byte)240, (byte)70, (byte)70)));
        Assert.That(CaptionColors(canvas, 1, cellW, cellH, columns), Does.Contain(((byte)240, (byte)70, (byte)70)).And.Not.Contain(((byte)80, (byte)220, (byte)80)));

        GrayImage decoded = Png.Decode(canvas.EncodePng());
        Assert.That(decoded.Width, Is.EqualTo(canvas.Width));
        Assert.That(decoded.Height, Is.EqualTo(canvas.Height));
        var (r0, g0, b0) = canvas.GetPixel(imgX + 14 * scale, Render.Gap + 14 * scale);
        Assert.That(decoded[imgX + 14 * scale, Render.Gap + 14 * scale], Is.EqualTo((0.299f * r0 + 0.587f * g0 + 0.114f * b0) / 255f).Within(1e-5f));
    }

    private static HashSet<(byte, byte, byte)> CaptionColors(RgbCanvas canvas, int cell, int cellW, int cellH, int columns)
    {
        var colors = new HashSet<(byte, byte, byte)>();
        int x0 = Render.Gap + (cell % columns) * (cellW + Render.Gap);
        int y0 = Render.Gap + (cell / columns) * (cellH + Render.Gap) + 28 * 3;
        for (int y = y0; y < y0 + cellH - 28 * 3; y++)
        {
            for (int x = x0; x < x0 + cellW; x++)
            {
                colors.Add(canvas.GetPixel(x, y));
            }
        }

        return colors;
    }

    [Test]
    public void DigitsGrid_WithoutCaptions_AndBadArguments()
    {
        var digits = new List<float[]> { new float[784], new float[784], new float[784] };
        RgbCanvas canvas = Render.DigitsGrid(digits, scale: 2, columns: 2);
        Assert.That(canvas.Width, Is.EqualTo(Render.Gap + 2 * (56 + Render.Gap)));
        Assert.That(canvas.Height, Is.EqualTo(Render.Gap + 2 * (56 + Render.Gap)));
        Assert.Throws<ArgumentException>(() => Render.DigitsGrid(new List<float[]> { new float[783] }));
        Assert.Throws<ArgumentException>(() => Render.DigitsGrid(digits, ["a"]));
        Assert.Throws<ArgumentException>(() => Render.DigitsGrid(new List<float[]>()));
    }

    [Test]
    public void FeatureMaps_GridWithPerChannelNormalisation()
    {
        const int channels = 6, h = 7, w = 5, scale = 3, columns = 4;
        var maps = new float[channels * h * w];
        for (int c = 0; c < channels; c++)
        {
            for (int i = 0; i < h * w; i++)
            {
                maps[c * h * w + i] = c * 100 + i * (c + 1) - 3; // different range per channel
            }
        }

        maps[5 * h * w + 3] = float.NaN;
        RgbCanvas canvas = Render.FeatureMaps(maps, channels, h, w, scale, columns);
        Assert.That(canvas.Width, Is.EqualTo(2 + columns * (w * scale + 2)));
        Assert.That(canvas.Height, Is.EqualTo(2 + 2 * (h * scale + 2)));

        for (int c = 0; c < channels; c++)
        {
            int ox = 2 + (c % columns) * (w * scale + 2);
            int oy = 2 + (c / columns) * (h * scale + 2);
            Assert.That(canvas.GetPixel(ox, oy), Is.EqualTo(((byte)0, (byte)0, (byte)0)), $"channel {c} min is black");
            Assert.That(canvas.GetPixel(ox + (w - 1) * scale, oy + (h - 1) * scale), Is.EqualTo(((byte)255, (byte)255, (byte)255)), $"channel {c} max is white");
        }

        var gap = canvas.GetPixel(1 + w * scale + 2, 5);
        Assert.That(gap, Is.Not.EqualTo(canvas.GetPixel(2, 2)).And.Not.EqualTo(((byte)255, (byte)255, (byte)255)), "gap between maps has the background color");
        Assert.Throws<ArgumentException>(() => Render.FeatureMaps(maps.AsSpan(1), channels, h, w));
    }

    [Test]
    public void Filters_DivergingColorMap()
    {
        const int outC = 6, inC = 2, k = 5, scale = 4;
        var weights = new float[outC * inC * k * k];
        weights[0] = 2f;   // filter 0, input 0, (0,0): strongest positive -> pure red
        weights[1] = -2f;  // (1,0): strongest negative -> pure blue
        weights[2] = 1f;   // half -> light red
        RgbCanvas canvas = Render.Filters(weights, outC, inC, k, k, scale, columns: 4);

        int cellW = inC * k * scale + (inC - 1);
        Assert.That(canvas.Width, Is.EqualTo(2 + 4 * (cellW + 2)));
        Assert.That(canvas.Height, Is.EqualTo(2 + 2 * (k * scale + 2)));
        Assert.That(canvas.GetPixel(2, 2), Is.EqualTo(((byte)255, (byte)0, (byte)0)));
        Assert.That(canvas.GetPixel(2 + scale, 2), Is.EqualTo(((byte)0, (byte)0, (byte)255)));
        Assert.That(canvas.GetPixel(2 + 2 * scale, 2), Is.EqualTo(((byte)255, (byte)128, (byte)128)));
        Assert.That(canvas.GetPixel(2 + 3 * scale, 2), Is.EqualTo(((byte)255, (byte)255, (byte)255)), "zero is white");

        string dir = SampleFiles.NewTempDir();
        try
        {
            string path = Path.Combine(dir, "filters.png");
            canvas.SavePng(path);
            GrayImage back = ImageLoader.Load(path);
            Assert.That(back.Width, Is.EqualTo(canvas.Width));
            Assert.That(back.Height, Is.EqualTo(canvas.Height));
            Assert.That(back[2, 2], Is.EqualTo(0.299f).Within(1e-5f), "red decodes to its luminance");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Test]
    public void Gray_EnlargesImage()
    {
        GrayImage image = GrayImage.FromBytes(2, 1, [0, 255]);
        RgbCanvas canvas = Render.Gray(image, 3);
        Assert.That((canvas.Width, canvas.Height), Is.EqualTo((6, 3)));
        Assert.That(canvas.GetPixel(2, 2), Is.EqualTo(((byte)0, (byte)0, (byte)0)));
        Assert.That(canvas.GetPixel(3, 0), Is.EqualTo(((byte)255, (byte)255, (byte)255)));
    }
}
