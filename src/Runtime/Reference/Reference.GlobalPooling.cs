using System;

namespace CnnGen;

/// <content>Global and adaptive pooling, and their backward passes.</content>
public abstract partial class Reference<T>
{
    /// <summary>Global average pooling (PyTorch <c>nn.AdaptiveAvgPool2d(1)</c>): the mean of each channel's HxW map.</summary>
    /// <param name="input">Input <c>[channels, height, width]</c>.</param>
    /// <param name="channels">Channels.</param>
    /// <param name="height">Input height.</param>
    /// <param name="width">Input width.</param>
    /// <param name="output">Output <c>[channels]</c>.</param>
    public static void GlobalAvgPool2D(ReadOnlySpan<T> input, int channels, int height, int width, Span<T> output)
    {
        int spatial = GlobalPoolSpatial(channels, height, width);
        CheckLength(input, (long)channels * spatial, nameof(input));
        CheckLength(output, channels, nameof(output));
        for (int c = 0; c < channels; c++)
        {
            T sum = T.Zero;
            foreach (T v in input.Slice(c * spatial, spatial))
            {
                sum += v;
            }

            output[c] = sum / T.CreateChecked(spatial);
        }
    }

    /// <summary>Backward pass of <see cref="GlobalAvgPool2D"/>: every cell of channel <c>c</c> receives <c>outputGrad[c] / (height*width)</c>.</summary>
    /// <param name="channels">Channels.</param>
    /// <param name="height">Input height.</param>
    /// <param name="width">Input width.</param>
    /// <param name="outputGrad">d loss / d output <c>[channels]</c>.</param>
    /// <param name="inputGrad">Receives d loss / d input <c>[channels, height, width]</c> (overwritten).</param>
    public static void GlobalAvgPool2DBackward(int channels, int height, int width, ReadOnlySpan<T> outputGrad, Span<T> inputGrad)
    {
        int spatial = GlobalPoolSpatial(channels, height, width);
        CheckLength(outputGrad, channels, nameof(outputGrad));
        CheckLength(inputGrad, (long)channels * spatial, nameof(inputGrad));
        for (int c = 0; c < channels; c++)
        {
            inputGrad.Slice(c * spatial, spatial).Fill(outputGrad[c] / T.CreateChecked(spatial));
        }
    }

    /// <summary>Global max pooling (PyTorch <c>nn.AdaptiveMaxPool2d(1)</c>): the maximum of each channel's HxW map. NaN propagates.</summary>
    /// <param name="input">Input <c>[channels, height, width]</c>.</param>
    /// <param name="channels">Channels.</param>
    /// <param name="height">Input height.</param>
    /// <param name="width">Input width.</param>
    /// <param name="output">Output <c>[channels]</c>.</param>
    public static void GlobalMaxPool2D(ReadOnlySpan<T> input, int channels, int height, int width, Span<T> output)
    {
        int spatial = GlobalPoolSpatial(channels, height, width);
        CheckLength(input, (long)channels * spatial, nameof(input));
        CheckLength(output, channels, nameof(output));
        for (int c = 0; c < channels; c++)
        {
            output[c] = input[GlobalArgMax(input, c, spatial)];
        }
    }

    /// <summary>
    /// Backward pass of <see cref="GlobalMaxPool2D"/>: channel <c>c</c>'s gradient goes to its first maximum in row-major
    /// order (a NaN takes over, as in the forward pass); every other cell receives 0.
    /// </summary>
    /// <param name="input">The forward input <c>[channels, height, width]</c>.</param>
    /// <param name="channels">Channels.</param>
    /// <param name="height">Input height.</param>
    /// <param name="width">Input width.</param>
    /// <param name="outputGrad">d loss / d output <c>[channels]</c>.</param>
    /// <param name="inputGrad">Receives d loss / d input <c>[channels, height, width]</c> (overwritten).</param>
    public static void GlobalMaxPool2DBackward(ReadOnlySpan<T> input, int channels, int height, int width, ReadOnlySpan<T> outputGrad, Span<T> inputGrad)
    {
        int spatial = GlobalPoolSpatial(channels, height, width);
        CheckLength(input, (long)channels * spatial, nameof(input));
        CheckLength(outputGrad, channels, nameof(outputGrad));
        CheckLength(inputGrad, (long)channels * spatial, nameof(inputGrad));
        inputGrad.Clear();
        for (int c = 0; c < channels; c++)
        {
            inputGrad[GlobalArgMax(input, c, spatial)] = outputGrad[c];
        }
    }

