using System;

namespace CnnGen;

/// <content>Batch normalization in inference and training mode, and their backward passes.</content>
public abstract partial class Reference<T>
{
    /// <summary>
    /// Batch normalization in inference mode (PyTorch <c>nn.BatchNorm2d</c> in <c>eval()</c>):
    /// <c>out[c, h, w] = (in[c, h, w] - mean[c]) / sqrt(variance[c] + eps) * gamma[c] + beta[c]</c>.
    /// </summary>
    /// <param name="input">Input <c>[channels, height, width]</c>.</param>
    /// <param name="channels">Channels.</param>
    /// <param name="height">Height.</param>
    /// <param name="width">Width.</param>
    /// <param name="gamma">Scale (PyTorch <c>weight</c>) <c>[channels]</c>.</param>
    /// <param name="beta">Shift (PyTorch <c>bias</c>) <c>[channels]</c>.</param>
    /// <param name="mean">Running mean <c>[channels]</c>.</param>
    /// <param name="variance">Running variance <c>[channels]</c>.</param>
    /// <param name="eps">Epsilon added to the variance (PyTorch default 1e-5).</param>
    /// <param name="output">Output, same shape as the input.</param>
    public static void BatchNorm2D(ReadOnlySpan<T> input, int channels, int height, int width, ReadOnlySpan<T> gamma, ReadOnlySpan<T> beta, ReadOnlySpan<T> mean, ReadOnlySpan<T> variance, T eps, Span<T> output)
    {
        int spatial = CheckBatchNorm(input, 1, channels, height, width, gamma);
        CheckLength(beta, channels, nameof(beta));
        CheckLength(mean, channels, nameof(mean));
        CheckLength(variance, channels, nameof(variance));
        CheckLength(output, input.Length, nameof(output));
        for (int c = 0; c < channels; c++)
        {
            Normalize(input, output, 1, channels, spatial, c, mean[c], T.One / T.Sqrt(variance[c] + eps), gamma[c], beta[c]);
        }
    }

    /// <summary>
    /// Backward pass of <see cref="BatchNorm2D"/> (inference mode, frozen statistics) for one image, with
    /// <c>inv = 1 / sqrt(variance[c] + eps)</c>: <c>inputGrad = outputGrad * gamma[c] * inv</c>,
    /// <c>gammaGrad[c] += sum of outputGrad * (in - mean[c]) * inv</c>, <c>betaGrad[c] += sum of outputGrad</c>.
    /// </summary>
    /// <param name="input">The forward input <c>[channels, height, width]</c>.</param>
    /// <param name="channels">Channels.</param>
    /// <param name="height">Height.</param>
    /// <param name="width">Width.</param>
    /// <param name="gamma">Scale <c>[channels]</c>.</param>
    /// <param name="mean">Running mean <c>[channels]</c>.</param>
    /// <param name="variance">Running variance <c>[channels]</c>.</param>
    /// <param name="eps">Epsilon added to the variance.</param>
    /// <param name="outputGrad">d loss / d output, same shape as the input.</param>
    /// <param name="inputGrad">Receives d loss / d input (overwritten).</param>
    /// <param name="gammaGrad">d loss / d gamma <c>[channels]</c>, accumulated.</param>
    /// <param name="betaGrad">d loss / d beta <c>[channels]</c>, accumulated.</param>
    public static void BatchNorm2DBackward(ReadOnlySpan<T> input, int channels, int height, int width, ReadOnlySpan<T> gamma, ReadOnlySpan<T> mean, ReadOnlySpan<T> variance, T eps, ReadOnlySpan<T> outputGrad, Span<T> inputGrad, Span<T> gammaGrad, Span<T> betaGrad)
    {
        int spatial = CheckBatchNorm(input, 1, channels, height, width, gamma);
        CheckLength(mean, channels, nameof(mean));
        CheckLength(variance, channels, nameof(variance));
        CheckBatchNormGrads(input, channels, outputGrad, inputGrad, gammaGrad, betaGrad);
        for (int c = 0; c < channels; c++)
        {
            T inv = T.One / T.Sqrt(variance[c] + eps);
            T sum = T.Zero;
            T dot = T.Zero;
            for (int k = c * spatial; k < (c + 1) * spatial; k++)
            {
                inputGrad[k] = outputGrad[k] * gamma[c] * inv;
                sum += outputGrad[k];
                dot += outputGrad[k] * (input[k] - mean[c]);
            }

            gammaGrad[c] += dot * inv;
            betaGrad[c] += sum;
        }
    }

