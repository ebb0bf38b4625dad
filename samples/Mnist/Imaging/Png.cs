using System;
using System.Buffers.Binary;
using System.IO;
using StbImageSharp;
using StbImageWriteSharp;
using ReadComponents = StbImageSharp.ColorComponents;
using WriteComponents = StbImageWriteSharp.ColorComponents;

namespace Mnist;

/// <summary>Pixel layout of the 8-bit images <see cref="Png.Encode(int, int, ReadOnlySpan{byte}, PngColor)"/> writes.</summary>
public enum PngColor
{
    /// <summary>One byte per pixel.</summary>
    Gray,

    /// <summary>Three bytes (R, G, B) per pixel.</summary>
    Rgb,
}

/// <summary>
/// PNG files through stb_image (StbImageSharp: every bit depth and color type, all filters, Adam7) and
/// stb_image_write (StbImageWriteSharp). Before decoding, the file's structure is checked here, because stb_image
/// checks neither chunk CRCs nor a missing end: a damaged file is an <see cref="InvalidDataException"/> saying
/// what is wrong, never a picture of garbage. Decoding gives luminance (0.299 R + 0.587 G + 0.114 B) with
/// transparency composited over white, from 8 bits per sample (stb_image keeps the high byte of 16-bit samples).
/// </summary>
public static class Png
{
    /// <summary>Largest accepted width or height.</summary>
    public const int MaxSide = 16384;

    /// <summary>Largest accepted pixel count (width x height).</summary>
    public const long MaxPixels = 64L * 1024 * 1024;

    /// <summary>Largest accepted file size.</summary>
    public const long MaxFileBytes = 512L * 1024 * 1024;

    private static ReadOnlySpan<byte> Signature => [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    public static bool HasSignature(ReadOnlySpan<byte> data) => data.Length >= 8 && data[..8].SequenceEqual(Signature);

    // ---------------------------------------------------------------- encoding

    public static void Save(string path, int width, int height, ReadOnlySpan<byte> pixels, PngColor color)
    {
        byte[] png = Encode(width, height, pixels, color);
        File.WriteAllBytes(path, png);
    }

    public static byte[] Encode(int width, int height, ReadOnlySpan<byte> pixels, PngColor color)
    {
        using var ms = new MemoryStream();
        Encode(ms, width, height, pixels, color);
        return ms.ToArray();
    }

    /// <summary>Writes an 8-bit gray or RGB PNG (stb_image_write's zlib, its best filter per row).</summary>
    public static void Encode(Stream stream, int width, int height, ReadOnlySpan<byte> pixels, PngColor color)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(width, MaxSide);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(height, MaxSide);
        int channels = color == PngColor.Gray ? 1 : 3;
        if ((long)width * height * channels != pixels.Length)
        {
            throw new ArgumentException($"{pixels.Length} bytes do not form a {width} x {height} {color} image", nameof(pixels));
        }

        new ImageWriter().WritePng(
            pixels.ToArray(), width, height, color == PngColor.Gray ? WriteComponents.Grey : WriteComponents.RedGreenBlue, stream);
    }

    // ---------------------------------------------------------------- decoding

    public static GrayImage Load(string path)
    {
        byte[] data = ImageLoader.ReadFile(path, MaxFileBytes);
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
        return Decode(ImageLoader.ReadAll(stream, MaxFileBytes));
    }

    /// <summary>Decodes a PNG to grayscale luminance, alpha composited over white.</summary>
    public static GrayImage Decode(byte[] data)
    {
        ArgumentNullException.ThrowIfNull(data);
        CheckStructure(data);
        ImageResult decoded;
        try
        {
            decoded = ImageResult.FromMemory(data, ReadComponents.RedGreenBlueAlpha);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // stb_image reports a short reason ("bad ctype", "bad huffman code", ...) as an InvalidOperationException.
            throw new InvalidDataException($"corrupt PNG ({OneLine(ex.Message)})", ex);
        }

        var image = new GrayImage(decoded.Width, decoded.Height);
        byte[] rgba = decoded.Data;
        if (rgba.Length != 4L * image.Pixels.Length)
        {
            throw new InvalidDataException($"corrupt PNG (decoded {rgba.Length} bytes for {decoded.Width} x {decoded.Height} pixels)");
        }

        for (int i = 0; i < image.Pixels.Length; i++)
        {
            float luma = (0.299f * rgba[4 * i] + 0.587f * rgba[4 * i + 1] + 0.114f * rgba[4 * i + 2]) / 255f;
            float alpha = rgba[4 * i + 3] / 255f;
            image.Pixels[i] = luma * alpha + (1f - alpha);
        }

        return image;
    }

