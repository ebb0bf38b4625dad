using System;

namespace CnnGen;

/// <summary>
/// Plain scalar reference implementations of every layer, written from the definitions in the
/// PyTorch conformance suite (NCHW layout, one image, float32). They favour being obviously correct
/// over speed and serve as the oracle for the generated SIMD code. Every method validates its span
/// lengths and throws <see cref="ArgumentException"/> giving the expected and actual sizes.
/// </summary>
public static class Reference
{
    /// <summary>
    /// Output size of a convolution: <c>floor((in + padBefore + padAfter - dilation*(k-1) - 1) / stride) + 1</c> per axis.
    /// </summary>
    /// <param name="inH">Input height.</param>
    /// <param name="inW">Input width.</param>
    /// <param name="kH">Kernel height.</param>
    /// <param name="kW">Kernel width.</param>
    /// <param name="strideH">Vertical stride.</param>
    /// <param name="strideW">Horizontal stride.</param>
    /// <param name="padTop">Zero rows added above.</param>
    /// <param name="padLeft">Zero columns added on the left.</param>
    /// <param name="padBottom">Zero rows added below.</param>
    /// <param name="padRight">Zero columns added on the right.</param>
    /// <param name="dilationH">Vertical dilation.</param>
    /// <param name="dilationW">Horizontal dilation.</param>
    /// <returns>The output height and width.</returns>
    /// <exception cref="ArgumentException">A parameter is out of range or the (padded) input is smaller than the dilated kernel.</exception>
    public static (int Height, int Width) ConvOutputSize(int inH, int inW, int kH, int kW, int strideH, int strideW, int padTop, int padLeft, int padBottom, int padRight, int dilationH, int dilationW)
    {
        int height = ConvAxis(inH, kH, strideH, padTop, padBottom, dilationH, "height");
        int width = ConvAxis(inW, kW, strideW, padLeft, padRight, dilationW, "width");
        return (height, width);
    }

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
    public static void Conv2D(ReadOnlySpan<float> input, int channels, int height, int width, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, int filters, int kH, int kW, int strideH, int strideW, int padTop, int padLeft, int padBottom, int padRight, int dilationH, int dilationW, int groups, Span<float> output)
    {
        Positive(channels, nameof(channels));
        Positive(filters, nameof(filters));
        Positive(groups, nameof(groups));
        if (channels % groups != 0 || filters % groups != 0)
        {
            throw new ArgumentException($"groups ({groups}) must divide both channels ({channels}) and filters ({filters}).", nameof(groups));
        }

        (int outH, int outW) = ConvOutputSize(height, width, kH, kW, strideH, strideW, padTop, padLeft, padBottom, padRight, dilationH, dilationW);
        int channelsPerGroup = channels / groups;
        int filtersPerGroup = filters / groups;
        CheckLength(input, (long)channels * height * width, nameof(input));
        CheckLength(weight, (long)filters * channelsPerGroup * kH * kW, nameof(weight));
        if (!bias.IsEmpty)
        {
            CheckLength(bias, filters, nameof(bias));
        }

        CheckLength(output, (long)filters * outH * outW, nameof(output));

        for (int o = 0; o < filters; o++)
        {
            int group = o / filtersPerGroup;
            int firstChannel = group * channelsPerGroup;
            for (int y = 0; y < outH; y++)
            {
                for (int x = 0; x < outW; x++)
                {
                    float sum = bias.IsEmpty ? 0f : bias[o];
                    for (int c = 0; c < channelsPerGroup; c++)
                    {
                        for (int i = 0; i < kH; i++)
                        {
                            int iy = (y * strideH) - padTop + (i * dilationH);
                            if (iy < 0 || iy >= height)
                            {
                                continue;
                            }

                            for (int j = 0; j < kW; j++)
                            {
                                int ix = (x * strideW) - padLeft + (j * dilationW);
                                if (ix < 0 || ix >= width)
                                {
                                    continue;
                                }

                                float v = input[(((firstChannel + c) * height) + iy) * width + ix];
                                float w = weight[(((o * channelsPerGroup) + c) * kH + i) * kW + j];
                                sum += v * w;
                            }
                        }
                    }

                    output[((o * outH) + y) * outW + x] = sum;
                }
            }
        }
    }

