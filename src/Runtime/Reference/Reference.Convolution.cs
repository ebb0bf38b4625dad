using System;

namespace CnnGen;

/// <content>Convolution and its backward pass.</content>
public abstract partial class Reference<T>
{
    /// <summary>
    /// 2-D convolution (cross-correlation, PyTorch <c>nn.Conv2d</c>) of one CHW image with zero padding:
    /// <c>out[o, y, x] = bias[o] + sum over c in group(o), i, j of in[c, y*sH - padTop + i*dH, x*sW - padLeft + j*dW] * w[o, c - groupStart, i, j]</c>.
    /// Output channel <c>o</c> belongs to group <c>o / (filters / groups)</c> and reads input channels
    /// <c>g*(channels/groups) ... (g+1)*(channels/groups) - 1</c> (depthwise with a channel multiplier reads channel <c>o / multiplier</c>).
    /// </summary>
    /// <param name="input">Input <c>[channels, height, width]</c>.</param>
    /// <param name="channels">Input channels.</param>
    /// <param name="height">Input height.</param>
    /// <param name="width">Input width.</param>
    /// <param name="weight">Weights OIHW <c>[filters, channels/groups, kH, kW]</c>.</param>
    /// <param name="bias">Bias <c>[filters]</c>, or empty for no bias.</param>
    /// <param name="filters">Output channels.</param>
    /// <param name="kH">Kernel height.</param>
    /// <param name="kW">Kernel width.</param>
    /// <param name="strideH">Vertical stride.</param>
    /// <param name="strideW">Horizontal stride.</param>
    /// <param name="padTop">Zero rows above.</param>
    /// <param name="padLeft">Zero columns on the left.</param>
    /// <param name="padBottom">Zero rows below.</param>
    /// <param name="padRight">Zero columns on the right.</param>
    /// <param name="dilationH">Vertical dilation.</param>
    /// <param name="dilationW">Horizontal dilation.</param>
    /// <param name="groups">Number of groups; must divide both <paramref name="channels"/> and <paramref name="filters"/>.</param>
    /// <param name="output">Output <c>[filters, outH, outW]</c> with the size from <see cref="ConvOutputSize"/>.</param>
    public static void Conv2D(ReadOnlySpan<T> input, int channels, int height, int width, ReadOnlySpan<T> weight, ReadOnlySpan<T> bias, int filters, int kH, int kW, int strideH, int strideW, int padTop, int padLeft, int padBottom, int padRight, int dilationH, int dilationW, int groups, Span<T> output)
    {
        var conv = new ConvGeometry(channels, height, width, filters, kH, kW, strideH, strideW, padTop, padLeft, padBottom, padRight, dilationH, dilationW, groups);
        CheckLength(input, conv.InputLength, nameof(input));
        CheckLength(weight, conv.WeightLength, nameof(weight));
        CheckOptionalLength(bias, filters, nameof(bias));
        CheckLength(output, conv.OutputLength, nameof(output));

        for (int o = 0; o < filters; o++)
        {
            for (int y = 0; y < conv.OutH; y++)
            {
                for (int x = 0; x < conv.OutW; x++)
                {
                    T sum = bias.IsEmpty ? T.Zero : bias[o];
                    foreach (ConvTap tap in conv.Taps(o, y, x))
                    {
                        sum += input[tap.Input] * weight[tap.Weight];
                    }

                    output[conv.OutputIndex(o, y, x)] = sum;
                }
            }
        }
    }

