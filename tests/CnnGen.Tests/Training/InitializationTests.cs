using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;
using CnnGen.Training;

namespace CnnGen.Tests.Training;

/// <summary>PyTorch-style default initialisation and the counter-based generator: bounds, statistics, determinism.</summary>
[TestFixture]
public sealed class InitializationTests
{
    [Test]
    public void Fan_in_and_bounds_are_PyTorchs()
    {
        Assert.That(Initialization.FanIn([16, 6, 5, 5]), Is.EqualTo(150));
        Assert.That(Initialization.FanIn([120, 400]), Is.EqualTo(400));
        Assert.That(Initialization.FanIn([32, 1, 3, 3]), Is.EqualTo(9), "depthwise: in/groups = 1");
        Assert.Throws<ArgumentException>(() => Initialization.FanIn([16]));
        foreach (int fanIn in new[] { 1, 9, 25, 150, 400, 784 })
        {
            Assert.That(Initialization.KaimingUniformBound(fanIn), Is.EqualTo(1 / Math.Sqrt(fanIn)).Within(1e-15), "kaiming_uniform_(a=sqrt(5)) is 1/sqrt(fan_in)");
            Assert.That(Initialization.BiasBound(fanIn), Is.EqualTo(1 / Math.Sqrt(fanIn)));
        }

        Assert.That(Initialization.BiasBound(0), Is.Zero);
    }

    [Test]
    public void Kaiming_uniform_respects_the_bound_and_has_uniform_statistics()
    {
        float[] values = new float[64 * 32 * 9];
        var w = new Parameter("conv2.weight", [64, 32, 3, 3], values, new float[64 * 32 * 9]);
        Initialization.KaimingUniform(w, seed: 2026);
        double bound = 1 / Math.Sqrt(32 * 9);
        int n = w.Value.Length;
        Assert.That(values.Max(v => Math.Abs(v)), Is.LessThanOrEqualTo((float)bound));
        Assert.That(values.Max(v => Math.Abs(v)), Is.GreaterThan(0.99 * bound));
        double mean = values.Average(v => (double)v);
        double variance = values.Sum(v => (v - mean) * (v - mean)) / (n - 1);
        double expectedVariance = bound * bound / 3;
        Assert.That(mean, Is.EqualTo(0).Within(4 * Math.Sqrt(expectedVariance / n)), "mean within 4 standard errors");
        Assert.That(variance, Is.EqualTo(expectedVariance).Within(5 * expectedVariance * Math.Sqrt(0.8 / n)), "variance of U(-b, b) is b^2/3, within 5 standard errors");

        // Ten equal bins each get about a tenth (chi-square with 9 degrees of freedom, far below its 0.1% point 27.9).
        int[] bins = new int[10];
        foreach (float v in w.Value)
        {
            bins[Math.Min(9, (int)((v + bound) / (2 * bound) * 10))]++;
        }

        double chi2 = bins.Sum(b => (b - (n / 10.0)) * (b - (n / 10.0)) / (n / 10.0));
        Assert.That(chi2, Is.LessThan(27.9));
    }

    [Test]
    public void Bias_and_constants()
    {
        float[] values = new float[120];
        var b = new Parameter("fc1.bias", [120], values, new float[120]);
        Initialization.Bias(b, fanIn: 400, seed: 1);
        Assert.That(values.Max(v => Math.Abs(v)), Is.LessThanOrEqualTo(0.05f).And.GreaterThan(0.04f));
        Initialization.Constant(b, 1f);
        Assert.That(values, Is.All.EqualTo(1f));
    }

