using System;
using System.Globalization;

namespace CnnGen;

/// <content>Losses: value and gradient together.</content>
public abstract partial class Reference<T>
{
    /// <summary>
    /// Cross-entropy on logits, the mean over the batch (PyTorch <c>F.cross_entropy(logits, labels, label_smoothing=s)</c>),
    /// with the softmax folded in: per item, with <c>lse = m + log(sum over c of exp(z[c] - m))</c>, the target distribution
    /// <c>q = (1 - s)*onehot(label) + s/classes</c> and <c>p = exp(z - lse)</c> the softmax, the loss is
    /// <c>sum over c of q[c] * (lse - z[c])</c> and <c>logitsGrad = (p - q) / batch</c>. Softmax and log are never computed
    /// separately, so the loss stays finite for any finite logits.
    /// </summary>
    /// <param name="logits">Logits <c>[batch, classes]</c> (the network's output before any softmax).</param>
    /// <param name="batch">Batch size.</param>
    /// <param name="classes">Number of classes.</param>
    /// <param name="labels">The class of each item <c>[batch]</c>, each in <c>[0, classes)</c>.</param>
    /// <param name="labelSmoothing">PyTorch <c>label_smoothing</c> <c>s</c>, in [0, 1] (0: plain cross-entropy).</param>
    /// <param name="logitsGrad">Receives d loss / d logits <c>[batch, classes]</c> (overwritten), or empty to compute the loss only.</param>
    /// <returns>The mean loss over the batch.</returns>
    /// <exception cref="ArgumentException">A length is wrong, a label is out of range, or the smoothing is outside [0, 1].</exception>
    public static T CrossEntropy(ReadOnlySpan<T> logits, int batch, int classes, ReadOnlySpan<int> labels, T labelSmoothing, Span<T> logitsGrad)
    {
        Positive(batch, nameof(batch));
        Positive(classes, nameof(classes));
        CheckLength(logits, (long)batch * classes, nameof(logits));
        if (labels.Length != batch)
        {
            throw new ArgumentException($"{nameof(labels)} has {labels.Length} elements; expected {batch}.", nameof(labels));
        }

        for (int n = 0; n < batch; n++)
        {
            if ((uint)labels[n] >= (uint)classes)
            {
                throw new ArgumentException($"Label {labels[n]} of item {n} is outside [0, {classes}).", nameof(labels));
            }
        }

        if (!(labelSmoothing >= T.Zero && labelSmoothing <= T.One))
        {
            throw new ArgumentException($"The label smoothing must be in [0, 1]; got {labelSmoothing.ToString(null, CultureInfo.InvariantCulture)}.", nameof(labelSmoothing));
        }

        CheckOptionalLength(logitsGrad, logits.Length, nameof(logitsGrad));

        T uniform = labelSmoothing / T.CreateChecked(classes);
        T total = T.Zero;
        for (int n = 0; n < batch; n++)
        {
            ReadOnlySpan<T> z = logits.Slice(n * classes, classes);
            (T max, T logSum) = LogSumExp(z, classes, 1, 0);
            T loss = T.Zero;
            for (int c = 0; c < classes; c++)
            {
                T target = (c == labels[n] ? T.One - labelSmoothing : T.Zero) + uniform;
                T negLogP = max + logSum - z[c];
                if (target != T.Zero)
                {
                    loss += target * negLogP;
                }

                if (!logitsGrad.IsEmpty)
                {
                    logitsGrad[(n * classes) + c] = (T.Exp(-negLogP) - target) / T.CreateChecked(batch);
                }
            }

            total += loss;
        }

        return total / T.CreateChecked(batch);
    }

    /// <summary>Cross-entropy on logits without label smoothing; see <see cref="CrossEntropy(ReadOnlySpan{T}, int, int, ReadOnlySpan{int}, T, Span{T})"/>.</summary>
    /// <param name="logits">Logits <c>[batch, classes]</c>.</param>
    /// <param name="batch">Batch size.</param>
    /// <param name="classes">Number of classes.</param>
    /// <param name="labels">The class of each item <c>[batch]</c>.</param>
    /// <param name="logitsGrad">Receives d loss / d logits (overwritten), or empty to compute the loss only.</param>
    /// <returns>The mean loss over the batch.</returns>
    public static T CrossEntropy(ReadOnlySpan<T> logits, int batch, int classes, ReadOnlySpan<int> labels, Span<T> logitsGrad) =>
        CrossEntropy(logits, batch, classes, labels, T.Zero, logitsGrad);

    /// <summary>
    /// Mean squared error over all elements (PyTorch <c>F.mse_loss(prediction, target)</c>, reduction mean):
    /// <c>sum of (prediction - target)^2 / count</c>; <c>predictionGrad = 2 * (prediction - target) / count</c>.
    /// </summary>
    /// <param name="prediction">The network's output.</param>
    /// <param name="target">The wanted output, same length.</param>
    /// <param name="predictionGrad">Receives d loss / d prediction, same length (overwritten), or empty to compute the loss only.</param>
    /// <returns>The mean squared error.</returns>
    /// <exception cref="ArgumentException">The spans are empty or their lengths differ.</exception>
    public static T MeanSquaredError(ReadOnlySpan<T> prediction, ReadOnlySpan<T> target, Span<T> predictionGrad)
    {
        if (prediction.IsEmpty)
        {
            throw new ArgumentException("The prediction is empty.", nameof(prediction));
        }

        CheckLength(target, prediction.Length, nameof(target));
        CheckOptionalLength(predictionGrad, prediction.Length, nameof(predictionGrad));
        T count = T.CreateChecked(prediction.Length);
        T total = T.Zero;
        for (int i = 0; i < prediction.Length; i++)
        {
            T difference = prediction[i] - target[i];
            total += difference * difference;
            if (!predictionGrad.IsEmpty)
            {
                predictionGrad[i] = T.CreateChecked(2) * difference / count;
            }
        }

        return total / count;
    }
}
