using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text;
using CnnGen;

namespace CnnGen.Tests.Runtime;

[TestFixture]
public sealed class SafeTensorsTests
{
    private static string LeNetWeights => Path.Combine(AppContext.BaseDirectory, "fixtures", "models", "lenet5", "weights.safetensors");

    // ---------------------------------------------------------------- helpers

    /// <summary>Builds a file from a header (not padded) and a data buffer.</summary>
    private static byte[] Raw(string header, byte[]? data = null) => Raw(Encoding.UTF8.GetBytes(header), data);

    private static byte[] Raw(byte[] header, byte[]? data = null, ulong? lengthOverride = null)
    {
        data ??= Array.Empty<byte>();
        var bytes = new byte[8 + header.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, lengthOverride ?? (ulong)header.Length);
        header.CopyTo(bytes, 8);
        data.CopyTo(bytes, 8 + header.Length);
        return bytes;
    }

    private static byte[] Floats(params float[] values)
    {
        var bytes = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(4 * i), values[i]);
        }

        return bytes;
    }

    private static byte[] Save(IEnumerable<Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        using var stream = new MemoryStream();
        TensorSet.SaveSafeTensors(stream, tensors, metadata);
        return stream.ToArray();
    }

    /// <summary>A read-only, non-seekable stream that returns data in small random-sized pieces.</summary>
    private sealed class TrickleStream : Stream
    {
        private readonly byte[] _data;
        private readonly Random _random;
        private int _position;

        public TrickleStream(byte[] data, int seed = 1)
        {
            _data = data;
            _random = new Random(seed);
        }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            int n = Math.Min(Math.Min(buffer.Length, _data.Length - _position), 1 + _random.Next(70_000));
            _data.AsSpan(_position, n).CopyTo(buffer);
            _position += n;
            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>Loads through every entry point; all must agree (same names) or all throw <see cref="WeightsException"/>.</summary>
    private static TensorSet LoadAllWays(byte[] bytes)
    {
        TensorSet fromSpan = TensorSet.LoadSafeTensors(bytes.AsSpan());
        using var seekable = new MemoryStream(bytes, writable: false);
        TensorSet fromSeekable = TensorSet.LoadSafeTensors(seekable);
        TensorSet fromTrickle = TensorSet.LoadSafeTensors(new TrickleStream(bytes));
        Assert.That(fromSeekable.Names, Is.EqualTo(fromSpan.Names));
        Assert.That(fromTrickle.Names, Is.EqualTo(fromSpan.Names));
        return fromSpan;
    }

    private static void AssertRejected(byte[] bytes, string? messagePart = null)
    {
        var fromSpan = Assert.Throws<WeightsException>(() => TensorSet.LoadSafeTensors(bytes.AsSpan()));
        using var seekable = new MemoryStream(bytes, writable: false);
        var fromSeekable = Assert.Throws<WeightsException>(() => TensorSet.LoadSafeTensors(seekable));
        var fromTrickle = Assert.Throws<WeightsException>(() => TensorSet.LoadSafeTensors(new TrickleStream(bytes)));
        if (messagePart is not null)
        {
            Assert.That(fromSpan!.Message, Does.Contain(messagePart).IgnoreCase, "span");
            Assert.That(fromSeekable!.Message, Does.Contain(messagePart).IgnoreCase, "seekable stream");
            Assert.That(fromTrickle!.Message, Does.Contain(messagePart).IgnoreCase, "non-seekable stream");
        }
    }

    // ---------------------------------------------------------------- round trip and valid files

    [Test]
    public void RoundTripPreservesNamesShapesValuesAndMetadata()
    {
        var tensors = new[]
        {
            new Tensor("conv1.weight", new[] { 2, 1, 3, 3 }, Enumerable.Range(0, 18).Select(i => (i * 0.37f) - 3f).ToArray()),
            new Tensor("special", new[] { 6 }, new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity, -0f, float.Epsilon, float.MaxValue }),
            new Tensor("scalar", Array.Empty<int>(), new[] { 42.5f }),
            new Tensor("empty", new[] { 0, 3 }, Array.Empty<float>()),
            new Tensor("fc.bias", new[] { 5 }, new[] { 1f, 2f, 3f, 4f, 5f }),
        };
        var metadata = new Dictionary<string, string> { ["format"] = "pt", ["note"] = "ünïcode \"quoted\"" };
        byte[] bytes = Save(tensors, metadata);

        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.That(headerLength % 8, Is.Zero, "header padded to a multiple of 8");
        Assert.That(bytes[8], Is.EqualTo((byte)'{'));
        Assert.That(bytes.Length, Is.EqualTo(8 + (long)headerLength + (4 * tensors.Sum(t => t.Length))), "no gaps in the buffer");

        TensorSet loaded = LoadAllWays(bytes);
        Assert.That(loaded.Names, Is.EqualTo(tensors.Select(t => t.Name)));
        Assert.That(loaded, Has.Count.EqualTo(tensors.Length));
        Assert.That(loaded.Metadata, Is.EquivalentTo(metadata));
        foreach (Tensor original in tensors)
        {
            Tensor copy = loaded.Get(original.Name);
            Assert.That(copy.Shape.ToArray(), Is.EqualTo(original.Shape.ToArray()), original.Name);
            Assert.That(copy.Data.ToArray().Select(BitConverter.SingleToInt32Bits), Is.EqualTo(original.Data.ToArray().Select(BitConverter.SingleToInt32Bits)), original.Name + " bit-exact");
        }

        string path = Path.Combine(Path.GetTempPath(), $"cnngen-{Guid.NewGuid():N}.safetensors");
        try
        {
            File.WriteAllBytes(path, bytes);
            Assert.That(TensorSet.LoadSafeTensors(path).Get("fc.bias").Data.ToArray(), Is.EqualTo(new[] { 1f, 2f, 3f, 4f, 5f }));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void SaveRejectsDuplicateNames()
    {
        var a = new Tensor("a", new[] { 1 }, new[] { 1f });
        Assert.Throws<ArgumentException>(() => Save(new[] { a, new Tensor("a", new[] { 1 }, new[] { 2f }) }));
    }

    [Test]
    public void LoadsLeNetWeightsAndAllConformanceCases()
    {
        TensorSet lenet = TensorSet.LoadSafeTensors(LeNetWeights);
        Assert.That(lenet, Is.Not.Empty);
        Assert.That(lenet.Sum(t => (long)t.Length), Is.EqualTo(61_706), "LeNet-5 parameter count (models/README.md)");
        foreach (Tensor t in lenet)
        {
            Assert.That(t.Length, Is.EqualTo(t.Shape.ToArray().Aggregate(1, (x, y) => x * y)), t.Name);
            Assert.That(t.Data.ToArray().All(float.IsFinite), t.Name);
        }

        foreach (ConformanceCase c in ConformanceCase.Cases)
        {
            TensorSet set = c.Tensors;
            for (int i = 0; i < c.InputNames.Count; i++)
            {
                Assert.That(set.Get(c.InputNames[i]).Shape.ToArray(), Is.EqualTo(c.InputShapes[i]), c.Name);
            }

            Assert.That(set.Get("output").Shape.ToArray(), Is.EqualTo(c.OutputShape), c.Name);
            foreach (KeyValuePair<string, int[]> param in c.Params)
            {
                Assert.That(set.Get(param.Key).Shape.ToArray(), Is.EqualTo(param.Value), $"{c.Name} {param.Key}");
            }

            Assert.That(set.Metadata["case"], Is.EqualTo(c.Name));
        }
    }

    [Test]
    public void ConvertsF16Bf16AndF64()
    {
        var data = new List<byte>();
        // F16: 1.0 = 0x3C00, -2.5 = 0xC100, 65504 = 0x7BFF
        foreach (ushort h in new ushort[] { 0x3C00, 0xC100, 0x7BFF })
        {
            data.AddRange(BitConverter.GetBytes(h));
        }

        // BF16: upper 16 bits of float32: 1.0 = 0x3F80, -3.0 = 0xC040
        foreach (ushort b in new ushort[] { 0x3F80, 0xC040 })
        {
            data.AddRange(BitConverter.GetBytes(b));
        }

        data.AddRange(BitConverter.GetBytes(0.1));
        data.AddRange(BitConverter.GetBytes(-1e300)); // out of float range -> -inf
        string header = """{"h":{"dtype":"F16","shape":[3],"data_offsets":[0,6]},"b":{"dtype":"BF16","shape":[2],"data_offsets":[6,10]},"d":{"dtype":"F64","shape":[2],"data_offsets":[10,26]}}""";
        TensorSet set = LoadAllWays(Raw(header, data.ToArray()));
        Assert.That(set.Get("h").Data.ToArray(), Is.EqualTo(new[] { 1f, -2.5f, 65504f }));
        Assert.That(set.Get("b").Data.ToArray(), Is.EqualTo(new[] { 1f, -3f }));
        Assert.That(set.Get("d").Data.ToArray(), Is.EqualTo(new[] { 0.1f, float.NegativeInfinity }));
    }

    [Test]
    public void AcceptsGapsTrailingSpacesAndOutOfOrderEntries()
    {
        string header = """{"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}     """;
        TensorSet set = LoadAllWays(Raw(header, Floats(1f, 2f, 3f)));
        Assert.That(set.Get("a").Data.ToArray(), Is.EqualTo(new[] { 1f }));
        Assert.That(set.Get("b").Data.ToArray(), Is.EqualTo(new[] { 3f }));
        Assert.That(set.Metadata, Is.Empty);
    }

    // ---------------------------------------------------------------- malformed files

    private const string Ok = """{"dtype":"F32","shape":[2],"data_offsets":[0,8]}""";

    private static IEnumerable<TestCaseData> Malformed()
    {
        byte[] eight = Floats(1f, 2f);
        TestCaseData Case(string name, byte[] bytes, string messagePart) => new TestCaseData(bytes, messagePart).SetArgDisplayNames(name);
        TestCaseData Header(string name, string header, string messagePart, byte[]? data = null) => Case(name, Raw(header, data ?? eight), messagePart);

        yield return Case("empty file", Array.Empty<byte>(), "at least 8");
        yield return Case("7 bytes", new byte[7], "at least 8");
        yield return Case("header length beyond the file", Raw(Encoding.UTF8.GetBytes("{}"), eight, lengthOverride: 100), "only");
        yield return Case("header length 2^63", Raw(Encoding.UTF8.GetBytes("{}"), eight, lengthOverride: 1UL << 63), "limit");
        yield return Case("header length 2^64-1", Raw(Encoding.UTF8.GetBytes("{}"), eight, lengthOverride: ulong.MaxValue), "limit");
        yield return Case("header length 100 MB + 1", Raw(Encoding.UTF8.GetBytes("{}"), eight, lengthOverride: 100_000_001), "limit");
        yield return Case("header length 0", Raw(Array.Empty<byte>(), eight), "JSON");
        yield return Header("truncated JSON", """{"a":""" + Ok, "JSON");
        yield return Header("not JSON", "hello world", "JSON");
        yield return Header("trailing garbage", "{} x", "JSON");
        yield return Header("two objects", "{}{}", "after");
        yield return Header("comment", "{/*c*/}", "JSON");
        yield return Header("array root", "[]", "object");
        yield return Header("string root", "\"abc\"", "object");
        yield return Header("number root", "3", "object");
        yield return Header("deep nesting", "{\"a\":" + new string('[', 100) + new string(']', 100) + "}", "JSON");
        yield return Case("invalid UTF-8 in a name", Raw(new byte[] { (byte)'{', (byte)'"', 0xFF, 0xFE, (byte)'"', (byte)':' }.Concat(Encoding.UTF8.GetBytes(Ok + "}")).ToArray(), eight), "");
        yield return Header("entry is a number", """{"a":3}""", "object");
        yield return Header("entry is an array", """{"a":[0,8]}""", "object");
        yield return Header("missing dtype", """{"a":{"shape":[2],"data_offsets":[0,8]}}""", "dtype");
        yield return Header("dtype is a number", """{"a":{"dtype":4,"shape":[2],"data_offsets":[0,8]}}""", "dtype");
        yield return Header("unknown dtype", """{"a":{"dtype":"F33","shape":[2],"data_offsets":[0,8]}}""", "unknown dtype");
        yield return Header("8-bit float dtype", """{"a":{"dtype":"F8_E4M3","shape":[8],"data_offsets":[0,8]}}""", "not supported");
        yield return Header("BOOL byte 2", """{"a":{"dtype":"BOOL","shape":[8],"data_offsets":[0,8]}}""", "must be 0 or 1", new byte[] { 0, 1, 0, 2, 0, 0, 0, 0 });
        yield return Header("dtype twice", """{"a":{"dtype":"F32","dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", "appears twice");
        yield return Header("shape twice", """{"a":{"dtype":"F32","shape":[2],"shape":[2],"data_offsets":[0,8]}}""", "appears twice");
        yield return Header("data_offsets twice", """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"data_offsets":[0,8]}}""", "appears twice");
        yield return Header("I64 size mismatch", """{"a":{"dtype":"I64","shape":[2],"data_offsets":[0,8]}}""", "needs 16");
        yield return Header("missing shape", """{"a":{"dtype":"F32","data_offsets":[0,8]}}""", "shape");
        yield return Header("shape is a number", """{"a":{"dtype":"F32","shape":2,"data_offsets":[0,8]}}""", "shape");
        yield return Header("shape has a string", """{"a":{"dtype":"F32","shape":["2"],"data_offsets":[0,8]}}""", "not an integer");
        yield return Header("shape has a fraction", """{"a":{"dtype":"F32","shape":[2.5],"data_offsets":[0,8]}}""", "not an integer");
        yield return Header("negative dim", """{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}""", "between");
        yield return Header("dim above int.MaxValue", """{"a":{"dtype":"F32","shape":[4294967296],"data_offsets":[0,8]}}""", "between");
        yield return Header("dim 1e30", """{"a":{"dtype":"F32","shape":[1000000000000000000000000000000],"data_offsets":[0,8]}}""", "not an integer");
        yield return Header("shape product overflow", """{"a":{"dtype":"F32","shape":[65536,65536,65536,65536],"data_offsets":[0,8]}}""", "elements");
        yield return Header("too many dims", "{\"a\":{\"dtype\":\"F32\",\"shape\":[" + string.Join(",", Enumerable.Repeat(1, 40)) + "],\"data_offsets\":[0,4]}}", "dimensions");
        yield return Header("missing data_offsets", """{"a":{"dtype":"F32","shape":[2]}}""", "data_offsets");
        yield return Header("data_offsets one int", """{"a":{"dtype":"F32","shape":[2],"data_offsets":[8]}}""", "data_offsets");
        yield return Header("data_offsets three ints", """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8,8]}}""", "data_offsets");
        yield return Header("data_offsets strings", """{"a":{"dtype":"F32","shape":[2],"data_offsets":["0","8"]}}""", "data_offsets");
        yield return Header("data_offsets object", """{"a":{"dtype":"F32","shape":[2],"data_offsets":{"0":8}}}""", "data_offsets");
        yield return Header("negative offset", """{"a":{"dtype":"F32","shape":[0],"data_offsets":[-4,-4]}}""", "data_offsets");
        yield return Header("begin after end", """{"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}""", "begin <= end");
        yield return Header("end beyond buffer", """{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}""", "past the end");
        yield return Header("huge offsets", """{"a":{"dtype":"F32","shape":[2],"data_offsets":[9223372036854775800,9223372036854775807]}}""", "past the end");
        yield return Header("offsets above long", """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,18446744073709551615]}}""", "data_offsets");
        yield return Header("size mismatch", """{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}""", "needs 12");
        yield return Header("F16 size mismatch", """{"a":{"dtype":"F16","shape":[2],"data_offsets":[0,8]}}""", "needs 4");
        yield return Header("overlapping ranges", """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", "overlaps");
        yield return Header("duplicate name", """{"a":""" + Ok + ""","a":""" + Ok + "}", "twice");
        yield return Header("metadata value number", """{"__metadata__":{"k":1},"a":""" + Ok + "}", "must be a string");
        yield return Header("metadata value object", """{"__metadata__":{"k":{}},"a":""" + Ok + "}", "must be a string");
        yield return Header("metadata not an object", """{"__metadata__":[1],"a":""" + Ok + "}", "__metadata__");
        yield return Header("metadata twice", """{"__metadata__":{},"__metadata__":{},"a":""" + Ok + "}", "twice");
        yield return Header("metadata duplicate key", """{"__metadata__":{"k":"1","k":"2"},"a":""" + Ok + "}", "twice");
    }

    [TestCaseSource(nameof(Malformed))]
    public void MalformedFileThrowsWeightsException(byte[] bytes, string messagePart) => AssertRejected(bytes, messagePart);

    [Test]
    public void PathLoaderPrefixesThePathAndMissingFileIsAnIoError()
    {
        string path = Path.Combine(Path.GetTempPath(), $"cnngen-{Guid.NewGuid():N}.safetensors");
        try
        {
            File.WriteAllBytes(path, new byte[3]);
            var e = Assert.Throws<WeightsException>(() => TensorSet.LoadSafeTensors(path));
            Assert.That(e!.Message, Does.StartWith(path));
        }
        finally
        {
            File.Delete(path);
        }

        Assert.Throws<FileNotFoundException>(() => TensorSet.LoadSafeTensors(path));
    }

    // ---------------------------------------------------------------- TensorSet and Tensor API

    [Test]
    public void GetOfAMissingTensorListsTheNames()
    {
        var set = new TensorSet(Enumerable.Range(0, 30).Select(i => new Tensor($"t{i}", new[] { 1 }, new[] { (float)i })));
        var e = Assert.Throws<WeightsException>(() => set.Get("conv9.weight"));
        Assert.That(e!.Message, Does.Contain("tensor 'conv9.weight' is missing; the file has: t0, t1, t2"));
        Assert.That(e.Message, Does.Contain("t19").And.Not.Contain("t20").And.Contain("10 more"));
        Assert.That(e.TensorName, Is.EqualTo("conv9.weight"));
        Assert.That(set.TryGet("conv9.weight", out _), Is.False);
        Assert.That(set.TryGet("t7", out var t7), Is.True);
        Assert.That(t7!.Data.ToArray(), Is.EqualTo(new[] { 7f }));
    }

    [Test]
    public void WithPrefixAndRenameTransformLookups()
    {
        var set = new TensorSet(new[]
        {
            new Tensor("features.0.weight", new[] { 1 }, new[] { 1f }),
            new Tensor("features.0.bias", new[] { 1 }, new[] { 2f }),
            new Tensor("fc.weight", new[] { 1 }, new[] { 3f }),
        }, new Dictionary<string, string> { ["k"] = "v" });

        TensorSet conv = set.WithPrefix("features.0.");
        Assert.That(conv.Get("weight").Data.ToArray(), Is.EqualTo(new[] { 1f }));
        Assert.That(conv.Get("bias").Name, Is.EqualTo("features.0.bias"));
        Assert.That(conv.TryGet("fc.weight", out _), Is.False);
        Assert.That(conv, Has.Count.EqualTo(3), "a view enumerates the stored tensors");
        Assert.That(conv.Metadata["k"], Is.EqualTo("v"));
        var e = Assert.Throws<WeightsException>(() => conv.Get("gamma"));
        Assert.That(e!.Message, Does.Contain("'features.0.gamma' (requested as 'gamma')"));

        TensorSet renamed = set.Rename(n => n.Replace("conv1.", "features.0.", StringComparison.Ordinal));
        Assert.That(renamed.Get("conv1.bias").Data.ToArray(), Is.EqualTo(new[] { 2f }));
        Assert.That(renamed.Get("fc.weight").Data.ToArray(), Is.EqualTo(new[] { 3f }));

        // Views compose: the outer transformation is applied first, then the inner one.
        TensorSet nested = set.WithPrefix("features.").WithPrefix("0.");
        Assert.That(nested.Get("weight").Data.ToArray(), Is.EqualTo(new[] { 1f }));
        TensorSet renamedPrefix = set.WithPrefix("features.0.").Rename(n => n == "w" ? "weight" : n);
        Assert.That(renamedPrefix.Get("w").Data.ToArray(), Is.EqualTo(new[] { 1f }));
    }

    [Test]
    public void TensorSetRejectsDuplicateNames()
    {
        var a = new Tensor("a", new[] { 1 }, new[] { 1f });
        var e = Assert.Throws<ArgumentException>(() => _ = new TensorSet(new[] { a, a }));
        Assert.That(e!.Message, Does.Contain("'a'"));
    }

    [Test]
    public void TensorValidatesShapeAgainstData()
    {
        Assert.Throws<ArgumentException>(() => _ = new Tensor("x", new[] { 2, 3 }, new float[5]));
        Assert.Throws<ArgumentException>(() => _ = new Tensor("x", new[] { -1 }, new float[1]));
        Assert.Throws<ArgumentException>(() => _ = new Tensor("x", new[] { 65536, 65536, 65536 }, new float[0]));
        Assert.Throws<ArgumentException>(() => _ = new Tensor("x", new[] { int.MaxValue, int.MaxValue, int.MaxValue, 2 }, new float[0]));
        int[] shape = { 6, 1, 5, 5 };
        var t = new Tensor("conv1.weight", shape, new float[150]);
        shape[0] = 99;
        Assert.That(t.Shape.ToArray(), Is.EqualTo(new[] { 6, 1, 5, 5 }), "shape is copied");
        Assert.That(t.ShapeText, Is.EqualTo("[6, 1, 5, 5]"));
        Assert.That(t.Length, Is.EqualTo(150));
        Assert.That(new Tensor("s", Array.Empty<int>(), new[] { 1f }).ShapeText, Is.EqualTo("[]"));
    }

    // ---------------------------------------------------------------- fuzzing

    private const int FuzzIterations = 8_000;

    private enum Mutation
    {
        FlipHeaderBytes,
        Truncate,
        ChangeHeaderLength,
        SpliceGarbage,
        DuplicateEntry,
        HugeNumber,
        TweakDigit,
        ReplaceToken,
        ManyEntries,
    }

    /// <summary>
    /// The LeNet-5 file, and a state_dict with every integer dtype as PyTorch writes them (int64 <c>num_batches_tracked</c>
    /// scalars, a BOOL mask, U8/I8/I16/I32 buffers) beside its float tensors, so mutations hit the integer paths too.
    /// </summary>
    private static byte[] FuzzOriginal(string which)
    {
        byte[] lenet = File.ReadAllBytes(LeNetWeights);
        if (which == "lenet5")
        {
            return lenet;
        }

        var items = SafeTensorsFile.Items(TensorSet.LoadSafeTensors(lenet));
        items.Add(SafeTensorsFile.Item.I64("bn1.num_batches_tracked", Array.Empty<int>(), 938));
        items.Add(SafeTensorsFile.Item.I64("bn2.num_batches_tracked", Array.Empty<int>(), 938));
        items.Add(new SafeTensorsFile.Item("mask", "BOOL", new[] { 2, 3 }, new byte[] { 1, 0, 1, 1, 0, 0 }));
        items.Add(new SafeTensorsFile.Item("lut", "U8", new[] { 4 }, new byte[] { 0, 7, 200, 255 }));
        items.Add(new SafeTensorsFile.Item("q", "I8", new[] { 2 }, new byte[] { 0x80, 0x7F }));
        items.Add(new SafeTensorsFile.Item("idx16", "I16", new[] { 2 }, new byte[] { 1, 0, 0xFF, 0xFF }));
        items.Add(new SafeTensorsFile.Item("idx32", "I32", new[] { 1, 2 }, new byte[] { 5, 0, 0, 0, 0, 0, 0, 0x80 }));
        return SafeTensorsFile.Write(items, new Dictionary<string, string> { ["format"] = "pt" });
    }

    [TestCase("lenet5", FuzzIterations)]
    [TestCase("state_dict", FuzzIterations / 2)]
    public void FuzzedFilesLoadOrThrowWeightsException(string which, int iterations)
    {
        byte[] original = FuzzOriginal(which);
        int headerLength = checked((int)BinaryPrimitives.ReadUInt64LittleEndian(original));
        string header = Encoding.UTF8.GetString(original, 8, headerLength);
        byte[] data = original[(8 + headerLength)..];
        Assert.That(TensorSet.LoadSafeTensors(original.AsSpan()), Is.Not.Empty, "the unmutated file loads");

        var random = new Random(20240611);
        var failures = new List<string>();
        var outcomes = new Dictionary<Mutation, (int Loaded, int Rejected)>();
        var stopwatch = Stopwatch.StartNew();
        for (int iteration = 0; iteration < iterations; iteration++)
        {
            var mutation = (Mutation)(iteration % Enum.GetValues<Mutation>().Length);
            byte[] mutated = Mutate(mutation, original, header, data, random);
            bool? spanLoaded = TryLoad(() => TensorSet.LoadSafeTensors(mutated.AsSpan()), $"#{iteration} {mutation} span", failures);
            bool? streamLoaded = TryLoad(() => TensorSet.LoadSafeTensors(new TrickleStream(mutated, iteration)), $"#{iteration} {mutation} stream", failures);
            if (spanLoaded is not null && streamLoaded is not null && spanLoaded != streamLoaded)
            {
                failures.Add($"#{iteration} {mutation}: span {(spanLoaded.Value ? "loaded" : "rejected")} but stream {(streamLoaded.Value ? "loaded" : "rejected")}");
            }

            (int loaded, int rejected) = outcomes.GetValueOrDefault(mutation);
            outcomes[mutation] = spanLoaded == true ? (loaded + 1, rejected) : (loaded, rejected + 1);
        }

        string summary = string.Join(", ", outcomes.Select(o => $"{o.Key}: {o.Value.Loaded} loaded / {o.Value.Rejected} rejected"));
        TestContext.Out.WriteLine($"{iterations} mutations in {stopwatch.ElapsedMilliseconds} ms; {summary}");
        Assert.That(failures, Is.Empty, summary);
        Assert.That(outcomes.Values.Sum(o => o.Rejected), Is.GreaterThan(iterations / 2), "most mutations must be rejected");
        Assert.That(outcomes.Values.Sum(o => o.Loaded), Is.GreaterThan(0), "some harmless mutations must still load");
        Assert.That(outcomes.Values.All(o => o.Rejected > 0), Is.True, "every mutation kind produced at least one rejected file: " + summary);
    }

    /// <summary>Returns true (loaded), false (WeightsException) or null (any other exception, recorded as a failure).</summary>
    private static bool? TryLoad(Func<TensorSet> load, string what, List<string> failures)
    {
        try
        {
            TensorSet set = load();
            foreach (Tensor t in set)
            {
                if (t.Length != t.Shape.ToArray().Aggregate(1L, (a, b) => a * b))
                {
                    failures.Add($"{what}: tensor {t.Name} has {t.Length} values for shape {t.ShapeText}");
                }
            }

            return true;
        }
        catch (WeightsException)
        {
            return false;
        }
#pragma warning disable CA1031 // the point of the test is to catch everything else
        catch (Exception e)
#pragma warning restore CA1031
        {
            failures.Add($"{what}: {e.GetType().Name}: {e.Message}");
            return null;
        }
    }

    private static byte[] Mutate(Mutation mutation, byte[] original, string header, byte[] data, Random random)
    {
        switch (mutation)
        {
            case Mutation.FlipHeaderBytes:
            {
                byte[] copy = (byte[])original.Clone();
                int flips = 1 + random.Next(4);
                for (int i = 0; i < flips; i++)
                {
                    int at = 8 + random.Next(header.Length);
                    copy[at] = random.Next(3) == 0 ? (byte)random.Next(256) : (byte)(copy[at] ^ (1 << random.Next(8)));
                }

                return copy;
            }

            case Mutation.Truncate:
            {
                // Mostly inside the prefix/header, sometimes in the data.
                int length = random.Next(2) == 0 ? random.Next(Math.Min(original.Length, 8 + header.Length + 16)) : random.Next(original.Length);
                return original[..length];
            }

            case Mutation.ChangeHeaderLength:
            {
                byte[] copy = (byte[])original.Clone();
                ulong length = (ulong)header.Length;
                ulong value = random.Next(5) switch
                {
                    0 => length + (ulong)random.Next(-64, 65),
                    1 => (ulong)random.NextInt64(),
                    2 => ulong.MaxValue - (ulong)random.Next(1000),
                    3 => (ulong)random.Next(0, 200_000_000),
                    _ => length ^ (1UL << random.Next(64)),
                };
                BinaryPrimitives.WriteUInt64LittleEndian(copy, value);
                return copy;
            }

            case Mutation.SpliceGarbage:
            {
                int at = random.Next(header.Length + 1);
                byte[] garbage = new byte[1 + random.Next(32)];
                random.NextBytes(garbage);
                if (random.Next(2) == 0)
                {
                    // JSON-ish garbage is more likely to get past the tokenizer.
                    string[] tokens = { "{", "}", "[", "]", ",", ":", "\"", "0", "-1", "1e9", "null", "true", "\"F32\"", "\"__metadata__\"", "\\u0000" };
                    garbage = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Range(0, 1 + random.Next(6)).Select(_ => tokens[random.Next(tokens.Length)])));
                }

                byte[] newHeader = Encoding.UTF8.GetBytes(header[..at]).Concat(garbage).Concat(Encoding.UTF8.GetBytes(header[at..])).ToArray();
                bool fixLength = random.Next(2) == 0;
                return Raw(newHeader, data, fixLength ? null : (ulong)header.Length);
            }

            case Mutation.DuplicateEntry:
            {
                // Copy one "name":{...} entry, either under the same name or a new one (same data range -> overlap).
                int start = header.IndexOf("\"", 1 + random.Next(Math.Max(1, header.Length - 40)), StringComparison.Ordinal);
                int objectStart = start < 0 ? -1 : header.IndexOf('{', start);
                int objectEnd = objectStart < 0 ? -1 : header.IndexOf('}', objectStart);
                if (start < 0 || objectStart < 0 || objectEnd < 0)
                {
                    return Raw(header + header, data);
                }

                string entry = header[start..(objectEnd + 1)];
                if (random.Next(2) == 0)
                {
                    entry = "\"copy_" + entry[1..];
                }

                string newHeader = "{" + entry + "," + header[1..];
                return Raw(newHeader, data);
            }

            case Mutation.HugeNumber:
            case Mutation.TweakDigit:
            {
                int[] digits = Enumerable.Range(0, header.Length).Where(i => char.IsAsciiDigit(header[i])).ToArray();
                if (digits.Length == 0)
                {
                    return original;
                }

                int at = digits[random.Next(digits.Length)];
                string replacement = mutation == Mutation.HugeNumber
                    ? random.Next(6) switch
                    {
                        0 => "2147483648",
                        1 => "9223372036854775807",
                        2 => "18446744073709551616",
                        3 => "1e308",
                        4 => "4294967296",
                        _ => "99999999999999999999999999999999",
                    }
                    : random.Next(4) switch
                    {
                        0 => ((char)('0' + random.Next(10))).ToString(),
                        1 => "-" + header[at],
                        2 => header[at] + "0",
                        _ => header[at] + ".5",
                    };
                string newHeader = header[..at] + replacement + header[(at + 1)..];
                return Raw(newHeader, data);
            }

            case Mutation.ReplaceToken:
            {
                string[] from = { "\"F32\"", "\"shape\"", "\"data_offsets\"", "\"dtype\"", "[", "]", ",", ":", "{", "}", "\"__metadata__\"" };
                string[] to =
                {
                    "\"F16\"", "\"F64\"", "\"BF16\"", "\"I64\"", "\"I32\"", "\"I16\"", "\"I8\"", "\"U8\"", "\"U64\"", "\"BOOL\"", "\"F8_E4M3\"",
                    "\"\"", "null", "[]", "{}", "\"x\"", "[0]", "[1,2,3]", "\"__metadata__\"", "\"dtype\"",
                };
                string token = from[random.Next(from.Length)];
                int at = header.IndexOf(token, random.Next(header.Length), StringComparison.Ordinal);
                if (at < 0)
                {
                    at = header.IndexOf(token, StringComparison.Ordinal);
                }

                if (at < 0)
                {
                    return original;
                }

                string newHeader = header[..at] + to[random.Next(to.Length)] + header[(at + token.Length)..];
                return Raw(newHeader, data);
            }

            case Mutation.ManyEntries:
            {
                // Many small entries: mostly a few hundred (they load), now and then past the 100,000-tensor cap.
                int count = random.Next(40) == 0 ? 100_000 - 5 + random.Next(10) : random.Next(1, 500);
                string[] dtypes = { "F32", "I64", "U8", "BOOL", "F16" };
                var entries = new StringBuilder();
                for (int i = 0; i < count; i++)
                {
                    entries.Append("\"zz").Append(i).Append("\":{\"dtype\":\"").Append(dtypes[i % dtypes.Length]).Append("\",\"shape\":[0],\"data_offsets\":[0,0]},");
                }

                return Raw("{" + entries + header[1..], data);
            }

            default:
                throw new ArgumentOutOfRangeException(nameof(mutation));
        }
    }
}
