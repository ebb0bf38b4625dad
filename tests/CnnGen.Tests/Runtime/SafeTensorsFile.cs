using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace CnnGen.Tests.Runtime;

/// <summary>
/// Writes safetensors bytes the way the Python <c>safetensors</c> library (<c>safetensors.torch.save_file</c>) does, with any
/// dtype, independently of CnnGen's own writer: tensors sorted by dtype (widest first: U64, I64, F64, F32, ...) then name,
/// contiguous; the header lists <c>__metadata__</c> first, then the tensors in data order, padded with spaces to a multiple of 8.
/// </summary>
internal static class SafeTensorsFile
{
    /// <summary>One tensor: its safetensors dtype name, shape and raw little-endian bytes.</summary>
    internal sealed record Item(string Name, string DType, int[] Shape, byte[] Bytes)
    {
        public static Item F32(string name, ReadOnlySpan<int> shape, ReadOnlySpan<float> values) =>
            new(name, "F32", shape.ToArray(), MemoryMarshal.AsBytes(values).ToArray());

        public static Item I64(string name, int[] shape, params long[] values) =>
            new(name, "I64", shape, MemoryMarshal.AsBytes(values.AsSpan()).ToArray());
    }

    // The safetensors Dtype enum's order; save_file sorts by it, descending.
    private static readonly string[] DTypeOrder = { "BOOL", "U8", "I8", "F8_E5M2", "F8_E4M3", "I16", "U16", "F16", "BF16", "I32", "U32", "F32", "F64", "I64", "U64" };

    public static byte[] Write(IEnumerable<Item> items, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var ordered = items.OrderByDescending(i => Array.IndexOf(DTypeOrder, i.DType)).ThenBy(i => i.Name, StringComparer.Ordinal).ToList();
        var json = new MemoryStream();
        using (var writer = new Utf8JsonWriter(json))
        {
            writer.WriteStartObject();
            if (metadata is not null)
            {
                writer.WriteStartObject("__metadata__");
                foreach (var pair in metadata)
                {
                    writer.WriteString(pair.Key, pair.Value);
                }

                writer.WriteEndObject();
            }

            long offset = 0;
            foreach (var item in ordered)
            {
                writer.WriteStartObject(item.Name);
                writer.WriteString("dtype", item.DType);
                writer.WriteStartArray("shape");
                foreach (int d in item.Shape)
                {
                    writer.WriteNumberValue(d);
                }

                writer.WriteEndArray();
                writer.WriteStartArray("data_offsets");
                writer.WriteNumberValue(offset);
                writer.WriteNumberValue(offset + item.Bytes.Length);
                writer.WriteEndArray();
                writer.WriteEndObject();
                offset += item.Bytes.Length;
            }

            writer.WriteEndObject();
        }

        while (json.Length % 8 != 0)
        {
            json.WriteByte((byte)' ');
        }

        var file = new MemoryStream();
        Span<byte> prefix = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)json.Length);
        file.Write(prefix);
        json.WriteTo(file);
        foreach (var item in ordered)
        {
            file.Write(item.Bytes);
        }

        return file.ToArray();
    }

    /// <summary>Every tensor of a set as F32 items (for rewriting a fixture with extra tensors).</summary>
    public static List<Item> Items(TensorSet set) => set.Select(t => Item.F32(t.Name, t.Shape, t.Data)).ToList();

    /// <summary>The header JSON of a file, for assertions about its layout.</summary>
    public static string Header(byte[] file) => Encoding.UTF8.GetString(file, 8, checked((int)BinaryPrimitives.ReadUInt64LittleEndian(file)));
}