    /// <summary>
    /// Output size of a PyTorch pool: <c>floor-or-ceil((in + 2*pad - dilation*(k-1) - 1) / stride) + 1</c> per axis; in ceil mode
    /// the last window is dropped when it would start in the bottom/right padding (<c>(out-1)*stride &gt;= in + pad</c>).
    /// </summary>
    /// <param name="inH">Input height.</param>
    /// <param name="inW">Input width.</param>
    /// <param name="kH">Window height.</param>
    /// <param name="kW">Window width.</param>
    /// <param name="strideH">Vertical stride.</param>
    /// <param name="strideW">Horizontal stride.</param>
    /// <param name="padH">Padding on the top and on the bottom.</param>
    /// <param name="padW">Padding on the left and on the right.</param>
    /// <param name="dilationH">Vertical dilation.</param>
    /// <param name="dilationW">Horizontal dilation.</param>
    /// <param name="ceilMode">PyTorch <c>ceil_mode</c>.</param>
    /// <returns>The output height and width.</returns>
    /// <exception cref="ArgumentException">A parameter is out of range (PyTorch requires <c>pad &lt;= k/2</c>) or the output would be empty.</exception>
    public static (int Height, int Width) PoolOutputSize(int inH, int inW, int kH, int kW, int strideH, int strideW, int padH, int padW, int dilationH, int dilationW, bool ceilMode)
    {
        int height = PoolAxis(inH, kH, strideH, padH, dilationH, ceilMode, "height");
        int width = PoolAxis(inW, kW, strideW, padW, dilationW, ceilMode, "width");
        return (height, width);
    }

