using System;
using System.IO;

namespace Mnist;

/// <summary>
/// Turns an arbitrary picture of one handwritten digit into an MNIST-style 28 x 28 input:
/// light ink on a dark background, the ink's bounding box scaled so its larger side is 20 pixels,
/// placed so the ink's center of mass is at pixel (14, 14) (column, row indices), values in [0, 1].
/// </summary>
public static class DigitPreprocessor
{
    public const int FrameSize = 28;
    public const int BoxSize = 20;

    /// <summary>Center of mass target, in pixel indices.</summary>
    public const float Center = 14f;

    /// <summary>Below this (after contrast stretching, 0..1) a pixel is background.</summary>
    public const float InkThreshold = 0.2f;

    /// <summary>Smallest difference between background and ink levels that still counts as a digit.</summary>
    public const float MinContrast = 0.15f;

    /// <summary>Returns 784 floats in [0, 1], row-major (network input NCHW [1, 28, 28]).</summary>
    public static float[] ToMnist(GrayImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        int w = image.Width;
        int h = image.Height;
        var px = new float[image.Pixels.Length];
        for (int i = 0; i < px.Length; i++)
        {
            float v = image.Pixels[i];
            px[i] = float.IsNaN(v) ? 0f : Math.Clamp(v, 0f, 1f);
        }

        // (a) Polarity: MNIST is light ink on a dark background.
        int band = Math.Max(1, Math.Min(w, h) / 20);
        var borderHist = new int[256];
        double borderSum = 0;
        long borderCount = 0;
        for (int y = 0; y < h; y++)
        {
            bool edgeRow = y < band || y >= h - band;
            for (int x = 0; x < w; x++)
            {
                if (edgeRow || x < band || x >= w - band)
                {
                    float v = px[y * w + x];
                    borderSum += v;
                    borderCount++;
                    borderHist[Bin(v)]++;
                }
            }
        }

        bool invert = borderSum / borderCount > 0.5;
        if (invert)
        {
            for (int i = 0; i < px.Length; i++)
            {
                px[i] = 1f - px[i];
            }

            Array.Reverse(borderHist);
        }

        // (b) Contrast: background = median border level, ink = 99.9th percentile of the image.
        float background = Percentile(borderHist, borderCount, 0.5);
        var hist = new int[256];
        foreach (float v in px)
        {
            hist[Bin(v)]++;
        }

        float ink = Percentile(hist, px.Length, 0.999);
        if (ink - background < MinContrast)
        {
            float max = 0f;
            foreach (float v in px)
            {
                max = Math.Max(max, v);
            }

            ink = max;
        }

        if (ink - background < MinContrast)
        {
            throw new InvalidDataException("no digit found (the image has no visible strokes)");
        }

        float range = ink - background;
        for (int i = 0; i < px.Length; i++)
        {
            float v = Math.Clamp((px[i] - background) / range, 0f, 1f);
            px[i] = Math.Max(0f, (v - InkThreshold) / (1f - InkThreshold));
        }

        RemoveIsolatedPixels(px, w, h);

        // (c) Bounding box of the ink.
        int x0 = w, y0 = h, x1 = -1, y1 = -1;
        for (int y = 0; y < h; y++)
        {
            for (int x = 0; x < w; x++)
            {
                if (px[y * w + x] > 0f)
                {
                    x0 = Math.Min(x0, x);
                    x1 = Math.Max(x1, x);
                    y0 = Math.Min(y0, y);
                    y1 = Math.Max(y1, y);
                }
            }
        }

        if (x1 < 0)
        {
            throw new InvalidDataException("no digit found (no ink above the threshold)");
        }

        // (d) Scale the box so its larger side is BoxSize pixels.
        int bw = x1 - x0 + 1;
        int bh = y1 - y0 + 1;
        int longer = Math.Max(bw, bh);
        int pw = Math.Clamp((int)MathF.Round(bw * (float)BoxSize / longer), 1, BoxSize);
        int ph = Math.Clamp((int)MathF.Round(bh * (float)BoxSize / longer), 1, BoxSize);
        float[] patch = Resample(px, w, h, x0, y0, bw, bh, pw, ph);

        float peak = 0f;
        foreach (float v in patch)
        {
            peak = Math.Max(peak, v);
        }

        if (peak <= 0f)
        {
            throw new InvalidDataException("no digit found (ink vanished when scaling)");
        }

        // (e) Center of mass to the frame center.
        double mass = 0, mx = 0, my = 0;
        for (int y = 0; y < ph; y++)
        {
            for (int x = 0; x < pw; x++)
            {
                float v = patch[y * pw + x] /= peak;
                mass += v;
                mx += v * x;
                my += v * y;
            }
        }

        int ox = Math.Clamp((int)Math.Round(Center - mx / mass, MidpointRounding.AwayFromZero), 0, FrameSize - pw);
        int oy = Math.Clamp((int)Math.Round(Center - my / mass, MidpointRounding.AwayFromZero), 0, FrameSize - ph);

        // (f) Output.
        var result = new float[FrameSize * FrameSize];
        for (int y = 0; y < ph; y++)
        {
            for (int x = 0; x < pw; x++)
            {
                result[(oy + y) * FrameSize + ox + x] = Math.Clamp(patch[y * pw + x], 0f, 1f);
            }
        }

        return result;
    }

