using System;
using System.Globalization;

namespace CnnGen;

/// <content>Joins (residual add, multiply, channel concatenation) and dropout, and their backward passes.</content>
public abstract partial class Reference<T>
{
    /// <summary>Element-wise sum of two same-shape tensors (a residual join).</summary>
    /// <param name="a">First operand.</param>
    /// <param name="b">Second operand, same length.</param>
    /// <param name="output">Output, same length.</param>
    public static void Add(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> output)
    {
        CheckLength(b, a.Length, nameof(b));
        CheckLength(output, a.Length, nameof(output));
        for (int i = 0; i < a.Length; i++)
        {
            output[i] = a[i] + b[i];
        }
    }

    /// <summary>Backward pass of <see cref="Add"/>: both operands receive the output's gradient.</summary>
    /// <param name="outputGrad">d loss / d output.</param>
    /// <param name="aGrad">Receives d loss / d a, same length (overwritten).</param>
    /// <param name="bGrad">Receives d loss / d b, same length (overwritten).</param>
    public static void AddBackward(ReadOnlySpan<T> outputGrad, Span<T> aGrad, Span<T> bGrad)
    {
        CheckLength(aGrad, outputGrad.Length, nameof(aGrad));
        CheckLength(bGrad, outputGrad.Length, nameof(bGrad));
        outputGrad.CopyTo(aGrad);
        outputGrad.CopyTo(bGrad);
    }

    /// <summary>Element-wise product of two same-shape tensors (PyTorch <c>a * b</c>).</summary>
    /// <param name="a">First operand.</param>
    /// <param name="b">Second operand, same length.</param>
    /// <param name="output">Output, same length.</param>
    public static void Multiply(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> output)
    {
        CheckLength(b, a.Length, nameof(b));
        CheckLength(output, a.Length, nameof(output));
        for (int i = 0; i < a.Length; i++)
        {
            output[i] = a[i] * b[i];
        }
    }

    /// <summary>Backward pass of <see cref="Multiply"/>: d a = d output * b, d b = d output * a.</summary>
    /// <param name="a">The forward pass's first operand.</param>
    /// <param name="b">The forward pass's second operand.</param>
    /// <param name="outputGrad">d loss / d output.</param>
    /// <param name="aGrad">Receives d loss / d a, same length (overwritten).</param>
    /// <param name="bGrad">Receives d loss / d b, same length (overwritten).</param>
    public static void MultiplyBackward(ReadOnlySpan<T> a, ReadOnlySpan<T> b, ReadOnlySpan<T> outputGrad, Span<T> aGrad, Span<T> bGrad)
    {
        CheckLength(b, a.Length, nameof(b));
        CheckLength(outputGrad, a.Length, nameof(outputGrad));
        CheckLength(aGrad, a.Length, nameof(aGrad));
        CheckLength(bGrad, a.Length, nameof(bGrad));
        for (int i = 0; i < a.Length; i++)
        {
            aGrad[i] = outputGrad[i] * b[i];
            bGrad[i] = outputGrad[i] * a[i];
        }
    }

    /// <summary>
    /// A map times a per-channel scale broadcast over its pixels (PyTorch <c>input * scale</c> with scale <c>[C, 1, 1]</c>;
    /// squeeze-and-excitation): <c>output[c, h, w] = input[c, h, w] * scale[c]</c>.
    /// </summary>
    /// <param name="input">Input <c>[channels, height, width]</c>.</param>
    /// <param name="channels">Channels.</param>
    /// <param name="height">Height.</param>
    /// <param name="width">Width.</param>
    /// <param name="scale">Scale <c>[channels]</c>.</param>
    /// <param name="output">Output <c>[channels, height, width]</c>.</param>
    public static void MultiplyPerChannel(ReadOnlySpan<T> input, int channels, int height, int width, ReadOnlySpan<T> scale, Span<T> output)
    {
        int spatial = GlobalPoolSpatial(channels, height, width);
        CheckLength(input, (long)channels * spatial, nameof(input));
        CheckLength(scale, channels, nameof(scale));
        CheckLength(output, (long)channels * spatial, nameof(output));
        for (int c = 0; c < channels; c++)
        {
            for (int k = c * spatial; k < (c + 1) * spatial; k++)
            {
                output[k] = input[k] * scale[c];
            }
        }
    }