    /// <summary>
    /// Backward pass of <see cref="Conv2D"/> for one image. It visits the same terms as the forward pass: every term
    /// <c>in[c, iy, ix] * w[o, c', i, j]</c> of the sum for <c>out[o, y, x]</c> sends <c>outputGrad[o, y, x]</c> back along both factors:
    /// <c>inputGrad[c, iy, ix] = sum of outputGrad[o, y, x] * w[o, c', i, j]</c> over every (o, y, x, i, j) that read it (padding taps read
    /// nothing), <c>weightGrad[o, c', i, j] += sum over y, x of outputGrad[o, y, x] * in[c, iy, ix]</c> and
    /// <c>biasGrad[o] += sum over y, x of outputGrad[o, y, x]</c>.
    /// </summary>
    /// <param name="input">The forward input <c>[channels, height, width]</c>.</param>
    /// <param name="channels">Input channels.</param>
    /// <param name="height">Input height.</param>
    /// <param name="width">Input width.</param>
    /// <param name="weight">Weights OIHW <c>[filters, channels/groups, kH, kW]</c>.</param>
    /// <param name="filters">Output channels.</param>
    /// <param name="kH">Kernel height.</param>
    /// <param name="kW">Kernel width.</param>
    /// <param name="strideH">Vertical stride.</param>
    /// <param name="strideW">Horizontal stride.</param>
    /// <param name="padTop">Zero rows above.</param>
    /// <param name="padLeft">Zero columns on the left.</param>
    /// <param name="padBottom">Zero rows below.</param>
    /// <param name="padRight">Zero columns on the right.</param>
    /// <param name="dilationH">Vertical dilation.</param>
    /// <param name="dilationW">Horizontal dilation.</param>
    /// <param name="groups">Number of groups.</param>
    /// <param name="outputGrad">d loss / d output <c>[filters, outH, outW]</c>.</param>
    /// <param name="inputGrad">Receives d loss / d input <c>[channels, height, width]</c> (overwritten).</param>
    /// <param name="weightGrad">d loss / d weight <c>[filters, channels/groups, kH, kW]</c>, accumulated.</param>
    /// <param name="biasGrad">d loss / d bias <c>[filters]</c>, accumulated; empty for a layer without bias.</param>
    public static void Conv2DBackward(ReadOnlySpan<T> input, int channels, int height, int width, ReadOnlySpan<T> weight, int filters, int kH, int kW, int strideH, int strideW, int padTop, int padLeft, int padBottom, int padRight, int dilationH, int dilationW, int groups, ReadOnlySpan<T> outputGrad, Span<T> inputGrad, Span<T> weightGrad, Span<T> biasGrad)
    {
        var conv = new ConvGeometry(channels, height, width, filters, kH, kW, strideH, strideW, padTop, padLeft, padBottom, padRight, dilationH, dilationW, groups);
        CheckLength(input, conv.InputLength, nameof(input));
        CheckLength(weight, conv.WeightLength, nameof(weight));
        CheckLength(outputGrad, conv.OutputLength, nameof(outputGrad));
        CheckLength(inputGrad, conv.InputLength, nameof(inputGrad));
        CheckLength(weightGrad, conv.WeightLength, nameof(weightGrad));
        CheckOptionalLength(biasGrad, filters, nameof(biasGrad));

        inputGrad.Clear();
        for (int o = 0; o < filters; o++)
        {
            for (int y = 0; y < conv.OutH; y++)
            {
                for (int x = 0; x < conv.OutW; x++)
                {
                    T g = outputGrad[conv.OutputIndex(o, y, x)];
                    if (!biasGrad.IsEmpty)
                    {
                        biasGrad[o] += g;
                    }

                    foreach (ConvTap tap in conv.Taps(o, y, x))
                    {
                        inputGrad[tap.Input] += g * weight[tap.Weight];
                        weightGrad[tap.Weight] += g * input[tap.Input];
                    }
                }
            }
        }
    }

    /// <summary>One term <c>in[Input] * w[Weight]</c> of a convolution's sum: indices into the input and the weights.</summary>
    private readonly record struct ConvTap(int Input, int Weight);

    /// <summary>
    /// The taps of output pixel (o, y, x) that read an input cell, in the order input channel, kernel row, kernel column;
    /// taps on padding read zeros and are skipped.
    /// </summary>
    private ref struct ConvTapEnumerator
    {
        private readonly ConvGeometry _conv;
        private readonly int _o;
        private readonly int _y;
        private readonly int _x;
        private int _c;
        private int _i;
        private int _j = -1;

        public ConvTapEnumerator(ConvGeometry conv, int o, int y, int x) => (_conv, _o, _y, _x) = (conv, o, y, x);

        public readonly ConvTap Current => new(_conv.InputIndex(_o, _c, _conv.InputRow(_y, _i), _conv.InputColumn(_x, _j)), _conv.WeightIndex(_o, _c, _i, _j));

        public readonly ConvTapEnumerator GetEnumerator() => this;

        public bool MoveNext()
        {
            while (Advance())
            {
                if (_conv.InBounds(_conv.InputRow(_y, _i), _conv.InputColumn(_x, _j)))
                {
                    return true;
                }
            }

            return false;
        }

        /// <summary>Steps to the next (c, i, j), kernel column fastest.</summary>
        private bool Advance()
        {
            if (++_j < _conv.KernelW)
            {
                return true;
            }

            _j = 0;
            if (++_i < _conv.KernelH)
            {
                return true;
            }

            _i = 0;
            return ++_c < _conv.ChannelsPerGroup;
        }
    }