    /// <summary>Wraps a 784-value MNIST vector (light ink on dark) as a 28 x 28 image.</summary>
    public static GrayImage FromMnist(ReadOnlySpan<float> pixels784)
    {
        if (pixels784.Length != FrameSize * FrameSize)
        {
            throw new ArgumentException($"expected {FrameSize * FrameSize} values, got {pixels784.Length}", nameof(pixels784));
        }

        return new GrayImage(FrameSize, FrameSize, pixels784.ToArray());
    }

    private static int Bin(float v) => Math.Clamp((int)(v * 255f + 0.5f), 0, 255);

    private static float Percentile(int[] hist, long count, double q)
    {
        long target = (long)Math.Ceiling(q * count);
        long seen = 0;
        for (int i = 0; i < hist.Length; i++)
        {
            seen += hist[i];
            if (seen >= target && seen > 0)
            {
                return i / 255f;
            }
        }

        return 1f;
    }

    /// <summary>Clears ink pixels with no inked 8-neighbour (sensor noise, dust).</summary>
    private static void RemoveIsolatedPixels(float[] px, int w, int h)
    {
        if (w < 3 || h < 3)
        {
            return;
        }

        var clear = new System.Collections.Generic.List<int>();
        for (int y = 0; y < h; y++)
        {
            for (int x = 0; x < w; x++)
            {
                if (px[y * w + x] <= 0f)
                {
                    continue;
                }

                bool neighbour = false;
                for (int dy = -1; dy <= 1 && !neighbour; dy++)
                {
                    int yy = y + dy;
                    if (yy < 0 || yy >= h)
                    {
                        continue;
                    }

                    for (int dx = -1; dx <= 1; dx++)
                    {
                        int xx = x + dx;
                        if ((dx != 0 || dy != 0) && xx >= 0 && xx < w && px[yy * w + xx] > 0f)
                        {
                            neighbour = true;
                            break;
                        }
                    }
                }

                if (!neighbour)
                {
                    clear.Add(y * w + x);
                }
            }
        }

        foreach (int i in clear)
        {
            px[i] = 0f;
        }
    }

    /// <summary>
    /// Resamples the box (x0, y0, bw, bh) to pw x ph with a separable tent filter whose width follows
    /// the scale factor: area-averaging when shrinking, bilinear when enlarging.
    /// </summary>
    private static float[] Resample(float[] src, int w, int h, int x0, int y0, int bw, int bh, int pw, int ph)
    {
        Taps[] cols = MakeTaps(x0, bw, pw, w);
        Taps[] rows = MakeTaps(y0, bh, ph, h);
        int rowMin = h, rowMax = -1;
        foreach (Taps t in rows)
        {
            rowMin = Math.Min(rowMin, t.Start);
            rowMax = Math.Max(rowMax, t.Start + t.Weights.Length - 1);
        }

        int tmpRows = rowMax - rowMin + 1;
        var tmp = new float[tmpRows * pw];
        for (int r = 0; r < tmpRows; r++)
        {
            int srcRow = (rowMin + r) * w;
            for (int j = 0; j < pw; j++)
            {
                Taps t = cols[j];
                float acc = 0f;
                for (int k = 0; k < t.Weights.Length; k++)
                {
                    acc += t.Weights[k] * src[srcRow + t.Start + k];
                }

                tmp[r * pw + j] = acc;
            }
        }

        var dst = new float[pw * ph];
        for (int i = 0; i < ph; i++)
        {
            Taps t = rows[i];
            for (int j = 0; j < pw; j++)
            {
                float acc = 0f;
                for (int k = 0; k < t.Weights.Length; k++)
                {
                    acc += t.Weights[k] * tmp[(t.Start - rowMin + k) * pw + j];
                }

                dst[i * pw + j] = acc;
            }
        }

        return dst;
    }

    private readonly record struct Taps(int Start, float[] Weights);

    private static Taps[] MakeTaps(int origin, int srcLength, int dstLength, int limit)
    {
        double ratio = (double)srcLength / dstLength;
        double radius = Math.Max(1.0, ratio);
        var taps = new Taps[dstLength];
        for (int j = 0; j < dstLength; j++)
        {
            double c = origin + (j + 0.5) * ratio - 0.5;
            int first = (int)Math.Floor(c - radius) + 1;
            int last = (int)Math.Ceiling(c + radius) - 1;
            double total = 0;
            for (int i = first; i <= last; i++)
            {
                total += Math.Max(0.0, 1.0 - Math.Abs(i - c) / radius);
            }

            // Taps outside the image read as background (0): drop them but keep the normalization.
            int lo = Math.Max(first, 0);
            int hi = Math.Min(last, limit - 1);
            var weights = new float[Math.Max(0, hi - lo + 1)];
            for (int i = lo; i <= hi; i++)
            {
                weights[i - lo] = (float)(Math.Max(0.0, 1.0 - Math.Abs(i - c) / radius) / total);
            }

            taps[j] = new Taps(lo, weights);
        }

        return taps;
    }
}
