using System;
using System.Linq;
using CnnGen.Training;

namespace CnnGen.Tests.Training;

/// <summary>
/// The trainer's per-image cross-entropy (<see cref="TrainingLoss.CrossEntropy"/>, one <c>exp</c> per logit, the softmax
/// from the sum's exponentials) against the two-<c>exp</c> form it replaced (<c>exp(z - lse)</c>) and the double reference:
/// same loss and gradient to float rounding for ordinary and extreme logits, the same NaN for infinite or NaN logits,
/// and the same bits whether the exponentials are kept (up to <see cref="TrainingLoss.MaxKeptExps"/> logits) or recomputed.
/// </summary>
[TestFixture]
public sealed class TrainingLossTests
{
    private const int Batch = 64;

    private static readonly float[][] FiniteCases =
    [
        [0.5f, -1.25f, 3f, 0f, 2.5f, -0.75f, 1f, 0.125f, -3f, 4f],
        [80f, -80f, 79.5f, -79.5f, 0f, 80f, -80f, 1f, 40f, -40f],
        [-80f, -80f, -80f, -80f, -80f, -80f, -80f, -80f, -80f, -80f],
        [80f, -80f, -80f, -80f, -80f, -80f, -80f, -80f, -80f, -80f],
        [-80f, 80f, 80f, 80f, 80f, 80f, 80f, 80f, 80f, 80f],
        [1e30f, -1e30f, 0f, 1f, 2f, 3f, 4f, 5f, 6f, 7f],
    ];

    [Test]
    public void Finite_logits_give_the_two_exp_forms_loss_and_gradient([Values(0.0, 0.1, 1.0)] double smoothing, [Values(0, 1, 9)] int label)
    {
        foreach (float[] logits in FiniteCases)
        {
            var gradient = new float[logits.Length];
            var before = new float[logits.Length];
            double loss = TrainingLoss.CrossEntropy(logits, label, smoothing, gradient, Batch);
            double expected = TwoExpCrossEntropy(logits, label, smoothing, before, Batch);
            Assert.That(loss, Is.EqualTo(expected).Within(1e-12 * Math.Max(1, Math.Abs(expected))), string.Join(", ", logits));
            Assert.That(TrainingLoss.CrossEntropy(logits, label, smoothing, Span<float>.Empty, Batch), Is.EqualTo(loss), "the loss does not depend on the gradient");
            for (int c = 0; c < logits.Length; c++)
            {
                Assert.That(gradient[c], Is.EqualTo(before[c]).Within(Tolerance(before[c])), $"logit {c} of {string.Join(", ", logits)}");
            }

            var doubleLogits = logits.Select(z => (double)z).ToArray();
            var doubleGradient = new double[logits.Length];
            double reference = Reference<double>.CrossEntropy(doubleLogits, 1, logits.Length, [label], smoothing, doubleGradient);
            Assert.That(loss, Is.EqualTo(reference).Within(1e-12 * Math.Max(1, Math.Abs(reference))));
            for (int c = 0; c < logits.Length; c++)
            {
                Assert.That(gradient[c], Is.EqualTo((float)(doubleGradient[c] / Batch)).Within(Tolerance(doubleGradient[c] / Batch)));
            }
        }
    }

    [TestCase(float.PositiveInfinity)]
    [TestCase(float.NegativeInfinity)]
    [TestCase(float.NaN)]
    public void A_non_finite_logit_gives_NaN_as_before(float bad)
    {
        float[] logits = [0.5f, -1.25f, 3f, bad, 2.5f];
        var gradient = new float[logits.Length];
        var before = new float[logits.Length];
        double loss = TrainingLoss.CrossEntropy(logits, 0, 0.1, gradient, Batch);
        double expected = TwoExpCrossEntropy(logits, 0, 0.1, before, Batch);
        Assert.That(double.IsFinite(loss), Is.EqualTo(double.IsFinite(expected)), "the trainer names the diverged layer from a non-finite loss");
        if (!double.IsNaN(expected))
        {
            Assert.That(loss, Is.EqualTo(expected).Within(1e-12));
        }

        for (int c = 0; c < logits.Length; c++)
        {
            Assert.That(float.IsNaN(gradient[c]), Is.EqualTo(float.IsNaN(before[c])), $"logit {c}");
            if (!float.IsNaN(before[c]))
            {
                Assert.That(gradient[c], Is.EqualTo(before[c]).Within(Math.Abs(before[c]) * 1.2e-7f));
            }
        }
    }

