using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text;

namespace CnnGen.Tests.Runtime;

/// <summary>The integer dtypes of a real state_dict, immutable tensors, and the bounds on what a header may cost.</summary>
public sealed class SafeTensorsDTypeAndLimitTests
{
    private const int MaxTensors = 100_000; // SafeTensorsHeader.MaxTensors, documented in README.md

    private static byte[] Bytes<T>(params T[] values)
        where T : unmanaged => MemoryMarshal.AsBytes(values.AsSpan()).ToArray();

    private static TensorSet LoadBothWays(byte[] file)
    {
        var fromSpan = TensorSet.LoadSafeTensors(file.AsSpan());
        var fromStream = TensorSet.LoadSafeTensors(new MemoryStream(file));
        Assert.That(fromStream.Names, Is.EqualTo(fromSpan.Names));
        return fromSpan;
    }

    // ---------------------------------------------------------------- dtypes

    [Test]
    public void Every_integer_dtype_and_BOOL_is_read_as_float_with_its_dtype()
    {
        var items = new List<SafeTensorsFile.Item>
        {
            new("i8", "I8", new[] { 3 }, Bytes<sbyte>(-128, 0, 127)),
            new("i16", "I16", new[] { 2 }, Bytes<short>(short.MinValue, short.MaxValue)),
            new("i32", "I32", new[] { 3 }, Bytes(int.MinValue, -7, 16_777_216)),
            new("i64", "I64", Array.Empty<int>(), Bytes(1_234_567L)),
            new("i64big", "I64", new[] { 2 }, Bytes(long.MinValue, (1L << 24) + 1)),
            new("u8", "U8", new[] { 2 }, Bytes<byte>(0, 255)),
            new("u16", "U16", new[] { 1 }, Bytes<ushort>(ushort.MaxValue)),
            new("u32", "U32", new[] { 1 }, Bytes(uint.MaxValue)),
            new("u64", "U64", new[] { 1 }, Bytes(ulong.MaxValue)),
            new("mask", "BOOL", new[] { 2, 2 }, Bytes<byte>(1, 0, 0, 1)),
            new("half", "F16", new[] { 1 }, Bytes((Half)1.5f)),
        };
        var set = LoadBothWays(SafeTensorsFile.Write(items));

        void Expect(string name, TensorDType dtype, params float[] values)
        {
            Tensor t = set.Get(name);
            Assert.That(t.DType, Is.EqualTo(dtype), name);
            Assert.That(t.Data.ToArray(), Is.EqualTo(values), name);
        }

        Expect("i8", TensorDType.I8, -128f, 0f, 127f);
        Expect("i16", TensorDType.I16, -32768f, 32767f);
        Expect("i32", TensorDType.I32, -2147483648f, -7f, 16_777_216f);
        Expect("i64", TensorDType.I64, 1_234_567f);
        Expect("i64big", TensorDType.I64, -9.223372e18f, 16_777_216f); // 2^24 + 1 rounds: exact only up to 2^24
        Expect("u8", TensorDType.U8, 0f, 255f);
        Expect("u16", TensorDType.U16, 65535f);
        Expect("u32", TensorDType.U32, 4.2949673e9f);
        Expect("u64", TensorDType.U64, 1.8446744e19f);
        Expect("mask", TensorDType.Bool, 1f, 0f, 0f, 1f);
        Expect("half", TensorDType.F16, 1.5f);
        Assert.That(set.Get("i64").Shape.Length, Is.Zero);
        Assert.That(set.Get("mask").ShapeText, Is.EqualTo("[2, 2]"));
    }

    [Test]
    public void Saving_keeps_int64_counters_as_I64_and_writes_the_rest_as_F32_so_a_state_dict_round_trips()
    {
        var items = new List<SafeTensorsFile.Item>
        {
            SafeTensorsFile.Item.F32("bn.running_var", new[] { 2 }, new[] { 0.5f, 2f }),
            SafeTensorsFile.Item.I64("bn.num_batches_tracked", Array.Empty<int>(), 42),
        };
        var loaded = TensorSet.LoadSafeTensors(SafeTensorsFile.Write(items));
        using var stream = new MemoryStream();
        TensorSet.SaveSafeTensors(stream, loaded);
        var again = TensorSet.LoadSafeTensors(stream.ToArray());
        Assert.That(again.Names, Is.EqualTo(loaded.Names));
        Assert.That(again.Get("bn.num_batches_tracked").DType, Is.EqualTo(TensorDType.I64)); // PyTorch's strict load_state_dict takes it
        Assert.That(again.Get("bn.running_var").DType, Is.EqualTo(TensorDType.F32));
        Assert.That(again.Get("bn.num_batches_tracked").Data.ToArray(), Is.EqualTo(new[] { 42f }));
    }

    // ---------------------------------------------------------------- immutable tensors