    /// <summary>
    /// Batch normalization in training mode (PyTorch <c>nn.BatchNorm2d</c> in <c>train()</c>) over a whole batch: each channel is
    /// normalized with its batch mean and biased variance over the <c>n = batch*height*width</c> values,
    /// <c>out = (in - mean) / sqrt(var + eps) * gamma + beta</c>, and the running statistics are updated in place with the
    /// unbiased variance: <c>runningMean = (1 - momentum)*runningMean + momentum*mean</c>,
    /// <c>runningVariance = (1 - momentum)*runningVariance + momentum*var*n/(n - 1)</c>.
    /// </summary>
    /// <param name="input">Input <c>[batch, channels, height, width]</c>.</param>
    /// <param name="batch">Batch size.</param>
    /// <param name="channels">Channels.</param>
    /// <param name="height">Height.</param>
    /// <param name="width">Width.</param>
    /// <param name="gamma">Scale (PyTorch <c>weight</c>) <c>[channels]</c>.</param>
    /// <param name="beta">Shift (PyTorch <c>bias</c>) <c>[channels]</c>.</param>
    /// <param name="runningMean">Running mean <c>[channels]</c>, updated.</param>
    /// <param name="runningVariance">Running variance <c>[channels]</c>, updated.</param>
    /// <param name="eps">Epsilon added to the variance (PyTorch default 1e-5).</param>
    /// <param name="momentum">Weight of the batch statistics in the running ones (PyTorch default 0.1).</param>
    /// <param name="output">Output <c>[batch, channels, height, width]</c>.</param>
    /// <exception cref="ArgumentException">A length is wrong, or a channel has a single value (<c>n = 1</c>: no variance, PyTorch refuses too).</exception>
    public static void BatchNorm2DTraining(ReadOnlySpan<T> input, int batch, int channels, int height, int width, ReadOnlySpan<T> gamma, ReadOnlySpan<T> beta, Span<T> runningMean, Span<T> runningVariance, T eps, T momentum, Span<T> output)
    {
        int spatial = CheckBatchNorm(input, batch, channels, height, width, gamma);
        CheckLength(beta, channels, nameof(beta));
        CheckLength(runningMean, channels, nameof(runningMean));
        CheckLength(runningVariance, channels, nameof(runningVariance));
        CheckLength(output, input.Length, nameof(output));
        long n = CheckTrainingCount(batch, spatial);
        for (int c = 0; c < channels; c++)
        {
            (T mean, T variance) = BatchStatistics(input, batch, channels, spatial, c);
            Normalize(input, output, batch, channels, spatial, c, mean, T.One / T.Sqrt(variance + eps), gamma[c], beta[c]);
            T unbiased = variance * T.CreateChecked(n) / T.CreateChecked(n - 1);
            runningMean[c] = ((T.One - momentum) * runningMean[c]) + (momentum * mean);
            runningVariance[c] = ((T.One - momentum) * runningVariance[c]) + (momentum * unbiased);
        }
    }

    /// <summary>
    /// Backward pass of <see cref="BatchNorm2DTraining"/> over the whole batch. The batch statistics depend on every input, so
    /// with <c>xhat = (in - mean) * inv</c>, <c>inv = 1 / sqrt(var + eps)</c> and sums over the channel's <c>n</c> values:
    /// <c>betaGrad[c] += sum(outputGrad)</c>, <c>gammaGrad[c] += sum(outputGrad * xhat)</c> and
    /// <c>inputGrad = gamma[c] * inv * (outputGrad - sum(outputGrad)/n - xhat * sum(outputGrad * xhat)/n)</c>.
    /// </summary>
    /// <param name="input">The forward input <c>[batch, channels, height, width]</c>.</param>
    /// <param name="batch">Batch size.</param>
    /// <param name="channels">Channels.</param>
    /// <param name="height">Height.</param>
    /// <param name="width">Width.</param>
    /// <param name="gamma">Scale <c>[channels]</c>.</param>
    /// <param name="eps">Epsilon added to the variance.</param>
    /// <param name="outputGrad">d loss / d output <c>[batch, channels, height, width]</c>.</param>
    /// <param name="inputGrad">Receives d loss / d input (overwritten).</param>
    /// <param name="gammaGrad">d loss / d gamma <c>[channels]</c>, accumulated.</param>
    /// <param name="betaGrad">d loss / d beta <c>[channels]</c>, accumulated.</param>
    public static void BatchNorm2DTrainingBackward(ReadOnlySpan<T> input, int batch, int channels, int height, int width, ReadOnlySpan<T> gamma, T eps, ReadOnlySpan<T> outputGrad, Span<T> inputGrad, Span<T> gammaGrad, Span<T> betaGrad)
    {
        int spatial = CheckBatchNorm(input, batch, channels, height, width, gamma);
        CheckBatchNormGrads(input, channels, outputGrad, inputGrad, gammaGrad, betaGrad);
        T n = T.CreateChecked(CheckTrainingCount(batch, spatial));
        for (int c = 0; c < channels; c++)
        {
            (T mean, T variance) = BatchStatistics(input, batch, channels, spatial, c);
            T inv = T.One / T.Sqrt(variance + eps);
            double sumAcc = 0, dotAcc = 0; // sums of outputGrad and outputGrad * (in - mean), in double as PyTorch accumulates
            for (int item = 0; item < batch; item++)
            {
                for (int k = ((item * channels) + c) * spatial, end = k + spatial; k < end; k++)
                {
                    sumAcc += double.CreateTruncating(outputGrad[k]);
                    dotAcc += double.CreateTruncating(outputGrad[k] * (input[k] - mean));
                }
            }

            T sum = T.CreateTruncating(sumAcc);
            T dot = T.CreateTruncating(dotAcc);

            T meanGrad = sum / n;
            T projection = dot * inv * inv / n; // sum(outputGrad * xhat) / n * inv, the factor of (in - mean) = xhat / inv
            for (int item = 0; item < batch; item++)
            {
                for (int k = ((item * channels) + c) * spatial, end = k + spatial; k < end; k++)
                {
                    inputGrad[k] = (outputGrad[k] - meanGrad - ((input[k] - mean) * projection)) * inv * gamma[c];
                }
            }

            gammaGrad[c] += dot * inv;
            betaGrad[c] += sum;
        }
    }

