using System;
using System.Collections.Generic;
using System.Linq;
using R = CnnGen.Reference<double>;
using static CnnGen.Tests.Backward.FiniteDifferences;

namespace CnnGen.Tests.Backward;

/// <summary>
/// Every reference backward function against central finite differences in double (<see cref="FiniteDifferences"/>), on
/// seeded random small configurations of each layer's options: every element of the input and parameter gradients. Per-image
/// layers run a batch of 2 so that the parameter gradients' accumulation over the batch is checked too.
/// </summary>
[TestFixture]
public sealed class LayerGradientTests
{
    private const int Batch = 2;

    [Test]
    public void Conv2D([Range(0, 15)] int seed)
    {
        var r = new Random(seed);
        bool depthwise = seed % 4 == 3;
        int groups = depthwise ? r.Next(1, 5) : Pick(r, 1, 1, 2, 3);
        int channels = depthwise ? groups : groups * r.Next(1, 3);
        int filters = groups * r.Next(1, 3); // depthwise: channel multiplier 1 or 2
        (int kH, int kW) = (r.Next(1, 4), r.Next(1, 4));
        (int sH, int sW) = (r.Next(1, 4), r.Next(1, 4));
        (int dH, int dW) = (r.Next(1, 3), r.Next(1, 3));
        (int pt, int pl, int pb, int pr) = (r.Next(0, 3), r.Next(0, 3), r.Next(0, 3), r.Next(0, 3));
        int height = (dH * (kH - 1)) + 1 + r.Next(0, 5), width = (dW * (kW - 1)) + 1 + r.Next(0, 5);
        bool bias = r.Next(3) > 0;
        (int oh, int ow) = R.ConvOutputSize(height, width, kH, kW, sH, sW, pt, pl, pb, pr, dH, dW);
        int inSize = channels * height * width, outSize = filters * oh * ow;
        double[] x = RandomArray(Batch * inSize, r), w = RandomArray(filters * (channels / groups) * kH * kW, r), b = bias ? RandomArray(filters, r) : Array.Empty<double>();

        CheckElements(
            $"conv C{channels} {height}x{width} F{filters} k{kH}x{kW} s{sH}x{sW} p{pt},{pl},{pb},{pr} d{dH}x{dW} g{groups} bias {bias}",
            Inputs(("input", x), ("weight", w), ("bias", b)),
            () => PerItem(x, inSize, outSize, (xi, yi) => R.Conv2D(xi, channels, height, width, w, b, filters, kH, kW, sH, sW, pt, pl, pb, pr, dH, dW, groups, yi)),
            g =>
            {
                var dw = new double[w.Length];
                var db = new double[b.Length];
                double[] dx = PerItemBack(x, g, inSize, outSize, (xi, gi, dxi) => R.Conv2DBackward(xi, channels, height, width, w, filters, kH, kW, sH, sW, pt, pl, pb, pr, dH, dW, groups, gi, dxi, dw, db));
                return Grads(dx, dw, db);
            });
    }

    [Test]
    public void Dense([Range(0, 5)] int seed)
    {
        var r = new Random(seed);
        int inFeatures = r.Next(1, 20), units = r.Next(1, 10);
        bool bias = seed % 3 != 2;
        double[] x = RandomArray(Batch * inFeatures, r), w = RandomArray(units * inFeatures, r), b = bias ? RandomArray(units, r) : Array.Empty<double>();
        CheckElements(
            $"dense {inFeatures} -> {units} bias {bias}",
            Inputs(("input", x), ("weight", w), ("bias", b)),
            () => PerItem(x, inFeatures, units, (xi, yi) => R.Dense(xi, inFeatures, w, b, units, yi)),
            g =>
            {
                var dw = new double[w.Length];
                var db = new double[b.Length];
                double[] dx = PerItemBack(x, g, inFeatures, units, (xi, gi, dxi) => R.DenseBackward(xi, inFeatures, w, units, gi, dxi, dw, db));
                return Grads(dx, dw, db);
            });
    }

