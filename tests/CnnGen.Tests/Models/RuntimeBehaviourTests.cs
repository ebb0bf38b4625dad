using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using CnnGen.Tests.Networks;

namespace CnnGen.Tests.Models;

/// <summary>What a generated network does with bad input, other key schemes, many threads, and the allocator.</summary>
public sealed class RuntimeBehaviourTests
{
    private static string Weights => Fixtures.Model("lenet5", "weights.safetensors");

    private static float[] Digit(int i = 0) => Fixtures.Floats(Fixtures.Model("lenet5", "golden_input.bin")).AsSpan(i * 784, 784).ToArray();

    [Test]
    public void Wrong_input_length_names_both_sizes()
    {
        var net = LeNet5.Load(Weights);
        var ex = Assert.Throws<ArgumentException>(() => net.Predict(new float[100], new float[10]));
        Assert.That(ex!.Message, Does.Contain("input has 100 floats but LeNet5 takes 784 (1x28x28, NCHW)"));
        Assert.That(ex.ParamName, Is.EqualTo("input"));
    }

    [Test]
    public void Wrong_output_length_names_both_sizes()
    {
        var net = LeNet5.Load(Weights);
        var ex = Assert.Throws<ArgumentException>(() => net.Predict(new float[784], new float[9]));
        Assert.That(ex!.Message, Does.Contain("output has 9 floats but LeNet5 writes 10 ([10])"));
    }

    [Test]
    public void Wrong_batch_spans_name_the_sizes()
    {
        var net = LeNet5.Load(Weights);
        var ex = Assert.Throws<ArgumentException>(() => net.PredictBatch(new float[784 * 3], new float[20], 2));
        Assert.That(ex!.Message, Does.Contain("inputs has 2352 floats but LeNet5 takes 1568 for a batch of 2"));
        Assert.Throws<ArgumentOutOfRangeException>(() => net.PredictBatch(Array.Empty<float>(), Array.Empty<float>(), -1));
        Assert.DoesNotThrow(() => net.PredictBatch(Array.Empty<float>(), Array.Empty<float>(), 0));
    }

    [TestCase(float.NaN)]
    [TestCase(float.PositiveInfinity)]
    [TestCase(float.NegativeInfinity)]
    public void Non_finite_input_is_rejected_with_its_index_and_the_output_is_untouched(float bad)
    {
        var net = LeNet5.Load(Weights);
        var input = Digit();
        input[500] = bad;
        var output = Enumerable.Repeat(42f, 10).ToArray();
        var ex = Assert.Throws<ArgumentException>(() => net.Predict(input, output));
        Assert.That(ex!.Message, Does.Contain("input[500] is"));
        Assert.That(output, Is.All.EqualTo(42f));
        Assert.Throws<ArgumentException>(() => net.Classify(input));
    }

    [Test]
    public void A_finite_input_that_overflows_float32_is_an_ArithmeticException_naming_the_output()
    {
        // float.MaxValue pixels are finite, so the input check lets them through; the sums overflow to infinity and
        // infinity - infinity is NaN. Without the output check the caller would get NaN scores silently.
        var net = LeNet5.Load(Weights);
        var huge = Enumerable.Repeat(float.MaxValue, 784).ToArray();
        var output = new float[10];
        var ex = Assert.Throws<ArithmeticException>(() => net.Predict(huge, output));
        Assert.That(ex!.Message, Does.Match(@"^LeNet5 computed (NaN|-?∞|-?Infinity) at output\[\d\] from a finite input: an intermediate value overflowed float32, so an input or a weight is too large in magnitude$"));
        Assert.That(output.Any(v => !float.IsFinite(v)), Is.True, "the output holds what was computed");
        Assert.Throws<ArithmeticException>(() => net.Predict(huge));
        Assert.Throws<ArithmeticException>(() => net.Classify(huge));

        // In a batch the message names the image; the other images' outputs are computed.
        var batch = Digit(0).Concat(Digit(1)).Concat(huge).ToArray();
        var outputs = new float[30];
        var batchEx = Assert.Throws<ArithmeticException>(() => net.PredictBatch(batch, outputs, 3));
        Assert.That(batchEx!.Message, Does.Contain("of image 2 (outputs[2"));
        Assert.That(outputs.AsSpan(0, 20).ToArray(), Is.EqualTo(net.Predict(Digit(0)).Concat(net.Predict(Digit(1)))));
        foreach (int threads in new[] { 1, 2, 3 })
        {
            var threaded = Assert.Throws<ArithmeticException>(() => net.PredictBatch(batch.AsMemory(), new float[30].AsMemory(), 3, threads));
            Assert.That(threaded!.Message, Does.Contain("of image 2 (outputs[2"), $"{threads} threads");
        }

        // Large but harmless inputs still predict.
        var bright = Digit().Select(v => v * 1e6f).ToArray();
        Assert.DoesNotThrow(() => net.Predict(bright, output));
    }

