using System;
using System.Collections.Generic;
using System.IO;

namespace Mnist;

/// <summary>An 8-bit RGB picture (3 bytes per pixel, row-major).</summary>
public readonly struct RgbCanvas
{
    public RgbCanvas(int width, int height)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(width, Png.MaxSide);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(height, Png.MaxSide);
        Width = width;
        Height = height;
        Rgb = new byte[checked(width * height * 3)];
    }

    public int Width { get; }
    public int Height { get; }
    public byte[] Rgb { get; }

    public void Fill(byte r, byte g, byte b)
    {
        for (int i = 0; i < Rgb.Length; i += 3)
        {
            Rgb[i] = r;
            Rgb[i + 1] = g;
            Rgb[i + 2] = b;
        }
    }

    /// <summary>Sets one pixel; coordinates outside the canvas are ignored.</summary>
    public void SetPixel(int x, int y, byte r, byte g, byte b)
    {
        if ((uint)x >= (uint)Width || (uint)y >= (uint)Height)
        {
            return;
        }

        int i = (y * Width + x) * 3;
        Rgb[i] = r;
        Rgb[i + 1] = g;
        Rgb[i + 2] = b;
    }

    public (byte R, byte G, byte B) GetPixel(int x, int y)
    {
        if ((uint)x >= (uint)Width || (uint)y >= (uint)Height)
        {
            throw new ArgumentOutOfRangeException(nameof(x), $"({x}, {y}) is outside the {Width} x {Height} canvas");
        }

        int i = (y * Width + x) * 3;
        return (Rgb[i], Rgb[i + 1], Rgb[i + 2]);
    }

    public void FillRect(int x, int y, int w, int h, byte r, byte g, byte b)
    {
        for (int yy = Math.Max(0, y); yy < Math.Min(Height, y + h); yy++)
        {
            for (int xx = Math.Max(0, x); xx < Math.Min(Width, x + w); xx++)
            {
                SetPixel(xx, yy, r, g, b);
            }
        }
    }

    /// <summary>
    /// Draws a straight line from (x0, y0) to (x1, y1), both ends included (Bresenham), with a square pen
    /// <paramref name="thickness"/> pixels wide; pixels outside the canvas are skipped.
    /// </summary>
    public void DrawLine(int x0, int y0, int x1, int y1, byte r, byte g, byte b, int thickness = 1)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(thickness);
        int dx = Math.Abs(x1 - x0), dy = -Math.Abs(y1 - y0);
        int sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1;
        int err = dx + dy;
        int offset = (thickness - 1) / 2;
        while (true)
        {
            FillRect(x0 - offset, y0 - offset, thickness, thickness, r, g, b);
            if (x0 == x1 && y0 == y1)
            {
                return;
            }

            int e2 = 2 * err;
            if (e2 >= dy)
            {
                err += dy;
                x0 += sx;
            }

            if (e2 <= dx)
            {
                err += dx;
                y0 += sy;
            }
        }
    }

    /// <summary>Draws <paramref name="text"/> in the built-in 5 x 7 font, each font pixel <paramref name="scale"/> pixels wide.</summary>
    public void DrawText(int x, int y, string text, byte r, byte g, byte b, int scale = 1)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(scale);
        for (int k = 0; k < text.Length; k++)
        {
            int gx = x + k * Font5x7.Advance * scale;
            for (int fy = 0; fy < Font5x7.GlyphHeight; fy++)
            {
                for (int fx = 0; fx < Font5x7.GlyphWidth; fx++)
                {
                    if (Font5x7.IsInk(text[k], fx, fy))
                    {
                        FillRect(gx + fx * scale, y + fy * scale, scale, scale, r, g, b);
                    }
                }
            }
        }
    }

    public byte[] EncodePng() => Png.Encode(Width, Height, Rgb, PngColor.Rgb);

    public void EncodePng(Stream stream) => Png.Encode(stream, Width, Height, Rgb, PngColor.Rgb);

    public void SavePng(string path) => Png.Save(path, Width, Height, Rgb, PngColor.Rgb);
}

/// <summary>Pictures for the sample's <c>show</c> command.</summary>
public static class Render
{
    public const int DigitSide = 28;

    /// <summary>Gap between grid cells, in pixels.</summary>
    public const int Gap = 4;

