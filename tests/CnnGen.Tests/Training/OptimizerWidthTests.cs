using System;
using System.Runtime.Intrinsics;
using CnnGen.Internal;
using CnnGen.Training;

namespace CnnGen.Tests.Training;

/// <summary>
/// The optimizers' width-generic loops (<see cref="TrainingMath.AdamVectors{TOps, TVector}"/>): every element of a buffer
/// whose length is a multiple of no width (1,021 floats: 63 vectors of 16 and 13 left, 127 of 8 and 5, 255 of 4 and 1) gets
/// the same bits from the Vector512, Vector256 and Vector128 paths (each followed by the scalar tail), from the scalar
/// loop alone, and from <see cref="TrainingMath.Adam"/>'s own mix of widths. A width the CPU lacks runs in software with the
/// same IEEE operations, so every path is compared on every machine.
/// </summary>
[TestFixture]
public sealed class OptimizerWidthTests
{
    private const int Length = 1021;

    private delegate int VectorPath(ref float p, ref float g, ref float m, ref float v, ref float vmax, int i, int n, in AdamScalars s);

    [TestCase(false, false, 0.0)]
    [TestCase(false, false, 0.01)]
    [TestCase(true, false, 0.0)]
    [TestCase(false, true, 0.05)]
    [TestCase(true, true, 0.05)]
    public void Adam_paths_of_every_width_and_the_scalar_tail_give_the_same_bits(bool amsGrad, bool decoupled, double weightDecay)
    {
        Assert.That(Length % 4, Is.Not.Zero, "a length no width divides");
        (float[] P, float[] G, float[] M, float[] V, float[] Max) Start()
        {
            var random = new Random(12);
            float[] Fill(float scale, bool positive) => Array.ConvertAll(new float[Length], _ => (float)((positive ? random.NextDouble() : random.NextDouble() - 0.5) * scale));
            return (Fill(2, false), Fill(1e-2f, false), Fill(1e-3f, false), Fill(1e-5f, true), Fill(2e-5f, true));
        }

        VectorPath[] paths =
        [
            TrainingMath.AdamVectors<Vector512Ops, Vector512<float>>,
            TrainingMath.AdamVectors<Vector256Ops, Vector256<float>>,
            TrainingMath.AdamVectors<Vector128Ops, Vector128<float>>,
            (ref float p, ref float g, ref float m, ref float v, ref float vmax, int i, int n, in AdamScalars s) => i,
        ];
        string[] names = ["Vector512", "Vector256", "Vector128", "scalar"];
        var expected = Start();
        for (long step = 1; step <= 3; step++)
        {
            var s = new AdamScalars(1e-3, 0.9, 0.999, 1e-8, weightDecay, amsGrad, decoupled, step);
            TrainingMath.AdamScalar(ref expected.P[0], ref expected.G[0], ref expected.M[0], ref expected.V[0], ref expected.Max[0], 0, Length, s);
        }

        for (int k = 0; k < paths.Length; k++)
        {
            var a = Start();
            int done = 0;
            for (long step = 1; step <= 3; step++)
            {
                var s = new AdamScalars(1e-3, 0.9, 0.999, 1e-8, weightDecay, amsGrad, decoupled, step);
                done = paths[k](ref a.P[0], ref a.G[0], ref a.M[0], ref a.V[0], ref a.Max[0], 0, Length, s);
                TrainingMath.AdamScalar(ref a.P[0], ref a.G[0], ref a.M[0], ref a.V[0], ref a.Max[0], done, Length, s);
            }

            Assert.That(done, Is.EqualTo(k == 3 ? 0 : Length - (Length % (16 >> k))), $"{names[k]}: whole vectors only, the rest to the tail");
            Same(a, expected, names[k]);
        }

        var mixed = Start();
        for (long step = 1; step <= 3; step++)
        {
            TrainingMath.Adam(mixed.P, mixed.G, mixed.M, mixed.V, amsGrad ? mixed.Max : Span<float>.Empty, new AdamScalars(1e-3, 0.9, 0.999, 1e-8, weightDecay, amsGrad, decoupled, step));
        }

        Same(mixed, expected, "TrainingMath.Adam");
        if (!amsGrad)
        {
            Assert.That(mixed.Max, Is.EqualTo(Start().Max), "without AMSGrad the maximum is not touched");
        }
    }

    [Test]
    public void Adam_refuses_state_shorter_than_the_value()
    {
        var s = new AdamScalars(1e-3, 0.9, 0.999, 1e-8, 0, amsGrad: true, decoupled: false, step: 1);
        float[] p = new float[10], g = new float[10], m = new float[10], v = new float[9], max = new float[10];
        Assert.Throws<ArgumentException>(() => TrainingMath.Adam(p, g, m, v, max, s));
        Assert.Throws<ArgumentException>(() => TrainingMath.Adam(p, g, m, new float[10], Span<float>.Empty, s));
        Assert.That(p, Is.All.EqualTo(0f), "nothing written");
    }

    private static void Same((float[] P, float[] G, float[] M, float[] V, float[] Max) actual, (float[] P, float[] G, float[] M, float[] V, float[] Max) expected, string what)
    {
        OptimizerTestSupport.AssertBitwiseEqual(actual.P, expected.P, what + " value");
        OptimizerTestSupport.AssertBitwiseEqual(actual.M, expected.M, what + " exp_avg");
        OptimizerTestSupport.AssertBitwiseEqual(actual.V, expected.V, what + " exp_avg_sq");
        OptimizerTestSupport.AssertBitwiseEqual(actual.Max, expected.Max, what + " max_exp_avg_sq");
    }
}