    /// <summary>
    /// Walks the chunks: signature, every chunk inside the file with a valid type and a matching CRC, IHDR first
    /// with sane dimensions, an IDAT, and IEND last. The pixel data itself is stb_image's to check.
    /// </summary>
    public static void CheckStructure(ReadOnlySpan<byte> data)
    {
        if (!HasSignature(data))
        {
            throw new InvalidDataException(data.Length < 8 ? "truncated PNG signature" : "not a PNG file (bad signature)");
        }

        int pos = 8;
        bool seenIdat = false;
        for (int index = 0; ; index++)
        {
            if (data.Length - pos < 12)
            {
                throw new InvalidDataException($"truncated PNG: missing IEND ({data.Length - pos} bytes after the last whole chunk)");
            }

            uint length = BinaryPrimitives.ReadUInt32BigEndian(data[pos..]);
            ReadOnlySpan<byte> type = data.Slice(pos + 4, 4);
            string name = ChunkName(type);
            if (length > (uint)(data.Length - pos - 12))
            {
                throw new InvalidDataException($"truncated PNG: chunk '{name}' claims {length} bytes, {data.Length - pos - 12} remain");
            }

            foreach (byte c in type)
            {
                if (!char.IsAsciiLetter((char)c))
                {
                    throw new InvalidDataException($"invalid chunk type '{name}' at offset {pos}");
                }
            }

            ReadOnlySpan<byte> body = data.Slice(pos + 8, (int)length);
            uint stored = BinaryPrimitives.ReadUInt32BigEndian(data[(pos + 8 + (int)length)..]);
            uint actual = System.IO.Hashing.Crc32.HashToUInt32(data.Slice(pos + 4, 4 + (int)length));
            if (stored != actual)
            {
                throw new InvalidDataException($"CRC mismatch in chunk '{name}' at offset {pos} (stored 0x{stored:x8}, computed 0x{actual:x8})");
            }

            if (index == 0)
            {
                if (name != "IHDR")
                {
                    throw new InvalidDataException($"expected IHDR as the first chunk, found '{name}'");
                }

                CheckHeader(body);
            }
            else if (name == "IHDR")
            {
                throw new InvalidDataException("duplicate IHDR chunk");
            }

            seenIdat |= name == "IDAT";
            pos += 12 + (int)length;
            if (name == "IEND")
            {
                if (!seenIdat)
                {
                    throw new InvalidDataException("no IDAT chunk (no image data)");
                }

                return; // bytes after IEND are ignored, as every decoder does
            }
        }
    }

    private static void CheckHeader(ReadOnlySpan<byte> ihdr)
    {
        if (ihdr.Length != 13)
        {
            throw new InvalidDataException($"IHDR chunk length {ihdr.Length}, expected 13");
        }

        uint width = BinaryPrimitives.ReadUInt32BigEndian(ihdr);
        uint height = BinaryPrimitives.ReadUInt32BigEndian(ihdr[4..]);
        if (width == 0 || height == 0)
        {
            throw new InvalidDataException($"invalid PNG dimensions {width} x {height}");
        }

        if (width > MaxSide || height > MaxSide)
        {
            throw new InvalidDataException($"PNG is {width} x {height}; the limit is {MaxSide} x {MaxSide}");
        }

        if ((long)width * height > MaxPixels)
        {
            throw new InvalidDataException($"PNG has {(long)width * height} pixels; the limit is {MaxPixels} pixels");
        }

        // stb_image accepts some combinations the PNG specification forbids (e.g. 4-bit RGB): reject them here.
        byte depth = ihdr[8], colorType = ihdr[9];
        bool valid = colorType switch
        {
            0 => depth is 1 or 2 or 4 or 8 or 16,
            3 => depth is 1 or 2 or 4 or 8,
            2 or 4 or 6 => depth is 8 or 16,
            _ => false,
        };
        if (!valid)
        {
            throw new InvalidDataException($"invalid PNG bit depth {depth} for color type {colorType}");
        }

        if (ihdr[10] != 0 || ihdr[11] != 0 || ihdr[12] > 1)
        {
            throw new InvalidDataException($"unknown PNG compression, filter or interlace method ({ihdr[10]}, {ihdr[11]}, {ihdr[12]})");
        }
    }

    private static string ChunkName(ReadOnlySpan<byte> type)
    {
        Span<char> chars = stackalloc char[4];
        for (int i = 0; i < 4; i++)
        {
            chars[i] = type[i] is >= 0x20 and < 0x7f ? (char)type[i] : '?';
        }

        return new string(chars);
    }

    private static string OneLine(string message) => message.ReplaceLineEndings(" ").Trim();
}