    private static readonly (byte R, byte G, byte B) Background = (24, 24, 24);
    private static readonly (byte R, byte G, byte B) Correct = (80, 220, 80);
    private static readonly (byte R, byte G, byte B) Wrong = (240, 70, 70);
    private static readonly (byte R, byte G, byte B) Neutral = (220, 220, 220);

    /// <summary>
    /// Draws 28 x 28 digits (784 values in [0, 1], light ink on dark) enlarged <paramref name="scale"/> times
    /// in a grid of <paramref name="columns"/> columns, each with its caption underneath: green where
    /// <paramref name="correct"/> is true, red where false, light gray without <paramref name="correct"/>.
    /// </summary>
    public static RgbCanvas DigitsGrid(
        IReadOnlyList<float[]> digits,
        IReadOnlyList<string>? captions = null,
        IReadOnlyList<bool>? correct = null,
        int scale = 3,
        int columns = 10)
    {
        ArgumentNullException.ThrowIfNull(digits);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(scale);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(columns);
        if (digits.Count == 0)
        {
            throw new ArgumentException("no digits to draw", nameof(digits));
        }

        if (captions != null && captions.Count != digits.Count)
        {
            throw new ArgumentException($"{captions.Count} captions for {digits.Count} digits", nameof(captions));
        }

        if (correct != null && correct.Count != digits.Count)
        {
            throw new ArgumentException($"{correct.Count} correctness flags for {digits.Count} digits", nameof(correct));
        }

        int fontScale = CaptionScale(scale);
        int captionWidth = 0;
        if (captions != null)
        {
            foreach (string c in captions)
            {
                captionWidth = Math.Max(captionWidth, Font5x7.MeasureWidth(c ?? string.Empty) * fontScale);
            }
        }

        int imageSide = DigitSide * scale;
        int cellW = Math.Max(imageSide, captionWidth);
        int captionH = captions != null ? Font5x7.GlyphHeight * fontScale + 2 * fontScale + 2 : 0;
        int cellH = imageSide + captionH;
        int cols = Math.Min(columns, digits.Count);
        int rows = (digits.Count + cols - 1) / cols;
        var canvas = new RgbCanvas(Gap + cols * (cellW + Gap), Gap + rows * (cellH + Gap));
        canvas.Fill(Background.R, Background.G, Background.B);

        for (int n = 0; n < digits.Count; n++)
        {
            float[] digit = digits[n] ?? throw new ArgumentException($"digit {n} is null", nameof(digits));
            if (digit.Length != DigitSide * DigitSide)
            {
                throw new ArgumentException($"digit {n} has {digit.Length} values, expected {DigitSide * DigitSide}", nameof(digits));
            }

            int cellX = Gap + (n % cols) * (cellW + Gap);
            int cellY = Gap + (n / cols) * (cellH + Gap);
            int imgX = cellX + (cellW - imageSide) / 2;
            for (int y = 0; y < DigitSide; y++)
            {
                for (int x = 0; x < DigitSide; x++)
                {
                    byte v = GrayImage.ToByte(digit[y * DigitSide + x]);
                    canvas.FillRect(imgX + x * scale, cellY + y * scale, scale, scale, v, v, v);
                }
            }

            if (captions != null)
            {
                string text = captions[n] ?? string.Empty;
                var color = correct == null ? Neutral : correct[n] ? Correct : Wrong;
                int textX = cellX + (cellW - Font5x7.MeasureWidth(text) * fontScale) / 2;
                canvas.DrawText(textX, cellY + imageSide + fontScale + 1, text, color.R, color.G, color.B, fontScale);
            }
        }

        return canvas;
    }

    /// <summary>Font pixel size used for captions at a given digit scale.</summary>
    public static int CaptionScale(int scale) => Math.Max(1, scale / 3);

