using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using CnnGen.Internal;
using CnnGen.Training;

namespace CnnGen.Tests.Training;

/// <summary>
/// The optimizers' width-generic loops (<see cref="TrainingMath.AdamVectors{TOps, TVector}"/>,
/// <see cref="TrainingMath.SgdVectors{TOps, TVector}"/>): every element of a buffer whose length is a multiple of no width
/// (1,021 floats: 63 vectors of 16 and 13 left, 127 of 8 and 5, 255 of 4 and 1) gets the same bits from the Vector512,
/// Vector256 and Vector128 paths (each followed by the scalar tail), from the scalar loop alone, and from
/// <see cref="TrainingMath.Adam"/>'s and <see cref="TrainingMath.Sgd"/>'s
/// own mix of widths. Among ordinary values sit special lanes (signed zeros, a square that overflows to infinity, a NaN
/// value, subnormal state), rotated so that each kind lands in every width's range and in the one-element tail of the mix.
/// A width the CPU lacks runs in software with the same IEEE operations, so every path is compared on every machine.
/// </summary>
[TestFixture]
public sealed class OptimizerWidthTests
{
    private const int Length = 1021;

    /// <summary>The kinds of lane; lane <c>i</c> of rotation <c>r</c> is kind <c>(i + r) % Kinds</c>, the last one ordinary.</summary>
    private const int Kinds = 7;

    private static readonly float NaNWithPayload = BitConverter.Int32BitsToSingle(0x7FC01234);

    private static readonly float NegativeNaNWithPayload = BitConverter.Int32BitsToSingle(unchecked((int)0xFFC05678));

    private delegate int AdamPath(ref float p, ref float g, ref float m, ref float v, ref float vmax, int i, int n, in AdamScalars s);

    private delegate int SgdPath(ref float p, ref float g, ref float buf, int i, int n, in SgdScalars s);

    private static readonly string[] Names = ["Vector512", "Vector256", "Vector128", "scalar"];

    [TestCase(false, false, 0.0)]
    [TestCase(false, false, 0.01)]
    [TestCase(true, false, 0.0)]
    [TestCase(true, false, 0.05)]
    [TestCase(false, true, 0.05)]
    [TestCase(true, true, 0.05)]
    public void Adam_paths_of_every_width_and_the_scalar_tail_give_the_same_bits(bool amsGrad, bool decoupled, double weightDecay)
    {
        Assert.That(Length % 4, Is.Not.Zero, "a length no width divides");
        AdamPath[] paths =
        [
            TrainingMath.AdamVectors<Vector512Ops, Vector512<float>>,
            TrainingMath.AdamVectors<Vector256Ops, Vector256<float>>,
            TrainingMath.AdamVectors<Vector128Ops, Vector128<float>>,
            (ref float p, ref float g, ref float m, ref float v, ref float vmax, int i, int n, in AdamScalars s) => i,
        ];
        AdamScalars Scalars(long step) => new(1e-3, 0.9, 0.999, 1e-8, weightDecay, amsGrad, decoupled, step);
        for (int rotation = 0; rotation < Kinds; rotation++)
        {
            var expected = AdamStart(rotation);
            for (long step = 1; step <= 3; step++)
            {
                TrainingMath.AdamScalar(ref expected[0][0], ref expected[1][0], ref expected[2][0], ref expected[3][0], ref expected[4][0], 0, Length, Scalars(step));
            }

            if (amsGrad && !decoupled && weightDecay != 0)
            {
                Assert.That(float.IsNaN(expected[4][(3 - rotation + Kinds) % Kinds]), "a NaN value reaches the maximum");
            }

            Assert.That(expected[3][(2 - rotation + Kinds) % Kinds], Is.EqualTo(float.PositiveInfinity), "a square overflows to infinity");
            for (int k = 0; k < paths.Length; k++)
            {
                var a = AdamStart(rotation);
                int done = 0;
                for (long step = 1; step <= 3; step++)
                {
                    done = paths[k](ref a[0][0], ref a[1][0], ref a[2][0], ref a[3][0], ref a[4][0], 0, Length, Scalars(step));
                    TrainingMath.AdamScalar(ref a[0][0], ref a[1][0], ref a[2][0], ref a[3][0], ref a[4][0], done, Length, Scalars(step));
                }

                Assert.That(done, Is.EqualTo(k == 3 ? 0 : Length - (Length % (16 >> k))), $"{Names[k]}: whole vectors only, the rest to the tail");
                Same(a, expected, $"{Names[k]}, rotation {rotation}", "value", "exp_avg", "exp_avg_sq", "max_exp_avg_sq");
            }

            var mixed = AdamStart(rotation);
            for (long step = 1; step <= 3; step++)
            {
                TrainingMath.Adam(mixed[0], mixed[1], mixed[2], mixed[3], amsGrad ? mixed[4] : Span<float>.Empty, Scalars(step));
            }

            Same(mixed, expected, $"TrainingMath.Adam, rotation {rotation}", "value", "exp_avg", "exp_avg_sq", "max_exp_avg_sq");
            if (!amsGrad)
            {
                OptimizerTestSupport.AssertBitwiseEqual(mixed[4], AdamStart(rotation)[4], "without AMSGrad the maximum is not touched");
            }
        }
    }

