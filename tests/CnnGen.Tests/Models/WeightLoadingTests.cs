using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using CnnGen.Tests.Networks;
using CnnGen.Tests.Runtime;

namespace CnnGen.Tests.Models;

/// <summary>
/// What a generated network's <c>Load</c> accepts and rejects: real PyTorch state_dicts (integer counters), strict loading,
/// integer tensors where parameters belong, absurd magnitudes, a null key map, a directory instead of a file.
/// </summary>
public sealed class WeightLoadingTests
{
    private static string LeNetWeights => Fixtures.Model("lenet5", "weights.safetensors");

    private static string ResNetBnWeights => Fixtures.Model("cifar_resnet8", "weights_bn.safetensors");

    private static float[] Digit() => Fixtures.Floats(Fixtures.Model("lenet5", "golden_input.bin")).AsSpan(0, 784).ToArray();

    private static TensorSet Replace(TensorSet set, string name, Func<Tensor, Tensor> replace) =>
        new(set.Select(t => t.Name == name ? replace(t) : t));

    // ---------------------------------------------------------------- a real PyTorch state_dict

    /// <summary>
    /// weights_bn.safetensors rewritten as <c>safetensors.torch.save_file(model.state_dict())</c> writes a network with batch
    /// norm: every BatchNorm2d also has <c>num_batches_tracked</c>, an int64 scalar (shape [], 8 bytes little-endian),
    /// stored first because the library sorts tensors by dtype.
    /// </summary>
    private static byte[] ResNetBnStateDict()
    {
        var items = SafeTensorsFile.Items(TensorSet.LoadSafeTensors(ResNetBnWeights));
        var norms = items.Where(i => i.Name.EndsWith(".running_var", StringComparison.Ordinal)).Select(i => i.Name[..^".running_var".Length]).ToList();
        Assert.That(norms, Has.Count.EqualTo(9), "batch norms in cifar_resnet8");
        items.AddRange(norms.Select((n, k) => SafeTensorsFile.Item.I64(n + ".num_batches_tracked", Array.Empty<int>(), 46_920 + k)));
        return SafeTensorsFile.Write(items, new Dictionary<string, string> { ["format"] = "pt" });
    }