    [Test]
    public void MaxPool2D([Range(0, 11)] int seed)
    {
        var r = new Random(seed);
        (int channels, int kH, int kW, int sH, int sW) = (r.Next(1, 3), r.Next(1, 4), r.Next(1, 4), r.Next(1, 4), r.Next(1, 4));
        (int pH, int pW) = (r.Next(0, (kH / 2) + 1), r.Next(0, (kW / 2) + 1));
        (int dH, int dW) = (r.Next(1, 3), r.Next(1, 3));
        bool ceil = r.Next(2) == 0;
        int height = (dH * (kH - 1)) + 1 + r.Next(0, 5), width = (dW * (kW - 1)) + 1 + r.Next(0, 5);
        (int oh, int ow) = R.PoolOutputSize(height, width, kH, kW, sH, sW, pH, pW, dH, dW, ceil);
        int inSize = channels * height * width, outSize = channels * oh * ow;
        double[] x = DistinctValues(Batch * inSize, r);
        CheckElements(
            $"maxpool C{channels} {height}x{width} k{kH}x{kW} s{sH}x{sW} p{pH}x{pW} d{dH}x{dW} ceil {ceil}",
            Inputs(("input", x)),
            () => PerItem(x, inSize, outSize, (xi, yi) => R.MaxPool2D(xi, channels, height, width, kH, kW, sH, sW, pH, pW, dH, dW, ceil, yi)),
            g => Grads(PerItemBack(x, g, inSize, outSize, (xi, gi, dxi) => R.MaxPool2DBackward(xi, channels, height, width, kH, kW, sH, sW, pH, pW, dH, dW, ceil, gi, dxi))));
    }

    [Test]
    public void AvgPool2D([Range(0, 11)] int seed)
    {
        var r = new Random(seed);
        (int channels, int kH, int kW, int sH, int sW) = (r.Next(1, 3), r.Next(1, 4), r.Next(1, 4), r.Next(1, 4), r.Next(1, 4));
        (int pH, int pW) = (r.Next(0, (kH / 2) + 1), r.Next(0, (kW / 2) + 1));
        bool ceil = r.Next(2) == 0, include = r.Next(2) == 0;
        int height = kH + r.Next(0, 6), width = kW + r.Next(0, 6);
        (int oh, int ow) = R.PoolOutputSize(height, width, kH, kW, sH, sW, pH, pW, 1, 1, ceil);
        int inSize = channels * height * width, outSize = channels * oh * ow;
        double[] x = RandomArray(Batch * inSize, r);
        CheckElements(
            $"avgpool C{channels} {height}x{width} k{kH}x{kW} s{sH}x{sW} p{pH}x{pW} ceil {ceil} count_include_pad {include}",
            Inputs(("input", x)),
            () => PerItem(x, inSize, outSize, (xi, yi) => R.AvgPool2D(xi, channels, height, width, kH, kW, sH, sW, pH, pW, ceil, include, yi)),
            g => Grads(PerItemBack(x, g, inSize, outSize, (_, gi, dxi) => R.AvgPool2DBackward(channels, height, width, kH, kW, sH, sW, pH, pW, ceil, include, gi, dxi))));
    }

    [Test]
    public void GlobalPools([Range(0, 3)] int seed, [Values] bool max)
    {
        var r = new Random(seed);
        (int channels, int height, int width) = (r.Next(1, 4), r.Next(1, 6), r.Next(1, 6));
        int inSize = channels * height * width;
        double[] x = DistinctValues(Batch * inSize, r);
        CheckElements(
            $"global {(max ? "max" : "avg")} pool C{channels} {height}x{width}",
            Inputs(("input", x)),
            () => PerItem(x, inSize, channels, (xi, yi) =>
            {
                if (max)
                {
                    R.GlobalMaxPool2D(xi, channels, height, width, yi);
                }
                else
                {
                    R.GlobalAvgPool2D(xi, channels, height, width, yi);
                }
            }),
            g => Grads(PerItemBack(x, g, inSize, channels, (xi, gi, dxi) =>
            {
                if (max)
                {
                    R.GlobalMaxPool2DBackward(xi, channels, height, width, gi, dxi);
                }
                else
                {
                    R.GlobalAvgPool2DBackward(channels, height, width, gi, dxi);
                }
            })));
    }

