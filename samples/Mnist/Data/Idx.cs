using System;
using System.IO;
using System.IO.Compression;

namespace Mnist;

/// <summary>A set of equally sized 8-bit images read from an IDX file, stored contiguously.</summary>
public sealed record IdxImages
{
    public IdxImages(int count, int rows, int cols, byte[] pixels)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rows);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(cols);
        if ((long)count * rows * cols != pixels.Length)
        {
            throw new ArgumentException($"pixel buffer holds {pixels.Length} bytes, expected {count} x {rows} x {cols}", nameof(pixels));
        }

        Count = count;
        Rows = rows;
        Cols = cols;
        Pixels = pixels;
    }

    public int Count { get; }
    public int Rows { get; }
    public int Cols { get; }

    /// <summary>All images, row-major, one after another (Count x Rows x Cols bytes).</summary>
    public byte[] Pixels { get; }

    public int PixelsPerImage => Rows * Cols;

    public ReadOnlySpan<byte> Image(int i)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(i);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(i, Count);
        return Pixels.AsSpan(i * PixelsPerImage, PixelsPerImage);
    }

    /// <summary>Writes image <paramref name="i"/> as <c>pixel / 255f</c> (the network input) into <paramref name="dest"/>.</summary>
    public void ToFloat(int i, Span<float> dest)
    {
        ReadOnlySpan<byte> src = Image(i);
        if (dest.Length < src.Length)
        {
            throw new ArgumentException($"destination holds {dest.Length} floats, image needs {src.Length}", nameof(dest));
        }

        for (int k = 0; k < src.Length; k++)
        {
            dest[k] = src[k] / 255f;
        }
    }

    public float[] ToFloat(int i)
    {
        var result = new float[PixelsPerImage];
        ToFloat(i, result);
        return result;
    }
}

/// <summary>Reader for the IDX files MNIST ships in (gzipped or plain).</summary>
public static class Idx
{
    public const int ImagesMagic = 0x00000803;
    public const int LabelsMagic = 0x00000801;

    /// <summary>Largest accepted image side.</summary>
    public const int MaxSide = 4096;

    /// <summary>Largest accepted payload (bytes) of one file.</summary>
    public const long MaxPayloadBytes = 1L << 30;

    public static IdxImages ReadImages(string path)
    {
        using Stream stream = Open(path);
        try
        {
            int magic = ReadInt32BigEndian(stream, path, "header");
            CheckMagic(magic, ImagesMagic, path, "images");
            int count = ReadInt32BigEndian(stream, path, "header");
            int rows = ReadInt32BigEndian(stream, path, "header");
            int cols = ReadInt32BigEndian(stream, path, "header");
            if (count < 0 || rows <= 0 || cols <= 0 || rows > MaxSide || cols > MaxSide
                || (long)count * rows * cols > MaxPayloadBytes)
            {
                throw new InvalidDataException($"{path}: implausible IDX image dimensions {count} x {rows} x {cols}");
            }

            byte[] pixels = ReadPayload(stream, count * rows * cols, path);
            return new IdxImages(count, rows, cols, pixels);
        }
        catch (InvalidDataException ex) when (!ex.Message.StartsWith(path, StringComparison.Ordinal))
        {
            throw new InvalidDataException($"{path}: {OneLine(ex.Message)}", ex);
        }
    }

    /// <summary>Reads a label file; every label must be below <paramref name="classes"/>.</summary>
    public static byte[] ReadLabels(string path, int classes = 10)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(classes);
        using Stream stream = Open(path);
        try
        {
            int magic = ReadInt32BigEndian(stream, path, "header");
            CheckMagic(magic, LabelsMagic, path, "labels");
            int count = ReadInt32BigEndian(stream, path, "header");
            if (count < 0 || count > MaxPayloadBytes)
            {
                throw new InvalidDataException($"{path}: implausible IDX label count {count}");
            }

            byte[] labels = ReadPayload(stream, count, path);
            for (int i = 0; i < labels.Length; i++)
            {
                if (labels[i] >= classes)
                {
                    throw new InvalidDataException($"{path}: label {labels[i]} at index {i} is not in 0..{classes - 1}");
                }
            }

            return labels;
        }
        catch (InvalidDataException ex) when (!ex.Message.StartsWith(path, StringComparison.Ordinal))
        {
            throw new InvalidDataException($"{path}: {OneLine(ex.Message)}", ex);
        }
    }

    private static BufferedStream Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"{path}: file not found", path);
        }

        FileStream file = File.OpenRead(path);
        try
        {
            int b0 = file.ReadByte();
            int b1 = file.ReadByte();
            file.Position = 0;
            if (b0 == 0x1f && b1 == 0x8b)
            {
                return new BufferedStream(new GZipStream(file, CompressionMode.Decompress), 1 << 16);
            }

            if (b0 == 0 && b1 == 0)
            {
                return new BufferedStream(file, 1 << 16);
            }

            throw new InvalidDataException($"{path}: neither a gzip file nor an IDX file");
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    private static void CheckMagic(int magic, int expected, string path, string kind)
    {
        if (magic != expected)
        {
            throw new InvalidDataException(
                $"{path}: not an IDX {kind} file (magic 0x{magic:x8}, expected 0x{expected:x8})");
        }
    }

    private static int ReadInt32BigEndian(Stream stream, string path, string what)
    {
        Span<byte> buffer = stackalloc byte[4];
        if (ReadFully(stream, buffer) != 4)
        {
            throw new InvalidDataException($"{path}: truncated IDX {what}");
        }

        return (buffer[0] << 24) | (buffer[1] << 16) | (buffer[2] << 8) | buffer[3];
    }

    private static byte[] ReadPayload(Stream stream, int length, string path)
    {
        var data = new byte[length];
        int got = ReadFully(stream, data);
        if (got != length)
        {
            throw new InvalidDataException($"{path}: truncated IDX data ({got} of {length} bytes)");
        }

        return data;
    }

    private static int ReadFully(Stream stream, Span<byte> buffer)
    {
        int total = 0;
        try
        {
            while (total < buffer.Length)
            {
                int n = stream.Read(buffer[total..]);
                if (n == 0)
                {
                    break;
                }

                total += n;
            }
        }
        catch (InvalidDataException)
        {
            throw;
        }
        catch (IOException ex)
        {
            // Corrupt or truncated gzip streams surface as IOException/InvalidDataException.
            throw new InvalidDataException($"corrupt compressed data ({OneLine(ex.Message)})", ex);
        }

        return total;
    }

    private static string OneLine(string message) => message.Replace('\n', ' ').Replace("\r", "", StringComparison.Ordinal);
}