    /// <summary>
    /// Channel <paramref name="c"/>'s mean and biased variance over the batch (two passes: mean, then squared deviations),
    /// accumulated in double as PyTorch's CPU kernels do (<c>acc_type&lt;float&gt;</c> is double), then rounded to T.
    /// </summary>
    private static (T Mean, T Variance) BatchStatistics(ReadOnlySpan<T> input, int batch, int channels, int spatial, int c)
    {
        double n = (double)batch * spatial;
        double sum = 0;
        for (int item = 0; item < batch; item++)
        {
            foreach (T v in input.Slice(((item * channels) + c) * spatial, spatial))
            {
                sum += double.CreateTruncating(v);
            }
        }

        double mean = sum / n;
        double squares = 0;
        for (int item = 0; item < batch; item++)
        {
            foreach (T v in input.Slice(((item * channels) + c) * spatial, spatial))
            {
                double d = double.CreateTruncating(v) - mean;
                squares += d * d;
            }
        }

        return (T.CreateTruncating(mean), T.CreateTruncating(squares / n));
    }

    /// <summary>Writes <c>((in - mean) * inv * gamma) + beta</c> for channel <paramref name="c"/> of every item.</summary>
    private static void Normalize(ReadOnlySpan<T> input, Span<T> output, int batch, int channels, int spatial, int c, T mean, T inv, T gamma, T beta)
    {
        for (int item = 0; item < batch; item++)
        {
            for (int k = ((item * channels) + c) * spatial, end = k + spatial; k < end; k++)
            {
                output[k] = ((input[k] - mean) * inv * gamma) + beta;
            }
        }
    }

    /// <summary>Validates the shape arguments, the input and gamma; returns height*width.</summary>
    private static int CheckBatchNorm(ReadOnlySpan<T> input, int batch, int channels, int height, int width, ReadOnlySpan<T> gamma)
    {
        Positive(batch, nameof(batch));
        Positive(channels, nameof(channels));
        NonNegative(height, nameof(height));
        NonNegative(width, nameof(width));
        long spatial = (long)height * width;
        CheckLength(input, (long)batch * channels * spatial, nameof(input));
        CheckLength(gamma, channels, nameof(gamma));
        return (int)spatial;
    }

    private static void CheckBatchNormGrads(ReadOnlySpan<T> input, int channels, ReadOnlySpan<T> outputGrad, Span<T> inputGrad, Span<T> gammaGrad, Span<T> betaGrad)
    {
        CheckLength(outputGrad, input.Length, nameof(outputGrad));
        CheckLength(inputGrad, input.Length, nameof(inputGrad));
        CheckLength(gammaGrad, channels, nameof(gammaGrad));
        CheckLength(betaGrad, channels, nameof(betaGrad));
    }

    private static long CheckTrainingCount(int batch, int spatial)
    {
        long n = (long)batch * spatial;
        if (n < 2)
        {
            throw new ArgumentException($"Batch norm in training mode needs more than one value per channel; got batch {batch} x {spatial} values.", nameof(batch));
        }

        return n;
    }
}
