using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace CnnGen;

/// <summary>
/// Parses a safetensors JSON header in one forward pass (no document tree), so the work and memory are proportional to
/// the header's size and the number of entries is capped: a hostile 100 MB header cannot make millions of objects.
/// </summary>
internal static class SafeTensorsHeader
{
    /// <summary>Most tensors one file may hold (a ResNet-152 <c>state_dict</c> has about 1,000; a sharded LLM file a few thousand).</summary>
    internal const int MaxTensors = 100_000;

    /// <summary>Most <c>__metadata__</c> entries one file may hold (PyTorch writes one: <c>format</c>).</summary>
    internal const int MaxMetadataEntries = 10_000;

    /// <summary>Most dimensions of one tensor.</summary>
    internal const int MaxRank = 16;

    internal const string MetadataKey = "__metadata__";

    /// <summary>One tensor's header entry, validated against the data buffer's length.</summary>
    internal readonly record struct Entry(string Name, TensorDType DType, int[] Shape, long Elements, long Begin, long End);

    /// <summary>Parses the header: the tensor entries in file order; the metadata goes into <paramref name="metadata"/>.</summary>
    /// <exception cref="WeightsException">The header is not valid JSON, or an entry is malformed or lies about the data.</exception>
    public static List<Entry> Parse(ReadOnlySpan<byte> header, long dataLength, Dictionary<string, string> metadata)
    {
        var entries = new List<Entry>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            var reader = new Utf8JsonReader(header, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow, MaxDepth = 16 });
            Next(ref reader);
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                throw new WeightsException($"the safetensors header must be a JSON object, not {Describe(reader.TokenType)}.");
            }

            bool sawMetadata = false;
            while (Next(ref reader) == JsonTokenType.PropertyName)
            {
                string name = reader.GetString()!;
                if (name == MetadataKey)
                {
                    if (sawMetadata)
                    {
                        throw new WeightsException($"the safetensors header has '{MetadataKey}' twice.");
                    }

                    sawMetadata = true;
                    ParseMetadata(ref reader, metadata);
                    continue;
                }

                if (!names.Add(name))
                {
                    throw new WeightsException($"tensor '{name}' appears twice in the safetensors header.", name);
                }

                if (entries.Count == MaxTensors)
                {
                    throw new WeightsException(string.Create(CultureInfo.InvariantCulture, $"the safetensors header lists more than {MaxTensors:N0} tensors, the most CnnGen reads from one file."));
                }

                entries.Add(ParseEntry(ref reader, name, dataLength));
            }

            if (reader.Read())
            {
                throw new WeightsException("the safetensors header has content after the JSON object.");
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

    /// <summary>The element size in bytes of a dtype, or 0 when CnnGen does not read it.</summary>
    public static int ElementSize(TensorDType dtype) => dtype switch
    {
        TensorDType.F64 or TensorDType.I64 or TensorDType.U64 => 8,
        TensorDType.F32 or TensorDType.I32 or TensorDType.U32 => 4,
        TensorDType.F16 or TensorDType.BF16 or TensorDType.I16 or TensorDType.U16 => 2,
        _ => 1,
    };

    private static JsonTokenType Next(ref Utf8JsonReader reader)
    {
        if (!reader.Read())
        {
            throw new WeightsException("the safetensors header is not valid JSON: it ends before the object does.");
        }

        return reader.TokenType;
    }

    private static void ParseMetadata(ref Utf8JsonReader reader, Dictionary<string, string> metadata)
    {
        JsonTokenType token = Next(ref reader);
        if (token == JsonTokenType.Null)
        {
            return;
        }

        if (token != JsonTokenType.StartObject)
        {
            throw new WeightsException($"'{MetadataKey}' must be a JSON object of strings, not {Describe(token)}.");
        }

        while (Next(ref reader) == JsonTokenType.PropertyName)
        {
            string key = reader.GetString()!;
            JsonTokenType value = Next(ref reader);
            if (value != JsonTokenType.String)
            {
                throw new WeightsException($"metadata value '{key}' must be a string, not {Describe(value)}.");
            }

            if (metadata.Count == MaxMetadataEntries)
            {
                throw new WeightsException(string.Create(CultureInfo.InvariantCulture, $"'{MetadataKey}' has more than {MaxMetadataEntries:N0} entries."));
            }

            if (!metadata.TryAdd(key, reader.GetString()!))
            {
                throw new WeightsException($"metadata key '{key}' appears twice.");
            }
        }
    }

    private static Entry ParseEntry(ref Utf8JsonReader reader, string name, long dataLength)
    {
        JsonTokenType token = Next(ref reader);
        if (token != JsonTokenType.StartObject)
        {
            throw new WeightsException($"tensor '{name}': the header entry must be a JSON object, not {Describe(token)}.", name);
        }

        TensorDType? dtype = null;
        int[]? shape = null;
        long elements = 1;
        long begin = -1, end = -1;
        bool sawOffsets = false;
        while (Next(ref reader) == JsonTokenType.PropertyName)
        {
            // Field names are compared as UTF-8, not decoded: no allocation per field.
            if (reader.ValueTextEquals("dtype"u8))
            {
                Once(dtype is not null, name, "dtype");
                if (Next(ref reader) != JsonTokenType.String)
                {
                    throw new WeightsException($"tensor '{name}': missing or non-string \"dtype\".", name);
                }

                dtype = ParseDType(ref reader, name);
            }
            else if (reader.ValueTextEquals("shape"u8))
            {
                Once(shape is not null, name, "shape");
                shape = ParseShape(ref reader, name, out elements);
            }
            else if (reader.ValueTextEquals("data_offsets"u8))
            {
                Once(sawOffsets, name, "data_offsets");
                sawOffsets = true;
                (begin, end) = ParseOffsets(ref reader, name);
            }
            else
            {
                reader.Skip(); // unknown fields are ignored, as the reference implementation does
            }
        }

        if (dtype is null)
        {
            throw new WeightsException($"tensor '{name}': missing or non-string \"dtype\".", name);
        }

        if (shape is null)
        {
            throw new WeightsException($"tensor '{name}': missing or non-array \"shape\".", name);
        }

        if (!sawOffsets)
        {
            throw new WeightsException($"tensor '{name}': \"data_offsets\" must be an array of two integers.", name);
        }

        if (begin < 0 || end < 0 || begin > end)
        {
            throw new WeightsException($"tensor '{name}': invalid data_offsets [{begin}, {end}] (need 0 <= begin <= end).", name);
        }

        if (end > dataLength)
        {
            throw new WeightsException($"tensor '{name}': data_offsets [{begin}, {end}] run past the end of the {dataLength}-byte data buffer.", name);
        }

        long expectedBytes = elements * ElementSize(dtype.Value);
        if (end - begin != expectedBytes)
        {
            throw new WeightsException(
                $"tensor '{name}': data_offsets [{begin}, {end}] span {end - begin} bytes but shape {Tensor.FormatShape(shape)} of {Name(dtype.Value)} needs {expectedBytes}.",
                name);
        }

        return new Entry(name, dtype.Value, shape, elements, begin, end);
    }

    private static void Once(bool seen, string name, string field)
    {
        if (seen)
        {
            throw new WeightsException($"tensor '{name}': \"{field}\" appears twice in its header entry.", name);
        }
    }

    private static TensorDType ParseDType(ref Utf8JsonReader reader, string name)
    {
        for (int i = 0; i < DTypeNames.Length; i++)
        {
            if (reader.ValueTextEquals(DTypeNames[i]))
            {
                return (TensorDType)i;
            }
        }

        string text = reader.GetString()!;
        throw new WeightsException(
            text is "F8_E5M2" or "F8_E4M3" or "F8_E8M0" or "F4" or "F6_E2M3" or "F6_E3M2" or "C64"
                ? $"tensor '{name}': dtype '{text}' is not supported (CnnGen reads F32, F16, BF16, F64, the integer types and BOOL)."
                : $"tensor '{name}': unknown dtype '{Truncate(text)}'.",
            name);
    }

    /// <summary>The dtypes' names in a safetensors header, indexed by <see cref="TensorDType"/>.</summary>
    private static readonly string[] DTypeNames = { "F32", "F16", "BF16", "F64", "I8", "I16", "I32", "I64", "U8", "U16", "U32", "U64", "BOOL" };

    /// <summary>The dtype's name in a safetensors header.</summary>
    internal static string Name(TensorDType dtype) => DTypeNames[(int)dtype];

    private static int[] ParseShape(ref Utf8JsonReader reader, string name, out long elements)
    {
        if (Next(ref reader) != JsonTokenType.StartArray)
        {
            throw new WeightsException($"tensor '{name}': missing or non-array \"shape\".", name);
        }

        Span<int> dims = stackalloc int[MaxRank];
        int rank = 0;
        elements = 1;
        while (Next(ref reader) != JsonTokenType.EndArray)
        {
            if (rank == MaxRank)
            {
                throw new WeightsException($"tensor '{name}': shape has more than {MaxRank} dimensions; at most {MaxRank} are supported.", name);
            }

            if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out long d))
            {
                throw new WeightsException($"tensor '{name}': shape entry {rank} ({Raw(ref reader)}) is not an integer.", name);
            }

            if (d < 0 || d > int.MaxValue)
            {
                throw new WeightsException($"tensor '{name}': shape entry {rank} is {d}; it must be between 0 and {int.MaxValue}.", name);
            }

            dims[rank++] = (int)d;
            elements *= d; // both factors <= int.MaxValue before the check below, so no long overflow
            if (elements > int.MaxValue)
            {
                throw new WeightsException($"tensor '{name}': shape {Tensor.FormatShape(dims[..rank])}... has more than {int.MaxValue} elements.", name);
            }
        }

        return rank == 0 ? Array.Empty<int>() : dims[..rank].ToArray();
    }

    private static (long Begin, long End) ParseOffsets(ref Utf8JsonReader reader, string name)
    {
        if (Next(ref reader) != JsonTokenType.StartArray)
        {
            throw new WeightsException($"tensor '{name}': \"data_offsets\" must be an array of two integers.", name);
        }

        Span<long> values = stackalloc long[2];
        int count = 0;
        while (Next(ref reader) != JsonTokenType.EndArray)
        {
            if (count == 2)
            {
                throw new WeightsException($"tensor '{name}': \"data_offsets\" must be an array of two integers, not more.", name);
            }

            if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out values[count]))
            {
                throw new WeightsException($"tensor '{name}': \"data_offsets\" must be an array of two integers, got {Raw(ref reader)}.", name);
            }

            count++;
        }

        if (count != 2)
        {
            throw new WeightsException($"tensor '{name}': \"data_offsets\" must be an array of two integers.", name);
        }

        return (values[0], values[1]);
    }

    /// <summary>The current token as short text for a message.</summary>
    private static string Raw(ref Utf8JsonReader reader)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.StartObject:
            case JsonTokenType.StartArray:
                return Describe(reader.TokenType);
            case JsonTokenType.String:
                return "\"" + Truncate(reader.GetString()!) + "\"";
            default:
                return Truncate(Encoding.UTF8.GetString(reader.ValueSpan));
        }
    }

    private static string Truncate(string text) => text.Length <= 40 ? text : text[..40] + "...";

    private static string Describe(JsonTokenType token) => token switch
    {
        JsonTokenType.StartObject => "an object",
        JsonTokenType.StartArray => "an array",
        JsonTokenType.String => "a string",
        JsonTokenType.Number => "a number",
        JsonTokenType.True or JsonTokenType.False => "a boolean",
        JsonTokenType.Null => "null",
        _ => token.ToString(),
    };
}
