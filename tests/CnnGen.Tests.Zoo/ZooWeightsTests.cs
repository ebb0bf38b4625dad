using System;
using System.Linq;
using CnnGen.Tests.Zoo;

namespace CnnGen.Tests.Zoo.Tests;

/// <summary>The C# weight formula against ../shared/zoo/README.md's test vectors and an independent Python evaluation, bit for bit.</summary>
public class ZooWeightsTests
{
    [Test]
    public void Fnv1a64_matches_the_readme() =>
        Assert.That(ZooWeights.Fnv1a64("conv1.weight"), Is.EqualTo(0x69a29a2cee47d254UL));

    [Test]
    public void Conv1_weight_with_bound_1_matches_the_readme_bit_for_bit()
    {
        var values = ZooWeights.Formula("conv1.weight", 4, 1f);
        AssertBits(values, [0.0901498794555664, -0.8503705263137817, 0.9200377464294434, 0.687371015548706]);
    }

    [Test]
    public void Input0_with_bound_2_matches_the_readme_bit_for_bit()
    {
        var input = ZooWeights.Input(0);
        Assert.That(input, Has.Length.EqualTo(3 * 224 * 224));
        AssertBits(input.AsSpan(0, 3).ToArray(), [-1.1856229305267334, -1.998344898223877, 0.9470334053039551]);
    }

    // Computed with a pure-Python transcription of zoo_weights.py (integers masked to 64 bits, float32 rounding through
    // struct.pack after each operation), with golden.json's rules: late indices (the hash + index carry), a batch-norm
    // weight (offset 1), a bias, the last value of input1 and of VGG-16's largest tensor (102,760,448 values).
    [TestCase("layer4.1.conv2.weight", 2359295, 0.03608439117670059, 0.0, -0.0061144717037677765)]
    [TestCase("layer4.1.conv2.weight", 1234567, 0.03608439117670059, 0.0, -0.010743632912635803)]
    [TestCase("bn1.weight", 63, 0.25, 1.0, 0.9282152652740479)]
    [TestCase("layer3.0.downsample.1.weight", 5, 0.25, 1.0, 0.7594128847122192)]
    [TestCase("fc.bias", 999, 0.1, 0.0, 0.04206184297800064)]
    [TestCase("input1", 150527, 2.0, 0.0, -0.19756698608398438)]
    [TestCase("classifier.0.weight", 102760447, 0.015464738942682743, 0.0, -0.010983145795762539)]
    public void Single_values_match_an_independent_python_evaluation(string name, long index, double bound, double offset, double expected)
    {
        float actual = ZooWeights.Value(ZooWeights.Fnv1a64(name), index, (float)bound, (float)offset);
        Assert.That(BitConverter.SingleToInt32Bits(actual), Is.EqualTo(BitConverter.SingleToInt32Bits((float)expected)), $"{name}[{index}] = {actual:R}, expected {expected:R}");
    }

    [Test]
    public void Formula_is_the_same_filled_in_parallel_and_one_by_one()
    {
        const int count = (1 << 17) + 5;
        var parallel = ZooWeights.Formula("layer1.0.conv1.weight", count, 0.1f, 0.5f);
        var serial = new float[count];
        ZooWeights.Fill("layer1.0.conv1.weight", 0.1f, 0.5f, serial);
        Assert.That(parallel, Is.EqualTo(serial));
        Assert.That(parallel.All(v => v >= 0.4f && v <= 0.6f), "offset 0.5 +- bound 0.1");
    }

    [Test]
    public void Every_zoo_model_lists_consistent_tensors_and_rules()
    {
        foreach (string name in ZooModel.Names)
        {
            var model = ZooModel.Load(name);
            long floats = model.Tensors.Sum(t => (long)t.Count);
            long parameters = model.Tensors.Where(t => t.Bound is not null).Sum(t => (long)t.Count);
            Assert.Multiple(() =>
            {
                Assert.That(floats, Is.EqualTo(model.StateDictFloats), $"{name}: state_dict floats");
                Assert.That(parameters, Is.EqualTo(model.Parameters), $"{name}: every parameter has a weight rule");
                Assert.That(model.Tensors.Where(t => t.Bound is null).All(t => t.Name.EndsWith(".running_mean", StringComparison.Ordinal) || t.Name.EndsWith(".running_var", StringComparison.Ordinal)),
                    $"{name}: only running statistics come from the file");
                Assert.That(model.Argmax, Has.Length.EqualTo(ZooModel.Images));
                Assert.That(model.GoldenFloat64(), Has.Length.EqualTo(ZooModel.Images * ZooModel.Classes));
            });
        }
    }

    [Test]
    public void Build_reproduces_a_whole_state_dict_with_running_statistics_from_the_file()
    {
        // EfficientNet-B0: 5.3 M parameters and 49 batch norms, the most running statistics of the zoo.
        var model = ZooModel.Load("efficientnet_b0");
        var set = ZooWeights.Build(model);
        var running = model.RunningStatistics();
        Assert.That(set.Count, Is.EqualTo(model.Tensors.Count));
        Assert.That(set.Sum(t => (long)t.Length), Is.EqualTo(model.StateDictFloats));
        var mean = set.Get("features.0.1.running_mean");
        Assert.That(mean.Data.ToArray(), Is.EqualTo(running.Get("features.0.1.running_mean").Data.ToArray()));
        var var = set.Get("features.8.1.running_var");
        Assert.That(var.Data.ToArray().All(v => v > 0f), "running variances are positive");
        var weight = set.Get("features.0.0.weight");
        Assert.That(weight.Shape.ToArray(), Is.EqualTo(new[] { 32, 3, 3, 3 }));
        var rule = model.Tensors.Single(t => t.Name == "features.0.0.weight");
        Assert.That(weight.Data[^1], Is.EqualTo(ZooWeights.Value(ZooWeights.Fnv1a64("features.0.0.weight"), weight.Length - 1, rule.Bound!.Value, 0f)));
    }

    private static void AssertBits(float[] actual, double[] expected)
    {
        Assert.That(actual, Has.Length.EqualTo(expected.Length));
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.That(BitConverter.SingleToInt32Bits(actual[i]), Is.EqualTo(BitConverter.SingleToInt32Bits((float)expected[i])), $"[{i}] = {actual[i]:R}, expected {expected[i]:R}");
        }
    }
}
