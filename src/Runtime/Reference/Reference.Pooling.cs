using System;

namespace CnnGen;

/// <content>Max and average pooling over windows, and their backward passes.</content>
public abstract partial class Reference<T>
{
    /// <summary>
    /// Max pooling (PyTorch <c>nn.MaxPool2d</c>): padding cells are <c>-inf</c> (they never win); taps past the padded
    /// edge created by ceil mode are ignored. NaN propagates.
    /// </summary>
    /// <param name="input">Input <c>[channels, height, width]</c>.</param>
    /// <param name="channels">Channels.</param>
    /// <param name="height">Input height.</param>
    /// <param name="width">Input width.</param>
    /// <param name="kH">Window height.</param>
    /// <param name="kW">Window width.</param>
    /// <param name="strideH">Vertical stride.</param>
    /// <param name="strideW">Horizontal stride.</param>
    /// <param name="padH">Padding on the top and on the bottom.</param>
    /// <param name="padW">Padding on the left and on the right.</param>
    /// <param name="dilationH">Vertical dilation.</param>
    /// <param name="dilationW">Horizontal dilation.</param>
    /// <param name="ceilMode">PyTorch <c>ceil_mode</c>.</param>
    /// <param name="output">Output <c>[channels, outH, outW]</c> with the size from <see cref="PoolOutputSize"/>.</param>
    public static void MaxPool2D(ReadOnlySpan<T> input, int channels, int height, int width, int kH, int kW, int strideH, int strideW, int padH, int padW, int dilationH, int dilationW, bool ceilMode, Span<T> output)
    {
        var pool = new PoolGeometry(channels, height, width, kH, kW, strideH, strideW, padH, padW, dilationH, dilationW, ceilMode);
        CheckLength(input, pool.InputLength, nameof(input));
        CheckLength(output, pool.OutputLength, nameof(output));
        for (int c = 0; c < channels; c++)
        {
            for (int y = 0; y < pool.OutH; y++)
            {
                for (int x = 0; x < pool.OutW; x++)
                {
                    int winner = pool.ArgMax(input, c, y, x);
                    output[((c * pool.OutH) + y) * pool.OutW + x] = winner < 0 ? T.NegativeInfinity : input[winner];
                }
            }
        }
    }

    /// <summary>
    /// Backward pass of <see cref="MaxPool2D"/> for one image: each window's gradient goes to its winner, the first maximum
    /// in row-major window order (PyTorch's rule: a later equal value does not take over, a NaN does, and a window whose
    /// values are all <c>-inf</c> sends it to its first in-bounds tap). Overlapping windows add up; a window with no
    /// in-bounds tap (its output is <c>-inf</c>) sends nothing.
    /// </summary>
    /// <param name="input">The forward input <c>[channels, height, width]</c>.</param>
    /// <param name="channels">Channels.</param>
    /// <param name="height">Input height.</param>
    /// <param name="width">Input width.</param>
    /// <param name="kH">Window height.</param>
    /// <param name="kW">Window width.</param>
    /// <param name="strideH">Vertical stride.</param>
    /// <param name="strideW">Horizontal stride.</param>
    /// <param name="padH">Padding on the top and on the bottom.</param>
    /// <param name="padW">Padding on the left and on the right.</param>
    /// <param name="dilationH">Vertical dilation.</param>
    /// <param name="dilationW">Horizontal dilation.</param>
    /// <param name="ceilMode">PyTorch <c>ceil_mode</c>.</param>
    /// <param name="outputGrad">d loss / d output <c>[channels, outH, outW]</c>.</param>
    /// <param name="inputGrad">Receives d loss / d input <c>[channels, height, width]</c> (overwritten).</param>
    public static void MaxPool2DBackward(ReadOnlySpan<T> input, int channels, int height, int width, int kH, int kW, int strideH, int strideW, int padH, int padW, int dilationH, int dilationW, bool ceilMode, ReadOnlySpan<T> outputGrad, Span<T> inputGrad)
    {
        var pool = new PoolGeometry(channels, height, width, kH, kW, strideH, strideW, padH, padW, dilationH, dilationW, ceilMode);
        CheckLength(input, pool.InputLength, nameof(input));
        CheckLength(outputGrad, pool.OutputLength, nameof(outputGrad));
        CheckLength(inputGrad, pool.InputLength, nameof(inputGrad));
        inputGrad.Clear();
        for (int c = 0; c < channels; c++)
        {
            for (int y = 0; y < pool.OutH; y++)
            {
                for (int x = 0; x < pool.OutW; x++)
                {
                    int winner = pool.ArgMax(input, c, y, x);
                    if (winner >= 0)
                    {
                        inputGrad[winner] += outputGrad[((c * pool.OutH) + y) * pool.OutW + x];
                    }
                }
            }
        }
    }

