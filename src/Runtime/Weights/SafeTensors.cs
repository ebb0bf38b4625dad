using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace CnnGen;

/// <summary>
/// Reader and writer of the safetensors format: a u64 little-endian header length N, N bytes of UTF-8
/// JSON, then the data buffer. Every malformed input raises <see cref="WeightsException"/>.
/// </summary>
internal static class SafeTensors
{
    /// <summary>Largest accepted JSON header (the official implementation uses the same limit).</summary>
    internal const long MaxHeaderBytes = 100_000_000;

    /// <summary>Largest accepted data buffer.</summary>
    internal const long MaxDataBytes = 0x7FFFFFC7; // Array.MaxLength

    private const int ChunkSize = 1 << 16;
    private const string MetadataKey = "__metadata__";

    private readonly struct Entry
    {
        public Entry(string name, string dtype, int elementSize, int[] shape, long begin, long end)
        {
            Name = name;
            DType = dtype;
            ElementSize = elementSize;
            Shape = shape;
            Begin = begin;
            End = end;
        }

        public string Name { get; }

        public string DType { get; }

        public int ElementSize { get; }

        public int[] Shape { get; }

        public long Begin { get; }

        public long End { get; }
    }

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

        int got = ReadAtMost(stream, prefix);
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
                writer.WriteStartObject(tensor.Name);
                writer.WriteString("dtype", "F32");
                writer.WriteStartArray("shape");
                foreach (int dim in tensor.Shape)
                {
                    writer.WriteNumberValue(dim);
                }

                writer.WriteEndArray();
                long end = offset + (4L * tensor.Length);
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

    private static void CheckHeaderLength(ulong headerLength, long available)
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

    private static int ReadAtMost(Stream stream, Span<byte> buffer)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int n = stream.Read(buffer.Slice(total));
            if (n <= 0)
            {
                break;
            }