    [TestCase("lenet5")]
    [TestCase("mlp")]
    [TestCase("cifar_resnet8_bn")]
    public void PyTorchDefault_uses_the_same_rule_and_bounds_as_PyTorchs_own_init(string network)
    {
        // PyTorch's init (init.safetensors) and ours are different draws of the same distributions: same
        // bounds per tensor, batch norm weight 1 and bias 0 exactly.
        TensorSet pytorch = TrainingGolden.Load(network, "init.safetensors");
        List<Parameter> ours = TrainingGolden.DenseParameters(network);
        Initialization.PyTorchDefault(ours, seed: 2026);
        foreach (Parameter p in ours)
        {
            float[] theirs = pytorch.Get(p.Name).Data.ToArray();
            if (p.Shape.Count == 1 && !ours.Any(w => w.Name == p.Name.Replace(".bias", ".weight", StringComparison.Ordinal) && w.Shape.Count >= 2))
            {
                Assert.That(p.Value.ToArray(), Is.EqualTo(theirs), $"{p.Name}: batch norm constants");
                Assert.That(theirs, Is.All.EqualTo(p.Name.EndsWith(".weight", StringComparison.Ordinal) ? 1f : 0f));
                continue;
            }

            Parameter weight = p.Shape.Count >= 2 ? p : ours.Single(w => w.Name == p.Name.Replace(".bias", ".weight", StringComparison.Ordinal));
            float bound = (float)(1 / Math.Sqrt(Initialization.FanIn(weight.Shape)));
            float mine = p.Value.ToArray().Max(v => Math.Abs(v)), torch = theirs.Max(v => Math.Abs(v));
            Assert.That(mine, Is.LessThanOrEqualTo(bound), $"{p.Name}: our bound");
            Assert.That(torch, Is.LessThanOrEqualTo(bound * (1 + 1e-6f)), $"{p.Name}: PyTorch's values lie within the same bound");
            if (p.ElementCount >= 100)
            {
                Assert.That(torch, Is.GreaterThan(0.9f * bound), $"{p.Name}: and fill it (so the bound is not too loose)");
                Assert.That(mine, Is.GreaterThan(0.9f * bound), $"{p.Name}: ours too");
            }
        }

        foreach (string stat in pytorch.Names.Where(n => n.EndsWith(".running_mean", StringComparison.Ordinal) || n.EndsWith(".running_var", StringComparison.Ordinal)))
        {
            Assert.That(pytorch.Get(stat).Data.ToArray(), Is.All.EqualTo(stat.EndsWith("mean", StringComparison.Ordinal) ? 0f : 1f), stat);
        }
    }