    /// <summary>
    /// Average pooling (PyTorch <c>nn.AvgPool2d</c>, no dilation). Per axis the window is <c>[start, start + k)</c> with
    /// <c>start = out*stride - pad</c>. With <paramref name="countIncludePad"/> the divisor counts padding cells but never the
    /// ceil-mode overhang past <c>in + pad</c> (<c>end = min(start + k, in + pad)</c>, divisor = product of <c>end - start</c>);
    /// otherwise it is the number of in-bounds cells.
    /// </summary>
    /// <param name="input">Input <c>[channels, height, width]</c>.</param>
    /// <param name="channels">Channels.</param>
    /// <param name="height">Input height.</param>
    /// <param name="width">Input width.</param>
    /// <param name="kH">Window height.</param>
    /// <param name="kW">Window width.</param>
    /// <param name="strideH">Vertical stride.</param>
    /// <param name="strideW">Horizontal stride.</param>
    /// <param name="padH">Padding on the top and on the bottom.</param>
    /// <param name="padW">Padding on the left and on the right.</param>
    /// <param name="ceilMode">PyTorch <c>ceil_mode</c>.</param>
    /// <param name="countIncludePad">PyTorch <c>count_include_pad</c> (its default is true).</param>
    /// <param name="output">Output <c>[channels, outH, outW]</c> with the size from <see cref="PoolOutputSize"/> (dilation 1).</param>
    public static void AvgPool2D(ReadOnlySpan<T> input, int channels, int height, int width, int kH, int kW, int strideH, int strideW, int padH, int padW, bool ceilMode, bool countIncludePad, Span<T> output)
    {
        var pool = new PoolGeometry(channels, height, width, kH, kW, strideH, strideW, padH, padW, 1, 1, ceilMode);
        CheckLength(input, pool.InputLength, nameof(input));
        CheckLength(output, pool.OutputLength, nameof(output));
        for (int c = 0; c < channels; c++)
        {
            for (int y = 0; y < pool.OutH; y++)
            {
                for (int x = 0; x < pool.OutW; x++)
                {
                    AvgWindow window = pool.AvgWindow(y, x, countIncludePad);
                    T sum = T.Zero;
                    for (int iy = window.Top; iy < window.Bottom; iy++)
                    {
                        for (int ix = window.Left; ix < window.Right; ix++)
                        {
                            sum += input[((c * height) + iy) * width + ix];
                        }
                    }

                    output[((c * pool.OutH) + y) * pool.OutW + x] = sum / T.CreateChecked(window.Divisor);
                }
            }
        }
    }

    /// <summary>
    /// Backward pass of <see cref="AvgPool2D"/> for one image: each window's gradient divided by the forward's divisor goes to
    /// every in-bounds cell of the window (padding cells absorb their share). Overlapping windows add up.
    /// </summary>
    /// <param name="channels">Channels.</param>
    /// <param name="height">Input height.</param>
    /// <param name="width">Input width.</param>
    /// <param name="kH">Window height.</param>
    /// <param name="kW">Window width.</param>
    /// <param name="strideH">Vertical stride.</param>
    /// <param name="strideW">Horizontal stride.</param>
    /// <param name="padH">Padding on the top and on the bottom.</param>
    /// <param name="padW">Padding on the left and on the right.</param>
    /// <param name="ceilMode">PyTorch <c>ceil_mode</c>.</param>
    /// <param name="countIncludePad">PyTorch <c>count_include_pad</c>.</param>
    /// <param name="outputGrad">d loss / d output <c>[channels, outH, outW]</c>.</param>
    /// <param name="inputGrad">Receives d loss / d input <c>[channels, height, width]</c> (overwritten).</param>
    public static void AvgPool2DBackward(int channels, int height, int width, int kH, int kW, int strideH, int strideW, int padH, int padW, bool ceilMode, bool countIncludePad, ReadOnlySpan<T> outputGrad, Span<T> inputGrad)
    {
        var pool = new PoolGeometry(channels, height, width, kH, kW, strideH, strideW, padH, padW, 1, 1, ceilMode);
        CheckLength(outputGrad, pool.OutputLength, nameof(outputGrad));
        CheckLength(inputGrad, pool.InputLength, nameof(inputGrad));
        inputGrad.Clear();
        for (int c = 0; c < channels; c++)
        {
            for (int y = 0; y < pool.OutH; y++)
            {
                for (int x = 0; x < pool.OutW; x++)
                {
                    AvgWindow window = pool.AvgWindow(y, x, countIncludePad);
                    T share = outputGrad[((c * pool.OutH) + y) * pool.OutW + x] / T.CreateChecked(window.Divisor);
                    for (int iy = window.Top; iy < window.Bottom; iy++)
                    {
                        for (int ix = window.Left; ix < window.Right; ix++)
                        {
                            inputGrad[((c * height) + iy) * width + ix] += share;
                        }
                    }
                }
            }
        }
    }

