using System;
using System.Linq;
using System.Runtime.Intrinsics;
using CnnGen.Internal;

namespace CnnGen.Tests.Runtime;

/// <summary>
/// The helpers generated code calls per prediction, against plain scalar definitions: finite checks and checked copies at
/// every length around the vector widths, the transpose, the activations on every width, softmax, the output check.
/// </summary>
public sealed class RuntimeHelperTests
{
    private static readonly int[] Lengths = { 0, 1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 28, 31, 32, 33, 63, 64, 65, 100, 784 };

    private static float[] Ramp(int n) => Enumerable.Range(0, n).Select(i => (i * 0.37f) - 5f).ToArray();

    // ---------------------------------------------------------------- workspace

    [Test]
    public void A_workspace_is_pinned_and_Aligned_gives_a_64_byte_boundary_with_the_floats_asked_for_after_it()
    {
        foreach (int n in Lengths.Append(100_000))
        {
            float[] workspace = Buffers.Workspace(n);
            ref float first = ref System.Runtime.InteropServices.MemoryMarshal.GetArrayDataReference(workspace);
            ref float aligned = ref Buffers.Aligned(workspace);
            long address = System.Runtime.CompilerServices.Unsafe.ByteOffset(ref System.Runtime.CompilerServices.Unsafe.NullRef<float>(), ref aligned);
            long skipped = System.Runtime.CompilerServices.Unsafe.ByteOffset(ref first, ref aligned) / sizeof(float);
            Assert.That(address % 64, Is.Zero, $"length {n}");
            Assert.That(skipped, Is.InRange(0, 15), $"length {n}");
            Assert.That(workspace.Length - skipped, Is.GreaterThanOrEqualTo(n), $"length {n}");
            long before = System.Runtime.CompilerServices.Unsafe.ByteOffset(ref System.Runtime.CompilerServices.Unsafe.NullRef<float>(), ref first);
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
            long after = System.Runtime.CompilerServices.Unsafe.ByteOffset(ref System.Runtime.CompilerServices.Unsafe.NullRef<float>(), ref System.Runtime.InteropServices.MemoryMarshal.GetArrayDataReference(workspace));
            Assert.That(after, Is.EqualTo(before), $"length {n}: pinned, a compacting collection does not move it");
        }
    }

    // ---------------------------------------------------------------- output check

    [Test]
    public void OutputFinite_accepts_finite_outputs()
    {
        foreach (int n in Lengths)
        {
            float[] output = Ramp(n);
            output.AsSpan().Fill(float.MaxValue);
            Assert.DoesNotThrow(() => Guard.OutputFinite(ref output.AsSpan().GetPinnableReference(), n, Math.Max(n, 1), "Net"), $"length {n}");
        }
    }

    [TestCase(float.NaN, "NaN")]
    [TestCase(float.PositiveInfinity, "Infinity")]
    [TestCase(float.NegativeInfinity, "-Infinity")]
    public void OutputFinite_names_the_network_the_first_bad_index_and_its_value(float bad, string text)
    {
        foreach (int n in Lengths.Where(n => n > 0))
        {
            for (int at = 0; at < n; at += Math.Max(1, n / 7))
            {
                float[] output = Ramp(n);
                output[at] = bad;
                if (at + 1 < n)
                {
                    output[n - 1] = float.NaN; // a later bad value must not be the one reported
                }

                var ex = Assert.Throws<ArithmeticException>(() => Guard.OutputFinite(ref output[0], n, n, "LeNet5"));
                Assert.That(ex!.Message, Does.StartWith($"LeNet5 computed {text} at output[{at}] from a finite input"), $"length {n}, index {at}");
                Assert.That(ex.Message, Does.Contain("overflowed float32"));
            }
        }
    }

    [Test]
    public void OutputFinite_over_a_batch_names_the_image()
    {
        float[] outputs = Ramp(30);
        outputs[23] = float.PositiveInfinity;
        var ex = Assert.Throws<ArithmeticException>(() => Guard.OutputFinite(ref outputs[0], 30, 10, "LeNet5"));
        Assert.That(ex!.Message, Does.StartWith("LeNet5 computed Infinity at output[3] of image 2 (outputs[23])"));
    }

    // ---------------------------------------------------------------- input checks and checked copies