    [TestCase(0)]
    [TestCase(57)]
    [TestCase(3135)]
    [TestCase(100351)]
    public void Non_finite_input_is_caught_while_packing_channels_last(int index)
    {
        // MobileNetBlock packs its input NCHW -> HWC (8x8 AVX blocks and scalar edges) and checks it in that pass.
        var net = MobileNetBlock.Load(Fixtures.Model("mobilenet_block", "weights.safetensors"));
        var input = new float[MobileNetBlock.InputSize];
        input[index] = float.NaN;
        var output = Enumerable.Repeat(7f, MobileNetBlock.OutputSize).ToArray();
        var ex = Assert.Throws<ArgumentException>(() => net.Predict(input, output));
        Assert.That(ex!.Message, Does.Contain($"input[{index}] is NaN"));
        Assert.That(output, Is.All.EqualTo(7f));

        var mlp = Mlp.Load(Fixtures.Model("mlp", "weights.safetensors")); // reads its input in place: checked up front
        var digit = Digit();
        digit[783] = float.PositiveInfinity;
        Assert.That(Assert.Throws<ArgumentException>(() => mlp.Predict(digit, new float[10]))!.Message, Does.Contain("input[783] is"));
    }

    [Test]
    public void A_missing_tensor_is_named_with_its_expected_shape()
    {
        var tensors = TensorSet.LoadSafeTensors(Weights).Where(t => t.Name != "conv2.weight");
        var ex = Assert.Throws<WeightsException>(() => LeNet5.Load(new TensorSet(tensors)));
        Assert.That(ex!.Message, Does.Contain("tensor 'conv2.weight' for Conv2D 'conv2' (16 filters, 6 input channels, 5x5) is missing (expected shape [16, 6, 5, 5])"));
        Assert.That(ex.TensorName, Is.EqualTo("conv2.weight"));
    }

    [Test]
    public void A_misshapen_tensor_names_expected_and_found_shapes()
    {
        var tensors = TensorSet.LoadSafeTensors(Weights).Select(t => t.Name == "fc1.weight" ? new Tensor(t.Name, new[] { 400, 120 }, t.Data) : t);
        var ex = Assert.Throws<WeightsException>(() => LeNet5.Load(new TensorSet(tensors)));
        Assert.That(ex!.Message, Does.Contain("tensor 'fc1.weight' for Dense 'fc1' (120 units, 400 input features) has shape [400, 120], expected [120, 400]"));
    }

    [Test]
    public void A_non_finite_weight_is_rejected()
    {
        var tensors = TensorSet.LoadSafeTensors(Weights).Select(t =>
        {
            if (t.Name != "fc3.bias")
            {
                return t;
            }

            var data = t.Data.ToArray();
            data[3] = float.NaN;
            return new Tensor(t.Name, t.Shape, data);
        });
        var ex = Assert.Throws<WeightsException>(() => LeNet5.Load(new TensorSet(tensors)));
        Assert.That(ex!.Message, Does.Contain("'fc3.bias'").And.Contain("NaN at index 3"));
    }

    [Test]
    public void Truncated_weights_file_gives_a_WeightsException()
    {
        var bytes = File.ReadAllBytes(Weights);
        Assert.Throws<WeightsException>(() => LeNet5.Load(bytes.AsSpan(0, bytes.Length / 2)));
        Assert.Throws<WeightsException>(() => LeNet5.Load(new MemoryStream(bytes, 0, 100)));
        Assert.Throws<FileNotFoundException>(() => LeNet5.Load(Path.Combine(Path.GetTempPath(), "no-such-weights.safetensors")));
    }

    [Test]
    public void Other_key_schemes_load_through_a_prefix_or_a_key_map()
    {
        var original = TensorSet.LoadSafeTensors(Weights);
        var expected = LeNet5.Load(original).Predict(Digit());

        // A wrapped state_dict ("model.conv1.weight") ...
        var prefixed = new TensorSet(original.Select(t => new Tensor("model." + t.Name, t.Shape, t.Data)));
        Assert.That(LeNet5.Load(prefixed, new LoadOptions { Prefix = "model." }).Predict(Digit()), Is.EqualTo(expected));

        // ... and an nn.Sequential's numbered keys ("features.0.weight").
        var names = new Dictionary<string, string> { ["conv1"] = "features.0", ["conv2"] = "features.3", ["fc1"] = "classifier.0", ["fc2"] = "classifier.2", ["fc3"] = "classifier.4" };
        var sequential = new TensorSet(original.Select(t => new Tensor(names[t.Name.Split('.')[0]] + "." + t.Name.Split('.')[1], t.Shape, t.Data)));
        var options = new LoadOptions { KeyMap = key => names.TryGetValue(key.Split('.')[0], out var n) ? n + "." + key.Split('.')[1] : key };
        Assert.That(LeNet5.Load(sequential, options).Predict(Digit()), Is.EqualTo(expected));
    }

