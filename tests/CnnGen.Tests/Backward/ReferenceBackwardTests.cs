using System;
using System.Linq;
using R = CnnGen.Reference<double>;

namespace CnnGen.Tests.Backward;

/// <summary>
/// Exact conventions of the reference backward functions that neither PyTorch's random cases nor finite differences pin down
/// (ties, kinks, -inf, NaN, the dropout mask), the losses' values, and the API's contracts (float/double, accumulation,
/// validation before any write).
/// </summary>
[TestFixture]
public sealed class ReferenceBackwardTests
{
    [Test]
    public void TheFloatReferenceIsTheGenericOneInFloat()
    {
        Assert.That(typeof(Reference).BaseType, Is.EqualTo(typeof(Reference<float>)));
        var r = new Random(4);
        double[] x = FiniteDifferences.RandomArray(3 * 6 * 5, r), w = FiniteDifferences.RandomArray(4 * 3 * 9, r), g = FiniteDifferences.RandomArray(4 * 6 * 5, r);
        var (dx, dw, db) = (new double[x.Length], new double[w.Length], new double[4]);
        R.Conv2DBackward(x, 3, 6, 5, w, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, g, dx, dw, db);
        var (dxf, dwf, dbf) = (new float[x.Length], new float[w.Length], new float[4]);
        Reference.Conv2DBackward(ToFloat(x), 3, 6, 5, ToFloat(w), 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, ToFloat(g), dxf, dwf, dbf);
        Assert.That(dxf, Is.EqualTo(dx).Within(1e-5));
        Assert.That(dwf, Is.EqualTo(dw).Within(1e-5));
        Assert.That(dbf, Is.EqualTo(db).Within(1e-5));
    }

    [Test]
    public void MaxPoolSendsEachWindowsGradientToItsFirstMaximum()
    {
        // [1, 2, 3] map of equal values, 2x2 windows at stride 1: windows (0,0) and (0,1) overlap; each picks its first tap.
        double[] x = { 5, 5, 5, 5, 5, 5 };
        var dx = new double[6];
        R.MaxPool2DBackward(x, 1, 2, 3, 2, 2, 1, 1, 0, 0, 1, 1, false, new double[] { 1, 10 }, dx);
        Assert.That(dx, Is.EqualTo(new double[] { 1, 10, 0, 0, 0, 0 }));

        // A later larger value takes over; an equal one after it does not.
        x = new double[] { 1, 7, 7, 2 };
        dx = new double[4];
        R.MaxPool2DBackward(x, 1, 1, 4, 1, 4, 1, 1, 0, 0, 1, 1, false, new double[] { 3 }, dx);
        Assert.That(dx, Is.EqualTo(new double[] { 0, 3, 0, 0 }));
    }

    [Test]
    public void MaxPoolOfMinusInfinityGoesToTheFirstInBoundsTapAndNaNTakesOver()
    {
        // Windows (-1, 0, 1), (0, 1, 2), (1, 2, 3) over a row of -inf with padding 1: PyTorch starts from the first in-bounds tap.
        double[] x = { double.NegativeInfinity, double.NegativeInfinity, double.NegativeInfinity };
        var y = new double[3];
        R.MaxPool2D(x, 1, 1, 3, 1, 3, 1, 1, 0, 1, 1, 1, false, y);
        Assert.That(y, Is.All.EqualTo(double.NegativeInfinity));
        var dx = new double[3];
        R.MaxPool2DBackward(x, 1, 1, 3, 1, 3, 1, 1, 0, 1, 1, 1, false, new double[] { 1, 2, 4 }, dx);
        Assert.That(dx, Is.EqualTo(new double[] { 3, 4, 0 }));

        // NaN propagates and every NaN takes over (val > max || isnan(val)): the last NaN gets the gradient.
        x = new double[] { 1, double.NaN, 3, double.NaN, 2 };
        y = new double[1];
        R.MaxPool2D(x, 1, 1, 5, 1, 5, 1, 1, 0, 0, 1, 1, false, y);
        Assert.That(y[0], Is.NaN);
        dx = new double[5];
        R.MaxPool2DBackward(x, 1, 1, 5, 1, 5, 1, 1, 0, 0, 1, 1, false, new double[] { 1 }, dx);
        Assert.That(dx, Is.EqualTo(new double[] { 0, 0, 0, 1, 0 }));
    }