    [TestCase(0.0, 0.0, false, 0.0)]
    [TestCase(0.0, 0.0, false, 0.01)]
    [TestCase(0.9, 0.0, false, 0.0)]
    [TestCase(0.9, 0.0, true, 0.01)]
    [TestCase(0.9, 0.3, false, 0.01)]
    [TestCase(0.5, 0.0, true, 0.0)]
    public void Sgd_paths_of_every_width_and_the_scalar_tail_give_the_same_bits(double momentum, double dampening, bool nesterov, double weightDecay)
    {
        SgdPath[] paths =
        [
            TrainingMath.SgdVectors<Vector512Ops, Vector512<float>>,
            TrainingMath.SgdVectors<Vector256Ops, Vector256<float>>,
            TrainingMath.SgdVectors<Vector128Ops, Vector128<float>>,
            (ref float p, ref float g, ref float buf, int i, int n, in SgdScalars s) => i,
        ];
        SgdScalars Scalars(long step) => new(0.1, momentum, dampening, weightDecay, nesterov, firstStep: step == 1);
        for (int rotation = 0; rotation < Kinds; rotation++)
        {
            var expected = SgdStart(rotation);
            for (long step = 1; step <= 3; step++)
            {
                TrainingMath.SgdScalar(ref expected[0][0], ref expected[1][0], ref expected[2][0], 0, Length, Scalars(step));
            }

            Assert.That(float.IsFinite(expected[0][(2 - rotation + Kinds) % Kinds]), Is.False, "an update overflows");
            for (int k = 0; k < paths.Length; k++)
            {
                var a = SgdStart(rotation);
                int done = 0;
                for (long step = 1; step <= 3; step++)
                {
                    done = paths[k](ref a[0][0], ref a[1][0], ref a[2][0], 0, Length, Scalars(step));
                    TrainingMath.SgdScalar(ref a[0][0], ref a[1][0], ref a[2][0], done, Length, Scalars(step));
                }

                Assert.That(done, Is.EqualTo(k == 3 ? 0 : Length - (Length % (16 >> k))), $"{Names[k]}: whole vectors only, the rest to the tail");
                Same(a, expected, $"{Names[k]}, rotation {rotation}", "value", "gradient", "momentum_buffer");
            }

            if (momentum != 0 && !nesterov)
            {
                // the blocked momentum path (two passes per block of 512) at each width, then the one-pass vectors and the tail
                SgdPath[] blocks = [Blocks<Vector512Ops, Vector512<float>>, Blocks<Vector256Ops, Vector256<float>>, Blocks<Vector128Ops, Vector128<float>>];
                for (int k = 0; k < blocks.Length; k++)
                {
                    var a = SgdStart(rotation);
                    for (long step = 1; step <= 3; step++)
                    {
                        int done = blocks[k](ref a[0][0], ref a[1][0], ref a[2][0], 0, Length, Scalars(step));
                        Assert.That(done, Is.EqualTo(TrainingMath.MomentumBlock), "one whole block of 1,021 floats");
                        done = paths[k](ref a[0][0], ref a[1][0], ref a[2][0], done, Length, Scalars(step));
                        TrainingMath.SgdScalar(ref a[0][0], ref a[1][0], ref a[2][0], done, Length, Scalars(step));
                    }

                    Same(a, expected, $"{Names[k]} blocks, rotation {rotation}", "value", "gradient", "momentum_buffer");
                }
            }

            var mixed = SgdStart(rotation);
            for (long step = 1; step <= 3; step++)
            {
                TrainingMath.Sgd(mixed[0], mixed[1], momentum != 0 ? mixed[2] : Span<float>.Empty, Scalars(step));
            }

            Same(mixed, expected, $"TrainingMath.Sgd, rotation {rotation}", "value", "gradient", "momentum_buffer");
            if (momentum == 0)
            {
                OptimizerTestSupport.AssertBitwiseEqual(mixed[2], SgdStart(rotation)[2], "without momentum the buffer is not touched");
            }
        }
    }

