using System;
using System.ComponentModel;

namespace CnnGen.Internal;

/// <summary>
/// Repacks PyTorch-layout weights once, at load, into the order the generated kernels stream them.
/// Not for direct use: the generated <c>Load</c> calls these with the plan's constants.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class Packing
{
    /// <summary>
    /// Convolution weights, OIHW <c>[filters, channels/groups, kh, kw]</c>, to
    /// <c>[filterTile][kh][kw][channel][tileFloats]</c>; zero for padded filters and for channels outside a filter's group.
    /// </summary>
    public static float[] Conv(ReadOnlySpan<float> oihw, int filters, int channels, int groups, int kh, int kw, int paddedFilters, int tileFloats)
    {
        int perGroupIn = channels / groups, perGroupOut = filters / groups, taps = kh * kw;
        int tiles = paddedFilters / tileFloats;
        var packed = new float[checked(tiles * taps * channels * tileFloats)];
        for (int o = 0; o < filters; o++)
        {
            int tile = o / tileFloats, lane = o % tileFloats, group = o / perGroupOut;
            for (int i = 0; i < perGroupIn; i++)
            {
                int c = (group * perGroupIn) + i;
                for (int t = 0; t < taps; t++)
                {
                    packed[((((tile * taps) + t) * channels) + c) * tileFloats + lane] = oihw[(((o * perGroupIn) + i) * taps) + t];
                }
            }
        }

        return packed;
    }

    /// <summary>
    /// 3x3 convolution weights, OIHW <c>[filters, channels, 3, 3]</c>, transformed for Winograd F(2x2, 3x3): each filter
    /// and channel's 3x3 kernel g becomes the 4x4 U = G g G^T (G = [[1, 0, 0], [1/2, 1/2, 1/2], [1/2, -1/2, 1/2], [0, 0, 1]],
    /// computed in double and rounded once), laid out <c>[filterTile][16 positions][channel][tileFloats]</c> so each
    /// position's GEMM streams one weight tile's vectors per channel; zero for padded filters.
    /// </summary>
    public static float[] Winograd(ReadOnlySpan<float> oihw, int filters, int channels, int paddedFilters, int tileFloats)
    {
        const int Positions = 16;
        int tiles = paddedFilters / tileFloats;
        var packed = new float[checked(tiles * Positions * channels * tileFloats)];
        Span<double> gg = stackalloc double[12];
        for (int o = 0; o < filters; o++)
        {
            int tile = o / tileFloats, lane = o % tileFloats;
            for (int c = 0; c < channels; c++)
            {
                var g = oihw.Slice(((o * channels) + c) * 9, 9);

                // G g: the 4 x 3 rows g0, (g0 + g1 + g2) / 2, (g0 - g1 + g2) / 2, g2.
                for (int j = 0; j < 3; j++)
                {
                    double g0 = g[j], g1 = g[3 + j], g2 = g[6 + j];
                    gg[j] = g0;
                    gg[3 + j] = (g0 + g1 + g2) / 2;
                    gg[6 + j] = (g0 - g1 + g2) / 2;
                    gg[9 + j] = g2;
                }

                // (G g) G^T: the same combination of each row's three columns.
                for (int i = 0; i < 4; i++)
                {
                    double a0 = gg[(3 * i) + 0], a1 = gg[(3 * i) + 1], a2 = gg[(3 * i) + 2];
                    double u0 = a0, u1 = (a0 + a1 + a2) / 2, u2 = (a0 - a1 + a2) / 2, u3 = a2;
                    int at = ((((tile * Positions) + (4 * i)) * channels) + c) * tileFloats + lane, step = channels * tileFloats;
                    packed[at] = (float)u0;
                    packed[at + step] = (float)u1;
                    packed[at + (2 * step)] = (float)u2;
                    packed[at + (3 * step)] = (float)u3;
                }
            }
        }

        return packed;
    }

    /// <summary>
    /// Convolution weights, OIHW <c>[filters, channels, kh, kw]</c>, to <c>[channel][kh][kw][filter]</c>: for kernels that
    /// vectorize over output pixels and broadcast one weight per filter.
    /// </summary>
    public static float[] ConvTaps(ReadOnlySpan<float> oihw, int filters, int channels, int kh, int kw)
    {
        int taps = kh * kw;
        var packed = new float[checked(channels * taps * filters)];
        for (int o = 0; o < filters; o++)
        {
            for (int c = 0; c < channels; c++)
            {
                for (int t = 0; t < taps; t++)
                {
                    packed[((((c * taps) + t) * filters)) + o] = oihw[(((o * channels) + c) * taps) + t];
                }
            }
        }

        return packed;
    }

    /// <summary>Depthwise weights <c>[channels, 1, kh, kw]</c> to <c>[kh][kw][paddedChannels]</c>.</summary>
    public static float[] Depthwise(ReadOnlySpan<float> weights, int channels, int kh, int kw, int paddedChannels)
    {
        int taps = kh * kw;
        var packed = new float[checked(taps * paddedChannels)];
        for (int c = 0; c < channels; c++)
        {
            for (int t = 0; t < taps; t++)
            {
                packed[(t * paddedChannels) + c] = weights[(c * taps) + t];
            }
        }

        return packed;
    }

    /// <summary>A bias (or zeros when <paramref name="bias"/> is empty) padded to <paramref name="padded"/>.</summary>
    public static float[] Bias(ReadOnlySpan<float> bias, int units, int padded)
    {
        var packed = new float[padded];
        if (!bias.IsEmpty)
        {
            bias.Slice(0, units).CopyTo(packed);
        }

        return packed;
    }

    /// <summary>
    /// Dense weights <c>[units, features]</c> to tiles of <paramref name="tileFloats"/> outputs, each <c>[feature][tileFloats]</c>;
    /// the last tile may be narrower (<paramref name="paddedUnits"/> minus the full tiles). When the input is a
    /// C x H x W map stored HWC (<paramref name="hwc"/>), features are visited in H, W, C order while the weights stay in
    /// PyTorch's flatten order <c>c*H*W + h*W + w</c>.
    /// </summary>
    public static float[] Dense(ReadOnlySpan<float> weights, int units, int channels, int height, int width, bool hwc, int paddedUnits, int tileFloats)
    {
        int features = channels * height * width;
        var packed = new float[checked(features * paddedUnits)];
        for (int o = 0; o < units; o++)
        {
            int tileStart = o / tileFloats * tileFloats;
            int thisTile = Math.Min(tileFloats, paddedUnits - tileStart);
            int baseOffset = tileStart * features;
            int lane = o - tileStart;
            for (int k = 0; k < features; k++)
            {
                int source = k;
                if (hwc)
                {
                    int c = k % channels, p = k / channels;
                    source = (c * height * width) + p;
                }

                packed[baseOffset + (k * thisTile) + lane] = weights[(o * features) + source];
            }
        }

        return packed;
    }

    /// <summary>
    /// Folds an eval-mode batch norm into the preceding convolution: <c>W' = W * g / sqrt(v + eps)</c> per filter and
    /// <c>b' = (b - mean) * g / sqrt(v + eps) + beta</c> (b is 0 without a conv bias). Returns new arrays.
    /// </summary>
    public static (float[] Weight, float[] Bias) FoldBatchNorm(ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, int filters,
        ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, ReadOnlySpan<float> mean, ReadOnlySpan<float> variance, float eps)
    {
        int perFilter = weight.Length / filters;
        var w = weight.ToArray();
        var b = new float[filters];
        for (int o = 0; o < filters; o++)
        {
            double scale = gamma[o] / Math.Sqrt((double)variance[o] + eps);
            for (int i = 0; i < perFilter; i++)
            {
                w[(o * perFilter) + i] = (float)(weight[(o * perFilter) + i] * scale);
            }

            double b0 = bias.IsEmpty ? 0.0 : bias[o];
            b[o] = (float)(((b0 - mean[o]) * scale) + beta[o]);
        }

        return (w, b);
    }

    /// <summary>A stand-alone batch norm as a per-channel multiply-add: <c>y = x * scale + shift</c>, padded.</summary>
    public static (float[] Scale, float[] Shift) BatchNorm(ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, ReadOnlySpan<float> mean,
        ReadOnlySpan<float> variance, float eps, int channels, int padded)
    {
        var scale = new float[padded];
        var shift = new float[padded];
        for (int c = 0; c < channels; c++)
        {
            double s = gamma[c] / Math.Sqrt((double)variance[c] + eps);
            scale[c] = (float)s;
            shift[c] = (float)(beta[c] - (mean[c] * s));
        }

        return (scale, shift);
    }
}