    [Test]
    public void Finite_and_CopyFinite_find_a_bad_value_anywhere()
    {
        foreach (int n in Lengths)
        {
            float[] clean = Ramp(n);
            Assert.DoesNotThrow(() => Guard.Finite(clean, "input"));
            float[] copy = new float[n];
            Assert.That(n == 0 || Buffers.CopyFinite(ref clean.AsSpan().GetPinnableReference(), ref copy.AsSpan().GetPinnableReference(), n), Is.True);
            Assert.That(copy, Is.EqualTo(clean));
            for (int at = 0; at < n; at++)
            {
                float[] input = Ramp(n);
                input[at] = at % 2 == 0 ? float.NaN : float.NegativeInfinity;
                var ex = Assert.Throws<ArgumentException>(() => Guard.Finite(input, "input"));
                Assert.That(ex!.Message, Does.StartWith($"input[{at}] is "), $"length {n}");
                Assert.That(ex.ParamName, Is.EqualTo("input"));

                float[] destination = new float[n];
                Assert.That(Buffers.CopyFinite(ref input[0], ref destination[0], n), Is.False, $"length {n}, index {at}");
                Assert.That(destination.Select(BitConverter.SingleToInt32Bits), Is.EqualTo(input.Select(BitConverter.SingleToInt32Bits)), "copied anyway");
            }
        }
    }

    [Test]
    public void ThrowNotFinite_names_the_first_bad_index()
    {
        float[] input = Ramp(50);
        input[41] = float.NaN;
        Assert.That(Assert.Throws<ArgumentException>(() => Guard.ThrowNotFinite(input, "input"))!.Message, Does.StartWith("input[41] is NaN"));
        Assert.That(Assert.Throws<ArgumentException>(() => Guard.ThrowNotFinite(Ramp(5), "input"))!.Message, Does.StartWith("input holds NaN or infinity"));
    }

    // ---------------------------------------------------------------- transpose