    /// <summary>
    /// Max pooling (PyTorch <c>nn.MaxPool2d</c>): padding cells are <c>-inf</c> (they never win); taps past the padded
    /// edge created by ceil mode are ignored.
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
    public static void MaxPool2D(ReadOnlySpan<float> input, int channels, int height, int width, int kH, int kW, int strideH, int strideW, int padH, int padW, int dilationH, int dilationW, bool ceilMode, Span<float> output)
    {
        Positive(channels, nameof(channels));
        (int outH, int outW) = PoolOutputSize(height, width, kH, kW, strideH, strideW, padH, padW, dilationH, dilationW, ceilMode);
        CheckLength(input, (long)channels * height * width, nameof(input));
        CheckLength(output, (long)channels * outH * outW, nameof(output));
        for (int c = 0; c < channels; c++)
        {
            for (int y = 0; y < outH; y++)
            {
                for (int x = 0; x < outW; x++)
                {
                    float best = float.NegativeInfinity;
                    for (int i = 0; i < kH; i++)
                    {
                        int iy = (y * strideH) - padH + (i * dilationH);
                        if (iy < 0 || iy >= height)
                        {
                            continue;
                        }

                        for (int j = 0; j < kW; j++)
                        {
                            int ix = (x * strideW) - padW + (j * dilationW);
                            if (ix < 0 || ix >= width)
                            {
                                continue;
                            }

                            float v = input[((c * height) + iy) * width + ix];
                            if (v > best || float.IsNaN(v))
                            {
                                best = v; // PyTorch propagates NaN
                            }

                            if (float.IsNaN(best))
                            {
                                break;
                            }
                        }
                    }

                    output[((c * outH) + y) * outW + x] = best;
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
    public static void AvgPool2D(ReadOnlySpan<float> input, int channels, int height, int width, int kH, int kW, int strideH, int strideW, int padH, int padW, bool ceilMode, bool countIncludePad, Span<float> output)
    {
        Positive(channels, nameof(channels));
        (int outH, int outW) = PoolOutputSize(height, width, kH, kW, strideH, strideW, padH, padW, 1, 1, ceilMode);
        CheckLength(input, (long)channels * height * width, nameof(input));
        CheckLength(output, (long)channels * outH * outW, nameof(output));
        for (int c = 0; c < channels; c++)
        {
            for (int y = 0; y < outH; y++)
            {
                int hStart = (y * strideH) - padH;
                int hEnd = Math.Min(hStart + kH, height + padH);
                int hLo = Math.Max(hStart, 0);
                int hHi = Math.Min(hEnd, height);
                for (int x = 0; x < outW; x++)
                {
                    int wStart = (x * strideW) - padW;
                    int wEnd = Math.Min(wStart + kW, width + padW);
                    int wLo = Math.Max(wStart, 0);
                    int wHi = Math.Min(wEnd, width);
                    float sum = 0f;
                    for (int iy = hLo; iy < hHi; iy++)
                    {
                        for (int ix = wLo; ix < wHi; ix++)
                        {
                            sum += input[((c * height) + iy) * width + ix];
                        }
                    }

                    int divisor = countIncludePad
                        ? (hEnd - hStart) * (wEnd - wStart)
                        : (hHi - hLo) * (wHi - wLo);
                    output[((c * outH) + y) * outW + x] = sum / divisor;
                }
            }
        }
    }

    /// <summary>Global average pooling (PyTorch <c>nn.AdaptiveAvgPool2d(1)</c>): the mean of each channel's HxW map.</summary>
    /// <param name="input">Input <c>[channels, height, width]</c>.</param>
    /// <param name="channels">Channels.</param>
    /// <param name="height">Input height.</param>
    /// <param name="width">Input width.</param>
    /// <param name="output">Output <c>[channels]</c>.</param>
    public static void GlobalAvgPool2D(ReadOnlySpan<float> input, int channels, int height, int width, Span<float> output)
    {
        Positive(channels, nameof(channels));
        Positive(height, nameof(height));
        Positive(width, nameof(width));
        int spatial = height * width;
        CheckLength(input, (long)channels * spatial, nameof(input));
        CheckLength(output, channels, nameof(output));
        for (int c = 0; c < channels; c++)
        {
            float sum = 0f;
            foreach (float v in input.Slice(c * spatial, spatial))
            {
                sum += v;
            }

            output[c] = sum / spatial;
        }
    }

    /// <summary>Global max pooling (PyTorch <c>nn.AdaptiveMaxPool2d(1)</c>): the maximum of each channel's HxW map.</summary>
    /// <param name="input">Input <c>[channels, height, width]</c>.</param>
    /// <param name="channels">Channels.</param>
    /// <param name="height">Input height.</param>
    /// <param name="width">Input width.</param>
    /// <param name="output">Output <c>[channels]</c>.</param>
    public static void GlobalMaxPool2D(ReadOnlySpan<float> input, int channels, int height, int width, Span<float> output)
    {
        Positive(channels, nameof(channels));
        Positive(height, nameof(height));
        Positive(width, nameof(width));
        int spatial = height * width;
        CheckLength(input, (long)channels * spatial, nameof(input));
        CheckLength(output, channels, nameof(output));
        for (int c = 0; c < channels; c++)
        {
            float best = float.NegativeInfinity;
            foreach (float v in input.Slice(c * spatial, spatial))
            {
                if (v > best || float.IsNaN(v))
                {
                    best = v;
                }

                if (float.IsNaN(best))
                {
                    break;
                }
            }

            output[c] = best;
        }
    }

    /// <summary>
    /// Fully connected layer (PyTorch <c>nn.Linear</c>): <c>out[u] = bias[u] + sum over i of in[i] * weight[u, i]</c>.
    /// A CHW input is flattened in C,H,W order, i.e. it is passed as is.
    /// </summary>
    /// <param name="input">Input <c>[inFeatures]</c>.</param>
    /// <param name="inFeatures">Input features.</param>
    /// <param name="weight">Weights <c>[units, inFeatures]</c>.</param>
    /// <param name="bias">Bias <c>[units]</c>, or empty for no bias.</param>
    /// <param name="units">Output features.</param>
    /// <param name="output">Output <c>[units]</c>.</param>
    public static void Dense(ReadOnlySpan<float> input, int inFeatures, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, int units, Span<float> output)
    {
        Positive(inFeatures, nameof(inFeatures));
        Positive(units, nameof(units));
        CheckLength(input, inFeatures, nameof(input));
        CheckLength(weight, (long)units * inFeatures, nameof(weight));
        if (!bias.IsEmpty)
        {
            CheckLength(bias, units, nameof(bias));
        }

        CheckLength(output, units, nameof(output));
        for (int u = 0; u < units; u++)
        {
            float sum = bias.IsEmpty ? 0f : bias[u];
            ReadOnlySpan<float> row = weight.Slice(u * inFeatures, inFeatures);
            for (int i = 0; i < inFeatures; i++)
            {
                sum += input[i] * row[i];
            }

            output[u] = sum;
        }
    }

    /// <summary>
    /// Applies an element-wise activation: None (copy), Relu <c>max(x,0)</c>, Relu6 <c>min(max(x,0),6)</c>,
    /// LeakyRelu <c>x &gt;= 0 ? x : alpha*x</c>, Sigmoid <c>1/(1+exp(-x))</c>, Tanh, SiLU <c>x*sigmoid(x)</c>.
    /// All are finite for finite inputs (no overflow at +-90). <paramref name="input"/> and <paramref name="output"/> may be the same memory.
    /// </summary>
    /// <param name="input">Input values.</param>
    /// <param name="output">Output values, same length as <paramref name="input"/>.</param>
    /// <param name="activation">The activation; <see cref="Activation.Softmax"/> is not element-wise (use <see cref="Softmax"/>).</param>
    /// <param name="alpha">The LeakyRelu negative slope (PyTorch default 0.01).</param>
    /// <exception cref="ArgumentException">Lengths differ, or the activation is Softmax or unknown.</exception>
    public static void Activate(ReadOnlySpan<float> input, Span<float> output, Activation activation, float alpha = 0.01f)
    {
        CheckLength(output, input.Length, nameof(output));
        Func<float, float> f = activation switch
        {
            Activation.None => x => x,
            Activation.Relu => x => MathF.Max(x, 0f), // MathF.Max propagates NaN, like PyTorch
            Activation.Relu6 => x => MathF.Min(MathF.Max(x, 0f), 6f),
            Activation.LeakyRelu => x => x >= 0f ? x : alpha * x,
            Activation.Sigmoid => Sigmoid,
            Activation.Tanh => MathF.Tanh,
            Activation.SiLU => x => x * Sigmoid(x),
            Activation.Softmax => throw new ArgumentException("Softmax is not element-wise; use Reference.Softmax.", nameof(activation)),
            _ => throw new ArgumentException($"Unknown activation {activation}.", nameof(activation)),
        };
        for (int i = 0; i < input.Length; i++)
        {
            output[i] = f(input[i]);
        }
    }

    /// <summary>
    /// Softmax over the channel axis of a <c>[channels, spatial]</c> tensor (PyTorch <c>softmax(dim=1)</c> for one item):
    /// for each spatial position <c>s</c>, <c>out[c, s] = exp(in[c, s] - m) / sum over k of exp(in[k, s] - m)</c> with <c>m</c> the maximum.
    /// </summary>
    /// <param name="input">Input <c>[channels, spatial]</c>.</param>
    /// <param name="channels">Length of the softmax axis.</param>
    /// <param name="spatial">H*W, or 1 for a vector.</param>
    /// <param name="output">Output, same shape.</param>
    public static void Softmax(ReadOnlySpan<float> input, int channels, int spatial, Span<float> output)
    {
        Positive(channels, nameof(channels));
        Positive(spatial, nameof(spatial));
        CheckLength(input, (long)channels * spatial, nameof(input));
        CheckLength(output, (long)channels * spatial, nameof(output));
        for (int s = 0; s < spatial; s++)
        {
            float max = MaxOverChannels(input, channels, spatial, s);
            float sum = 0f;
            for (int c = 0; c < channels; c++)
            {
                float e = MathF.Exp(input[(c * spatial) + s] - max);
                output[(c * spatial) + s] = e;
                sum += e;
            }

            for (int c = 0; c < channels; c++)
            {
                output[(c * spatial) + s] /= sum;
            }
        }
    }

    /// <summary>
    /// Log-softmax over the channel axis of a <c>[channels, spatial]</c> tensor:
    /// <c>out[c, s] = in[c, s] - m - log(sum over k of exp(in[k, s] - m))</c>; finite even where softmax underflows to 0.
    /// </summary>
    /// <param name="input">Input <c>[channels, spatial]</c>.</param>
    /// <param name="channels">Length of the softmax axis.</param>
    /// <param name="spatial">H*W, or 1 for a vector.</param>
    /// <param name="output">Output, same shape.</param>
    public static void LogSoftmax(ReadOnlySpan<float> input, int channels, int spatial, Span<float> output)
    {
        Positive(channels, nameof(channels));
        Positive(spatial, nameof(spatial));
        CheckLength(input, (long)channels * spatial, nameof(input));
        CheckLength(output, (long)channels * spatial, nameof(output));
        for (int s = 0; s < spatial; s++)
        {
            float max = MaxOverChannels(input, channels, spatial, s);
            float sum = 0f;
            for (int c = 0; c < channels; c++)
            {
                sum += MathF.Exp(input[(c * spatial) + s] - max);
            }

            float logSum = MathF.Log(sum);
            for (int c = 0; c < channels; c++)
            {
                output[(c * spatial) + s] = input[(c * spatial) + s] - max - logSum;
            }
        }
    }

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
    public static void BatchNorm2D(ReadOnlySpan<float> input, int channels, int height, int width, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, ReadOnlySpan<float> mean, ReadOnlySpan<float> variance, float eps, Span<float> output)
    {
        Positive(channels, nameof(channels));
        NonNegative(height, nameof(height));
        NonNegative(width, nameof(width));
        int spatial = height * width;
        CheckLength(input, (long)channels * spatial, nameof(input));
        CheckLength(gamma, channels, nameof(gamma));
        CheckLength(beta, channels, nameof(beta));
        CheckLength(mean, channels, nameof(mean));
        CheckLength(variance, channels, nameof(variance));
        CheckLength(output, (long)channels * spatial, nameof(output));
        for (int c = 0; c < channels; c++)
        {
            float inv = 1f / MathF.Sqrt(variance[c] + eps);
            for (int s = 0; s < spatial; s++)
            {
                int k = (c * spatial) + s;
                output[k] = ((input[k] - mean[c]) * inv * gamma[c]) + beta[c];
            }
        }
    }

    /// <summary>Element-wise sum of two same-shape tensors (a residual join).</summary>
    /// <param name="a">First operand.</param>
    /// <param name="b">Second operand, same length.</param>
    /// <param name="output">Output, same length.</param>
    public static void Add(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> output)
    {
        CheckLength(b, a.Length, nameof(b));
        CheckLength(output, a.Length, nameof(output));
        for (int i = 0; i < a.Length; i++)
        {
            output[i] = a[i] + b[i];
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
    public static void Concat(ReadOnlySpan<float> a, int channelsA, ReadOnlySpan<float> b, int channelsB, int height, int width, Span<float> output)
    {
        NonNegative(channelsA, nameof(channelsA));
        NonNegative(channelsB, nameof(channelsB));
        NonNegative(height, nameof(height));
        NonNegative(width, nameof(width));
        long spatial = (long)height * width;
        CheckLength(a, channelsA * spatial, nameof(a));
        CheckLength(b, channelsB * spatial, nameof(b));
        CheckLength(output, (channelsA + (long)channelsB) * spatial, nameof(output));
        a.CopyTo(output);
        b.CopyTo(output.Slice(a.Length));
    }

    private static float Sigmoid(float x)
    {
        // Split by sign so exp never overflows: for x < 0, e^x / (1 + e^x).
        if (x >= 0f)
        {
            return 1f / (1f + MathF.Exp(-x));
        }

        float e = MathF.Exp(x);
        return e / (1f + e);
    }

    private static float MaxOverChannels(ReadOnlySpan<float> input, int channels, int spatial, int s)
    {
        float max = float.NegativeInfinity;
        for (int c = 0; c < channels; c++)
        {
            max = MathF.Max(max, input[(c * spatial) + s]);
        }

        return max;
    }

    private static int ConvAxis(int size, int kernel, int stride, int padBefore, int padAfter, int dilation, string axis)
    {
        Positive(size, "in" + axis);
        Positive(kernel, "kernel " + axis);
        Positive(stride, "stride " + axis);
        Positive(dilation, "dilation " + axis);
        NonNegative(padBefore, "padding before (" + axis + ")");
        NonNegative(padAfter, "padding after (" + axis + ")");
        long span = ((long)dilation * (kernel - 1)) + 1;
        long padded = (long)size + padBefore + padAfter;
        if (padded < span)
        {
            throw new ArgumentException($"The padded input {axis} ({padded}) is smaller than the dilated kernel ({span}).", axis);
        }

        long result = ((padded - span) / stride) + 1;
        if (result > int.MaxValue)
        {
            throw new ArgumentException($"The output {axis} ({result}) is too large.", axis);
        }

        return (int)result;
    }

    private static int PoolAxis(int size, int kernel, int stride, int pad, int dilation, bool ceilMode, string axis)
    {
        Positive(size, "in" + axis);
        Positive(kernel, "kernel " + axis);
        Positive(stride, "stride " + axis);
        Positive(dilation, "dilation " + axis);
        NonNegative(pad, "padding " + axis);
        if (pad > kernel / 2)
        {
            throw new ArgumentException($"Pool padding {pad} must be at most half the kernel size {kernel} ({axis}), as PyTorch requires.", axis);
        }

        long span = ((long)dilation * (kernel - 1)) + 1;
        long numerator = (long)size + (2L * pad) - span;
        if (numerator < 0)
        {
            throw new ArgumentException($"The padded input {axis} ({size + (2L * pad)}) is smaller than the dilated window ({span}).", axis);
        }

        long result = (ceilMode ? (numerator + stride - 1) / stride : numerator / stride) + 1;
        if (ceilMode && (result - 1) * stride >= size + pad)
        {
            result--;
        }

        if (result > int.MaxValue)
        {
            throw new ArgumentException($"The output {axis} ({result}) is too large.", axis);
        }

        return (int)result;
    }

    private static void Positive(int value, string name)
    {
        if (value <= 0)
        {
            throw new ArgumentException($"{name} must be positive; got {value}.", name);
        }
    }

    private static void NonNegative(int value, string name)
    {
        if (value < 0)
        {
            throw new ArgumentException($"{name} must not be negative; got {value}.", name);
        }
    }

    private static void CheckLength(ReadOnlySpan<float> span, long expected, string name)
    {
        if (span.Length != expected)
        {
            throw new ArgumentException($"{name} has {span.Length} elements; expected {expected}.", name);
        }
    }

    private static void CheckLength(Span<float> span, long expected, string name) => CheckLength((ReadOnlySpan<float>)span, expected, name);
}
