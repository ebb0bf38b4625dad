using System;
using System.Collections.Generic;
using System.Linq;
using CnnGen.Training;

namespace CnnGen.Tests.Training;

/// <summary>Synthetic parameters and gradients, and the optimizers' formulas evaluated in double (the references).</summary>
public static class OptimizerTestSupport
{
    /// <summary>Dense parameters with deterministic values in [-1, 1) and the given lengths.</summary>
    public static List<Parameter> Parameters(params int[] lengths) =>
        lengths.Select((n, k) =>
        {
            var p = new Parameter($"layer{k}.weight", [n], new float[n], new float[n]);
            new CounterRandom(7, p.Name).FillUniform(p.Value, -1, 1);
            return p;
        }).ToList();

    /// <summary>Writes the synthetic gradient of step <paramref name="step"/> into each parameter: mixed signs and magnitudes, some exact zeros.</summary>
    public static void Gradients(IReadOnlyList<Parameter> parameters, long step, float scale = 1f)
    {
        foreach (Parameter p in parameters)
        {
            CounterRandom rng = new CounterRandom(11, p.Name).Substream((ulong)step);
            for (int i = 0; i < p.PackedLength; i++)
            {
                float u = rng.NextFloat(i);
                float magnitude = MathF.Pow(10, -4 * rng.NextFloat(i + 1_000_000));
                p.Gradient[i] = u < 0.1f ? 0f : scale * magnitude * (u < 0.55f ? -1 : 1);
            }
        }
    }

    public static float[][] Snapshot(IEnumerable<float[]> arrays) => arrays.Select(a => (float[])a.Clone()).ToArray();

    public static void AssertBitwiseEqual(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected, string what)
    {
        Assert.That(actual.Length, Is.EqualTo(expected.Length), what);
        for (int i = 0; i < actual.Length; i++)
        {
            if (BitConverter.SingleToInt32Bits(actual[i]) != BitConverter.SingleToInt32Bits(expected[i]))
            {
                Assert.Fail($"{what}[{i}]: {actual[i]:R} vs {expected[i]:R} (not the same bits)");
            }
        }
    }

    /// <summary>The state of one element in the double reference.</summary>
    public sealed class DoubleState
    {
        public double P;
        public double Buf;
        public double M;
        public double V;
        public double VMax;
    }

    /// <summary>SGD step <paramref name="t"/> (1-based) in double: PyTorch's formula.</summary>
    public static void SgdStep(DoubleState s, double g, long t, double lr, SgdOptions o)
    {
        double d = g + (o.WeightDecay * s.P);
        if (o.Momentum != 0)
        {
            s.Buf = t == 1 ? d : (o.Momentum * s.Buf) + ((1 - o.Dampening) * d);
            d = o.Nesterov ? d + (o.Momentum * s.Buf) : s.Buf;
        }

        s.P -= lr * d;
    }

    /// <summary>Adam (or AdamW when <paramref name="decoupled"/>) step <paramref name="t"/> in double: PyTorch's formula.</summary>
    public static void AdamStep(DoubleState s, double g, long t, double lr, double beta1, double beta2, double eps, double wd, bool amsgrad, bool decoupled)
    {
        if (decoupled)
        {
            s.P *= 1 - (lr * wd);
        }
        else
        {
            g += wd * s.P;
        }

        s.M = (beta1 * s.M) + ((1 - beta1) * g);
        s.V = (beta2 * s.V) + ((1 - beta2) * g * g);
        s.VMax = Math.Max(s.VMax, s.V);
        double mHat = s.M / (1 - Math.Pow(beta1, t));
        double vHat = (amsgrad ? s.VMax : s.V) / (1 - Math.Pow(beta2, t));
        s.P -= lr * mHat / (Math.Sqrt(vHat) + eps);
    }
}
