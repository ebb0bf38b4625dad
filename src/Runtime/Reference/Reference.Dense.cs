using System;

namespace CnnGen;

/// <content>The fully connected layer and its backward pass.</content>
public abstract partial class Reference<T>
{
    /// <summary>
    /// Fully connected layer (PyTorch <c>nn.Linear</c>): <c>out[u] = bias[u] + sum over i of in[i] * weight[u, i]</c>.
    /// A CHW input is flattened in C,H,W order, i.e. it is passed as is (flatten is a view in NCHW, in both directions).
    /// </summary>
    /// <param name="input">Input <c>[inFeatures]</c>.</param>
    /// <param name="inFeatures">Input features.</param>
    /// <param name="weight">Weights <c>[units, inFeatures]</c>.</param>
    /// <param name="bias">Bias <c>[units]</c>, or empty for no bias.</param>
    /// <param name="units">Output features.</param>
    /// <param name="output">Output <c>[units]</c>.</param>
    public static void Dense(ReadOnlySpan<T> input, int inFeatures, ReadOnlySpan<T> weight, ReadOnlySpan<T> bias, int units, Span<T> output)
    {
        CheckDense(inFeatures, units, weight);
        CheckLength(input, inFeatures, nameof(input));
        CheckOptionalLength(bias, units, nameof(bias));
        CheckLength(output, units, nameof(output));
        for (int u = 0; u < units; u++)
        {
            T sum = bias.IsEmpty ? T.Zero : bias[u];
            ReadOnlySpan<T> row = weight.Slice(u * inFeatures, inFeatures);
            for (int i = 0; i < inFeatures; i++)
            {
                sum += input[i] * row[i];
            }

            output[u] = sum;
        }
    }

    /// <summary>
    /// Backward pass of <see cref="Dense"/> for one input vector: <c>inputGrad[i] = sum over u of outputGrad[u] * weight[u, i]</c>,
    /// <c>weightGrad[u, i] += outputGrad[u] * in[i]</c>, <c>biasGrad[u] += outputGrad[u]</c>.
    /// </summary>
    /// <param name="input">The forward input <c>[inFeatures]</c>.</param>
    /// <param name="inFeatures">Input features.</param>
    /// <param name="weight">Weights <c>[units, inFeatures]</c>.</param>
    /// <param name="units">Output features.</param>
    /// <param name="outputGrad">d loss / d output <c>[units]</c>.</param>
    /// <param name="inputGrad">Receives d loss / d input <c>[inFeatures]</c> (overwritten).</param>
    /// <param name="weightGrad">d loss / d weight <c>[units, inFeatures]</c>, accumulated.</param>
    /// <param name="biasGrad">d loss / d bias <c>[units]</c>, accumulated; empty for a layer without bias.</param>
    public static void DenseBackward(ReadOnlySpan<T> input, int inFeatures, ReadOnlySpan<T> weight, int units, ReadOnlySpan<T> outputGrad, Span<T> inputGrad, Span<T> weightGrad, Span<T> biasGrad)
    {
        CheckDense(inFeatures, units, weight);
        CheckLength(input, inFeatures, nameof(input));
        CheckLength(outputGrad, units, nameof(outputGrad));
        CheckLength(inputGrad, inFeatures, nameof(inputGrad));
        CheckLength(weightGrad, (long)units * inFeatures, nameof(weightGrad));
        CheckOptionalLength(biasGrad, units, nameof(biasGrad));
        for (int i = 0; i < inFeatures; i++)
        {
            T sum = T.Zero;
            for (int u = 0; u < units; u++)
            {
                sum += outputGrad[u] * weight[(u * inFeatures) + i];
            }

            inputGrad[i] = sum;
        }

        for (int u = 0; u < units; u++)
        {
            Span<T> row = weightGrad.Slice(u * inFeatures, inFeatures);
            for (int i = 0; i < inFeatures; i++)
            {
                row[i] += outputGrad[u] * input[i];
            }

            if (!biasGrad.IsEmpty)
            {
                biasGrad[u] += outputGrad[u];
            }
        }
    }

    private static void CheckDense(int inFeatures, int units, ReadOnlySpan<T> weight)
    {
        Positive(inFeatures, nameof(inFeatures));
        Positive(units, nameof(units));
        CheckLength(weight, (long)units * inFeatures, nameof(weight));
    }
}