    [Test]
    public void GlobalMaxPoolSendsTheGradientToTheFirstMaximum()
    {
        double[] x = { 1, 4, 4, 0, /* channel 1 */ 2, 2, 2, 2 };
        var dx = new double[8];
        R.GlobalMaxPool2DBackward(x, 2, 2, 2, new double[] { 5, 6 }, dx);
        Assert.That(dx, Is.EqualTo(new double[] { 0, 5, 0, 0, 6, 0, 0, 0 }));
    }

    [Test]
    public void ActivationsFollowPyTorchAtTheKinks()
    {
        double[] x = { 0.0, -0.0, 6.0, 5.5, -1.0, 7.0 };
        double[] ones = Enumerable.Repeat(1.0, x.Length).ToArray();
        Assert.That(Derivative(Activation.Relu), Is.EqualTo(new double[] { 0, 0, 1, 1, 0, 1 }), "ReLU passes where x > 0");
        Assert.That(Derivative(Activation.Relu6), Is.EqualTo(new double[] { 0, 0, 0, 1, 0, 0 }), "ReLU6 passes where 0 < x < 6");
        Assert.That(Derivative(Activation.LeakyRelu, 0.25), Is.EqualTo(new double[] { 0.25, 0.25, 1, 1, 0.25, 1 }), "LeakyReLU uses its slope where x <= 0");
        Assert.That(Derivative(Activation.None), Is.EqualTo(ones));
        Assert.That(Derivative(Activation.Sigmoid)[0], Is.EqualTo(0.25));
        Assert.That(Derivative(Activation.Tanh)[0], Is.EqualTo(1.0));
        Assert.That(Derivative(Activation.SiLU)[0], Is.EqualTo(0.5));
        Assert.Throws<ArgumentException>(() => R.ActivateBackward(x, ones, new double[x.Length], Activation.Softmax));

        double[] Derivative(Activation activation, double alpha = 0.01)
        {
            var dx = new double[x.Length];
            R.ActivateBackward(x, ones, dx, activation, alpha);
            return dx;
        }
    }

    [Test]
    public void SaturatedActivationsHaveFiniteGradients()
    {
        float[] x = { -90f, 90f };
        var dx = new float[2];
        foreach (Activation activation in new[] { Activation.Sigmoid, Activation.Tanh, Activation.SiLU })
        {
            Reference.ActivateBackward(x, new[] { 1f, 1f }, dx, activation);
            Assert.That(dx, Is.All.Not.NaN, activation.ToString());
            Assert.That(dx[0], Is.EqualTo(0f).Within(1e-30), activation.ToString());
        }
    }

    [Test]
    public void ParameterGradientsAccumulateAndInputGradientsAreOverwritten()
    {
        double[] x = { 1, 2, 3 }, w = { 1, -1, 2, 0.5, 0.5, 0.5 }, g = { 1, 2 };
        var (dx, dw, db) = (new double[] { 9, 9, 9 }, new double[6], new double[2]);
        R.DenseBackward(x, 3, w, 2, g, dx, dw, db);
        R.DenseBackward(x, 3, w, 2, g, dx, dw, db);
        Assert.That(dx, Is.EqualTo(new double[] { 2, 0, 3 }));
        Assert.That(dw, Is.EqualTo(new double[] { 2, 4, 6, 4, 8, 12 }));
        Assert.That(db, Is.EqualTo(new double[] { 2, 4 }));
    }

