using System;
using System.Runtime.CompilerServices;

namespace CnnGen.Training;

/// <summary>
/// The losses of a trainer, per image (small vectors: plain loops, in double). Compiled fully optimized at the first call:
/// at tier 0 (where the tiered JIT left them through a whole benchmark run) they cost ~2% of a small network's step.
/// </summary>
internal static class TrainingLoss
{
    /// <summary>The most logits whose exponentials <see cref="CrossEntropy"/> keeps on the stack (8 KB).</summary>
    internal const int MaxKeptExps = 1024;

    /// <summary>
    /// Cross-entropy of one image's logits (PyTorch's <c>F.cross_entropy</c> with label smoothing <c>s</c>, as
    /// <see cref="Reference{T}.CrossEntropy(ReadOnlySpan{T}, int, int, ReadOnlySpan{int}, T, Span{T})"/>): with
    /// <c>lse = m + log(sum exp(z - m))</c> and the target <c>q = (1 - s) onehot(label) + s / classes</c>, the loss is
    /// <c>sum q (lse - z)</c>; <paramref name="gradient"/> (when not empty) receives <c>(softmax(z) - q) / batch</c>.
    /// The softmax is <c>exp(z - m) / sum exp(z - m)</c> from the same exponentials as the sum (one <c>exp</c> per logit);
    /// the log is taken once, of the sum.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static double CrossEntropy(ReadOnlySpan<float> logits, int label, double smoothing, Span<float> gradient, int batch)
    {
        double max = double.NegativeInfinity;
        foreach (float z in logits)
        {
            max = Math.Max(max, z);
        }

        // exp(z - m) once per logit: kept for the gradient when the logits are few (recomputed, same bits, otherwise).
        Span<double> exps = !gradient.IsEmpty && logits.Length <= MaxKeptExps ? stackalloc double[logits.Length] : Span<double>.Empty;
        double sum = 0;
        for (int c = 0; c < logits.Length; c++)
        {
            double e = Math.Exp(logits[c] - max);
            if (!exps.IsEmpty)
            {
                exps[c] = e;
            }

            sum += e;
        }

        double lse = max + Math.Log(sum);
        double uniform = smoothing / logits.Length;
        double loss = 0;
        for (int c = 0; c < logits.Length; c++)
        {
            double target = (c == label ? 1 - smoothing : 0) + uniform;
            if (target != 0)
            {
                loss += target * (lse - logits[c]);
            }

            if (!gradient.IsEmpty)
            {
                double e = exps.IsEmpty ? Math.Exp(logits[c] - max) : exps[c];
                gradient[c] = (float)(((e / sum) - target) / batch);
            }
        }

        return loss;
    }

    /// <summary>
    /// One image's sum of squared errors; <paramref name="gradient"/> (when not empty) receives <c>2 (y - t) / count</c>, where
    /// <paramref name="count"/> is the number of elements the mean runs over (batch x outputs).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static double SquaredError(ReadOnlySpan<float> prediction, ReadOnlySpan<float> target, Span<float> gradient, double count)
    {
        double sum = 0;
        for (int k = 0; k < prediction.Length; k++)
        {
            double difference = (double)prediction[k] - target[k];
            sum += difference * difference;
            if (!gradient.IsEmpty)
            {
                gradient[k] = (float)(2 * difference / count);
            }
        }

        return sum;
    }
}