    [TestCase(1, 1)]
    [TestCase(3, 1024)]
    [TestCase(8, 8)]
    [TestCase(9, 17)]
    [TestCase(32, 3136)]
    [TestCase(17, 8)]
    public void Transpose_matches_the_definition_and_flags_any_bad_value(int rows, int cols)
    {
        int srcStride = cols + 3, dstStride = rows + 1;
        float[] src = Ramp(rows * srcStride);
        float[] expected = new float[cols * dstStride];
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < cols; c++)
            {
                expected[(c * dstStride) + r] = src[(r * srcStride) + c];
            }
        }

        float[] dst = new float[cols * dstStride];
        Transpose.Run(ref src[0], rows, cols, srcStride, ref dst[0], dstStride);
        Assert.That(dst, Is.EqualTo(expected));
        Array.Clear(dst);
        Assert.That(Transpose.RunFinite(ref src[0], rows, cols, srcStride, ref dst[0], dstStride), Is.True);
        Assert.That(dst, Is.EqualTo(expected));

        var random = new Random(rows * 1000 + cols);
        for (int trial = 0; trial < 20; trial++)
        {
            int r = random.Next(rows), c = random.Next(cols);
            float[] bad = (float[])src.Clone();
            bad[(r * srcStride) + c] = trial % 2 == 0 ? float.NaN : float.PositiveInfinity;
            Assert.That(Transpose.RunFinite(ref bad[0], rows, cols, srcStride, ref dst[0], dstStride), Is.False, $"bad value at row {r}, column {c}");
            Assert.That(float.IsFinite(dst[(c * dstStride) + r]), Is.False, "the values are transposed either way");
        }

        // Values outside the rows x cols window (the stride padding) are never read.
        float[] padded = (float[])src.Clone();
        for (int r = 0; r < rows; r++)
        {
            padded[(r * srcStride) + cols] = float.NaN;
        }

        Assert.That(Transpose.RunFinite(ref padded[0], rows, cols, srcStride, ref dst[0], dstStride), Is.True);
    }

    // ---------------------------------------------------------------- activations and softmax

    private static void AssertActivation(Func<float[], float[]> vectorized, Func<double, double> definition, string name)
    {
        float[] x = Enumerable.Range(-400, 801).Select(i => i * 0.25f).Concat(new[] { -1000f, 1000f, -0f, 0f, float.MaxValue, -float.MaxValue }).ToArray();
        float[] y = vectorized(x);
        for (int i = 0; i < x.Length; i++)
        {
            double expected = definition(x[i]);
            Assert.That(y[i], Is.EqualTo(expected).Within(2e-6 + (2e-6 * Math.Abs(expected))), $"{name}({x[i]})");
        }
    }

    private static float[] Apply128(float[] x, Func<Vector128<float>, Vector128<float>> f) => Apply(x, 4, (s, d) => f(Vector128.Create(s)).CopyTo(d));

    private static float[] Apply256(float[] x, Func<Vector256<float>, Vector256<float>> f) => Apply(x, 8, (s, d) => f(Vector256.Create(s)).CopyTo(d));

    private static float[] Apply512(float[] x, Func<Vector512<float>, Vector512<float>> f) => Apply(x, 16, (s, d) => f(Vector512.Create(s)).CopyTo(d));

    private static float[] Apply(float[] x, int width, Action<float[], float[]> run)
    {
        float[] y = new float[x.Length];
        for (int i = 0; i < x.Length; i += width)
        {
            float[] lane = new float[width];
            x.AsSpan(i, Math.Min(width, x.Length - i)).CopyTo(lane);
            float[] result = new float[width];
            run(lane, result);
            result.AsSpan(0, Math.Min(width, x.Length - i)).CopyTo(y.AsSpan(i));
        }

        return y;
    }

    private static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));

    [Test]
    public void Activations_match_their_definitions_on_every_width_and_saturate()
    {
        AssertActivation(x => Apply128(x, Simd.Sigmoid), Sigmoid, "Sigmoid128");
        AssertActivation(x => Apply256(x, Simd.Sigmoid), Sigmoid, "Sigmoid256");
        AssertActivation(x => Apply512(x, Simd.Sigmoid), Sigmoid, "Sigmoid512");
        AssertActivation(x => Apply128(x, Simd.Tanh), Math.Tanh, "Tanh128");
        AssertActivation(x => Apply256(x, Simd.Tanh), Math.Tanh, "Tanh256");
        AssertActivation(x => Apply512(x, Simd.Tanh), Math.Tanh, "Tanh512");

        // SiLU: x * sigmoid(x); at -float.MaxValue the product underflows to -0 in double, and to 0 here.
        Func<double, double> silu = x => double.IsFinite(x * Sigmoid(x)) ? x * Sigmoid(x) : 0;
        AssertActivation(x => Apply128(x, Simd.SiLU), silu, "SiLU128");
        AssertActivation(x => Apply256(x, Simd.SiLU), silu, "SiLU256");
        AssertActivation(x => Apply512(x, Simd.SiLU), silu, "SiLU512");

        Assert.That(Simd.Sigmoid(Vector256.Create(-90f)), Is.EqualTo(Vector256<float>.Zero));
        Assert.That(Simd.Tanh(Vector512.Create(90f)), Is.EqualTo(Vector512<float>.One));
        Assert.That(Simd.Tanh(Vector128.Create(-90f)), Is.EqualTo(Vector128.Create(-1f)));
        Assert.That(float.IsNaN(Simd.Tanh(Vector256.Create(float.NaN)).GetElement(0)), Is.True, "NaN is not hidden");
    }

    [Test]
    public void LaneSums_puts_each_vectors_lane_sum_in_its_lane_in_the_documented_order()
    {
        // The gather's per-channel accumulators summed into one HWC pixel: lane i is vector i's sum, added as
        // ((x0 + x1) + (x2 + x3)) + ((x4 + x5) + (x6 + x7)), bit for bit; values of mixed magnitude, so another
        // order would round differently.
        var random = new Random(12);
        for (int trial = 0; trial < 200; trial++)
        {
            var a = new Vector256<float>[8];
            for (int v = 0; v < 8; v++)
            {
                a[v] = trial % 5 == 4 && v >= 6
                    ? Vector256<float>.Zero
                    : Vector256.Create(Enumerable.Range(0, 8).Select(_ => (float)((random.NextDouble() - 0.5) * Math.Pow(10, random.Next(-3, 6)))).ToArray());
            }

            var sums = Simd.LaneSums(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]);
            for (int v = 0; v < 8; v++)
            {
                var x = a[v];
                float expected = ((x[0] + x[1]) + (x[2] + x[3])) + ((x[4] + x[5]) + (x[6] + x[7]));
                Assert.That(BitConverter.SingleToInt32Bits(sums[v]), Is.EqualTo(BitConverter.SingleToInt32Bits(expected)), $"trial {trial}, lane {v}");
            }
        }

        var nan = Vector256.Create(1f).WithElement(3, float.NaN);
        var withNaN = Simd.LaneSums(Vector256.Create(1f), nan, Vector256<float>.Zero, Vector256<float>.Zero, Vector256<float>.Zero, Vector256<float>.Zero, Vector256<float>.Zero, Vector256<float>.Zero);
        Assert.That(withNaN[0], Is.EqualTo(8f));
        Assert.That(float.IsNaN(withNaN[1]), Is.True, "a NaN stays in its own lane");
        Assert.That(withNaN[2], Is.EqualTo(0f), "no NaN leaks into the other lanes");
    }

    [Test]
    public void Exp_is_within_a_few_tenths_of_a_millionth_on_every_width_and_saturates()
    {
        // Every 1/64 from -87 to 88, and the points where floor(x log2(e) + 1/2) steps (the polynomial's ends), a float
        // either side. Vector128 runs the portable form (clamp, exponent bits), Vector256 and Vector512 AVX-512's
        // vreduceps and vscalefps where the CPU has them.
        var xs = Enumerable.Range(-87 * 64, (175 * 64) + 1).Select(i => i / 64f)
            .Concat(Enumerable.Range(-125, 252).SelectMany(n =>
            {
                float x = (float)((n - 0.5) / Math.Log2(Math.E));
                return new[] { MathF.BitDecrement(x), x, MathF.BitIncrement(x) };
            }))
            .Where(x => x is >= -87f and <= 88f).ToArray();
        double worst = 0;
        float worstX = 0;
        foreach (float x in xs)
        {
            double expected = Math.Exp(x);
            foreach (float got in Exps(x))
            {
                // The polynomial's 1.7e-7 and float32's rounding, plus s = x log2(e) + 1/2 rounded to float32.
                double error = Math.Abs(got - expected) / expected / (3e-7 + (6e-8 * Math.Abs(x * Math.Log2(Math.E))));
                if (error > worst)
                {
                    worst = error;
                    worstX = x;
                }
            }
        }

        Assert.That(worst, Is.LessThanOrEqualTo(1.0), $"worst error {worst:F2} of the bound at exp({worstX})");
        Assert.Multiple(() =>
        {
            foreach (var (x, expected) in new[] { (88.8f, float.PositiveInfinity), (1000f, float.PositiveInfinity), (float.PositiveInfinity, float.PositiveInfinity), (-1000f, 0f), (float.NegativeInfinity, 0f), (0f, 1f) })
            {
                Assert.That(Exps(x), Is.All.EqualTo(expected), $"exp({x})");
            }

            Assert.That(Exps(-100f), Is.All.LessThan(1.2e-38f).And.All.GreaterThanOrEqualTo(0f), "exp(-100) is 0 or subnormal");
            Assert.That(Exps(float.NaN), Is.All.NaN, "NaN stays NaN");
        });
    }

    private static float[] Exps(float x) =>
    [
        Activations<Vector128Ops, Vector128<float>>.Exp(Vector128.Create(x)).GetElement(1),
        Activations<Vector256Ops, Vector256<float>>.Exp(Vector256.Create(x)).GetElement(5),
        Activations<Vector512Ops, Vector512<float>>.Exp(Vector512.Create(x)).GetElement(15),
    ];

    [Test]
    public void Activations_give_the_limits_at_the_infinities_and_keep_NaN_on_every_width()
    {
        var cases = new (string Name, Func<Vector128<float>, Vector128<float>> V128, Func<Vector256<float>, Vector256<float>> V256, Func<Vector512<float>, Vector512<float>> V512, float AtPlusInfinity, float AtMinusInfinity)[]
        {
            ("Sigmoid", Simd.Sigmoid, Simd.Sigmoid, Simd.Sigmoid, 1f, 0f),
            ("Tanh", Simd.Tanh, Simd.Tanh, Simd.Tanh, 1f, -1f),
            // PyTorch's x / (1 + exp(-x)) is -inf / inf at -infinity: NaN, as here.
            ("SiLU", Simd.SiLU, Simd.SiLU, Simd.SiLU, float.PositiveInfinity, float.NaN),
        };
        Assert.Multiple(() =>
        {
            foreach (var c in cases)
            {
                foreach (var (x, expected) in new[] { (float.PositiveInfinity, c.AtPlusInfinity), (float.NegativeInfinity, c.AtMinusInfinity), (float.NaN, float.NaN) })
                {
                    float[] got = [c.V128(Vector128.Create(x)).GetElement(3), c.V256(Vector256.Create(x)).GetElement(7), c.V512(Vector512.Create(x)).GetElement(0)];
                    Assert.That(got, Is.All.EqualTo(expected), $"{c.Name}({x})");
                }
            }
        });
    }

    [Test]
    public void Softmax_subtracts_the_maximum_so_large_logits_do_not_overflow()
    {
        float[][] cases = { new[] { 1000f, 0f, -5f }, new[] { 90f, 89f }, new[] { -1000f, -1001f }, Ramp(11), new[] { 3f } };
        foreach (float[] x in cases)
        {
            double max = x.Max();
            double sum = x.Sum(v => Math.Exp(v - max));
            float[] y = new float[x.Length];
            Buffers.Softmax(ref x[0], ref y[0], x.Length);
            for (int i = 0; i < x.Length; i++)
            {
                Assert.That(y[i], Is.EqualTo(Math.Exp(x[i] - max) / sum).Within(1e-6), $"softmax({string.Join(", ", x)})[{i}]");
            }

            Buffers.Softmax(ref x[0], ref x[0], x.Length); // in place
            Assert.That(x, Is.EqualTo(y));
        }
    }
}