    /// <summary>
    /// Backward pass of <see cref="MultiplyPerChannel"/>: d input = d output * scale[c]; d scale[c] = the sum over the
    /// channel's pixels of d output * input.
    /// </summary>
    /// <param name="input">The forward input <c>[channels, height, width]</c>.</param>
    /// <param name="channels">Channels.</param>
    /// <param name="height">Height.</param>
    /// <param name="width">Width.</param>
    /// <param name="scale">The forward scale <c>[channels]</c>.</param>
    /// <param name="outputGrad">d loss / d output <c>[channels, height, width]</c>.</param>
    /// <param name="inputGrad">Receives d loss / d input <c>[channels, height, width]</c> (overwritten).</param>
    /// <param name="scaleGrad">Receives d loss / d scale <c>[channels]</c> (overwritten).</param>
    public static void MultiplyPerChannelBackward(ReadOnlySpan<T> input, int channels, int height, int width, ReadOnlySpan<T> scale, ReadOnlySpan<T> outputGrad, Span<T> inputGrad, Span<T> scaleGrad)
    {
        int spatial = GlobalPoolSpatial(channels, height, width);
        CheckLength(input, (long)channels * spatial, nameof(input));
        CheckLength(scale, channels, nameof(scale));
        CheckLength(outputGrad, (long)channels * spatial, nameof(outputGrad));
        CheckLength(inputGrad, (long)channels * spatial, nameof(inputGrad));
        CheckLength(scaleGrad, channels, nameof(scaleGrad));
        for (int c = 0; c < channels; c++)
        {
            T sum = T.Zero;
            for (int k = c * spatial; k < (c + 1) * spatial; k++)
            {
                inputGrad[k] = outputGrad[k] * scale[c];
                sum += outputGrad[k] * input[k];
            }

            scaleGrad[c] = sum;
        }
    }

    /// <summary>Concatenation along the channel axis (PyTorch <c>torch.cat(dim=1)</c> for one item): channels of <paramref name="a"/> first.</summary>
    /// <param name="a">First input <c>[channelsA, height, width]</c>.</param>
    /// <param name="channelsA">Channels of <paramref name="a"/>.</param>
    /// <param name="b">Second input <c>[channelsB, height, width]</c>.</param>
    /// <param name="channelsB">Channels of <paramref name="b"/>.</param>
    /// <param name="height">Height.</param>
    /// <param name="width">Width.</param>
    /// <param name="output">Output <c>[channelsA + channelsB, height, width]</c>.</param>
    public static void Concat(ReadOnlySpan<T> a, int channelsA, ReadOnlySpan<T> b, int channelsB, int height, int width, Span<T> output)
    {
        long spatial = CheckConcat(channelsA, channelsB, height, width);
        CheckLength(a, channelsA * spatial, nameof(a));
        CheckLength(b, channelsB * spatial, nameof(b));
        CheckLength(output, (channelsA + (long)channelsB) * spatial, nameof(output));
        a.CopyTo(output);
        b.CopyTo(output.Slice(a.Length));
    }

    /// <summary>Backward pass of <see cref="Concat"/>: the output gradient's first <paramref name="channelsA"/> channels go to <c>a</c>, the rest to <c>b</c>.</summary>
    /// <param name="channelsA">Channels of <c>a</c>.</param>
    /// <param name="channelsB">Channels of <c>b</c>.</param>
    /// <param name="height">Height.</param>
    /// <param name="width">Width.</param>
    /// <param name="outputGrad">d loss / d output <c>[channelsA + channelsB, height, width]</c>.</param>
    /// <param name="aGrad">Receives d loss / d a <c>[channelsA, height, width]</c> (overwritten).</param>
    /// <param name="bGrad">Receives d loss / d b <c>[channelsB, height, width]</c> (overwritten).</param>
    public static void ConcatBackward(int channelsA, int channelsB, int height, int width, ReadOnlySpan<T> outputGrad, Span<T> aGrad, Span<T> bGrad)
    {
        long spatial = CheckConcat(channelsA, channelsB, height, width);
        CheckLength(outputGrad, (channelsA + (long)channelsB) * spatial, nameof(outputGrad));
        CheckLength(aGrad, channelsA * spatial, nameof(aGrad));
        CheckLength(bGrad, channelsB * spatial, nameof(bGrad));
        outputGrad.Slice(0, aGrad.Length).CopyTo(aGrad);
        outputGrad.Slice(aGrad.Length).CopyTo(bGrad);
    }