    /// <summary>
    /// Adaptive average pooling (PyTorch <c>nn.AdaptiveAvgPool2d((outH, outW))</c>): output cell <c>(y, x)</c> is the mean of
    /// input rows <c>[floor(y*height/outH), ceil((y+1)*height/outH))</c> and columns <c>[floor(x*width/outW), ceil((x+1)*width/outW))</c>.
    /// Windows may overlap when the input size is not a multiple of the output size; output 1x1 is global average pooling.
    /// </summary>
    /// <param name="input">Input <c>[channels, height, width]</c>.</param>
    /// <param name="channels">Channels.</param>
    /// <param name="height">Input height.</param>
    /// <param name="width">Input width.</param>
    /// <param name="outH">Output height.</param>
    /// <param name="outW">Output width.</param>
    /// <param name="output">Output <c>[channels, outH, outW]</c>.</param>
    public static void AdaptiveAvgPool2D(ReadOnlySpan<T> input, int channels, int height, int width, int outH, int outW, Span<T> output)
    {
        CheckAdaptive(channels, height, width, outH, outW);
        CheckLength(input, (long)channels * height * width, nameof(input));
        CheckLength(output, (long)channels * outH * outW, nameof(output));
        for (int c = 0; c < channels; c++)
        {
            for (int y = 0; y < outH; y++)
            {
                (int top, int bottom) = AdaptiveRange(y, height, outH);
                for (int x = 0; x < outW; x++)
                {
                    (int left, int right) = AdaptiveRange(x, width, outW);
                    T sum = T.Zero;
                    for (int iy = top; iy < bottom; iy++)
                    {
                        for (int ix = left; ix < right; ix++)
                        {
                            sum += input[((c * height) + iy) * width + ix];
                        }
                    }

                    output[((c * outH) + y) * outW + x] = sum / T.CreateChecked((bottom - top) * (right - left));
                }
            }
        }
    }

    /// <summary>
    /// Backward pass of <see cref="AdaptiveAvgPool2D"/>: each output cell's gradient divided by its window's cell count goes
    /// to every cell of the window; overlapping windows add up.
    /// </summary>
    /// <param name="channels">Channels.</param>
    /// <param name="height">Input height.</param>
    /// <param name="width">Input width.</param>
    /// <param name="outH">Output height.</param>
    /// <param name="outW">Output width.</param>
    /// <param name="outputGrad">d loss / d output <c>[channels, outH, outW]</c>.</param>
    /// <param name="inputGrad">Receives d loss / d input <c>[channels, height, width]</c> (overwritten).</param>
    public static void AdaptiveAvgPool2DBackward(int channels, int height, int width, int outH, int outW, ReadOnlySpan<T> outputGrad, Span<T> inputGrad)
    {
        CheckAdaptive(channels, height, width, outH, outW);
        CheckLength(outputGrad, (long)channels * outH * outW, nameof(outputGrad));
        CheckLength(inputGrad, (long)channels * height * width, nameof(inputGrad));
        inputGrad.Clear();
        for (int c = 0; c < channels; c++)
        {
            for (int y = 0; y < outH; y++)
            {
                (int top, int bottom) = AdaptiveRange(y, height, outH);
                for (int x = 0; x < outW; x++)
                {
                    (int left, int right) = AdaptiveRange(x, width, outW);
                    T share = outputGrad[((c * outH) + y) * outW + x] / T.CreateChecked((bottom - top) * (right - left));
                    for (int iy = top; iy < bottom; iy++)
                    {
                        for (int ix = left; ix < right; ix++)
                        {
                            inputGrad[((c * height) + iy) * width + ix] += share;
                        }
                    }
                }
            }
        }
    }

    private static int GlobalPoolSpatial(int channels, int height, int width)
    {
        Positive(channels, nameof(channels));
        Positive(height, nameof(height));
        Positive(width, nameof(width));
        long spatial = (long)height * width;
        if (spatial * channels > int.MaxValue)
        {
            throw new ArgumentException($"A [{channels}, {height}, {width}] map is too large.", nameof(channels));
        }

        return (int)spatial;
    }

    /// <summary>The index of channel <paramref name="c"/>'s first maximum (NaN takes over), as PyTorch's adaptive max pool picks it.</summary>
    private static int GlobalArgMax(ReadOnlySpan<T> input, int c, int spatial)
    {
        int winner = c * spatial;
        T best = T.NegativeInfinity;
        for (int k = c * spatial; k < (c + 1) * spatial; k++)
        {
            if (input[k] > best || T.IsNaN(input[k]))
            {
                winner = k;
                best = input[k];
            }
        }

        return winner;
    }

    private static void CheckAdaptive(int channels, int height, int width, int outH, int outW)
    {
        Positive(channels, nameof(channels));
        Positive(height, nameof(height));
        Positive(width, nameof(width));
        Positive(outH, nameof(outH));
        Positive(outW, nameof(outW));
    }

    /// <summary>PyTorch's adaptive window along one axis: <c>[floor(i*size/outSize), ceil((i+1)*size/outSize))</c>.</summary>
    private static (int Start, int End) AdaptiveRange(int i, int size, int outSize) =>
        ((int)((long)i * size / outSize), (int)((((long)(i + 1) * size) + outSize - 1) / outSize));
}