    [Test]
    public void Same_seed_same_bits_in_any_layout_and_any_order()
    {
        var dense = new Parameter("conv1.weight", [6, 1, 5, 5], new float[150], new float[150]);
        Parameter packed = PaddedLayouts.RowPadded("conv1.weight", [6, 1, 5, 5], 16);
        Initialization.KaimingUniform(dense, 7);
        Initialization.KaimingUniform(packed, 7);
        var unpacked = new float[150];
        packed.ToPyTorch(packed.Value, unpacked);
        OptimizerTestSupport.AssertBitwiseEqual(unpacked, dense.Value, "packed init unpacked");
        PaddedLayouts.AssertPaddingZero(packed);

        var again = new Parameter("conv1.weight", [6, 1, 5, 5], new float[150], new float[150]);
        Initialization.KaimingUniform(again, 7);
        OptimizerTestSupport.AssertBitwiseEqual(again.Value, dense.Value, "second run");
        Initialization.KaimingUniform(again, 8);
        Assert.That(again.Value.SequenceEqual(dense.Value), Is.False, "another seed");
        var renamed = new Parameter("conv2.weight", [6, 1, 5, 5], new float[150], new float[150]);
        Initialization.KaimingUniform(renamed, 7);
        Assert.That(renamed.Value.SequenceEqual(dense.Value), Is.False, "another tensor name is another stream");

        // Any number of threads filling any chunks in any order gives the same tensor.
        var rng = new CounterRandom(7, "big");
        var whole = new float[100_003];
        rng.FillUniform(whole, -1, 1);
        foreach (int threads in new[] { 2, 3, 8 })
        {
            var parts = new float[whole.Length];
            int chunk = (whole.Length + threads - 1) / threads;
            Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
            {
                int start = t * chunk, count = Math.Min(chunk, whole.Length - start);
                rng.FillUniform(parts.AsSpan(start, count), -1, 1, start);
            });
            OptimizerTestSupport.AssertBitwiseEqual(parts, whole, $"{threads} threads");
        }
    }

    [Test]
    public void Counter_random_is_SplitMix64_seeded_with_its_key()
    {
        var rng = new CounterRandom(2026, "conv1.weight");
        ulong state = rng.Key;
        for (int i = 0; i < 100; i++)
        {
            state += 0x9E3779B97F4A7C15UL;
            ulong z = state;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            Assert.That(rng.Bits(i), Is.EqualTo(z ^ (z >> 31)), $"index {i}");
        }

        // Pinned: the streams must not change between versions (saved seeds must keep giving the same weights).
        Assert.That(CounterRandom.Hash("conv1.weight"), Is.EqualTo(0x69A29A2CEE47D254UL));
        Assert.That(new CounterRandom(0, 0).Bits(0), Is.EqualTo(PinnedBits));
        Assert.That(rng, Is.EqualTo(new CounterRandom(2026, "conv1.weight")));
        Assert.That(rng.Substream(1), Is.Not.EqualTo(rng.Substream(2)));

        float[] u = Enumerable.Range(0, 100_000).Select(i => rng.NextFloat(i)).ToArray();
        Assert.That(u.Min() >= 0f && u.Max() < 1f, Is.True, "NextFloat in [0, 1)");
        Assert.That(u.Average(), Is.EqualTo(0.5).Within(4 * Math.Sqrt(1 / 12.0 / u.Length)));
        double[] d = Enumerable.Range(0, 1000).Select(i => rng.NextDouble(i)).ToArray();
        Assert.That(d.Min() >= 0.0 && d.Max() < 1.0, Is.True, "NextDouble in [0, 1)");
    }

    private const ulong PinnedBits = 0xFD0C822E52AFCB14UL; // computed independently (Python) from the documented construction

    [Test]
    public void Dropout_masks_are_a_function_of_seed_layer_step_and_index()
    {
        CounterRandom layer = new CounterRandom(2026, "dropout1");
        const float p = 0.3f;
        var mask = new float[50_000];
        layer.Substream(1).FillDropoutMask(mask, p);
        float keep = 1 / (1 - p);
        Assert.That(mask, Is.All.EqualTo(0f).Or.EqualTo(keep));
        double kept = mask.Count(m => m != 0) / (double)mask.Length;
        Assert.That(kept, Is.EqualTo(0.7).Within(4 * Math.Sqrt(0.21 / mask.Length)));

        var again = new float[mask.Length];
        layer.Substream(1).FillDropoutMask(again.AsSpan(0, 20_000), p);
        layer.Substream(1).FillDropoutMask(again.AsSpan(20_000), p, startIndex: 20_000);
        OptimizerTestSupport.AssertBitwiseEqual(again, mask, "the same step in two chunks");

        uint seed = layer.Substream(1).DropoutSeed;
        float[] reference = new float[mask.Length];
        Reference.Dropout(Enumerable.Repeat(1f, mask.Length).ToArray(), p, seed, 0, reference);
        OptimizerTestSupport.AssertBitwiseEqual(mask, reference, "the mask is Reference.Dropout's with DropoutSeed");

        var next = new float[mask.Length];
        layer.Substream(2).FillDropoutMask(next, p);
        Assert.That(next.Zip(mask).Count(x => x.First != x.Second), Is.GreaterThan(mask.Length / 4), "the next step draws a new mask");

        var none = new float[100];
        layer.FillDropoutMask(none, 0f);
        Assert.That(none, Is.All.EqualTo(1f), "p = 0 keeps everything, scale 1");
        Assert.Throws<ArgumentOutOfRangeException>(() => layer.FillDropoutMask(none, 1f));
    }
}
