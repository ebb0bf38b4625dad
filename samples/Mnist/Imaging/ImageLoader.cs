using System;
using System.IO;

namespace Mnist;

/// <summary>Loads a PNG or PGM image, recognised by its content (not its extension).</summary>
public static class ImageLoader
{
    public static GrayImage Load(string path)
    {
        byte[] data = ReadFile(path, Png.MaxFileBytes);
        try
        {
            if (Png.HasSignature(data))
            {
                return Png.Decode(data);
            }

            if (Pgm.HasSignature(data))
            {
                return Pgm.Decode(data);
            }
        }
        catch (InvalidDataException ex)
        {
            throw new InvalidDataException($"{path}: {ex.Message}", ex);
        }

        throw new InvalidDataException($"{path}: unrecognised image format (expected PNG or PGM P2/P5)");
    }

    /// <summary>Reads a whole file, with a size cap; a missing file raises <see cref="FileNotFoundException"/>.</summary>
    internal static byte[] ReadFile(string path, long maxBytes)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"{path}: file not found", path);
        }

        long length = new FileInfo(path).Length;
        if (length > maxBytes)
        {
            throw new InvalidDataException($"{path}: file is {length} bytes; the limit is {maxBytes}");
        }

        return File.ReadAllBytes(path);
    }

    internal static byte[] ReadAll(Stream stream, long maxBytes)
    {
        using var ms = new MemoryStream();
        var buffer = new byte[81920];
        int n;
        while ((n = stream.Read(buffer, 0, buffer.Length)) > 0)
        {
            if (ms.Length + n > maxBytes)
            {
                throw new InvalidDataException($"image stream is larger than the limit of {maxBytes} bytes");
            }

            ms.Write(buffer, 0, n);
        }

        return ms.ToArray();
    }
}