    [Test]
    public void AdaptiveAvgPool2D([Range(0, 7)] int seed)
    {
        var r = new Random(seed);
        (int channels, int height, int width, int outH, int outW) = (r.Next(1, 3), r.Next(1, 10), r.Next(1, 10), r.Next(1, 6), r.Next(1, 6));
        int inSize = channels * height * width, outSize = channels * outH * outW;
        double[] x = RandomArray(Batch * inSize, r);
        CheckElements(
            $"adaptive avgpool C{channels} {height}x{width} -> {outH}x{outW}",
            Inputs(("input", x)),
            () => PerItem(x, inSize, outSize, (xi, yi) => R.AdaptiveAvgPool2D(xi, channels, height, width, outH, outW, yi)),
            g => Grads(PerItemBack(x, g, inSize, outSize, (_, gi, dxi) => R.AdaptiveAvgPool2DBackward(channels, height, width, outH, outW, gi, dxi))));
    }

    public static IEnumerable<Activation> ElementWise() => Enum.GetValues<Activation>().Where(a => a != Activation.Softmax);

    [Test]
    public void Activations([ValueSource(nameof(ElementWise))] Activation activation, [Range(0, 1)] int seed)
    {
        var r = new Random(seed);
        double alpha = r.NextDouble() * 0.3;
        double[] x = RandomArray(40, r, 8).Select(AwayFromKinks).ToArray();
        CheckElements(
            $"{activation} alpha {alpha}",
            Inputs(("input", x)),
            () =>
            {
                var y = new double[x.Length];
                R.Activate(x, y, activation, alpha);
                return y;
            },
            g =>
            {
                var dx = new double[x.Length];
                R.ActivateBackward(x, g, dx, activation, alpha);
                return Grads(dx);
            });
    }

    [Test]
    public void SoftmaxAndLogSoftmax([Range(0, 3)] int seed, [Values] bool log)
    {
        var r = new Random(seed);
        (int channels, int spatial) = (r.Next(1, 7), r.Next(1, 5));
        double[] x = RandomArray(channels * spatial, r, 3);
        CheckElements(
            $"{(log ? "log-softmax" : "softmax")} {channels} x {spatial}",
            Inputs(("input", x)),
            () =>
            {
                var y = new double[x.Length];
                if (log)
                {
                    R.LogSoftmax(x, channels, spatial, y);
                }
                else
                {
                    R.Softmax(x, channels, spatial, y);
                }

                return y;
            },
            g =>
            {
                var dx = new double[x.Length];
                if (log)
                {
                    R.LogSoftmaxBackward(x, channels, spatial, g, dx);
                }
                else
                {
                    R.SoftmaxBackward(x, channels, spatial, g, dx);
                }

                return Grads(dx);
            });
    }

    [Test]
    public void BatchNormInference([Range(0, 3)] int seed)
    {
        var r = new Random(seed);
        (int channels, int height, int width) = (r.Next(1, 5), r.Next(1, 4), r.Next(1, 4));
        int size = channels * height * width;
        double[] x = RandomArray(Batch * size, r), gamma = RandomArray(channels, r), beta = RandomArray(channels, r);
        double[] mean = RandomArray(channels, r), variance = RandomArray(channels, r).Select(v => Math.Abs(v) + 0.1).ToArray();
        double eps = 1e-3;
        CheckElements(
            $"batch norm (inference) C{channels} {height}x{width}",
            Inputs(("input", x), ("gamma", gamma), ("beta", beta)),
            () => PerItem(x, size, size, (xi, yi) => R.BatchNorm2D(xi, channels, height, width, gamma, beta, mean, variance, eps, yi)),
            g =>
            {
                var dGamma = new double[channels];
                var dBeta = new double[channels];
                double[] dx = PerItemBack(x, g, size, size, (xi, gi, dxi) => R.BatchNorm2DBackward(xi, channels, height, width, gamma, mean, variance, eps, gi, dxi, dGamma, dBeta));
                return Grads(dx, dGamma, dBeta);
            });
    }

