using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace CnnGen;

/// <summary>
/// Reader and writer of the safetensors format: a u64 little-endian header length N, N bytes of UTF-8
/// JSON, then the data buffer. Every malformed input raises <see cref="WeightsException"/>. Work and memory are bounded
/// by the input: the header (at most <see cref="MaxHeaderBytes"/>, at most <see cref="SafeTensorsHeader.MaxTensors"/>
/// entries) is parsed in one pass, and each element is converted to float32 once.
/// </summary>
internal static class SafeTensors
{
    /// <summary>Largest accepted JSON header (the official implementation uses the same limit).</summary>
    internal const long MaxHeaderBytes = 100_000_000;

    /// <summary>Largest accepted data buffer.</summary>
    internal const long MaxDataBytes = 0x7FFFFFC7; // Array.MaxLength

    private const int ChunkSize = 1 << 16;
    private const string MetadataKey = SafeTensorsHeader.MetadataKey;

    public static TensorSet Read(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < 8)
        {
            throw new WeightsException($"safetensors data is {bytes.Length} bytes long; at least 8 are needed for the header length.");
        }

        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        CheckHeaderLength(headerLength, bytes.Length - 8L);
        ReadOnlySpan<byte> header = bytes.Slice(8, (int)headerLength);
        ReadOnlySpan<byte> data = bytes.Slice(8 + (int)headerLength);
        return Build(header, data);
    }

    public static TensorSet Read(Stream stream)
    {
        if (!stream.CanRead)
        {
            throw new ArgumentException("The stream is not readable.", nameof(stream));
        }

        Span<byte> prefix = stackalloc byte[8];
        long remaining = -1;
        if (stream.CanSeek)
        {
            remaining = stream.Length - stream.Position;
            if (remaining < 8)
            {
                throw new WeightsException($"safetensors data is {Math.Max(remaining, 0)} bytes long; at least 8 are needed for the header length.");
            }
        }

        int got = stream.ReadAtLeast(prefix, prefix.Length, throwOnEndOfStream: false);
        if (got < 8)
        {
            throw new WeightsException($"safetensors data is {got} bytes long; at least 8 are needed for the header length.");
        }

        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (remaining >= 0)
        {
            CheckHeaderLength(headerLength, remaining - 8);
            long dataLength = remaining - 8 - (long)headerLength;
            if (dataLength > MaxDataBytes)
            {
                throw new WeightsException($"the safetensors data buffer is {dataLength} bytes; at most {MaxDataBytes} are supported.");
            }

            byte[] header = new byte[(int)headerLength];
            ReadExactly(stream, header, "header");
            byte[] data = new byte[(int)dataLength];
            ReadExactly(stream, data, "data buffer");
            return Build(header, data);
        }
        else
        {
            CheckHeaderLength(headerLength, long.MaxValue);

            // Never trust the header length for an allocation: grow as bytes actually arrive.
            byte[] header = ReadChunked(stream, (long)headerLength, out long headerRead);
            if (headerRead < (long)headerLength)
            {
                throw new WeightsException($"the safetensors header length is {headerLength} bytes but only {headerRead} bytes follow the 8-byte prefix.");
            }

            byte[] data = ReadChunked(stream, MaxDataBytes + 1, out long dataRead);
            if (dataRead > MaxDataBytes)
            {
                throw new WeightsException($"the safetensors data buffer is larger than {MaxDataBytes} bytes.");
            }

            return Build(header.AsSpan(0, (int)headerRead), data.AsSpan(0, (int)dataRead));
        }
    }

    public static void Write(Stream stream, IEnumerable<Tensor> tensors, IReadOnlyDictionary<string, string>? metadata)
    {
        var list = new List<Tensor>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (Tensor tensor in tensors)
        {
            ArgumentNullException.ThrowIfNull(tensor, nameof(tensors));
            if (tensor.Name == MetadataKey)
            {
                throw new ArgumentException($"A tensor cannot be named '{MetadataKey}'.", nameof(tensors));
            }

            if (!names.Add(tensor.Name))
            {
                throw new ArgumentException($"Duplicate tensor name '{tensor.Name}'.", nameof(tensors));
            }

            list.Add(tensor);
        }

        var json = new MemoryStream();
        using (var writer = new Utf8JsonWriter(json))
        {
            writer.WriteStartObject();
            if (metadata is not null && metadata.Count > 0)
            {
                writer.WriteStartObject(MetadataKey);
                foreach (KeyValuePair<string, string> pair in metadata)
                {
                    writer.WriteString(pair.Key, pair.Value);
                }

                writer.WriteEndObject();
            }

            long offset = 0;
            foreach (Tensor tensor in list)
            {
                bool int64 = tensor.DType == TensorDType.I64;
                writer.WriteStartObject(tensor.Name);
                writer.WriteString("dtype", int64 ? "I64" : "F32");
                writer.WriteStartArray("shape");
                foreach (int dim in tensor.Shape)
                {
                    writer.WriteNumberValue(dim);
                }

                writer.WriteEndArray();
                long end = offset + ((int64 ? 8L : 4L) * tensor.Length);
                writer.WriteStartArray("data_offsets");
                writer.WriteNumberValue(offset);
                writer.WriteNumberValue(end);
                writer.WriteEndArray();
                writer.WriteEndObject();
                offset = end;
            }

            writer.WriteEndObject();
        }

        int padding = (int)((8 - (json.Length % 8)) % 8);
        for (int i = 0; i < padding; i++)
        {
            json.WriteByte((byte)' ');
        }

        Span<byte> prefix = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)json.Length);
        stream.Write(prefix);
        json.Position = 0;
        json.CopyTo(stream);

        byte[] chunk = new byte[ChunkSize];
        foreach (Tensor tensor in list)
        {
            ReadOnlySpan<float> values = tensor.Data;
            if (tensor.DType == TensorDType.I64)
            {
                // Integer tensors (batch norm's num_batches_tracked) keep their dtype, so PyTorch's strict load_state_dict takes the file.
                foreach (float value in values)
                {
                    BinaryPrimitives.WriteInt64LittleEndian(chunk, (long)value);
                    stream.Write(chunk, 0, 8);
                }

                continue;
            }

            while (!values.IsEmpty)
            {
                int count = Math.Min(values.Length, ChunkSize / 4);
                for (int i = 0; i < count; i++)
                {
                    BinaryPrimitives.WriteSingleLittleEndian(chunk.AsSpan(4 * i), values[i]);
                }

                stream.Write(chunk, 0, 4 * count);
                values = values.Slice(count);
            }
        }
    }

    internal static void CheckHeaderLength(ulong headerLength, long available)
    {
        if (headerLength > MaxHeaderBytes)
        {
            throw new WeightsException($"the safetensors header length {headerLength} exceeds the {MaxHeaderBytes}-byte limit; this is probably not a safetensors file.");
        }

        if ((long)headerLength > available)
        {
            throw new WeightsException($"the safetensors header length is {headerLength} bytes but only {available} bytes follow the 8-byte prefix.");
        }
    }

    private static void ReadExactly(Stream stream, byte[] buffer, string what)
    {
        int got = stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
        if (got < buffer.Length)
        {
            throw new WeightsException($"the stream ended after {got} of the {buffer.Length} bytes of the safetensors {what}.");
        }
    }

    /// <summary>Reads up to <paramref name="limit"/> bytes, growing the buffer only as data arrives.</summary>
    private static byte[] ReadChunked(Stream stream, long limit, out long read)
    {
        byte[] buffer = new byte[(int)Math.Min(limit, ChunkSize)];
        long total = 0;
        while (total < limit)
        {
            if (total == buffer.Length)
            {
                long grown = Math.Min(Math.Min(limit, MaxDataBytes), Math.Max(2L * buffer.Length, ChunkSize));
                if (grown <= buffer.Length)
                {
                    // limit exceeds what an array can hold: report one byte too many so the caller rejects it.
                    Span<byte> probe = stackalloc byte[1];
                    read = total + (stream.Read(probe) > 0 ? 1 : 0);
                    return buffer;
                }

                Array.Resize(ref buffer, (int)grown);
            }

            int want = (int)Math.Min(buffer.Length - total, limit - total);
            int n = stream.Read(buffer, (int)total, want);
            if (n <= 0)
            {
                break;
            }

            total += n;
        }

        read = total;
        return buffer;
    }

    private static TensorSet Build(ReadOnlySpan<byte> header, ReadOnlySpan<byte> data)
    {
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        List<SafeTensorsHeader.Entry> entries = Entries(header, data.Length, metadata);
        var tensors = new List<Tensor>(entries.Count);
        foreach (SafeTensorsHeader.Entry entry in entries)
        {
            ReadOnlySpan<byte> bytes = data.Slice((int)entry.Begin, (int)(entry.End - entry.Begin));
            float[] values = entry.Elements == 0 ? Array.Empty<float>() : new float[entry.Elements];
            Convert(bytes, entry.DType, values, entry.Name);
            tensors.Add(new Tensor(entry.Name, entry.Shape, values, entry.DType));
        }

        return new TensorSet(tensors, metadata);
    }

    /// <summary>The header's entries, checked against a data buffer of <paramref name="dataLength"/> bytes: in bounds and not overlapping.</summary>
    internal static List<SafeTensorsHeader.Entry> Entries(ReadOnlySpan<byte> header, long dataLength, Dictionary<string, string> metadata)
    {
        List<SafeTensorsHeader.Entry> entries = SafeTensorsHeader.Parse(header, dataLength, metadata);

        // Overlap check: sort by range start; every range must begin at or after the previous one's end.
        int[] order = new int[entries.Count];
        for (int i = 0; i < order.Length; i++)
        {
            order[i] = i;
        }

        Array.Sort(order, (a, b) => entries[a].Begin != entries[b].Begin ? entries[a].Begin.CompareTo(entries[b].Begin) : entries[a].End.CompareTo(entries[b].End));
        for (int i = 1; i < order.Length; i++)
        {
            SafeTensorsHeader.Entry previous = entries[order[i - 1]];
            SafeTensorsHeader.Entry current = entries[order[i]];
            if (current.Begin < previous.End)
            {
                throw new WeightsException(
                    $"tensor '{current.Name}' (bytes {current.Begin}..{current.End}) overlaps tensor '{previous.Name}' (bytes {previous.Begin}..{previous.End}).",
                    current.Name);
            }
        }

        return entries;
    }

    /// <summary>Converts little-endian elements of <paramref name="dtype"/> to float32 (no copy beyond this one).</summary>
    internal static void Convert(ReadOnlySpan<byte> bytes, TensorDType dtype, Span<float> values, string name)
    {
        switch (dtype)
        {
            case TensorDType.F32 when BitConverter.IsLittleEndian:
                bytes.CopyTo(MemoryMarshal.AsBytes(values));
                break;
            case TensorDType.F32: Widen<float>(bytes, values); break;
            case TensorDType.F16: Widen<Half>(bytes, values); break;
            case TensorDType.F64: Widen<double>(bytes, values); break;
            case TensorDType.I8: Widen<sbyte>(bytes, values); break;
            case TensorDType.I16: Widen<short>(bytes, values); break;
            case TensorDType.I32: Widen<int>(bytes, values); break;
            case TensorDType.I64: Widen<long>(bytes, values); break;
            case TensorDType.U8: Widen<byte>(bytes, values); break;
            case TensorDType.U16: Widen<ushort>(bytes, values); break;
            case TensorDType.U32: Widen<uint>(bytes, values); break;
            case TensorDType.U64: Widen<ulong>(bytes, values); break;
            case TensorDType.BF16:
                // bfloat16 is the upper half of a float32 (net9.0 has no BFloat16 type).
                for (int i = 0; i < values.Length; i++)
                {
                    values[i] = BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(bytes.Slice(2 * i)) << 16);
                }

                break;
            case TensorDType.Bool:
                for (int i = 0; i < values.Length; i++)
                {
                    if (bytes[i] > 1)
                    {
                        throw new WeightsException($"tensor '{name}': BOOL element {i} is the byte {bytes[i]}; it must be 0 or 1.", name);
                    }

                    values[i] = bytes[i];
                }

                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(dtype), dtype, null);
        }
    }

    /// <summary>Converts little-endian <typeparamref name="T"/> elements to float32 (rounding to nearest; doubles beyond the range become infinities).</summary>
    private static void Widen<T>(ReadOnlySpan<byte> bytes, Span<float> values)
        where T : unmanaged, INumberBase<T>
    {
        if (!BitConverter.IsLittleEndian)
        {
            byte[] swapped = bytes.ToArray();
            int size = Unsafe.SizeOf<T>();
            for (int i = 0; i < swapped.Length; i += size)
            {
                swapped.AsSpan(i, size).Reverse();
            }

            bytes = swapped;
        }

        ReadOnlySpan<T> source = MemoryMarshal.Cast<byte, T>(bytes);
        for (int i = 0; i < source.Length; i++)
        {
            values[i] = float.CreateTruncating(source[i]);
        }
    }
}