            total += n;
        }

        return total;
    }

    private static void ReadExactly(Stream stream, byte[] buffer, string what)
    {
        int got = ReadAtMost(stream, buffer);
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
        List<Entry> entries = ParseHeader(header, data.Length, metadata);

        // Overlap check: sort by range start; every range must begin at or after the previous one's end.
        var sorted = new List<Entry>(entries);
        sorted.Sort((a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End.CompareTo(b.End));
        for (int i = 1; i < sorted.Count; i++)
        {
            Entry previous = sorted[i - 1];
            Entry current = sorted[i];
            if (current.Begin < previous.End)
            {
                throw new WeightsException(
                    $"tensor '{current.Name}' (bytes {current.Begin}..{current.End}) overlaps tensor '{previous.Name}' (bytes {previous.Begin}..{previous.End}).",
                    current.Name);
            }
        }

        var tensors = new List<Tensor>(entries.Count);
        foreach (Entry entry in entries)
        {
            ReadOnlySpan<byte> bytes = data.Slice((int)entry.Begin, (int)(entry.End - entry.Begin));
            float[] values = Convert(bytes, entry.DType, entry.ElementSize);
            tensors.Add(new Tensor(entry.Name, entry.Shape, values));
        }

        return new TensorSet(tensors, metadata);
    }

    private static float[] Convert(ReadOnlySpan<byte> bytes, string dtype, int elementSize)
    {
        int count = bytes.Length / elementSize;
        float[] values = new float[count];
        switch (dtype)
        {
            case "F32":
                if (BitConverter.IsLittleEndian)
                {
                    bytes.CopyTo(MemoryMarshal.AsBytes(values.AsSpan()));
                }
                else
                {
                    for (int i = 0; i < count; i++)
                    {
                        values[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.Slice(4 * i));
                    }
                }

                break;
            case "F16":
                for (int i = 0; i < count; i++)
                {
                    values[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(bytes.Slice(2 * i));
                }

                break;
            case "BF16":
                for (int i = 0; i < count; i++)
                {
                    int bits = BinaryPrimitives.ReadUInt16LittleEndian(bytes.Slice(2 * i)) << 16;
                    values[i] = BitConverter.Int32BitsToSingle(bits);
                }

                break;
            case "F64":
                for (int i = 0; i < count; i++)
                {
                    values[i] = (float)BinaryPrimitives.ReadDoubleLittleEndian(bytes.Slice(8 * i));
                }

                break;
            default:
                throw new WeightsException($"unsupported dtype '{dtype}'.");
        }

        return values;
    }

    private static int ElementSize(string dtype) => dtype switch
    {
        "F32" => 4,
        "F16" => 2,
        "BF16" => 2,
        "F64" => 8,
        _ => 0,
    };

    private static readonly HashSet<string> KnownUnsupported = new(StringComparer.Ordinal)
    {
        "BOOL", "U8", "I8", "I16", "U16", "I32", "U32", "I64", "U64", "F8_E5M2", "F8_E4M3", "F8_E8M0", "F4", "F6_E2M3", "F6_E3M2", "C64",
    };

    private static List<Entry> ParseHeader(ReadOnlySpan<byte> header, long dataLength, Dictionary<string, string> metadata)
    {
        var entries = new List<Entry>();
        try
        {
            var reader = new Utf8JsonReader(header, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow, MaxDepth = 16 });
            using JsonDocument document = JsonDocument.ParseValue(ref reader);
            if (reader.Read())
            {
                throw new WeightsException("the safetensors header has content after the JSON object.");
            }

            JsonElement root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new WeightsException($"the safetensors header must be a JSON object, not {Describe(root.ValueKind)}.");
            }

            var names = new HashSet<string>(StringComparer.Ordinal);
            bool sawMetadata = false;
            foreach (JsonProperty property in root.EnumerateObject())
            {
                string name = property.Name;
                if (name == MetadataKey)
                {
                    if (sawMetadata)
                    {
                        throw new WeightsException($"the safetensors header has '{MetadataKey}' twice.");
                    }

                    sawMetadata = true;
                    ParseMetadata(property.Value, metadata);
                    continue;
                }

                if (!names.Add(name))
                {
                    throw new WeightsException($"tensor '{name}' appears twice in the safetensors header.", name);
                }

                entries.Add(ParseEntry(name, property.Value, dataLength));
            }
        }
        catch (JsonException e)
        {
            throw new WeightsException($"the safetensors header is not valid JSON: {e.Message}", e);
        }
        catch (InvalidOperationException e)
        {
            throw new WeightsException($"the safetensors header is not valid UTF-8 JSON: {e.Message}", e);
        }
        catch (ArgumentException e)
        {
            throw new WeightsException($"the safetensors header is invalid: {e.Message}", e);
        }

        return entries;
    }

    private static void ParseMetadata(JsonElement value, Dictionary<string, string> metadata)
    {
        if (value.ValueKind == JsonValueKind.Null)
        {
            return;
        }

        if (value.ValueKind != JsonValueKind.Object)
        {
            throw new WeightsException($"'{MetadataKey}' must be a JSON object of strings, not {Describe(value.ValueKind)}.");
        }

        foreach (JsonProperty item in value.EnumerateObject())
        {
            if (item.Value.ValueKind != JsonValueKind.String)
            {
                throw new WeightsException($"metadata value '{item.Name}' must be a string, not {Describe(item.Value.ValueKind)}.");
            }

            if (!metadata.TryAdd(item.Name, item.Value.GetString()!))
            {
                throw new WeightsException($"metadata key '{item.Name}' appears twice.");
            }
        }
    }

    private static Entry ParseEntry(string name, JsonElement value, long dataLength)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            throw new WeightsException($"tensor '{name}': the header entry must be a JSON object, not {Describe(value.ValueKind)}.", name);
        }

        if (!value.TryGetProperty("dtype", out JsonElement dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String)
        {
            throw new WeightsException($"tensor '{name}': missing or non-string \"dtype\".", name);
        }

        string dtype = dtypeElement.GetString()!;
        int elementSize = ElementSize(dtype);
        if (elementSize == 0)
        {
            throw new WeightsException(
                KnownUnsupported.Contains(dtype)
                    ? $"tensor '{name}': dtype '{dtype}' is not supported (only F32, F16, BF16 and F64 can be converted to float)."
                    : $"tensor '{name}': unknown dtype '{dtype}'.",
                name);
        }

        if (!value.TryGetProperty("shape", out JsonElement shapeElement) || shapeElement.ValueKind != JsonValueKind.Array)
        {
            throw new WeightsException($"tensor '{name}': missing or non-array \"shape\".", name);
        }

        int rank = shapeElement.GetArrayLength();
        if (rank > 16)
        {
            throw new WeightsException($"tensor '{name}': shape has {rank} dimensions; at most 16 are supported.", name);
        }

        int[] shape = new int[rank];
        long elements = 1;
        int index = 0;
        foreach (JsonElement dim in shapeElement.EnumerateArray())
        {
            if (dim.ValueKind != JsonValueKind.Number || !dim.TryGetInt64(out long d))
            {
                throw new WeightsException($"tensor '{name}': shape entry {index} ({dim.GetRawText()}) is not an integer.", name);
            }

            if (d < 0 || d > int.MaxValue)
            {
                throw new WeightsException($"tensor '{name}': shape entry {index} is {d}; it must be between 0 and {int.MaxValue}.", name);
            }

            shape[index++] = (int)d;
            elements *= d; // both factors <= int.MaxValue before the check below, so no long overflow
            if (elements > int.MaxValue)
            {
                throw new WeightsException($"tensor '{name}': shape {Tensor.FormatShape(shape.AsSpan(0, index))}... has more than {int.MaxValue} elements.", name);
            }
        }

        if (!value.TryGetProperty("data_offsets", out JsonElement offsetsElement) || offsetsElement.ValueKind != JsonValueKind.Array || offsetsElement.GetArrayLength() != 2)
        {
            throw new WeightsException($"tensor '{name}': \"data_offsets\" must be an array of two integers.", name);
        }

        JsonElement beginElement = offsetsElement[0];
        JsonElement endElement = offsetsElement[1];
        if (beginElement.ValueKind != JsonValueKind.Number || !beginElement.TryGetInt64(out long begin)
            || endElement.ValueKind != JsonValueKind.Number || !endElement.TryGetInt64(out long end))
        {
            throw new WeightsException($"tensor '{name}': \"data_offsets\" must be an array of two integers, got {offsetsElement.GetRawText()}.", name);
        }

        if (begin < 0 || end < 0 || begin > end)
        {
            throw new WeightsException($"tensor '{name}': invalid data_offsets [{begin}, {end}] (need 0 <= begin <= end).", name);
        }

        if (end > dataLength)
        {
            throw new WeightsException($"tensor '{name}': data_offsets [{begin}, {end}] run past the end of the {dataLength}-byte data buffer.", name);
        }

        long expectedBytes = elements * elementSize;
        if (end - begin != expectedBytes)
        {
            throw new WeightsException(
                $"tensor '{name}': data_offsets [{begin}, {end}] span {end - begin} bytes but shape {Tensor.FormatShape(shape)} of {dtype} needs {expectedBytes}.",
                name);
        }

        return new Entry(name, dtype, elementSize, shape, begin, end);
    }

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => kind.ToString(),
    };
}