    [Test]
    public void Every_logit_minus_infinity_gives_NaN_as_before()
    {
        float[] logits = Enumerable.Repeat(float.NegativeInfinity, 4).ToArray();
        var gradient = new float[4];
        Assert.That(TrainingLoss.CrossEntropy(logits, 2, 0, gradient, Batch), Is.NaN);
        Assert.That(TwoExpCrossEntropy(logits, 2, 0, new float[4], Batch), Is.NaN);
        Assert.That(gradient, Has.All.NaN);
    }

    [Test]
    public void Kept_and_recomputed_exponentials_give_the_same_bits()
    {
        var random = new Random(12);
        int classes = TrainingLoss.MaxKeptExps + 1;
        float[] logits = Enumerable.Range(0, classes).Select(_ => (float)((random.NextDouble() * 40) - 20)).ToArray();
        var large = new float[classes];
        double largeLoss = TrainingLoss.CrossEntropy(logits, 7, 0.1, large, Batch);

        // The first MaxKeptExps logits alone take the kept path; appending a logit far below them (exp underflows to 0
        // next to the others) changes neither the sum nor their gradients, so both paths must agree bit for bit.
        float[] kept = logits.Take(TrainingLoss.MaxKeptExps).ToArray();
        logits[classes - 1] = -1e30f;
        double recomputedLoss = TrainingLoss.CrossEntropy(logits, 7, 0, large, Batch);
        var small = new float[kept.Length];
        double keptLoss = TrainingLoss.CrossEntropy(kept, 7, 0, small, Batch);
        Assert.That(recomputedLoss, Is.EqualTo(keptLoss));
        Assert.That(large.AsSpan(0, kept.Length).ToArray(), Is.EqualTo(small));
        Assert.That(large[classes - 1], Is.EqualTo(0f));
        Assert.That(double.IsFinite(largeLoss), Is.True);
    }

    /// <summary>
    /// Float rounding of the gradient, plus 1e-17 absolute: <c>p - q</c> cancels where <c>p</c> equals the target (ten equal
    /// logits, smoothing 1: exactly 0 from one exp per logit, -7e-18 from <c>exp(z - lse)</c> with <c>lse</c> rounded).
    /// </summary>
    private static double Tolerance(double gradient) => (Math.Abs(gradient) * 1.2e-7) + 1e-17;

    /// <summary>The form the trainer used before (softmax as <c>exp(z - lse)</c>, two <c>exp</c> per logit): the oracle.</summary>
    private static double TwoExpCrossEntropy(ReadOnlySpan<float> logits, int label, double smoothing, Span<float> gradient, int batch)
    {
        double max = double.NegativeInfinity;
        foreach (float z in logits)
        {
            max = Math.Max(max, z);
        }

        double sum = 0;
        foreach (float z in logits)
        {
            sum += Math.Exp(z - max);
        }

        double lse = max + Math.Log(sum);
        double uniform = smoothing / logits.Length;
        double loss = 0;
        for (int c = 0; c < logits.Length; c++)
        {
            double target = (c == label ? 1 - smoothing : 0) + uniform;
            double negativeLogP = lse - logits[c];
            if (target != 0)
            {
                loss += target * negativeLogP;
            }

            gradient[c] = (float)((Math.Exp(-negativeLogP) - target) / batch);
        }

        return loss;
    }
}