    /// <summary>A validated convolution's sizes and index arithmetic, shared by the forward and backward functions.</summary>
    private readonly struct ConvGeometry
    {
        private readonly int _height;
        private readonly int _width;
        private readonly int _strideH;
        private readonly int _strideW;
        private readonly int _padTop;
        private readonly int _padLeft;
        private readonly int _dilationH;
        private readonly int _dilationW;
        private readonly int _filtersPerGroup;

        public ConvGeometry(int channels, int height, int width, int filters, int kH, int kW, int strideH, int strideW, int padTop, int padLeft, int padBottom, int padRight, int dilationH, int dilationW, int groups)
        {
            Positive(channels, nameof(channels));
            Positive(filters, nameof(filters));
            Positive(groups, nameof(groups));
            if (channels % groups != 0 || filters % groups != 0)
            {
                throw new ArgumentException($"groups ({groups}) must divide both channels ({channels}) and filters ({filters}).", nameof(groups));
            }

            (OutH, OutW) = ConvOutputSize(height, width, kH, kW, strideH, strideW, padTop, padLeft, padBottom, padRight, dilationH, dilationW);
            ChannelsPerGroup = channels / groups;
            _filtersPerGroup = filters / groups;
            (_height, _width, KernelH, KernelW, _strideH, _strideW, _padTop, _padLeft, _dilationH, _dilationW) = (height, width, kH, kW, strideH, strideW, padTop, padLeft, dilationH, dilationW);
            InputLength = (long)channels * height * width;
            WeightLength = (long)filters * ChannelsPerGroup * kH * kW;
            OutputLength = (long)filters * OutH * OutW;
        }

        public int OutH { get; }

        public int OutW { get; }

        public int ChannelsPerGroup { get; }

        public int KernelH { get; }

        public int KernelW { get; }

        public long InputLength { get; }

        public long WeightLength { get; }

        public long OutputLength { get; }

        /// <summary>The taps of output pixel (<paramref name="o"/>, <paramref name="y"/>, <paramref name="x"/>) that read the input.</summary>
        public ConvTapEnumerator Taps(int o, int y, int x) => new(this, o, y, x);

        /// <summary>The index of <c>out[o, y, x]</c>.</summary>
        public int OutputIndex(int o, int y, int x) => ((o * OutH) + y) * OutW + x;

        /// <summary>The index of input cell (<paramref name="iy"/>, <paramref name="ix"/>) of channel <paramref name="c"/> of output channel <paramref name="o"/>'s group.</summary>
        public int InputIndex(int o, int c, int iy, int ix) => ((((o / _filtersPerGroup * ChannelsPerGroup) + c) * _height) + iy) * _width + ix;

        /// <summary>Whether (<paramref name="iy"/>, <paramref name="ix"/>) is an input cell rather than padding.</summary>
        public bool InBounds(int iy, int ix) => iy >= 0 && iy < _height && ix >= 0 && ix < _width;

        /// <summary>The input row of kernel row <paramref name="i"/> for output row <paramref name="y"/> (negative or past the end in the padding).</summary>
        public int InputRow(int y, int i) => (y * _strideH) - _padTop + (i * _dilationH);

        /// <summary>The input column of kernel column <paramref name="j"/> for output column <paramref name="x"/>.</summary>
        public int InputColumn(int x, int j) => (x * _strideW) - _padLeft + (j * _dilationW);

        /// <summary>The index of <c>w[o, c, i, j]</c> (<paramref name="c"/> counted within the group).</summary>
        public int WeightIndex(int o, int c, int i, int j) => (((o * ChannelsPerGroup) + c) * KernelH + i) * KernelW + j;
    }
}