    /// <summary>
    /// Draws feature maps laid out [channels, height, width], each normalised to its own min..max as
    /// grayscale, enlarged <paramref name="scale"/> times, in a grid with 2-pixel gaps.
    /// </summary>
    public static RgbCanvas FeatureMaps(ReadOnlySpan<float> maps, int channels, int height, int width, int scale = 4, int columns = 8)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(channels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(scale);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(columns);
        int plane = height * width;
        if ((long)channels * plane != maps.Length)
        {
            throw new ArgumentException($"{maps.Length} values do not form {channels} x {height} x {width} maps", nameof(maps));
        }

        const int gap = 2;
        int cols = Math.Min(columns, channels);
        int rows = (channels + cols - 1) / cols;
        int cellW = width * scale;
        int cellH = height * scale;
        var canvas = new RgbCanvas(gap + cols * (cellW + gap), gap + rows * (cellH + gap));
        canvas.Fill(40, 40, 70);

        for (int c = 0; c < channels; c++)
        {
            ReadOnlySpan<float> map = maps.Slice(c * plane, plane);
            float min = float.PositiveInfinity, max = float.NegativeInfinity;
            foreach (float v in map)
            {
                if (float.IsFinite(v))
                {
                    min = Math.Min(min, v);
                    max = Math.Max(max, v);
                }
            }

            float range = max - min;
            int ox = gap + (c % cols) * (cellW + gap);
            int oy = gap + (c / cols) * (cellH + gap);
            for (int y = 0; y < height; y++)
            {
                for (int x = 0; x < width; x++)
                {
                    float v = map[y * width + x];
                    byte g = range > 0f && float.IsFinite(v) ? GrayImage.ToByte((v - min) / range) : (byte)0;
                    canvas.FillRect(ox + x * scale, oy + y * scale, scale, scale, g, g, g);
                }
            }
        }

        return canvas;
    }

    /// <summary>
    /// Draws convolution weights laid out [outC, inC, kH, kW]: one cell per output channel (its inC kernels
    /// side by side), with a diverging color map symmetric around 0 (blue negative, white zero, red positive).
    /// </summary>
    public static RgbCanvas Filters(ReadOnlySpan<float> weights, int outC, int inC, int kH, int kW, int scale = 8, int columns = 8)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outC);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inC);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(kH);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(kW);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(scale);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(columns);
        int kernel = kH * kW;
        if ((long)outC * inC * kernel != weights.Length)
        {
            throw new ArgumentException($"{weights.Length} weights do not form [{outC}, {inC}, {kH}, {kW}]", nameof(weights));
        }

        float limit = 0f;
        foreach (float v in weights)
        {
            if (float.IsFinite(v))
            {
                limit = Math.Max(limit, Math.Abs(v));
            }
        }

        const int gap = 2;
        int kernelW = kW * scale;
        int cellW = inC * kernelW + (inC - 1);
        int cellH = kH * scale;
        int cols = Math.Min(columns, outC);
        int rows = (outC + cols - 1) / cols;
        var canvas = new RgbCanvas(gap + cols * (cellW + gap), gap + rows * (cellH + gap));
        canvas.Fill(64, 64, 64);

        for (int o = 0; o < outC; o++)
        {
            int ox = gap + (o % cols) * (cellW + gap);
            int oy = gap + (o / cols) * (cellH + gap);
            for (int i = 0; i < inC; i++)
            {
                int kx = ox + i * (kernelW + 1);
                ReadOnlySpan<float> k = weights.Slice((o * inC + i) * kernel, kernel);
                for (int y = 0; y < kH; y++)
                {
                    for (int x = 0; x < kW; x++)
                    {
                        float v = k[y * kW + x];
                        float t = limit > 0f && float.IsFinite(v) ? v / limit : 0f;
                        var (r, g, b) = Diverging(t);
                        canvas.FillRect(kx + x * scale, oy + y * scale, scale, scale, r, g, b);
                    }
                }
            }
        }

        return canvas;
    }

    /// <summary>Draws a grayscale image enlarged <paramref name="scale"/> times.</summary>
    public static RgbCanvas Gray(GrayImage image, int scale = 1)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(scale);
        var canvas = new RgbCanvas(image.Width * scale, image.Height * scale);
        for (int y = 0; y < image.Height; y++)
        {
            for (int x = 0; x < image.Width; x++)
            {
                byte v = GrayImage.ToByte(image.Pixels[y * image.Width + x]);
                canvas.FillRect(x * scale, y * scale, scale, scale, v, v, v);
            }
        }

        return canvas;
    }

    /// <summary>Maps t in [-1, 1] to blue (-1), white (0), red (+1).</summary>
    public static (byte R, byte G, byte B) Diverging(float t)
    {
        t = Math.Clamp(t, -1f, 1f);
        byte fade = (byte)MathF.Round(255f * (1f - Math.Abs(t)));
        return t >= 0f ? ((byte)255, fade, fade) : (fade, fade, (byte)255);
    }
}
