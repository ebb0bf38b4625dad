using System;

namespace CnnGen.Training;

/// <summary>The losses of a trainer, per image (small vectors: plain loops, in double).</summary>
internal static class TrainingLoss
{
    /// <summary>
    /// Cross-entropy of one image's logits (PyTorch's <c>F.cross_entropy</c> with label smoothing <c>s</c>, as
    /// <see cref="Reference{T}.CrossEntropy(ReadOnlySpan{T}, int, int, ReadOnlySpan{int}, T, Span{T})"/>): with
    /// <c>lse = m + log(sum exp(z - m))</c> and the target <c>q = (1 - s) onehot(label) + s / classes</c>, the loss is
    /// <c>sum q (lse - z)</c>; <paramref name="gradient"/> (when not empty) receives <c>(softmax(z) - q) / batch</c>.
    /// Softmax and log are never computed separately.
    /// </summary>
    public static double CrossEntropy(ReadOnlySpan<float> logits, int label, double smoothing, Span<float> gradient, int batch)
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

            if (!gradient.IsEmpty)
            {
                gradient[c] = (float)((Math.Exp(-negativeLogP) - target) / batch);
            }
        }

        return loss;
    }

    /// <summary>
    /// One image's sum of squared errors; <paramref name="gradient"/> (when not empty) receives <c>2 (y - t) / count</c>, where
    /// <paramref name="count"/> is the number of elements the mean runs over (batch x outputs).
    /// </summary>
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
