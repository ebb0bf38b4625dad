using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.InteropServices;
using CnnGen.Training;
using static CnnGen.Tests.Training.OptimizerTestSupport;

namespace CnnGen.Tests.Training;

/// <summary>
/// Gradient clipping against a double computation; NaN/infinity refusing a step without changing anything;
/// padded lanes staying zero; no allocation per step.
/// </summary>
[TestFixture]
public sealed class ClippingAndSafetyTests
{
    [Test]
    public void Clip_grad_norm_matches_a_double_computation()
    {
        List<Parameter> parameters = Parameters(1000, 37, 5, 1);
        Gradients(parameters, 1, scale: 3f);
        float[][] before = Snapshot(parameters.Select(p => p.Gradient.ToArray()));
        double sum = before.SelectMany(g => g).Sum(g => (double)g * g);
        double total = Math.Sqrt(sum);

        float returned = GradientClipping.ClipByNorm(parameters, 1.0);
        Assert.That(returned, Is.EqualTo((float)total), "the total norm before clipping, rounded to float");
        double coefficient = 1.0 / (total + 1e-6);
        for (int k = 0; k < parameters.Count; k++)
        {
            for (int i = 0; i < before[k].Length; i++)
            {
                Assert.That(parameters[k].Gradient[i], Is.EqualTo(before[k][i] * coefficient).Within(1e-6 * Math.Abs(before[k][i] * coefficient)), $"{k}[{i}]");
            }
        }

        double after = Math.Sqrt(parameters.SelectMany(p => p.Gradient.ToArray()).Sum(g => (double)g * g));
        Assert.That(after, Is.EqualTo(1.0).Within(1e-5));
        Assert.That(GradientClipping.TotalNorm(parameters), Is.EqualTo((float)after).Within(1e-6f));
    }

    [Test]
    public void Clip_grad_norm_leaves_small_gradients_bitwise_alone()
    {
        List<Parameter> parameters = Parameters(100, 9);
        Gradients(parameters, 2, scale: 0.01f);
        float[][] before = Snapshot(parameters.Select(p => p.Gradient.ToArray()));
        float total = new Sgd(parameters, new SgdOptions { LearningRate = 0.1 }).ClipGradientNorm(10);
        Assert.That(total, Is.LessThan(10f));
        for (int k = 0; k < parameters.Count; k++)
        {
            AssertBitwiseEqual(parameters[k].Gradient, before[k], "gradient");
        }
    }

    [Test]
    public void Total_norm_is_the_same_bits_whatever_the_vector_path()
    {
        // The same numbers split at different lengths give the same per-lane order only when the split is a
        // multiple of 8; the sum over one buffer must not depend on the machine: compare with the scalar order.
        foreach (int n in new[] { 1, 7, 8, 9, 63, 64, 65, 1001 })
        {
            List<Parameter> parameters = Parameters(n);
            Gradients(parameters, 3);
            float[] g = parameters[0].Gradient.ToArray();
            var acc = new double[8];
            for (int i = 0; i < n; i++)
            {
                acc[i & 7] = Math.FusedMultiplyAdd(g[i], g[i], acc[i & 7]);
            }

            double expected = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
            Assert.That(GradientClipping.TotalNorm(parameters), Is.EqualTo((float)Math.Sqrt(expected)), $"n={n}");
        }
    }