    /// <summary>
    /// Dropout in training mode (PyTorch <c>nn.Dropout(p)</c> in <c>train()</c>), with inverted scaling: element <c>k</c> is kept
    /// when <see cref="DropoutKeeps"/>(<paramref name="seed"/>, <paramref name="offset"/> + k, <paramref name="p"/>) and becomes
    /// <c>in[k] * (1 / (1 - p))</c>, otherwise 0. The mask depends only on the seed and the element's counter, never on the
    /// order or the thread that computes it: a batch gives the same result as one call per item with
    /// <c>offset = item * itemLength</c>. In inference mode dropout is the identity.
    /// </summary>
    /// <param name="input">Input values.</param>
    /// <param name="p">Probability of dropping an element, in [0, 1].</param>
    /// <param name="seed">The mask's seed (use a new one for every step and layer).</param>
    /// <param name="offset">Counter of the first element (wraps at 2^32).</param>
    /// <param name="output">Output, same length.</param>
    public static void Dropout(ReadOnlySpan<T> input, T p, uint seed, uint offset, Span<T> output)
    {
        CheckDropout(p);
        CheckLength(output, input.Length, nameof(output));
        T scale = T.One / (T.One - p);
        for (int k = 0; k < input.Length; k++)
        {
            output[k] = DropoutKeeps(seed, unchecked(offset + (uint)k), p) ? input[k] * scale : T.Zero;
        }
    }

    /// <summary>Backward pass of <see cref="Dropout"/>: the same mask and scale applied to the gradient.</summary>
    /// <param name="p">Probability of dropping an element, as in the forward pass.</param>
    /// <param name="seed">The forward pass's seed.</param>
    /// <param name="offset">The forward pass's offset.</param>
    /// <param name="outputGrad">d loss / d output.</param>
    /// <param name="inputGrad">Receives d loss / d input, same length (overwritten).</param>
    public static void DropoutBackward(T p, uint seed, uint offset, ReadOnlySpan<T> outputGrad, Span<T> inputGrad) =>
        Dropout(outputGrad, p, seed, offset, inputGrad);

    /// <summary>
    /// Whether dropout keeps the element with counter <paramref name="index"/>: with the 32-bit hash
    /// <c>h = mix(seed + index * 0x9E3779B9)</c> (wrapping; <c>mix</c> is x ^= x &gt;&gt; 16; x *= 0x7FEB352D; x ^= x &gt;&gt; 15;
    /// x *= 0x846CA68B; x ^= x &gt;&gt; 16), the element is kept when <c>(h &gt;&gt; 8) / 2^24 &gt;= p</c>, which happens with
    /// probability <c>1 - p</c> (rounded to a multiple of 2^-24). A counter-based generator: any element's draw is computed
    /// directly, so vectorized and multi-threaded code reproduces it exactly.
    /// </summary>
    /// <param name="seed">The mask's seed.</param>
    /// <param name="index">The element's counter.</param>
    /// <param name="p">Probability of dropping an element.</param>
    /// <returns>True when the element is kept.</returns>
    public static bool DropoutKeeps(uint seed, uint index, T p)
    {
        uint h = unchecked(seed + (index * 0x9E3779B9u));
        h ^= h >> 16;
        h = unchecked(h * 0x7FEB352Du);
        h ^= h >> 15;
        h = unchecked(h * 0x846CA68Bu);
        h ^= h >> 16;
        T uniform = T.CreateChecked(h >> 8) / T.CreateChecked(1 << 24);
        return uniform >= p;
    }

    private static void CheckDropout(T p)
    {
        if (!(p >= T.Zero && p <= T.One))
        {
            throw new ArgumentException($"The dropout probability must be in [0, 1]; got {p.ToString(null, CultureInfo.InvariantCulture)}.", nameof(p));
        }
    }

    private static long CheckConcat(int channelsA, int channelsB, int height, int width)
    {
        NonNegative(channelsA, nameof(channelsA));
        NonNegative(channelsB, nameof(channelsB));
        NonNegative(height, nameof(height));
        NonNegative(width, nameof(width));
        return (long)height * width;
    }
}
