using System;
using CnnGen.Training;

namespace CnnGen.Tests.Training;

/// <summary>The threaded update's fused last add and finite check (<see cref="GradientReduce"/>).</summary>
[TestFixture]
public sealed class GradientReduceTests
{
    [Test]
    public void Sums_are_TrainingMath_Adds_bit_for_bit_and_every_non_finite_sum_is_found([Values(1, 15, 16, 31, 32, 33, 100, 1000)] int length)
    {
        var random = new Random(length);
        float[] a = new float[length], b = new float[length];
        for (int i = 0; i < length; i++)
        {
            a[i] = (float)((random.NextDouble() - 0.5) * Math.Pow(10, random.Next(-6, 6)));
            b[i] = (float)((random.NextDouble() - 0.5) * Math.Pow(10, random.Next(-6, 6)));
        }

        float[] expected = (float[])a.Clone(), sum = (float[])a.Clone();
        TrainingMath.Add(expected, b);
        Assert.That(GradientReduce.AddFinite(sum, b), Is.True);
        Assert.That(sum, Is.EqualTo(expected).AsCollection, "the same float adds");

        // a NaN, an infinity, and an overflow of two finite values, at every position (vector bodies and tails)
        foreach (int at in new[] { 0, length / 2, length - 1 })
        {
            foreach ((float x, float y) in new[] { (float.NaN, 0f), (0f, float.NegativeInfinity), (float.MaxValue, float.MaxValue) })
            {
                sum = (float[])a.Clone();
                float[] other = (float[])b.Clone();
                sum[at] = x;
                other[at] = y;
                Assert.That(GradientReduce.AddFinite(sum, other), Is.False, $"{x} + {y} at {at} of {length}");
            }
        }
    }

    [Test]
    public void Parts_of_different_lengths_are_refused()
    {
        Assert.Throws<ArgumentException>(() => GradientReduce.AddFinite(new float[16], new float[15]));
    }

    [Test]
    public void A_part_added_to_itself_is_refused_and_left_as_it_was()
    {
        float[] gradient = [1f, 2f, 3f, 4f, 5f, 6f, 7f, 8f, 9f, 10f, 11f, 12f, 13f, 14f, 15f, 16f, 17f];
        float[] before = (float[])gradient.Clone();
        Assert.That(() => GradientReduce.AddFinite(gradient, gradient), Throws.ArgumentException.With.Message.Contains("overlap"));
        Assert.That(() => GradientReduce.AddFinite(gradient.AsSpan(0, 16), gradient.AsSpan(1, 16)), Throws.ArgumentException);
        Assert.That(gradient, Is.EqualTo(before), "nothing added");
    }
}
