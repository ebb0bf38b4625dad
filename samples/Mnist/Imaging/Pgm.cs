using System;
using System.IO;
using System.Text;

namespace Mnist;

/// <summary>Netpbm graymaps: reads P2 (ASCII) and P5 (binary, 8 or 16 bit), writes 8-bit P5.</summary>
public static class Pgm
{
    /// <summary>Largest accepted width or height.</summary>
    public const int MaxSide = Png.MaxSide;

    /// <summary>Largest accepted pixel count.</summary>
    public const long MaxPixels = Png.MaxPixels;

    public static bool HasSignature(ReadOnlySpan<byte> data) =>
        data.Length >= 3 && data[0] == (byte)'P' && (data[1] == (byte)'2' || data[1] == (byte)'5') && IsSpace(data[2]);

    public static GrayImage Load(string path)
    {
        byte[] data = ImageLoader.ReadFile(path, Png.MaxFileBytes);
        try
        {
            return Decode(data);
        }
        catch (InvalidDataException ex)
        {
            throw new InvalidDataException($"{path}: {ex.Message}", ex);
        }
    }

    public static GrayImage Decode(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        return Decode(ImageLoader.ReadAll(stream, Png.MaxFileBytes));
    }

    public static GrayImage Decode(byte[] data)
    {
        ArgumentNullException.ThrowIfNull(data);
        return Decode(data.AsSpan());
    }

    /// <summary>Decodes a P2 or P5 graymap; 0 is black and maxval white.</summary>
    public static GrayImage Decode(ReadOnlySpan<byte> data)
    {
        if (data.Length < 2 || data[0] != (byte)'P' || (data[1] != (byte)'2' && data[1] != (byte)'5'))
        {
            throw new InvalidDataException("not a PGM file (expected 'P2' or 'P5')");
        }

        bool binary = data[1] == (byte)'5';
        int pos = 2;
        if (pos >= data.Length || !IsSpace(data[pos]))
        {
            throw new InvalidDataException("not a PGM file (no whitespace after the magic number)");
        }

        int width = ReadHeaderNumber(data, ref pos, "width");
        int height = ReadHeaderNumber(data, ref pos, "height");
        int maxval = ReadHeaderNumber(data, ref pos, "maxval");
        if (width <= 0 || height <= 0)
        {
            throw new InvalidDataException($"invalid PGM dimensions {width} x {height}");
        }

        if (width > MaxSide || height > MaxSide || (long)width * height > MaxPixels)
        {
            throw new InvalidDataException($"PGM is {width} x {height}; the limit is {MaxSide} x {MaxSide} and {MaxPixels} pixels");
        }

        if (maxval < 1 || maxval > 65535)
        {
            throw new InvalidDataException($"invalid PGM maxval {maxval} (must be 1..65535)");
        }

        var image = new GrayImage(width, height);
        float[] pixels = image.Pixels;
        float scale = 1f / maxval;
        if (binary)
        {
            // Exactly one whitespace character separates maxval from the raster.
            if (pos >= data.Length || !IsSpace(data[pos]))
            {
                throw new InvalidDataException("truncated PGM (no raster data)");
            }

            pos++;
            int bytesPerSample = maxval > 255 ? 2 : 1;
            long needed = (long)pixels.Length * bytesPerSample;
            if (data.Length - pos < needed)
            {
                throw new InvalidDataException($"truncated PGM raster ({data.Length - pos} of {needed} bytes)");
            }

            ReadOnlySpan<byte> raster = data.Slice(pos, (int)needed);
            for (int i = 0; i < pixels.Length; i++)
            {
                int v = bytesPerSample == 1 ? raster[i] : (raster[2 * i] << 8) | raster[2 * i + 1];
                if (v > maxval)
                {
                    throw new InvalidDataException($"PGM sample {v} at pixel {i} exceeds maxval {maxval}");
                }

                pixels[i] = v * scale;
            }
        }
        else
        {
            for (int i = 0; i < pixels.Length; i++)
            {
                int v = ReadNumber(data, ref pos, allowComments: true);
                if (v < 0)
                {
                    throw new InvalidDataException($"truncated PGM raster ({i} of {pixels.Length} samples)");
                }

                if (v > maxval)
                {
                    throw new InvalidDataException($"PGM sample {v} at pixel {i} exceeds maxval {maxval}");
                }

                pixels[i] = v * scale;
            }
        }

        return image;
    }

    /// <summary>Writes an 8-bit binary (P5) graymap.</summary>
    public static void Save(string path, GrayImage image)
    {
        using var file = new FileStream(path, FileMode.Create, FileAccess.Write);
        Encode(file, image);
    }

    public static void Encode(Stream stream, GrayImage image)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(image);
        stream.Write(Encoding.ASCII.GetBytes($"P5\n{image.Width} {image.Height}\n255\n"));
        stream.Write(image.ToBytes());
    }

    private static int ReadHeaderNumber(ReadOnlySpan<byte> data, ref int pos, string what)
    {
        int v = ReadNumber(data, ref pos, allowComments: true);
        if (v < 0)
        {
            throw new InvalidDataException($"truncated PGM header (missing {what})");
        }

        return v;
    }

    /// <summary>Skips whitespace and comments, then reads a decimal number; -1 at end of data.</summary>
    private static int ReadNumber(ReadOnlySpan<byte> data, ref int pos, bool allowComments)
    {
        while (pos < data.Length)
        {
            byte c = data[pos];
            if (IsSpace(c))
            {
                pos++;
            }
            else if (c == (byte)'#' && allowComments)
            {
                while (pos < data.Length && data[pos] != (byte)'\n' && data[pos] != (byte)'\r')
                {
                    pos++;
                }
            }
            else
            {
                break;
            }
        }

        if (pos >= data.Length)
        {
            return -1;
        }

        long value = 0;
        int start = pos;
        while (pos < data.Length && data[pos] >= (byte)'0' && data[pos] <= (byte)'9')
        {
            value = value * 10 + (data[pos] - '0');
            if (value > int.MaxValue)
            {
                throw new InvalidDataException($"number too large in PGM at offset {start}");
            }

            pos++;
        }

        if (pos == start || (pos < data.Length && !IsSpace(data[pos]) && data[pos] != (byte)'#'))
        {
            throw new InvalidDataException($"unexpected character in PGM at offset {pos}");
        }

        return (int)value;
    }

    private static bool IsSpace(byte c) => c is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r' or 0x0b or 0x0c;
}
