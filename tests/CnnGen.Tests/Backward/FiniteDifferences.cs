using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace CnnGen.Tests.Backward;

/// <summary>
/// Gradient checks by central finite differences in double. The function under test maps some tensors to an output; the
/// scalar checked is <c>L = sum(output * G)</c> for a fixed random <c>G</c>, whose gradient is exactly what a backward
/// function returns when given <c>outputGrad = G</c>.
/// </summary>
/// <remarks>
/// Step <c>h = 1e-6</c>: the truncation error of a central difference is <c>h^2 f'''/6</c> (about 1e-12 here) and the rounding
/// error about <c>1e-16 * |L| / h</c> (1e-10 for |L| near 1), both far below the tolerance <c>1e-6 + 1e-5 * |gradient|</c>,
/// while any wrong term in a backward function is of the order of the gradient itself. Inputs are kept away from kinks
/// (ReLU at 0, ties in a max pool) by the callers, since a finite difference straddling a kink measures neither side.
/// </remarks>
public static class FiniteDifferences
{
    public const double Step = 1e-6;

    public const double AbsoluteTolerance = 1e-6;

    public const double RelativeTolerance = 1e-5;

    /// <summary>A tensor the function reads and whose gradient is checked; the check changes its values in place and restores them.</summary>
    public sealed record Input(string Name, double[] Value);

    /// <summary>
    /// Checks every element of every input: the analytic gradient from <paramref name="backward"/> (one array per input, in
    /// order) against <c>(L(x + h) - L(x - h)) / 2h</c>.
    /// </summary>
    /// <param name="context">What is checked, for messages.</param>
    /// <param name="inputs">The tensors, read by <paramref name="forward"/> through their arrays.</param>
    /// <param name="forward">Computes the output from the current values.</param>
    /// <param name="backward">Given <c>G</c>, returns d L / d input for each input (after a forward at the unperturbed values).</param>
    /// <param name="seed">Seed of <c>G</c>.</param>
    public static void CheckElements(string context, IReadOnlyList<Input> inputs, Func<double[]> forward, Func<double[], IReadOnlyList<double[]>> backward, int seed = 1)
    {
        double[] g = RandomArray(forward().Length, new Random(seed));
        forward();
        IReadOnlyList<double[]> analytic = backward(g);
        Assert.That(analytic, Has.Count.EqualTo(inputs.Count), $"{context}: one gradient per input");
        for (int t = 0; t < inputs.Count; t++)
        {
            double[] x = inputs[t].Value;
            Assert.That(analytic[t], Has.Length.EqualTo(x.Length), $"{context}: d/d {inputs[t].Name} length");
            for (int i = 0; i < x.Length; i++)
            {
                double saved = x[i];
                x[i] = saved + Step;
                double plus = Dot(forward(), g);
                x[i] = saved - Step;
                double minus = Dot(forward(), g);
                x[i] = saved;
                double numeric = (plus - minus) / (2 * Step);
                AssertClose(numeric, analytic[t][i], $"{context}: d/d {inputs[t].Name}[{i}]");
            }
        }
    }

    /// <summary>
    /// Checks each input's gradient along one random direction <c>v</c> (two evaluations per input instead of two per element):
    /// <c>(L(x + h v) - L(x - h v)) / 2h</c> against <c>gradient . v</c>, within the tolerances scaled by <c>sum |gradient_i v_i|</c>.
    /// A wrong element of the gradient shows unless the error happens to be orthogonal to <c>v</c>.
    /// </summary>
    public static void CheckDirections(string context, IReadOnlyList<Input> inputs, Func<double[]> forward, Func<double[], IReadOnlyList<double[]>> backward, int seed = 1)
    {
        var random = new Random(seed);
        double[] g = RandomArray(forward().Length, random);
        forward();
        IReadOnlyList<double[]> analytic = backward(g);
        Assert.That(analytic, Has.Count.EqualTo(inputs.Count), $"{context}: one gradient per input");
        for (int t = 0; t < inputs.Count; t++)
        {
            double[] x = inputs[t].Value;
            double[] saved = x.ToArray();
            double[] v = RandomArray(x.Length, random);
            Assert.That(analytic[t], Has.Length.EqualTo(x.Length), $"{context}: d/d {inputs[t].Name} length");
            double plus = Evaluate(+Step);
            double minus = Evaluate(-Step);
            saved.CopyTo(x, 0);
            double numeric = (plus - minus) / (2 * Step);
            double expected = analytic[t].Zip(v, (a, b) => a * b).Sum();
            double scale = analytic[t].Zip(v, (a, b) => Math.Abs(a * b)).Sum();
            double error = Math.Abs(numeric - expected);
            Assert.That(
                error <= (AbsoluteTolerance + (RelativeTolerance * scale)),
                string.Create(CultureInfo.InvariantCulture, $"{context}: d/d {inputs[t].Name} along a random direction: finite difference {numeric:R}, backward {expected:R}, |diff| {error:G3}, scale {scale:G3}"));

            double Evaluate(double step)
            {
                for (int i = 0; i < x.Length; i++)
                {
                    x[i] = saved[i] + (step * v[i]);
                }

                return Dot(forward(), g);
            }
        }
    }

    /// <summary>Uniform values in [-1, 1).</summary>
    public static double[] RandomArray(int length, Random random, double scale = 1)
    {
        var a = new double[length];
        for (int i = 0; i < length; i++)
        {
            a[i] = ((random.NextDouble() * 2) - 1) * scale;
        }

        return a;
    }

    private static double Dot(double[] a, double[] b)
    {
        Assert.That(a, Has.Length.EqualTo(b.Length), "the output length changed");
        double sum = 0;
        for (int i = 0; i < a.Length; i++)
        {
            sum += a[i] * b[i];
        }

        return sum;
    }

    private static void AssertClose(double numeric, double analytic, string context)
    {
        double error = Math.Abs(numeric - analytic);
        if (!(error <= AbsoluteTolerance + (RelativeTolerance * Math.Abs(numeric))))
        {
            Assert.Fail(string.Create(CultureInfo.InvariantCulture, $"{context}: finite difference {numeric:R}, backward {analytic:R}, |diff| {error:G3}"));
        }
    }
}