    [Test]
    public void BackwardFunctionsValidateBeforeWriting()
    {
        double[] x = new double[2 * 5 * 5], w = new double[3 * 2 * 9], g = new double[3 * 5 * 5];
        double[] dx = Enumerable.Repeat(7.0, x.Length).ToArray();
        var e = Assert.Throws<ArgumentException>(() => R.Conv2DBackward(x, 2, 5, 5, w, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, g, dx, new double[w.Length - 1], new double[3]));
        Assert.That(e!.ParamName, Is.EqualTo("weightGrad"));
        Assert.That(e.Message, Does.Contain("53 elements; expected 54"));
        Assert.That(dx, Is.All.EqualTo(7.0), "nothing written");
        Assert.Throws<ArgumentException>(() => R.Conv2DBackward(x, 2, 5, 5, w, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, g, dx, new double[w.Length], new double[2]));
        Assert.Throws<ArgumentException>(() => R.MaxPool2DBackward(x, 2, 5, 5, 2, 2, 2, 2, 0, 0, 1, 1, false, new double[7], dx));
        Assert.Throws<ArgumentException>(() => R.DenseBackward(new double[4], 4, new double[8], 2, new double[2], new double[3], new double[8], Span<double>.Empty));
        Assert.That(dx, Is.All.EqualTo(7.0), "nothing written");
    }

    [Test]
    public void BatchNormTrainingUsesTheBatchStatisticsAndUpdatesTheRunningOnes()
    {
        // One channel, values 1 and 3 in two items: mean 2, biased variance 1 (normalization), unbiased 2 (running update).
        double[] x = { 1, 3 }, y = new double[2], runningMean = { 0 }, runningVariance = { 1 };
        R.BatchNorm2DTraining(x, 2, 1, 1, 1, new double[] { 1 }, new double[] { 0 }, runningMean, runningVariance, 1e-5, 0.1, y);
        Assert.That(y[0], Is.EqualTo(-1 / Math.Sqrt(1 + 1e-5)).Within(1e-15));
        Assert.That(y[1], Is.EqualTo(1 / Math.Sqrt(1 + 1e-5)).Within(1e-15));
        Assert.That(runningMean[0], Is.EqualTo(0.2).Within(1e-15));
        Assert.That(runningVariance[0], Is.EqualTo(0.9 + (0.1 * 2)).Within(1e-15));

        var e = Assert.Throws<ArgumentException>(() => R.BatchNorm2DTraining(new double[] { 1 }, 1, 1, 1, 1, new double[] { 1 }, new double[] { 0 }, runningMean, runningVariance, 1e-5, 0.1, new double[1]));
        Assert.That(e!.Message, Does.Contain("more than one value per channel"));
        Assert.That(runningMean[0], Is.EqualTo(0.2).Within(1e-15), "unchanged by the refused call");
    }

    [Test]
    public void AdaptiveAvgPoolUsesPyTorchsWindows()
    {
        // 5 -> 3: [floor(i*5/3), ceil((i+1)*5/3)) = [0, 2), [1, 4), [3, 5): the windows overlap.
        var y = new double[3];
        R.AdaptiveAvgPool2D(new double[] { 1, 2, 3, 4, 5 }, 1, 1, 5, 1, 3, y);
        Assert.That(y, Is.EqualTo(new double[] { 1.5, 3, 4.5 }));

        // 2 -> 3 (upsampling): [0, 1), [0, 2), [1, 2).
        R.AdaptiveAvgPool2D(new double[] { 2, 4 }, 1, 1, 2, 1, 3, y);
        Assert.That(y, Is.EqualTo(new double[] { 2, 3, 4 }));
        var dx = new double[2];
        R.AdaptiveAvgPool2DBackward(1, 1, 2, 1, 3, new double[] { 1, 1, 1 }, dx);
        Assert.That(dx, Is.EqualTo(new double[] { 1.5, 1.5 }));

        // Output 1x1 is global average pooling.
        double[] x = FiniteDifferences.RandomArray(2 * 3 * 4, new Random(1));
        var (adaptive, global) = (new double[2], new double[2]);
        R.AdaptiveAvgPool2D(x, 2, 3, 4, 1, 1, adaptive);
        R.GlobalAvgPool2D(x, 2, 3, 4, global);
        Assert.That(adaptive, Is.EqualTo(global));
    }