    [Test]
    public void BatchNormTraining([Range(0, 5)] int seed)
    {
        var r = new Random(seed);
        (int batch, int channels, int height, int width) = (r.Next(1, 4), r.Next(1, 5), r.Next(1, 4), r.Next(1, 4));
        if (batch * height * width < 2)
        {
            batch = 2; // one value per channel has no variance
        }

        double[] x = RandomArray(batch * channels * height * width, r, 2), gamma = RandomArray(channels, r), beta = RandomArray(channels, r);
        double eps = 1e-5;
        CheckElements(
            $"batch norm (training) N{batch} C{channels} {height}x{width}",
            Inputs(("input", x), ("gamma", gamma), ("beta", beta)),
            () =>
            {
                var y = new double[x.Length];
                R.BatchNorm2DTraining(x, batch, channels, height, width, gamma, beta, new double[channels], new double[channels], eps, 0.1, y);
                return y;
            },
            g =>
            {
                var dx = new double[x.Length];
                var dGamma = new double[channels];
                var dBeta = new double[channels];
                R.BatchNorm2DTrainingBackward(x, batch, channels, height, width, gamma, eps, g, dx, dGamma, dBeta);
                return Grads(dx, dGamma, dBeta);
            });
    }

    [Test]
    public void AddAndConcat([Values] bool concat)
    {
        var r = new Random(3);
        (int channelsA, int channelsB, int height, int width) = (2, concat ? 3 : 2, 3, 4);
        double[] a = RandomArray(channelsA * height * width, r), b = RandomArray(channelsB * height * width, r);
        CheckElements(
            concat ? "concat" : "add",
            Inputs(("a", a), ("b", b)),
            () =>
            {
                var y = new double[concat ? a.Length + b.Length : a.Length];
                if (concat)
                {
                    R.Concat(a, channelsA, b, channelsB, height, width, y);
                }
                else
                {
                    R.Add(a, b, y);
                }

                return y;
            },
            g =>
            {
                var da = new double[a.Length];
                var db = new double[b.Length];
                if (concat)
                {
                    R.ConcatBackward(channelsA, channelsB, height, width, g, da, db);
                }
                else
                {
                    R.AddBackward(g, da, db);
                }

                return Grads(da, db);
            });
    }

    [Test]
    public void Multiply([Values] bool perChannel, [Range(0, 1)] int seed)
    {
        var r = new Random(20 + seed);
        (int channels, int height, int width) = (r.Next(1, 5), r.Next(1, 5), r.Next(1, 5));
        int size = channels * height * width;
        double[] a = RandomArray(size, r), b = RandomArray(perChannel ? channels : size, r);
        CheckElements(
            $"multiply {(perChannel ? "per channel" : "same shape")} C{channels} {height}x{width}",
            Inputs(("a", a), ("b", b)),
            () =>
            {
                var y = new double[size];
                if (perChannel)
                {
                    R.MultiplyPerChannel(a, channels, height, width, b, y);
                }
                else
                {
                    R.Multiply(a, b, y);
                }

                return y;
            },
            g =>
            {
                var da = new double[a.Length];
                var db = new double[b.Length];
                if (perChannel)
                {
                    R.MultiplyPerChannelBackward(a, channels, height, width, b, g, da, db);
                }
                else
                {
                    R.MultiplyBackward(a, b, g, da, db);
                }

                return Grads(da, db);
            });
    }

