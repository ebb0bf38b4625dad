using System;
using CnnGen.Training;

namespace CnnGen.Tests.Training;

/// <summary>
/// <see cref="TrainingMath.FirstNonFinite"/>, the scan behind the trainer's and the optimizers' gradient checks: the first
/// NaN or infinity at every position of every length around the vector blocks (one 512-bit vector, four of them, the
/// tails), several bad values, and finite extremes (largest float, -0, subnormals) never reported.
/// </summary>
[TestFixture]
public sealed class FirstNonFiniteTests
{
    private static readonly int[] Lengths = [0, 1, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129, 200, 1000];

    [Test]
    public void Finite_buffers_give_minus_one()
    {
        foreach (int n in Lengths)
        {
            var x = new float[n];
            for (int i = 0; i < n; i++)
            {
                x[i] = (i % 4) switch { 0 => float.MaxValue, 1 => -float.MaxValue, 2 => -0f, _ => float.Epsilon };
            }

            Assert.That(TrainingMath.FirstNonFinite(x), Is.EqualTo(-1), $"length {n}");
        }
    }

    [TestCase(float.NaN)]
    [TestCase(float.PositiveInfinity)]
    [TestCase(float.NegativeInfinity)]
    public void The_first_bad_value_is_found_at_every_position(float bad)
    {
        foreach (int n in Lengths)
        {
            for (int at = 0; at < n; at++)
            {
                var x = new float[n];
                x.AsSpan().Fill(1.5f);
                x[at] = bad;
                Assert.That(TrainingMath.FirstNonFinite(x), Is.EqualTo(at), $"length {n}");
                if (at + 3 < n)
                {
                    x[n - 1] = float.NaN;
                    x[at + 3] = float.PositiveInfinity;
                    Assert.That(TrainingMath.FirstNonFinite(x), Is.EqualTo(at), $"length {n}, more bad values after");
                }
            }
        }
    }
}