    [Test]
    public void MultiplyPerChannelScalesEachChannelsPixels()
    {
        // x [2, 1, 2] times scale [2]: channel 0 by 3, channel 1 by -1.
        var y = new double[4];
        R.MultiplyPerChannel(new double[] { 1, 2, 3, 4 }, 2, 1, 2, new double[] { 3, -1 }, y);
        Assert.That(y, Is.EqualTo(new double[] { 3, 6, -3, -4 }));
        var (dx, ds) = (new double[4], new double[2]);
        R.MultiplyPerChannelBackward(new double[] { 1, 2, 3, 4 }, 2, 1, 2, new double[] { 3, -1 }, new double[] { 1, 1, 2, 0.5 }, dx, ds);
        Assert.That(dx, Is.EqualTo(new double[] { 3, 3, -2, -0.5 }));
        Assert.That(ds, Is.EqualTo(new double[] { 1 + 2, 6 + 2 }), "the sum over each channel's pixels of d output * x");
        Assert.Throws<ArgumentException>(() => R.MultiplyPerChannel(new double[4], 2, 1, 2, new double[3], y));
        Assert.Throws<ArgumentException>(() => R.Multiply(new double[4], new double[3], y));
    }

    [Test]
    public void CrossEntropyMatchesPyTorchsFormulas()
    {
        // Uniform logits: loss log(K) with or without smoothing; gradient (1/K - q) / N.
        var grad = new double[8];
        double loss = R.CrossEntropy(new double[8], 2, 4, new[] { 1, 3 }, 0.2, grad);
        Assert.That(loss, Is.EqualTo(Math.Log(4)).Within(1e-15));
        double q = 0.8 + 0.05; // (1 - s) + s/K on the label, s/K elsewhere
        Assert.That(grad, Is.EqualTo(new[] { 0.25 - 0.05, 0.25 - q, 0.25 - 0.05, 0.25 - 0.05, 0.25 - 0.05, 0.25 - 0.05, 0.25 - 0.05, 0.25 - q }.Select(v => v / 2)).Within(1e-15));

        // PyTorch: (1 - s) * nll + s * mean over classes of -log p (per item, then the batch mean).
        double[] z = { 1, 2, 3.5 };
        double lse = Math.Log(z.Sum(Math.Exp));
        double expected = (0.9 * (lse - z[0])) + (0.1 * z.Sum(v => lse - v) / 3);
        Assert.That(R.CrossEntropy(z, 1, 3, new[] { 0 }, 0.1, Span<double>.Empty), Is.EqualTo(expected).Within(1e-14));
        Assert.That(R.CrossEntropy(z, 1, 3, new[] { 0 }, Span<double>.Empty), Is.EqualTo(lse - z[0]).Within(1e-14));
    }

    [Test]
    public void CrossEntropyIsFiniteForHugeLogitsInFloat()
    {
        var grad = new float[2];
        float loss = Reference.CrossEntropy(new[] { 1000f, 0f }, 1, 2, new[] { 1 }, grad);
        Assert.That(loss, Is.EqualTo(1000f));
        Assert.That(grad, Is.EqualTo(new[] { 1f, -1f }));
    }

    [Test]
    public void CrossEntropyRejectsBadLabelsBeforeWriting()
    {
        float[] grad = { 7, 7, 7, 7 };
        var e = Assert.Throws<ArgumentException>(() => Reference.CrossEntropy(new float[4], 2, 2, new[] { 0, 2 }, grad));
        Assert.That(e!.Message, Does.Contain("Label 2 of item 1 is outside [0, 2)"));
        Assert.Throws<ArgumentException>(() => Reference.CrossEntropy(new float[4], 2, 2, new[] { -1, 0 }, grad));
        Assert.Throws<ArgumentException>(() => Reference.CrossEntropy(new float[4], 2, 2, new[] { 0 }, grad));
        Assert.Throws<ArgumentException>(() => Reference.CrossEntropy(new float[4], 2, 2, new[] { 0, 1 }, 1.5f, grad));
        Assert.Throws<ArgumentException>(() => Reference.CrossEntropy(new float[4], 2, 2, new[] { 0, 1 }, float.NaN, grad));
        Assert.That(grad, Is.All.EqualTo(7f));
    }