    [Test]
    public void A_state_dict_with_int64_num_batches_tracked_loads_strictly_and_predicts_as_without_them()
    {
        byte[] file = ResNetBnStateDict();
        Assert.That(SafeTensorsFile.Header(file), Does.StartWith("""{"__metadata__":{"format":"pt"},"bn1.num_batches_tracked":{"dtype":"I64","shape":[],"data_offsets":[0,8]}"""));

        var set = TensorSet.LoadSafeTensors(file);
        Tensor counter = set.Get("layer2.proj.1.num_batches_tracked");
        Assert.That(counter.DType, Is.EqualTo(TensorDType.I64));
        Assert.That(counter.Shape.Length, Is.Zero, "a scalar");
        Assert.That(counter.Data.ToArray(), Is.EqualTo(new[] { 46_925f }));

        var input = Fixtures.Floats(Fixtures.Model("cifar_resnet8", "golden_input.bin")).AsSpan(0, CifarResNet8Bn.InputSize).ToArray();
        var expected = CifarResNet8Bn.Load(ResNetBnWeights).Predict(input);
        string path = Path.Combine(Path.GetTempPath(), $"cnngen-{Guid.NewGuid():N}.safetensors");
        try
        {
            File.WriteAllBytes(path, file);
            Assert.That(CifarResNet8Bn.Load(path).Predict(input), Is.EqualTo(expected), "from the file");
            Assert.That(CifarResNet8Bn.Load(file.AsSpan()).Predict(input), Is.EqualTo(expected), "from bytes");
            using var stream = new MemoryStream(file);
            Assert.That(CifarResNet8Bn.Load(stream).Predict(input), Is.EqualTo(expected), "from a stream");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void An_integer_tensor_where_a_parameter_belongs_is_named_with_its_dtype()
    {
        var items = SafeTensorsFile.Items(TensorSet.LoadSafeTensors(LeNetWeights)).Where(i => i.Name != "fc3.bias").ToList();
        items.Add(SafeTensorsFile.Item.I64("fc3.bias", new[] { 10 }, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9));
        var ex = Assert.Throws<WeightsException>(() => LeNet5.Load(SafeTensorsFile.Write(items).AsSpan()));
        Assert.That(ex!.Message, Does.Contain("tensor 'fc3.bias' for Dense 'fc3' (10 units, 84 input features) has dtype I64; a parameter must be a floating-point tensor"));
        Assert.That(ex.TensorName, Is.EqualTo("fc3.bias"));
    }

    // ---------------------------------------------------------------- strict loading

    [Test]
    public void Unused_tensors_are_an_error_by_default_naming_them_and_the_opt_out()
    {
        var tensors = TensorSet.LoadSafeTensors(LeNetWeights).Append(new Tensor("extra.weight", new[] { 1 }, new[] { 1f }));
        var ex = Assert.Throws<WeightsException>(() => LeNet5.Load(new TensorSet(tensors)));
        Assert.That(ex!.Message, Does.Contain("LeNet5: the weights hold 1 tensor that no layer reads: extra.weight."));
        Assert.That(ex.Message, Does.Contain("new LoadOptions { Strict = false }"));
        Assert.That(ex.TensorName, Is.EqualTo("extra.weight"));
        Assert.That(LeNet5.Load(new TensorSet(tensors), new LoadOptions { Strict = false }).Predict(Digit()), Is.EqualTo(LeNet5.Load(LeNetWeights).Predict(Digit())));
    }

    [Test]
    public void Many_unused_tensors_are_listed_as_the_first_ten_and_a_count()
    {
        var extras = Enumerable.Range(0, 25).Select(i => new Tensor($"head{i:00}.weight", new[] { 1 }, new[] { 1f }));
        var ex = Assert.Throws<WeightsException>(() => LeNet5.Load(new TensorSet(TensorSet.LoadSafeTensors(LeNetWeights).Concat(extras))));
        Assert.That(ex!.Message, Does.Contain("25 tensors that no layer reads: head00.weight, head01.weight").And.Contain("head09.weight and 15 more."));
        Assert.That(ex.Message, Does.Not.Contain("head10"));
    }

    [Test]
    public void A_network_that_forgets_a_bias_does_not_load_silently()
    {
        // A user declares conv layers with Bias = false although the PyTorch model has biases.
        var set = new TensorSet(new[]
        {
            new Tensor("conv.weight", new[] { 8, 3, 1, 1 }, new float[24]),
            new Tensor("conv.bias", new[] { 8 }, new float[8]),
        });
        var assembly = Generator.GeneratorHarness.CompileAndLoad("""
            using CnnGen;
            namespace Forgetful;
            [Network, Input(3, 4, 4), Conv2D(8, 1, Bias = false, Name = "conv")]
            public partial class NoBias;
            """);
        var ex = Assert.Throws<WeightsException>(() => Generator.GeneratorHarness.Load(assembly, "Forgetful.NoBias", set));
        Assert.That(ex!.Message, Does.Contain("that no layer reads: conv.bias"));
    }

    [Test]
    public void Counters_are_exempt_by_their_last_name_segment_only()
    {
        var lenet = TensorSet.LoadSafeTensors(LeNetWeights);
        var counters = new TensorSet(lenet.Append(new Tensor("num_batches_tracked", Array.Empty<int>(), new[] { 3f }))
            .Append(new Tensor("bn9.num_batches_tracked", Array.Empty<int>(), new[] { 3f })));
        Assert.DoesNotThrow(() => LeNet5.Load(counters));

        var lookalike = new TensorSet(lenet.Append(new Tensor("bn9.my_num_batches_tracked", Array.Empty<int>(), new[] { 3f })));
        Assert.That(Assert.Throws<WeightsException>(() => LeNet5.Load(lookalike))!.Message, Does.Contain("bn9.my_num_batches_tracked"));
    }

    [Test]
    public void Strict_loading_works_through_prefixes_key_maps_and_views()
    {
        var original = TensorSet.LoadSafeTensors(LeNetWeights);
        var expected = LeNet5.Load(original).Predict(Digit());
        var wrapped = new TensorSet(original.Select(t => new Tensor("model." + t.Name, t.Shape, t.Data)));

        Assert.That(LeNet5.Load(wrapped, new LoadOptions { Prefix = "model." }).Predict(Digit()), Is.EqualTo(expected), "LoadOptions.Prefix");
        Assert.That(LeNet5.Load(wrapped.WithPrefix("model.")).Predict(Digit()), Is.EqualTo(expected), "a WithPrefix view");
        Assert.That(LeNet5.Load(wrapped, new LoadOptions { KeyMap = k => "model." + k }).Predict(Digit()), Is.EqualTo(expected), "a key map");

        // A view does not hide the rest of the file: its tensors are still unused.
        var withHead = new TensorSet(wrapped.Append(new Tensor("head.weight", new[] { 1 }, new[] { 1f })));
        Assert.That(Assert.Throws<WeightsException>(() => LeNet5.Load(withHead.WithPrefix("model.")))!.Message, Does.Contain("head.weight"));
    }

    // ---------------------------------------------------------------- values

    [TestCase(3.3e38f, "3.3E+38")]
    [TestCase(-1.1e15f, "-1.1E+15")]
    [TestCase(float.MaxValue, "3.4028235E+38")]
    public void Absurd_magnitudes_are_rejected_at_load(float value, string text)
    {
        var set = Replace(TensorSet.LoadSafeTensors(LeNetWeights), "conv2.weight", t =>
        {
            var data = t.Data.ToArray();
            data[17] = value;
            return new Tensor(t.Name, t.Shape, data);
        });
        var ex = Assert.Throws<WeightsException>(() => LeNet5.Load(set));
        Assert.That(ex!.Message, Does.Contain($"tensor 'conv2.weight' for Conv2D 'conv2' (16 filters, 6 input channels, 5x5) holds {text} at index 17"));
        Assert.That(ex.Message, Does.Contain("beyond +-1E+15"));
        Assert.That(ex.TensorName, Is.EqualTo("conv2.weight"));
    }

    [Test]
    public void Magnitudes_up_to_the_bound_load()
    {
        var set = Replace(TensorSet.LoadSafeTensors(LeNetWeights), "fc3.bias", t => new Tensor(t.Name, t.Shape, Enumerable.Repeat(-LoadOptions.MaxWeightMagnitude, 10).ToArray()));
        Assert.DoesNotThrow(() => LeNet5.Load(set));
        Assert.That(LoadOptions.MaxWeightMagnitude, Is.EqualTo(1e15f));
    }

    [Test]
    public void Infinity_is_rejected_as_not_finite()
    {
        var set = Replace(TensorSet.LoadSafeTensors(LeNetWeights), "fc1.bias", t =>
        {
            var data = t.Data.ToArray();
            data[0] = float.NegativeInfinity;
            return new Tensor(t.Name, t.Shape, data);
        });
        Assert.That(Assert.Throws<WeightsException>(() => LeNet5.Load(set))!.Message, Does.Contain("holds -Infinity at index 0; weights must be finite"));
    }

    // ---------------------------------------------------------------- options and paths

    [Test]
    public void A_key_map_that_returns_null_names_the_key()
    {
        var options = new LoadOptions { KeyMap = k => k.StartsWith("fc2", StringComparison.Ordinal) ? null! : k };
        var ex = Assert.Throws<WeightsException>(() => LeNet5.Load(LeNetWeights, options));
        Assert.That(ex!.Message, Does.Contain("LoadOptions.KeyMap returned null for 'fc2.weight'"));
        Assert.That(ex.TensorName, Is.EqualTo("fc2.weight"));

        var view = TensorSet.LoadSafeTensors(LeNetWeights).Rename(n => n == "conv1.bias" ? null! : n);
        var viewEx = Assert.Throws<WeightsException>(() => LeNet5.Load(view));
        Assert.That(viewEx!.Message, Does.Contain("the rename map returned null for 'conv1.bias'"));
    }

    [Test]
    public void A_directory_is_an_IOException_naming_it()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"cnngen-{Guid.NewGuid():N}.safetensors");
        Directory.CreateDirectory(dir);
        try
        {
            var ex = Assert.Throws<IOException>(() => LeNet5.Load(dir));
            Assert.That(ex!.Message, Does.Contain(dir).And.Contain("is a directory"));
            Assert.Throws<IOException>(() => TensorSet.LoadSafeTensors(dir));
        }
        finally
        {
            Directory.Delete(dir);
        }

        Assert.Throws<FileNotFoundException>(() => LeNet5.Load(dir));
        Assert.Throws<DirectoryNotFoundException>(() => LeNet5.Load(Path.Combine(dir, "weights.safetensors")));
        Assert.Throws<ArgumentException>(() => LeNet5.Load(string.Empty));
    }