    [Test]
    public void A_tensor_copies_what_it_is_given_and_exposes_it_read_only()
    {
        int[] shape = { 2, 2 };
        float[] data = { 1f, 2f, 3f, 4f };
        var t = new Tensor("w", shape, data);
        data[0] = 99f;
        shape[1] = 7;
        Assert.That(t.Data.ToArray(), Is.EqualTo(new[] { 1f, 2f, 3f, 4f }), "data copied");
        Assert.That(t.Shape.ToArray(), Is.EqualTo(new[] { 2, 2 }), "shape copied");
        Assert.That(t.Memory.ToArray(), Is.EqualTo(t.Data.ToArray()));
        Assert.That(t.DType, Is.EqualTo(TensorDType.F32));
        Assert.That(t.ToString(), Is.EqualTo("w [2, 2]"));
        Assert.That(MemoryMarshal.TryGetArray(t.Memory, out ArraySegment<float> segment) && segment.Array == data, Is.False);
        Assert.Throws<ArgumentNullException>(() => _ = new Tensor(null!, shape, data));
    }

    // ---------------------------------------------------------------- header bounds

    /// <summary>A header of <paramref name="count"/> zero-size tensors: about 60 bytes each.</summary>
    private static byte[] EmptyTensors(int count)
    {
        var header = new StringBuilder(count * 60);
        header.Append('{');
        for (int i = 0; i < count; i++)
        {
            header.Append(i == 0 ? "\"" : ",\"").Append('t').Append(i.ToString("D7", System.Globalization.CultureInfo.InvariantCulture))
                .Append("\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}");
        }

        header.Append('}');
        byte[] json = Encoding.ASCII.GetBytes(header.ToString());
        var file = new byte[8 + json.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)json.Length);
        json.CopyTo(file, 8);
        return file;
    }

    private static long Allocated(Action action)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        action();
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    [Test]
    public void A_98_MB_header_of_1_650_000_empty_tensors_is_rejected_with_bounded_memory()
    {
        byte[] file = EmptyTensors(1_650_000);
        Assert.That(file.Length - 8, Is.GreaterThan(98_000_000).And.LessThan(100_000_000), "under the 100 MB header limit");

        WeightsException? fromSpan = null;
        long spanBytes = Allocated(() => fromSpan = Assert.Throws<WeightsException>(() => TensorSet.LoadSafeTensors(file.AsSpan())));
        Assert.That(fromSpan!.Message, Does.Contain("more than 100,000 tensors"));
        Assert.That(spanBytes, Is.LessThan(64L << 20), "parsing stops at the cap; before it ~200 bytes per tensor");

        // A stream's header is read into memory first: its own size, plus the same bounded parse.
        long streamBytes = Allocated(() => Assert.Throws<WeightsException>(() => TensorSet.LoadSafeTensors(new MemoryStream(file))));
        Assert.That(streamBytes, Is.LessThan(file.Length + (64L << 20)));
        TestContext.Out.WriteLine($"allocated: span {spanBytes >> 20} MB, stream {streamBytes >> 20} MB for a {file.Length >> 20} MB header");
    }

    [Test]
    public void A_header_at_the_tensor_cap_loads_in_memory_proportional_to_its_size()
    {
        byte[] file = EmptyTensors(MaxTensors);
        TensorSet? set = null;
        long bytes = Allocated(() => set = TensorSet.LoadSafeTensors(file.AsSpan()));
        Assert.That(set, Has.Count.EqualTo(MaxTensors));
        Assert.That(bytes, Is.LessThan(8L * file.Length), "a few bytes per header byte (about 350 per tensor)");
        TestContext.Out.WriteLine($"{MaxTensors} tensors: {bytes / (double)file.Length:0.0} bytes allocated per header byte");

        var over = Assert.Throws<WeightsException>(() => TensorSet.LoadSafeTensors(EmptyTensors(MaxTensors + 1)));
        Assert.That(over!.Message, Does.Contain("more than 100,000 tensors"));
    }

    [Test]
    public void Metadata_entries_are_capped_too()
    {
        string entries = string.Join(",", Enumerable.Range(0, 10_001).Select(i => $"\"k{i}\":\"\""));
        byte[] json = Encoding.ASCII.GetBytes("{\"__metadata__\":{" + entries + "}}");
        var file = new byte[8 + json.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)json.Length);
        json.CopyTo(file, 8);
        Assert.That(Assert.Throws<WeightsException>(() => TensorSet.LoadSafeTensors(file))!.Message, Does.Contain("more than 10,000 entries"));
    }

    [Test]
    public void Unknown_entry_fields_are_skipped()
    {
        byte[] json = Encoding.ASCII.GetBytes("""{"a":{"note":{"x":[1,{"y":2}]},"dtype":"U8","shape":[1],"data_offsets":[0,1],"z":null}}""");
        var file = new byte[8 + json.Length + 1];
        BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)json.Length);
        json.CopyTo(file, 8);
        file[^1] = 9;
        Assert.That(LoadBothWays(file).Get("a").Data.ToArray(), Is.EqualTo(new[] { 9f }));
    }
}