    public static IEnumerable<TestCaseData> BadValues()
    {
        foreach (float bad in new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity })
        {
            foreach ((int param, int index) in new[] { (0, 0), (0, 36), (1, 3), (2, 40) })
            {
                yield return new TestCaseData(bad, param, index).SetArgDisplayNames(bad.ToString(System.Globalization.CultureInfo.InvariantCulture), $"param {param}", $"index {index}");
            }
        }
    }

    [TestCaseSource(nameof(BadValues))]
    public void A_non_finite_gradient_throws_before_changing_anything(float bad, int param, int index)
    {
        foreach ((string kind, object options) in new (string, object)[]
        {
            ("sgd", new SgdOptions { LearningRate = 0.1, Momentum = 0.9, WeightDecay = 1e-4, Nesterov = true }),
            ("adam", new AdamOptions { AmsGrad = true, WeightDecay = 1e-3 }),
            ("adamw", new AdamWOptions()),
        })
        {
            List<Parameter> parameters = Parameters(37, 5, 41);
            Optimizer opt = OptimizerSequenceTests.Create(kind, options, parameters);
            Gradients(parameters, 1);
            opt.Step();
            Gradients(parameters, 2);
            parameters[param].Gradient[index] = bad;
            float[][] values = Snapshot(parameters.Select(p => p.Value.ToArray()));
            float[][] gradients = Snapshot(parameters.Select(p => p.Gradient.ToArray()));
            float[][] buffers = Snapshot(opt.Buffers.Select(b => b.Data.ToArray()));

            var e = Assert.Throws<NonFiniteGradientException>(opt.Step)!;
            Assert.That((e.TensorName, e.Step, e.Index), Is.EqualTo((parameters[param].Name, 2L, index)), kind);
            Assert.That(e.Value, Is.EqualTo(bad), kind);
            Assert.That(e.Message, Does.Contain(parameters[param].Name).And.Contain("step 2"), kind);
            Assert.That(opt.StepCount, Is.EqualTo(1), kind);
            for (int k = 0; k < parameters.Count; k++)
            {
                AssertBitwiseEqual(parameters[k].Value, values[k], $"{kind} value {k}");
                AssertBitwiseEqual(parameters[k].Gradient, gradients[k], $"{kind} gradient {k}");
            }

            float[][] after = opt.Buffers.Select(b => b.Data.ToArray()).ToArray();
            for (int b = 0; b < after.Length; b++)
            {
                AssertBitwiseEqual(after[b], buffers[b], $"{kind} buffer {b}");
            }

            Assert.Throws<NonFiniteGradientException>(() => opt.ClipGradientNorm(1.0), "clipping refuses too");
            AssertBitwiseEqual(parameters[param].Gradient, gradients[param], $"{kind} gradient after the refused clip");

            // Fixing the gradient lets the same step go through, as if nothing had happened.
            parameters[param].Gradient[index] = 0;
            opt.Step();
            Assert.That(opt.StepCount, Is.EqualTo(2), kind);
        }
    }

    public static IEnumerable<TestCaseData> AllOptimizers() => OptimizerSequenceTests.Configurations();

    [TestCaseSource(nameof(AllOptimizers))]
    public void Padded_lanes_stay_zero(string kind, object options)
    {
        List<Parameter> parameters =
        [
            PaddedLayouts.RowPadded("conv.weight", [6, 1, 5, 5], 16),
            PaddedLayouts.RowPadded("conv.bias", [6], 16),
            PaddedLayouts.RowPadded("fc.weight", [10, 7], 8),
        ];
        foreach (Parameter p in parameters)
        {
            Initialization.Uniform(p, -1, 1, seed: 3);
        }

        Optimizer opt = OptimizerSequenceTests.Create(kind, options, parameters);
        for (int t = 1; t <= 5; t++)
        {
            foreach (Parameter p in parameters)
            {
                var dense = new float[p.ElementCount];
                new CounterRandom(5, p.Name).Substream((ulong)t).FillUniform(dense, -2, 2);
                p.FromPyTorch(dense, p.Gradient);
            }

            opt.ClipGradientNorm(1.5);
            opt.Step();
            foreach (Parameter p in parameters)
            {
                PaddedLayouts.AssertPaddingZero(p, opt);
            }
        }
    }

    [TestCaseSource(nameof(AllOptimizers))]
    public void A_step_allocates_nothing_after_the_first(string kind, object options)
    {
        List<Parameter> parameters = Parameters(1000, 37, 16, 3);
        Optimizer opt = OptimizerSequenceTests.Create(kind, options, parameters);
        var scheduler = new LearningRateScheduler(opt, LearningRateSchedule.WarmupCosine(2, 0.5, 10));
        Gradients(parameters, 1);
        opt.Step();
        opt.ClipGradientNorm(1.0);
        scheduler.Step();

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int t = 0; t < 20; t++)
        {
            opt.ClipGradientNorm(1.0);
            opt.Step();
            scheduler.Step();
        }

        opt.ZeroGradients();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.That(allocated, Is.Zero, "bytes allocated by 20 steps (clip, step, schedule)");
        Assert.That(opt.StepCount, Is.EqualTo(21));
    }

    [Test]
    public void Invalid_arguments_are_rejected()
    {
        List<Parameter> parameters = Parameters(3);
        Assert.Throws<ArgumentException>(() => _ = new Sgd([], new SgdOptions { LearningRate = 0.1 }));
        Assert.Throws<ArgumentException>(() => _ = new Sgd([parameters[0], parameters[0]], new SgdOptions { LearningRate = 0.1 }));
        var alias = new Parameter("other", [3], parameters[0].ValueMemory, new float[3]);
        Assert.Throws<ArgumentException>(() => _ = new Sgd([parameters[0], alias], new SgdOptions { LearningRate = 0.1 }));
        float[] block = new float[8];
        var first = new Parameter("first", [4], block.AsMemory(0, 4), new float[4]);
        var overlapping = new Parameter("overlapping", [2], new float[2], block.AsMemory(3, 2));
        Assert.That(Assert.Throws<ArgumentException>(() => _ = new Sgd([first, overlapping], new SgdOptions { LearningRate = 0.1 }))!.Message,
            Does.Contain("'overlapping' shares value or gradient memory with parameter 'first'"), "windows of one array that overlap by one float");
        Assert.DoesNotThrow(() => _ = new Sgd([first, new Parameter("next", [4], block.AsMemory(4, 4), new float[4])], new SgdOptions { LearningRate = 0.1 }), "adjacent windows share no float");
        Assert.Throws<ArgumentException>(() => _ = new Parameter("w", [4], block.AsMemory(0, 4), block.AsMemory(2, 4)), "value and gradient overlap");
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new Sgd(parameters, new SgdOptions { LearningRate = -1 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new Sgd(parameters, new SgdOptions { LearningRate = 0.1, Nesterov = true }));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new Sgd(parameters, new SgdOptions { LearningRate = 0.1, Momentum = 0.9, Dampening = 0.1, Nesterov = true }));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new Adam(parameters, new AdamOptions { Beta1 = 1 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new Adam(parameters, new AdamOptions { Epsilon = -1 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new AdamW(parameters, new AdamWOptions { WeightDecay = double.NaN }));
        var sgd = new Sgd(parameters, new SgdOptions { LearningRate = 0.1 });
        Assert.Throws<ArgumentOutOfRangeException>(() => sgd.LearningRate = double.PositiveInfinity);
        Assert.Throws<ArgumentOutOfRangeException>(() => GradientClipping.ClipByNorm(parameters, -1));

        Assert.Throws<ArgumentException>(() => _ = new Parameter("w", [2, 3], new float[5], new float[5]), "no layout: length must be 6");
        Assert.Throws<ArgumentException>(() => _ = new Parameter("w", [2], new float[2], new float[3]));
        Assert.Throws<ArgumentException>(() => _ = new Parameter("", [2], new float[2], new float[2]));
        ArgumentNullException nullValue = Assert.Throws<ArgumentNullException>(() => _ = new Parameter("fc1.bias", [2], null!, new float[2]))!;
        Assert.That((nullValue.ParamName, nullValue.Message), Is.EqualTo(("value", "Parameter 'fc1.bias': the value array is null. (Parameter 'value')")));
        ArgumentNullException nullGradient = Assert.Throws<ArgumentNullException>(() => _ = new Parameter("fc1.bias", [2], new float[2], null!))!;
        Assert.That((nullGradient.ParamName, nullGradient.Message), Is.EqualTo(("gradient", "Parameter 'fc1.bias': the gradient array is null. (Parameter 'gradient')")));
        Assert.That(new Parameter("empty", [0], Memory<float>.Empty, Memory<float>.Empty).PackedLength, Is.Zero, "an empty window is an empty tensor");
        float[] owned = [1f, 2f];
        var kept = new Parameter("kept", [2], owned, new float[2]);
        Assert.That(MemoryMarshal.TryGetArray<float>(kept.ValueMemory, out var segment) && segment.Array == owned, "ValueMemory is the array itself");
        Func<float> later = () => kept.GradientMemory.Span[1];
        kept.Gradient[1] = 5f;
        Assert.That(later(), Is.EqualTo(5f), "GradientMemory, held in a lambda, is the live gradient");
        var layout = new ParameterLayout(4, (s, d) => s.CopyTo(d), (s, d) => s[..2].CopyTo(d));
        Assert.Throws<ArgumentException>(() => _ = new Parameter("w", [2], new float[8], new float[8], layout), "the layout packs 4");
    }
}