    [Test]
    public void Dropout([Values(0.0, 0.3, 0.5, 0.9, 1.0)] double p)
    {
        var r = new Random(5);
        double[] x = RandomArray(50, r);
        CheckElements(
            $"dropout p {p}",
            Inputs(("input", x)),
            () =>
            {
                var y = new double[x.Length];
                R.Dropout(x, p, 77, 1000, y);
                return y;
            },
            g =>
            {
                var dx = new double[x.Length];
                R.DropoutBackward(p, 77, 1000, g, dx);
                return Grads(dx);
            });
    }

    [Test]
    public void CrossEntropy([Values(0.0, 0.1, 1.0)] double smoothing)
    {
        var r = new Random(9);
        (int batch, int classes) = (3, 5);
        double[] logits = RandomArray(batch * classes, r, 4);
        int[] labels = { 4, 0, 2 };
        CheckElements(
            $"cross-entropy smoothing {smoothing}",
            Inputs(("logits", logits)),
            () => new[] { R.CrossEntropy(logits, batch, classes, labels, smoothing, Span<double>.Empty) },
            g =>
            {
                var dz = new double[logits.Length];
                R.CrossEntropy(logits, batch, classes, labels, smoothing, dz);
                return Grads(dz.Select(v => v * g[0]).ToArray());
            });
    }

    [Test]
    public void MeanSquaredError()
    {
        var r = new Random(11);
        double[] prediction = RandomArray(12, r), target = RandomArray(12, r);
        CheckElements(
            "mse",
            Inputs(("prediction", prediction)),
            () => new[] { R.MeanSquaredError(prediction, target, Span<double>.Empty) },
            g =>
            {
                var dp = new double[prediction.Length];
                R.MeanSquaredError(prediction, target, dp);
                return Grads(dp.Select(v => v * g[0]).ToArray());
            });
    }

    private delegate void ItemForward(ReadOnlySpan<double> x, Span<double> y);

    private delegate void ItemBackward(ReadOnlySpan<double> x, ReadOnlySpan<double> g, Span<double> dx);

    private static T Pick<T>(Random r, params T[] items) => items[r.Next(items.Length)];

    private static IReadOnlyList<Input> Inputs(params (string Name, double[] Value)[] tensors) =>
        tensors.Where(t => t.Value.Length > 0).Select(t => new Input(t.Name, t.Value)).ToArray();

    /// <summary>The gradients of the non-empty inputs, in order (an empty bias has no gradient to check).</summary>
    private static IReadOnlyList<double[]> Grads(params double[][] grads) => grads.Where(g => g.Length > 0).ToArray();

    private static double[] PerItem(double[] x, int inSize, int outSize, ItemForward forward)
    {
        var y = new double[Batch * outSize];
        for (int n = 0; n < Batch; n++)
        {
            forward(x.AsSpan(n * inSize, inSize), y.AsSpan(n * outSize, outSize));
        }

        return y;
    }

    private static double[] PerItemBack(double[] x, double[] g, int inSize, int outSize, ItemBackward backward)
    {
        var dx = new double[x.Length];
        for (int n = 0; n < Batch; n++)
        {
            backward(x.AsSpan(n * inSize, inSize), g.AsSpan(n * outSize, outSize), dx.AsSpan(n * inSize, inSize));
        }

        return dx;
    }

    /// <summary>Values at least 0.01 apart in random order, so no max-pool window has a tie within the finite-difference step.</summary>
    private static double[] DistinctValues(int length, Random r) =>
        Enumerable.Range(0, length).Select(i => (i - (length / 2)) * 0.01).OrderBy(_ => r.Next()).ToArray();

    /// <summary>Moves values off the kinks at 0 and 6 (ReLU, ReLU6, LeakyReLU) by more than the finite-difference step.</summary>
    private static double AwayFromKinks(double x) => Math.Abs(x) < 1e-3 || Math.Abs(x - 6) < 1e-3 ? x + 0.01 : x;
}