    // ---------------------------------------------------------------- loading from a path, one tensor at a time

    private static string TempFile(byte[] bytes)
    {
        string path = Path.Combine(Path.GetTempPath(), $"cnngen-{Guid.NewGuid():N}.safetensors");
        File.WriteAllBytes(path, bytes);
        return path;
    }

    /// <summary>The file can be opened for exclusive access: the loader closed its handle.</summary>
    private static void AssertClosed(string path)
    {
        using var exclusive = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.None);
    }

    [Test]
    public void Loading_a_path_predicts_as_loading_the_tensors_and_closes_the_file()
    {
        var fromMemory = LeNet5.Load(TensorSet.LoadSafeTensors(LeNetWeights));
        foreach (var width in new[] { VectorWidth.V128, VectorWidth.V256, VectorWidth.V512 })
        {
            var options = new LoadOptions { VectorWidth = width };
            Assert.That(LeNet5.Load(LeNetWeights, options).Predict(Digit()), Is.EqualTo(LeNet5.Load(TensorSet.LoadSafeTensors(LeNetWeights), options).Predict(Digit())), width.ToString());
        }

        // Batch norm folded at load, int64 counters in the file, a float64 tensor converted chunk by chunk.
        string resnet = TempFile(ResNetBnStateDict());
        var doubles = SafeTensorsFile.Items(TensorSet.LoadSafeTensors(LeNetWeights)).Select(i => i.Name.StartsWith("fc1", StringComparison.Ordinal)
            ? new SafeTensorsFile.Item(i.Name, "F64", i.Shape, MemoryMarshal.AsBytes(MemoryMarshal.Cast<byte, float>(i.Bytes).ToArray().Select(v => (double)v).ToArray().AsSpan()).ToArray())
            : i);
        string f64 = TempFile(SafeTensorsFile.Write(doubles));
        try
        {
            var input = new float[CifarResNet8Bn.InputSize];
            for (int i = 0; i < input.Length; i++)
            {
                input[i] = (i % 17) / 17f;
            }

            Assert.That(CifarResNet8Bn.Load(resnet).Predict(input), Is.EqualTo(CifarResNet8Bn.Load(ResNetBnStateDict().AsSpan()).Predict(input)));
            Assert.That(LeNet5.Load(f64).Predict(Digit()), Is.EqualTo(fromMemory.Predict(Digit())));
            AssertClosed(resnet);
            AssertClosed(f64);
        }
        finally
        {
            File.Delete(resnet);
            File.Delete(f64);
        }
    }

    [Test]
    public void Loading_a_path_reports_what_loading_the_tensors_reports_and_closes_the_file()
    {
        var items = SafeTensorsFile.Items(TensorSet.LoadSafeTensors(LeNetWeights));
        string missing = TempFile(SafeTensorsFile.Write(items.Where(i => i.Name != "conv2.weight")));
        string extra = TempFile(SafeTensorsFile.Write(items.Append(SafeTensorsFile.Item.F32("fc4.weight", new[] { 2 }, new float[2]))));
        string integer = TempFile(SafeTensorsFile.Write(items.Where(i => i.Name != "fc3.bias").Append(SafeTensorsFile.Item.I64("fc3.bias", new[] { 10 }, new long[10]))));
        try
        {
            var ex = Assert.Throws<WeightsException>(() => LeNet5.Load(missing));
            Assert.That(ex!.Message, Does.Contain("tensor 'conv2.weight' for Conv2D 'conv2' (16 filters, 6 input channels, 5x5) is missing (expected shape [16, 6, 5, 5])"));
            Assert.That(Assert.Throws<WeightsException>(() => LeNet5.Load(extra))!.Message, Does.Contain("1 tensor that no layer reads: fc4.weight"));
            Assert.DoesNotThrow(() => LeNet5.Load(extra, new LoadOptions { Strict = false }));
            Assert.That(Assert.Throws<WeightsException>(() => LeNet5.Load(integer))!.Message, Does.Contain("tensor 'fc3.bias' for Dense 'fc3' (10 units, 84 input features) has dtype I64"));
            foreach (string path in new[] { missing, extra, integer })
            {
                AssertClosed(path);
            }
        }
        finally
        {
            File.Delete(missing);
            File.Delete(extra);
            File.Delete(integer);
        }

        // A malformed file is reported with its path, as TensorSet.LoadSafeTensors(path) reports it.
        var bytes = File.ReadAllBytes(LeNetWeights);
        string truncated = TempFile(bytes.AsSpan(0, bytes.Length / 2).ToArray());
        try
        {
            var ex = Assert.Throws<WeightsException>(() => LeNet5.Load(truncated));
            Assert.That(ex!.Message, Does.StartWith(truncated + ": "));
            Assert.That(ex.Message, Is.EqualTo(Assert.Throws<WeightsException>(() => TensorSet.LoadSafeTensors(truncated))!.Message));
            AssertClosed(truncated);
        }
        finally
        {
            File.Delete(truncated);
        }
    }

    [Test]
    public void Opening_a_file_reads_its_header_only_and_each_tensor_when_asked()
    {
        // 4 MB of weights: opening reads the header, reading a tensor allocates that tensor (the peak of Load(path) is
        // the packed weights plus one layer's tensors, not the whole state_dict twice).
        var big = new float[1 << 20];
        string path = TempFile(SafeTensorsFile.Write(new[] { SafeTensorsFile.Item.F32("a.weight", new[] { big.Length }, big), SafeTensorsFile.Item.F32("b.weight", new[] { 4 }, new float[] { 1, 2, 3, 4 }) }));
        try
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            using var reader = CnnGen.Internal.WeightReader.Open(path, null, "Net");
            long opened = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.That(opened, Is.LessThan(64 * 1024), "bytes allocated by Open");
            Assert.That(reader.Read("b", "weight", "b", 4), Is.EqualTo(new float[] { 1, 2, 3, 4 }));
            long small = GC.GetAllocatedBytesForCurrentThread() - before - opened;
            Assert.That(small, Is.LessThan(64 * 1024), "bytes allocated reading a 4-float tensor");
            Assert.That(reader.Read("a", "weight", "a", big.Length), Has.Length.EqualTo(big.Length));
            Assert.That(Assert.Throws<WeightsException>(() => reader.Read("c", "weight", "Conv2D 'c'", 1))!.Message, Does.Contain("the weights have: a.weight, b.weight"));
            reader.Finish();
        }
        finally
        {
            File.Delete(path);
        }
    }
}
