using System;
using System.Buffers.Binary;
using System.IO;
using System.IO.Compression;
using System.Text;

namespace Mnist;

/// <summary>Pixel layout of the 8-bit images <see cref="Png.Encode"/> writes.</summary>
public enum PngColor
{
    /// <summary>One byte per pixel.</summary>
    Gray,

    /// <summary>Three bytes (R, G, B) per pixel.</summary>
    Rgb,
}

/// <summary>CRC-32 (ISO-HDLC, polynomial 0xEDB88320) as PNG and gzip use it.</summary>
public static class Crc32
{
    private static readonly uint[] Table = MakeTable();

    public static uint Compute(ReadOnlySpan<byte> data) => Append(0, data);

    /// <summary>Continues a CRC: <c>Append(Compute(a), b) == Compute(a + b)</c>.</summary>
    public static uint Append(uint crc, ReadOnlySpan<byte> data)
    {
        uint c = ~crc;
        foreach (byte b in data)
        {
            c = Table[(c ^ b) & 0xff] ^ (c >> 8);
        }

        return ~c;
    }

    private static uint[] MakeTable()
    {
        var table = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            }

            table[n] = c;
        }

        return table;
    }
}

/// <summary>
/// Minimal PNG codec: writes 8-bit gray/RGB, reads every standard PNG (bit depths 1-16, color types
/// 0/2/3/4/6, all filters, Adam7) into a <see cref="GrayImage"/>. Malformed input raises
/// <see cref="InvalidDataException"/>.
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
        using var file = new FileStream(path, FileMode.Create, FileAccess.Write);
        Encode(file, width, height, pixels, color);
    }

    public static byte[] Encode(int width, int height, ReadOnlySpan<byte> pixels, PngColor color)
    {
        using var ms = new MemoryStream();
        Encode(ms, width, height, pixels, color);
        return ms.ToArray();
    }

    /// <summary>Writes an 8-bit grayscale or RGB PNG (filter type 0, not interlaced).</summary>
    public static void Encode(Stream stream, int width, int height, ReadOnlySpan<byte> pixels, PngColor color)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(width, MaxSide);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(height, MaxSide);
        int channels = color switch
        {
            PngColor.Gray => 1,
            PngColor.Rgb => 3,
            _ => throw new ArgumentOutOfRangeException(nameof(color)),
        };
        int stride = width * channels;
        if ((long)stride * height != pixels.Length)
        {
            throw new ArgumentException($"pixel buffer holds {pixels.Length} bytes, expected {width} x {height} x {channels}", nameof(pixels));
        }

        Span<byte> ihdr = stackalloc byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr[4..], height);
        ihdr[8] = 8; // bit depth
        ihdr[9] = color == PngColor.Gray ? (byte)0 : (byte)2;
        ihdr[10] = 0; // compression
        ihdr[11] = 0; // filter method
        ihdr[12] = 0; // no interlace

        byte[] compressed;
        using (var ms = new MemoryStream())
        {
            using (var z = new ZLibStream(ms, CompressionLevel.Optimal, leaveOpen: true))
            {
                for (int y = 0; y < height; y++)
                {
                    z.WriteByte(0); // filter: None
                    z.Write(pixels.Slice(y * stride, stride));
                }
            }

            compressed = ms.ToArray();
        }

        stream.Write(Signature);
        WriteChunk(stream, "IHDR"u8, ihdr);
        WriteChunk(stream, "IDAT"u8, compressed);
        WriteChunk(stream, "IEND"u8, ReadOnlySpan<byte>.Empty);
    }

    private static void WriteChunk(Stream stream, ReadOnlySpan<byte> type, ReadOnlySpan<byte> data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, data.Length);
        stream.Write(word);
        stream.Write(type);
        stream.Write(data);
        BinaryPrimitives.WriteUInt32BigEndian(word, Crc32.Append(Crc32.Compute(type), data));
        stream.Write(word);
    }

    // ---------------------------------------------------------------- decoding

    /// <summary>Reads a PNG file; errors name the file.</summary>
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

    public static GrayImage Decode(byte[] data)
    {
        ArgumentNullException.ThrowIfNull(data);
        return Decode(data.AsSpan());
    }

    /// <summary>
    /// Decodes a PNG to grayscale luminance (0.299 R + 0.587 G + 0.114 B), alpha composited over white.
    /// </summary>
    public static GrayImage Decode(ReadOnlySpan<byte> data)
    {
        if (!HasSignature(data))
        {
            throw new InvalidDataException("not a PNG file (bad signature)");
        }

        Header? header = null;
        byte[]? palette = null; // RGB triples
        byte[]? paletteAlpha = null;
        ReadOnlySpan<byte> trns = default;
        bool haveTrns = false;
        using var idat = new MemoryStream();
        bool seenIdat = false;
        bool seenIend = false;
        int pos = 8;

        while (!seenIend)
        {
            if (data.Length - pos < 12)
            {
                throw new InvalidDataException(pos == data.Length
                    ? "truncated PNG (missing IEND chunk)"
                    : $"truncated PNG (incomplete chunk at offset {pos})");
            }

            uint length = BinaryPrimitives.ReadUInt32BigEndian(data[pos..]);
            ReadOnlySpan<byte> type = data.Slice(pos + 4, 4);
            string typeName = ChunkName(type);
            if (length > int.MaxValue || length > (uint)(data.Length - pos - 12))
            {
                throw new InvalidDataException(
                    $"truncated PNG (chunk '{typeName}' at offset {pos} declares {length} bytes, {Math.Max(0, data.Length - pos - 12)} remain)");
            }

            foreach (byte c in type)
            {
                if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')))
                {
                    throw new InvalidDataException($"invalid chunk type '{typeName}' at offset {pos}");
                }
            }

            ReadOnlySpan<byte> body = data.Slice(pos + 8, (int)length);
            uint storedCrc = BinaryPrimitives.ReadUInt32BigEndian(data[(pos + 8 + (int)length)..]);
            uint actualCrc = Crc32.Compute(data.Slice(pos + 4, 4 + (int)length));
            if (storedCrc != actualCrc)
            {
                throw new InvalidDataException($"CRC mismatch in chunk '{typeName}' at offset {pos} (file corrupt)");
            }

            bool first = pos == 8;
            pos += 12 + (int)length;

            if (first && typeName != "IHDR")
            {
                throw new InvalidDataException($"first chunk is '{typeName}', expected IHDR");
            }

            switch (typeName)
            {
                case "IHDR":
                    if (!first)
                    {
                        throw new InvalidDataException("duplicate IHDR chunk");
                    }

                    header = ParseHeader(body);
                    break;
                case "PLTE":
                    if (body.Length == 0 || body.Length % 3 != 0 || body.Length > 256 * 3)
                    {
                        throw new InvalidDataException($"invalid PLTE chunk length {body.Length}");
                    }

                    if (palette != null)
                    {
                        throw new InvalidDataException("duplicate PLTE chunk");
                    }

                    palette = body.ToArray();
                    break;
                case "tRNS":
                    trns = body;
                    haveTrns = true;
                    break;
                case "IDAT":
                    idat.Write(body);
                    seenIdat = true;
                    break;
                case "IEND":
                    seenIend = true;
                    break;
                default:
                    if ((type[0] & 0x20) == 0)
                    {
                        throw new InvalidDataException($"unsupported critical chunk '{typeName}'");
                    }

                    break; // ancillary chunk: ignored
            }
        }

        Header h = header!.Value;
        if (!seenIdat)
        {
            throw new InvalidDataException("PNG has no image data (no IDAT chunk)");
        }

        if (h.ColorType == 3)
        {
            if (palette == null)
            {
                throw new InvalidDataException("palette image without PLTE chunk");
            }

            if (haveTrns)
            {
                if (trns.Length > palette.Length / 3)
                {
                    throw new InvalidDataException("tRNS chunk has more entries than the palette");
                }

                paletteAlpha = trns.ToArray();
            }
        }

        var converter = new PixelConverter(h, palette, paletteAlpha, haveTrns ? trns : default);

        // Inflate.
        long expected = 0;
        foreach (Pass pass in Passes(h))
        {
            expected += (long)pass.Height * (1 + pass.Stride);
        }

        if (expected > int.MaxValue - 64)
        {
            throw new InvalidDataException($"PNG of {h.Width} x {h.Height} is too large to decode");
        }

        var raw = new byte[expected];
        idat.Position = 0;
        int got = 0;
        try
        {
            using var z = new ZLibStream(idat, CompressionMode.Decompress, leaveOpen: true);
            while (got < raw.Length)
            {
                int n = z.Read(raw, got, raw.Length - got);
                if (n == 0)
                {
                    break;
                }

                got += n;
            }
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException)
        {
            throw new InvalidDataException($"corrupt compressed image data ({FirstLine(ex.Message)})", ex);
        }

        if (got < raw.Length)
        {
            throw new InvalidDataException($"image data is truncated ({got} of {raw.Length} bytes after decompression)");
        }

        // Unfilter and convert, pass by pass.
        var result = new GrayImage(h.Width, h.Height);
        float[] outPixels = result.Pixels;
        var rowGray = new float[h.Width];
        int offset = 0;
        foreach (Pass pass in Passes(h))
        {
            if (pass.Width == 0 || pass.Height == 0)
            {
                continue;
            }

            Span<byte> block = raw.AsSpan(offset, pass.Height * (1 + pass.Stride));
            offset += block.Length;
            Unfilter(block, pass.Height, pass.Stride, h.BytesPerPixel);
            for (int py = 0; py < pass.Height; py++)
            {
                ReadOnlySpan<byte> row = block.Slice(py * (1 + pass.Stride) + 1, pass.Stride);
                converter.Convert(row, pass.Width, rowGray);
                int y = pass.Y0 + py * pass.DY;
                int dst = y * h.Width + pass.X0;
                for (int px = 0; px < pass.Width; px++, dst += pass.DX)
                {
                    outPixels[dst] = rowGray[px];
                }
            }
        }

        return result;
    }

    private static string FirstLine(string s)
    {
        int nl = s.IndexOfAny(['\r', '\n']);
        return nl < 0 ? s : s[..nl];
    }

    private static string ChunkName(ReadOnlySpan<byte> type)
    {
        var sb = new StringBuilder(4);
        foreach (byte b in type)
        {
            sb.Append(b >= 0x20 && b < 0x7f ? (char)b : '?');
        }

        return sb.ToString();
    }

    private readonly record struct Header(int Width, int Height, int BitDepth, int ColorType, bool Interlaced)
    {
        public int Channels => ColorType switch
        {
            0 => 1,
            2 => 3,
            3 => 1,
            4 => 2,
            _ => 4,
        };

        public int BitsPerPixel => Channels * BitDepth;

        public int BytesPerPixel => Math.Max(1, BitsPerPixel / 8);
    }

    private static Header ParseHeader(ReadOnlySpan<byte> body)
    {
        if (body.Length != 13)
        {
            throw new InvalidDataException($"invalid IHDR chunk length {body.Length}");
        }

        uint width = BinaryPrimitives.ReadUInt32BigEndian(body);
        uint height = BinaryPrimitives.ReadUInt32BigEndian(body[4..]);
        int bitDepth = body[8];
        int colorType = body[9];
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
            throw new InvalidDataException($"PNG is {width} x {height} = {(long)width * height} pixels; the limit is {MaxPixels}");
        }

        bool depthOk = colorType switch
        {
            0 => bitDepth is 1 or 2 or 4 or 8 or 16,
            3 => bitDepth is 1 or 2 or 4 or 8,
            2 or 4 or 6 => bitDepth is 8 or 16,
            _ => throw new InvalidDataException($"invalid PNG color type {colorType}"),
        };
        if (!depthOk)
        {
            throw new InvalidDataException($"invalid bit depth {bitDepth} for PNG color type {colorType}");
        }

        if (body[10] != 0)
        {
            throw new InvalidDataException($"unknown PNG compression method {body[10]}");
        }

        if (body[11] != 0)
        {
            throw new InvalidDataException($"unknown PNG filter method {body[11]}");
        }

        if (body[12] > 1)
        {
            throw new InvalidDataException($"unknown PNG interlace method {body[12]}");
        }

        return new Header((int)width, (int)height, bitDepth, colorType, body[12] == 1);
    }

    private readonly record struct Pass(int X0, int Y0, int DX, int DY, int Width, int Height, int Stride);

    private static Pass[] Passes(Header h)
    {
        if (!h.Interlaced)
        {
            return [MakePass(h, 0, 0, 1, 1)];
        }

        return
        [
            MakePass(h, 0, 0, 8, 8),
            MakePass(h, 4, 0, 8, 8),
            MakePass(h, 0, 4, 4, 8),
            MakePass(h, 2, 0, 4, 4),
            MakePass(h, 0, 2, 2, 4),
            MakePass(h, 1, 0, 2, 2),
            MakePass(h, 0, 1, 1, 2),
        ];
    }

    private static Pass MakePass(Header h, int x0, int y0, int dx, int dy)
    {
        int w = h.Width > x0 ? (h.Width - x0 + dx - 1) / dx : 0;
        int ht = h.Height > y0 ? (h.Height - y0 + dy - 1) / dy : 0;
        if (w == 0 || ht == 0)
        {
            return new Pass(x0, y0, dx, dy, 0, 0, 0); // empty pass: no bytes at all, not even filter bytes
        }

        int stride = (int)(((long)w * h.BitsPerPixel + 7) / 8);
        return new Pass(x0, y0, dx, dy, w, ht, stride);
    }

    /// <summary>Reverses the per-row filters in place; each row is a filter byte then <paramref name="stride"/> bytes.</summary>
    private static void Unfilter(Span<byte> block, int rows, int stride, int bpp)
    {
        for (int r = 0; r < rows; r++)
        {
            int start = r * (1 + stride);
            int filter = block[start];
            Span<byte> cur = block.Slice(start + 1, stride);
            ReadOnlySpan<byte> prev = r == 0 ? ReadOnlySpan<byte>.Empty : block.Slice(start - stride, stride);
            switch (filter)
            {
                case 0:
                    break;
                case 1: // Sub
                    for (int i = bpp; i < stride; i++)
                    {
                        cur[i] = (byte)(cur[i] + cur[i - bpp]);
                    }

                    break;
                case 2: // Up
                    if (r > 0)
                    {
                        for (int i = 0; i < stride; i++)
                        {
                            cur[i] = (byte)(cur[i] + prev[i]);
                        }
                    }

                    break;
                case 3: // Average
                    for (int i = 0; i < stride; i++)
                    {
                        int a = i >= bpp ? cur[i - bpp] : 0;
                        int b = r > 0 ? prev[i] : 0;
                        cur[i] = (byte)(cur[i] + ((a + b) >> 1));
                    }

                    break;
                case 4: // Paeth
                    for (int i = 0; i < stride; i++)
                    {
                        int a = i >= bpp ? cur[i - bpp] : 0;
                        int b = r > 0 ? prev[i] : 0;
                        int c = i >= bpp && r > 0 ? prev[i - bpp] : 0;
                        cur[i] = (byte)(cur[i] + Paeth(a, b, c));
                    }

                    break;
                default:
                    throw new InvalidDataException($"invalid PNG filter type {filter} in row {r}");
            }
        }
    }

    private static int Paeth(int a, int b, int c)
    {
        int p = a + b - c;
        int pa = Math.Abs(p - a);
        int pb = Math.Abs(p - b);
        int pc = Math.Abs(p - c);
        if (pa <= pb && pa <= pc)
        {
            return a;
        }

        return pb <= pc ? b : c;
    }

    /// <summary>Turns one unfiltered row into gray values composited over white.</summary>
    private sealed class PixelConverter
    {
        private const float WR = 0.299f;
        private const float WG = 0.587f;
        private const float WB = 0.114f;

        private readonly Header _h;
        private readonly float[]? _lookup; // gray depth <= 8 or palette: sample -> composited gray
        private readonly int _lookupCount;
        private readonly int _trnsGray = -1;
        private readonly int _trnsR = -1;
        private readonly int _trnsG = -1;
        private readonly int _trnsB = -1;
        private readonly float _max;

        public PixelConverter(Header h, byte[]? palette, byte[]? paletteAlpha, ReadOnlySpan<byte> trns)
        {
            _h = h;
            _max = (1 << h.BitDepth) - 1;
            if (h.ColorType == 0 && trns.Length >= 2)
            {
                _trnsGray = BinaryPrimitives.ReadUInt16BigEndian(trns);
            }
            else if (h.ColorType == 2 && trns.Length >= 6)
            {
                _trnsR = BinaryPrimitives.ReadUInt16BigEndian(trns);
                _trnsG = BinaryPrimitives.ReadUInt16BigEndian(trns[2..]);
                _trnsB = BinaryPrimitives.ReadUInt16BigEndian(trns[4..]);
            }

            if (h.ColorType == 3)
            {
                _lookupCount = palette!.Length / 3;
                _lookup = new float[_lookupCount];
                for (int i = 0; i < _lookupCount; i++)
                {
                    float lum = (WR * palette[3 * i] + WG * palette[3 * i + 1] + WB * palette[3 * i + 2]) / 255f;
                    float a = paletteAlpha != null && i < paletteAlpha.Length ? paletteAlpha[i] / 255f : 1f;
                    _lookup[i] = Over(lum, a);
                }
            }
            else if (h.ColorType == 0 && h.BitDepth <= 8)
            {
                _lookupCount = 1 << h.BitDepth;
                _lookup = new float[_lookupCount];
                for (int i = 0; i < _lookupCount; i++)
                {
                    _lookup[i] = i == _trnsGray ? 1f : i / _max;
                }
            }
        }

        public void Convert(ReadOnlySpan<byte> row, int width, Span<float> dst)
        {
            int depth = _h.BitDepth;
            switch (_h.ColorType)
            {
                case 0 when depth <= 8:
                case 3:
                    for (int x = 0; x < width; x++)
                    {
                        int s = Sample(row, x, depth);
                        if (s >= _lookupCount)
                        {
                            throw new InvalidDataException($"palette index {s} is out of range (palette has {_lookupCount} entries)");
                        }

                        dst[x] = _lookup![s];
                    }

                    break;
                case 0:
                    for (int x = 0; x < width; x++)
                    {
                        int s = Sample(row, x, 16);
                        dst[x] = s == _trnsGray ? 1f : s / _max;
                    }

                    break;
                case 2:
                    for (int x = 0; x < width; x++)
                    {
                        int r = Sample(row, 3 * x, depth);
                        int g = Sample(row, 3 * x + 1, depth);
                        int b = Sample(row, 3 * x + 2, depth);
                        dst[x] = r == _trnsR && g == _trnsG && b == _trnsB
                            ? 1f
                            : (WR * r + WG * g + WB * b) / _max;
                    }

                    break;
                case 4:
                    for (int x = 0; x < width; x++)
                    {
                        float v = Sample(row, 2 * x, depth) / _max;
                        float a = Sample(row, 2 * x + 1, depth) / _max;
                        dst[x] = Over(v, a);
                    }

                    break;
                default: // 6
                    for (int x = 0; x < width; x++)
                    {
                        int r = Sample(row, 4 * x, depth);
                        int g = Sample(row, 4 * x + 1, depth);
                        int b = Sample(row, 4 * x + 2, depth);
                        float a = Sample(row, 4 * x + 3, depth) / _max;
                        dst[x] = Over((WR * r + WG * g + WB * b) / _max, a);
                    }

                    break;
            }
        }

        private static float Over(float v, float a) => Math.Clamp(a * v + (1f - a), 0f, 1f);

        private static int Sample(ReadOnlySpan<byte> row, int index, int depth)
        {
            switch (depth)
            {
                case 8:
                    return row[index];
                case 16:
                    return (row[2 * index] << 8) | row[2 * index + 1];
                default:
                    int bit = index * depth;
                    int shift = 8 - depth - (bit & 7);
                    return (row[bit >> 3] >> shift) & ((1 << depth) - 1);
            }
        }
    }
}