    [Test]
    public void One_instance_is_safe_from_many_threads()
    {
        var net = LeNet5.Load(Weights);
        var inputs = Fixtures.Floats(Fixtures.Model("lenet5", "golden_input.bin"));
        var expected = new float[16 * 10];
        net.PredictBatch(inputs, expected, 16);
        var failures = 0;
        Parallel.For(0, 4000, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
        {
            int d = i % 16;
            var output = new float[10];
            net.Predict(inputs.AsSpan(d * 784, 784), output);
            if (!output.AsSpan().SequenceEqual(expected.AsSpan(d * 10, 10)))
            {
                System.Threading.Interlocked.Increment(ref failures);
            }
        });
        Assert.That(failures, Is.Zero);
    }

    [TestCase(1)]
    [TestCase(2)]
    [TestCase(3)]
    [TestCase(64)]
    public void Batches_on_many_threads_give_the_single_thread_results(int threads)
    {
        var (images, _) = Fixtures.MnistTest();
        const int n = 50;
        var inputs = images.AsMemory(0, n * 784);
        foreach (INetwork net in new INetwork[] { LeNet5.Load(Weights), Mlp.Load(Fixtures.Model("mlp", "weights.safetensors")) })
        {
            var expected = new float[n * 10];
            net.PredictBatch(inputs.Span, expected, n);
            var actual = new float[n * 10];
            net.PredictBatch(inputs, actual, n, threads);
            Assert.That(actual, Is.EqualTo(expected));
        }

        Assert.Throws<ArgumentOutOfRangeException>(() => LeNet5.Load(Weights).PredictBatch(inputs, new float[n * 10], n, 0));

        // A bad image anywhere fails the whole batch before any thread writes an output.
        var bad = images.AsSpan(0, n * 784).ToArray();
        bad[(n - 1) * 784] = float.NaN;
        var untouched = Enumerable.Repeat(3f, n * 10).ToArray();
        Assert.Throws<ArgumentException>(() => LeNet5.Load(Weights).PredictBatch(bad.AsMemory(), untouched.AsMemory(), n, threads));
        Assert.That(untouched, Is.All.EqualTo(3f));
    }

    [Test]
    public void Grouped_batches_match_single_predictions_for_every_batch_size()
    {
        // The MLP runs dense layers 6 or 8 images at a time; every remainder must still be right.
        var net = Mlp.Load(Fixtures.Model("mlp", "weights.safetensors"));
        var (images, _) = Fixtures.MnistTest();
        for (int n = 0; n <= 19; n++)
        {
            var batch = new float[n * 10];
            net.PredictBatch(images.AsSpan(0, n * 784), batch, n);
            for (int i = 0; i < n; i++)
            {
                Assert.That(batch.AsSpan(i * 10, 10).ToArray(), Is.EqualTo(net.Predict(images.AsSpan(i * 784, 784))).Within(1e-6), $"batch {n}, image {i}");
            }
        }
    }

    [Test]
    public void Predict_allocates_nothing_in_steady_state()
    {
        var net = LeNet5.Load(Weights);
        var input = Digit();
        var output = new float[10];
        var batchIn = new float[3 * 784];
        var batchOut = new float[3 * 10];
        long bytes = Allocations.SteadyState(() =>
        {
            net.Predict(input, output);
            net.Classify(input);
            net.PredictBatch(batchIn, batchOut, 3);
            net.PredictBatch(batchIn.AsMemory(), batchOut.AsMemory(), 3, threads: 1);
        });

        Assert.That(bytes, Is.Zero, "bytes allocated by 500 rounds of Predict, Classify and PredictBatch (span and one thread)");
    }

    [Test]
    public void Metadata_describes_the_network()
    {
        Assert.That(LeNet5.InputSize, Is.EqualTo(784));
        Assert.That(LeNet5.OutputSize, Is.EqualTo(10));
        Assert.That(LeNet5.ParameterCount, Is.EqualTo(61706)); // PyTorch's count (model.json)
        Assert.That(LeNet5.Flops, Is.EqualTo(833040));         // 2 x MACs (model.json)
        Assert.That(Mlp.ParameterCount, Is.EqualTo(109386));
        Assert.That(Mlp.Flops, Is.EqualTo(218368));
        Assert.That(LeNet5.InputShape.ToArray(), Is.EqualTo(new[] { 1, 28, 28 }));
        Assert.That(LeNet5.OutputShape.ToArray(), Is.EqualTo(new[] { 10 }));
        Assert.That(LeNet5.Summary, Does.Contain("conv2 (Conv2D + Relu)").And.Contain("16x10x10").And.Contain("Total params: 61,706"));
    }
}