    [Test]
    public void MeanSquaredErrorIsTheMeanOverAllElements()
    {
        var grad = new double[4];
        double loss = R.MeanSquaredError(new double[] { 1, 2, 3, 4 }, new double[] { 1, 0, 3, 0 }, grad);
        Assert.That(loss, Is.EqualTo((4.0 + 16.0) / 4));
        Assert.That(grad, Is.EqualTo(new[] { 0, 1.0, 0, 2.0 }));
        Assert.Throws<ArgumentException>(() => R.MeanSquaredError(Array.Empty<double>(), Array.Empty<double>(), Span<double>.Empty));
    }

    /// <summary>The mask is part of the contract (generated code must reproduce it): the first 32 draws, computed by an independent Python implementation of the documented hash.</summary>
    [TestCase(1u, 0.5, "01010111010001101001011000101001")]
    [TestCase(2026u, 0.25, "11111111011111110111111011011010")]
    public void DropoutMaskIsTheDocumentedHash(uint seed, double p, string expected)
    {
        string mask = string.Concat(Enumerable.Range(0, 32).Select(i => R.DropoutKeeps(seed, (uint)i, p) ? '1' : '0'));
        Assert.That(mask, Is.EqualTo(expected));
        Assert.That(string.Concat(Enumerable.Range(0, 32).Select(i => Reference.DropoutKeeps(seed, (uint)i, (float)p) ? '1' : '0')), Is.EqualTo(expected), "float agrees");
    }

    [Test]
    public void DropoutKeepsOneMinusPScaledAndDoesNotDependOnHowTheBatchIsSplit()
    {
        const int n = 100_000;
        float[] x = Enumerable.Range(0, n).Select(i => 1f + (i % 7)).ToArray();
        var whole = new float[n];
        Reference.Dropout(x, 0.3f, 42, 0, whole);
        int kept = whole.Count(v => v != 0);
        Assert.That(kept / (double)n, Is.EqualTo(0.7).Within(0.005));
        float scale = 1f / (1f - 0.3f);
        Assert.That(Enumerable.Range(0, n).Where(i => whole[i] != 0).All(i => whole[i] == x[i] * scale), "kept values are scaled by 1/(1-p)");

        var split = new float[n];
        for (int item = 0; item < 4; item++)
        {
            Reference.Dropout(x.AsSpan(item * (n / 4), n / 4), 0.3f, 42, (uint)(item * (n / 4)), split.AsSpan(item * (n / 4), n / 4));
        }

        Assert.That(split, Is.EqualTo(whole), "one call per item with offsets gives the batch's mask");
        var otherSeed = new float[n];
        Reference.Dropout(x, 0.3f, 43, 0, otherSeed);
        Assert.That(otherSeed, Is.Not.EqualTo(whole));
        var grad = new float[n];
        Reference.DropoutBackward(0.3f, 42, 0, x, grad);
        Assert.That(grad, Is.EqualTo(whole), "the backward pass applies the same mask and scale");
    }

    [Test]
    public void DropoutEdgeProbabilities()
    {
        float[] x = { 1, -2, 3 };
        var y = new float[3];
        Reference.Dropout(x, 0f, 1, 0, y);
        Assert.That(y, Is.EqualTo(x));
        Reference.Dropout(x, 1f, 1, 0, y);
        Assert.That(y, Is.All.EqualTo(0f));
        Assert.Throws<ArgumentException>(() => Reference.Dropout(x, 1.5f, 1, 0, y));
        Assert.Throws<ArgumentException>(() => Reference.Dropout(x, float.NaN, 1, 0, y));
    }

    private static float[] ToFloat(double[] values) => values.Select(v => (float)v).ToArray();
}