    /// <summary>The in-bounds cells <c>[Top, Bottom) x [Left, Right)</c> of an average-pool window and its divisor.</summary>
    private readonly record struct AvgWindow(int Top, int Bottom, int Left, int Right, int Divisor);

    /// <summary>A validated pool's sizes and window arithmetic, shared by the forward and backward functions.</summary>
    private readonly struct PoolGeometry
    {
        private readonly int _height;
        private readonly int _width;
        private readonly int _kH;
        private readonly int _kW;
        private readonly int _strideH;
        private readonly int _strideW;
        private readonly int _padH;
        private readonly int _padW;
        private readonly int _dilationH;
        private readonly int _dilationW;

        public PoolGeometry(int channels, int height, int width, int kH, int kW, int strideH, int strideW, int padH, int padW, int dilationH, int dilationW, bool ceilMode)
        {
            Positive(channels, nameof(channels));
            (OutH, OutW) = PoolOutputSize(height, width, kH, kW, strideH, strideW, padH, padW, dilationH, dilationW, ceilMode);
            (_height, _width, _kH, _kW, _strideH, _strideW, _padH, _padW, _dilationH, _dilationW) = (height, width, kH, kW, strideH, strideW, padH, padW, dilationH, dilationW);
            InputLength = (long)channels * height * width;
            OutputLength = (long)channels * OutH * OutW;
        }

        public int OutH { get; }

        public int OutW { get; }

        public long InputLength { get; }

        public long OutputLength { get; }

        /// <summary>
        /// The index in <paramref name="input"/> of the max-pool window's winner, or -1 when no tap of the window is in bounds
        /// (possible only with a dilation larger than the input). Taps are visited in row-major order; the first in-bounds
        /// tap wins until a later one is greater than the best so far or NaN.
        /// </summary>
        public int ArgMax(ReadOnlySpan<T> input, int c, int y, int x)
        {
            int winner = -1;
            T best = T.NegativeInfinity;
            for (int i = 0; i < _kH; i++)
            {
                int iy = (y * _strideH) - _padH + (i * _dilationH);
                if (iy < 0 || iy >= _height)
                {
                    continue;
                }

                for (int j = 0; j < _kW; j++)
                {
                    int ix = (x * _strideW) - _padW + (j * _dilationW);
                    if (ix < 0 || ix >= _width)
                    {
                        continue;
                    }

                    int index = ((c * _height) + iy) * _width + ix;
                    T v = input[index];
                    if (winner < 0 || v > best || T.IsNaN(v))
                    {
                        winner = index;
                        best = v;
                    }
                }
            }

            return winner;
        }

        /// <summary>The in-bounds cells of average-pool window (<paramref name="y"/>, <paramref name="x"/>) and PyTorch's divisor for it.</summary>
        public AvgWindow AvgWindow(int y, int x, bool countIncludePad)
        {
            int hStart = (y * _strideH) - _padH;
            int hEnd = Math.Min(hStart + _kH, _height + _padH);
            int wStart = (x * _strideW) - _padW;
            int wEnd = Math.Min(wStart + _kW, _width + _padW);
            int top = Math.Max(hStart, 0);
            int bottom = Math.Min(hEnd, _height);
            int left = Math.Max(wStart, 0);
            int right = Math.Min(wEnd, _width);
            int divisor = countIncludePad ? (hEnd - hStart) * (wEnd - wStart) : (bottom - top) * (right - left);
            return new AvgWindow(top, bottom, left, right, divisor);
        }
    }
}