    private static int Blocks<TOps, TVector>(ref float p, ref float g, ref float buf, int i, int n, in SgdScalars s)
        where TOps : IVectorOps<TVector>
        where TVector : struct
    {
        for (; i + TrainingMath.MomentumBlock <= n; i += TrainingMath.MomentumBlock)
        {
            TrainingMath.SgdMomentumBlock<TOps, TVector>(ref Unsafe.Add(ref p, i), ref Unsafe.Add(ref g, i), ref Unsafe.Add(ref buf, i), s);
        }

        return i;
    }

    [Test]
    public void Adam_refuses_state_shorter_than_the_value_naming_it()
    {
        var s = new AdamScalars(1e-3, 0.9, 0.999, 1e-8, 0, amsGrad: true, decoupled: false, step: 1);
        float[] p = new float[10], g = new float[10], m = new float[10], v = new float[9], max = new float[10];
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => TrainingMath.Adam(p, g, m, v, max, s))!.ParamName, Is.EqualTo("v"));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => TrainingMath.Adam(p, new float[3], m, v, max, s))!.ParamName, Is.EqualTo("g"));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => TrainingMath.Adam(p, g, m, new float[10], Span<float>.Empty, s))!.ParamName, Is.EqualTo("vmax"));
        Assert.That(p, Is.All.EqualTo(0f), "nothing written");
    }

    /// <summary>The special operands: quiet NaNs with payloads and signs, a signalling NaN, signed zeros and infinities, subnormals, extremes.</summary>
    private static readonly float[] Specials =
    [
        float.NaN, NaNWithPayload, NegativeNaNWithPayload, -0f, 0f, float.PositiveInfinity,
        float.NegativeInfinity, float.Epsilon, -float.Epsilon, 1e-40f, BitConverter.Int32BitsToSingle(0x007FFFFF), float.MaxValue,
        float.MinValue, 1f, -1f, BitConverter.Int32BitsToSingle(0x7F800001),
    ];

    [Test]
    public void Maximum_and_SquareRoot_of_every_width_match_MathF_bitwise_on_special_values()
    {
        CheckMaximumAndSquareRoot<Vector512Ops, Vector512<float>>("Vector512");
        CheckMaximumAndSquareRoot<Vector256Ops, Vector256<float>>("Vector256");
        CheckMaximumAndSquareRoot<Vector128Ops, Vector128<float>>("Vector128");
    }

    private static void CheckMaximumAndSquareRoot<TOps, TVector>(string width)
        where TOps : IVectorOps<TVector>
        where TVector : struct
    {
        int pairs = Specials.Length * Specials.Length;
        Assert.That(pairs % TOps.Count, Is.Zero, "whole vectors");
        float[] left = new float[pairs], right = new float[pairs], maximum = new float[pairs], root = new float[pairs];
        for (int i = 0; i < pairs; i++)
        {
            left[i] = Specials[i / Specials.Length];
            right[i] = Specials[i % Specials.Length];
        }

        for (int i = 0; i < pairs; i += TOps.Count)
        {
            TOps.Store(TOps.Maximum(TOps.Load(ref left[0], (nuint)i), TOps.Load(ref right[0], (nuint)i)), ref maximum[0], (nuint)i);
            TOps.Store(TOps.SquareRoot(TOps.Load(ref left[0], (nuint)i)), ref root[0], (nuint)i);
        }

        for (int i = 0; i < pairs; i++)
        {
            int max = BitConverter.SingleToInt32Bits(maximum[i]), scalarMax = BitConverter.SingleToInt32Bits(MathF.Max(left[i], right[i]));
            Assert.That(max, Is.EqualTo(scalarMax), $"{width}.Maximum({Bits(left[i])}, {Bits(right[i])}) = {Bits(maximum[i])}, MathF.Max {Bits(MathF.Max(left[i], right[i]))}");
            int sqrt = BitConverter.SingleToInt32Bits(root[i]), scalarSqrt = BitConverter.SingleToInt32Bits(MathF.Sqrt(left[i]));
            Assert.That(sqrt, Is.EqualTo(scalarSqrt), $"{width}.SquareRoot({Bits(left[i])}) = {Bits(root[i])}, MathF.Sqrt {Bits(MathF.Sqrt(left[i]))}");
        }
    }

    private static string Bits(float x) => $"0x{BitConverter.SingleToInt32Bits(x):X8}";

    /// <summary>Adam's value, gradient, first and second moments and their maximum, ordinary values with special lanes.</summary>
    private static float[][] AdamStart(int rotation)
    {
        var random = new Random(12);
        float[] Fill(float scale, bool positive) => Array.ConvertAll(new float[Length], _ => (float)((positive ? random.NextDouble() : random.NextDouble() - 0.5) * scale));
        float[] p = Fill(2, false), g = Fill(1e-2f, false), m = Fill(1e-3f, false), v = Fill(1e-5f, true), max = Fill(2e-5f, true);
        for (int i = 0; i < Length; i++)
        {
            switch ((i + rotation) % Kinds)
            {
                case 0: // v = vmax = -0 and g = 0: the new v is +0, the maximum of -0 and +0 is +0
                    (v[i], max[i], g[i]) = (-0f, -0f, 0f);
                    break;
                case 1: // v = vmax = +0 and g = -0
                    (v[i], max[i], g[i]) = (0f, 0f, -0f);
                    break;
                case 2: // (1 - beta2) * g * g = 1e-3 * 1e21 * 1e21 overflows to +infinity (1e20 squares to 1e37, still finite)
                    g[i] = i % 2 == 0 ? 1e21f : -1e21f;
                    break;
                case 3: // a NaN value: with coupled weight decay it reaches g, m, v and the maximum
                    p[i] = i % 2 == 0 ? NaNWithPayload : float.NaN;
                    break;
                case 4: // subnormal v and maximum, a subnormal gradient
                    (v[i], max[i], g[i]) = (1e-40f, 3e-39f, 1e-42f);
                    break;
                case 5: // a NaN maximum (a loaded state) over an ordinary v: the maximum stays NaN, which the CPU's maxps would drop
                    max[i] = NegativeNaNWithPayload;
                    break;
            }
        }

        return [p, g, m, v, max];
    }

    /// <summary>SGD's value, gradient and momentum buffer, ordinary values with special lanes.</summary>
    private static float[][] SgdStart(int rotation)
    {
        var random = new Random(13);
        float[] Fill(float scale) => Array.ConvertAll(new float[Length], _ => (float)((random.NextDouble() - 0.5) * scale));
        float[] p = Fill(2), g = Fill(1e-1f), buf = Fill(1e-1f);
        for (int i = 0; i < Length; i++)
        {
            switch ((i + rotation) % Kinds)
            {
                case 0: // all -0
                    (p[i], g[i], buf[i]) = (-0f, -0f, -0f);
                    break;
                case 1: // all +0 but a -0 gradient
                    (p[i], g[i], buf[i]) = (0f, -0f, 0f);
                    break;
                case 2: // the update overflows to infinity
                    (p[i], g[i], buf[i]) = (float.MinValue, float.MaxValue, float.MaxValue);
                    break;
                case 3: // a NaN value (with weight decay it reaches the direction and the buffer)
                    p[i] = i % 2 == 0 ? NaNWithPayload : float.NaN;
                    break;
                case 4: // subnormal gradient and buffer
                    (g[i], buf[i]) = (1e-40f, -3e-39f);
                    break;
                case 5: // a NaN gradient and a NaN buffer
                    (g[i], buf[i]) = (NegativeNaNWithPayload, NaNWithPayload);
                    break;
            }
        }

        return [p, g, buf];
    }

    private static void Same(float[][] actual, float[][] expected, string what, params string[] names)
    {
        for (int k = 0; k < names.Length; k++)
        {
            OptimizerTestSupport.AssertBitwiseEqual(actual[k], expected[k], $"{what} {names[k]}");
        }
    }
}
