using System;

namespace Mnist;

/// <summary>A grayscale image with intensities in [0, 1] (0 = black, 1 = white), row-major.</summary>
public sealed class GrayImage
{
    public GrayImage(int width, int height)
        : this(width, height, new float[checked(width * height)])
    {
    }

    public GrayImage(int width, int height, float[] pixels)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentNullException.ThrowIfNull(pixels);
        if ((long)width * height != pixels.Length)
        {
            throw new ArgumentException($"pixel buffer holds {pixels.Length} values, expected {width} x {height}", nameof(pixels));
        }

        Width = width;
        Height = height;
        Pixels = pixels;
    }

    public int Width { get; }
    public int Height { get; }

    /// <summary>Intensities in [0, 1], row-major (index y * Width + x).</summary>
    public float[] Pixels { get; }

    public float this[int x, int y]
    {
        get => Pixels[Index(x, y)];
        set => Pixels[Index(x, y)] = value;
    }

    /// <summary>Builds an image from 8-bit samples (value / 255).</summary>
    public static GrayImage FromBytes(int width, int height, ReadOnlySpan<byte> pixels)
    {
        if ((long)width * height != pixels.Length)
        {
            throw new ArgumentException($"pixel buffer holds {pixels.Length} bytes, expected {width} x {height}", nameof(pixels));
        }

        var result = new GrayImage(width, height);
        for (int i = 0; i < pixels.Length; i++)
        {
            result.Pixels[i] = pixels[i] / 255f;
        }

        return result;
    }

    /// <summary>Quantizes to 8-bit samples (clamped, rounded).</summary>
    public byte[] ToBytes()
    {
        var result = new byte[Pixels.Length];
        for (int i = 0; i < Pixels.Length; i++)
        {
            result[i] = ToByte(Pixels[i]);
        }

        return result;
    }

    public void SavePng(string path) => Png.Save(path, Width, Height, ToBytes(), PngColor.Gray);

    public void SavePgm(string path) => Pgm.Save(path, this);

    internal static byte ToByte(float v)
    {
        if (!(v > 0f))
        {
            return 0; // also NaN
        }

        return v >= 1f ? (byte)255 : (byte)MathF.Round(v * 255f);
    }

    private int Index(int x, int y)
    {
        if ((uint)x >= (uint)Width || (uint)y >= (uint)Height)
        {
            throw new ArgumentOutOfRangeException(nameof(x), $"({x}, {y}) is outside the {Width} x {Height} image");
        }

        return y * Width + x;
    }
}
