using System;
using System.ComponentModel;
using System.Runtime.CompilerServices;
using CnnGen.Training;

namespace CnnGen.Internal;

/// <summary>
/// The packed layouts a generated trainer keeps its parameters in (the forward kernels' layouts, so no repacking per
/// step), as <see cref="ParameterLayout"/>s for saving and loading with PyTorch's layouts; and the transposed copies the
/// backward kernels read. Padded lanes (filters and channels past the real ones, entries outside a filter's group) stay
/// zero. Not for direct use.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class TrainingLayouts
{
    /// <summary>
    /// Convolution weights as <see cref="Packing.Conv"/> packs them: <c>[filterTile][kh][kw][channel][tileFloats]</c>; PyTorch's
    /// are <c>[filters, channels/groups, kh, kw]</c>.
    /// </summary>
    public static ParameterLayout Conv(int filters, int channels, int groups, int kh, int kw, int paddedFilters, int tileFloats)
    {
        int perGroupIn = channels / groups, perGroupOut = filters / groups, taps = kh * kw;
        int length = checked(paddedFilters / tileFloats * taps * channels * tileFloats);
        int Packed(int o, int i, int t)
        {
            int tile = o / tileFloats, lane = o % tileFloats, c = (o / perGroupOut * perGroupIn) + i;
            return (((((tile * taps) + t) * channels) + c) * tileFloats) + lane;
        }

        return new ParameterLayout(
            length,
            (pytorch, packed) =>
            {
                for (int o = 0, k = 0; o < filters; o++)
                {
                    for (int i = 0; i < perGroupIn; i++)
                    {
                        for (int t = 0; t < taps; t++, k++)
                        {
                            packed[Packed(o, i, t)] = pytorch[k];
                        }
                    }
                }
            },
            (packed, pytorch) =>
            {
                for (int o = 0, k = 0; o < filters; o++)
                {
                    for (int i = 0; i < perGroupIn; i++)
                    {
                        for (int t = 0; t < taps; t++, k++)
                        {
                            pytorch[k] = packed[Packed(o, i, t)];
                        }
                    }
                }
            });
    }

    /// <summary>Depthwise weights as <see cref="Packing.Depthwise"/> packs them: <c>[kh][kw][paddedChannels]</c>; PyTorch's are <c>[channels, 1, kh, kw]</c>.</summary>
    public static ParameterLayout Depthwise(int channels, int kh, int kw, int paddedChannels)
    {
        int taps = kh * kw;
        return new ParameterLayout(
            checked(taps * paddedChannels),
            (pytorch, packed) =>
            {
                for (int c = 0; c < channels; c++)
                {
                    for (int t = 0; t < taps; t++)
                    {
                        packed[(t * paddedChannels) + c] = pytorch[(c * taps) + t];
                    }
                }
            },
            (packed, pytorch) =>
            {
                for (int c = 0; c < channels; c++)
                {
                    for (int t = 0; t < taps; t++)
                    {
                        pytorch[(c * taps) + t] = packed[(t * paddedChannels) + c];
                    }
                }
            });
    }

    /// <summary>
    /// Dense weights as one tile of <see cref="Packing.Dense"/>: <c>[feature][paddedUnits]</c>, features in the order the input
    /// is stored (H, W, C for an HWC map: <paramref name="hwc"/>); PyTorch's are <c>[units, channels * height * width]</c>.
    /// With <paramref name="blockUnits"/> less than the padded units (a vector's floats: a layer the threads split by
    /// columns), the units come in blocks of that many, each block one contiguous run: <c>[unitBlock][feature][blockUnits]</c>.
    /// </summary>
    public static ParameterLayout Dense(int units, int channels, int height, int width, bool hwc, int paddedUnits, int blockUnits = 0)
    {
        int features = checked(channels * height * width);
        int block = BlockUnits(paddedUnits, blockUnits);
        int Source(int k) => hwc ? ((k % channels) * height * width) + (k / channels) : k;
        return new ParameterLayout(
            checked(features * paddedUnits),
            (pytorch, packed) =>
            {
                for (int k = 0; k < features; k++)
                {
                    int source = Source(k);
                    for (int first = 0; first < units; first += block)
                    {
                        Span<float> row = packed.Slice((int)BlockRow(k, first, block, features), Math.Min(block, units - first));
                        for (int o = 0; o < row.Length; o++)
                        {
                            row[o] = pytorch[((first + o) * features) + source];
                        }
                    }
                }
            },
            (packed, pytorch) =>
            {
                for (int k = 0; k < features; k++)
                {
                    int source = Source(k);
                    for (int first = 0; first < units; first += block)
                    {
                        ReadOnlySpan<float> row = packed.Slice((int)BlockRow(k, first, block, features), Math.Min(block, units - first));
                        for (int o = 0; o < row.Length; o++)
                        {
                            pytorch[((first + o) * features) + source] = row[o];
                        }
                    }
                }
            });
    }

    /// <summary>A vector (bias, batch-norm scale or shift) padded to <paramref name="padded"/>.</summary>
    public static ParameterLayout Vector(int units, int padded) => new(
        padded,
        (pytorch, packed) => pytorch.Slice(0, units).CopyTo(packed),
        (packed, pytorch) => packed.Slice(0, units).CopyTo(pytorch));

    /// <summary>
    /// The transposed copy of packed convolution weights the data-gradient kernel reads: <c>[kh][kw][filter][paddedChannels]</c>
    /// (entries outside a filter's group are zero, as in the packed weights).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // once per step: fully optimized from the first call
    public static void TransposeConv(ReadOnlySpan<float> packed, Span<float> transposed, int filters, int channels, int kh, int kw, int tileFloats, int paddedChannels)
    {
        int taps = kh * kw;
        for (int o = 0; o < filters; o++)
        {
            int tile = o / tileFloats, lane = o % tileFloats;
            for (int t = 0; t < taps; t++)
            {
                int from = (((tile * taps) + t) * channels * tileFloats) + lane;
                Span<float> row = transposed.Slice(((t * filters) + o) * paddedChannels, channels);
                for (int c = 0; c < row.Length; c++)
                {
                    row[c] = packed[from + (c * tileFloats)];
                }
            }
        }
    }

    /// <summary>
    /// The transposed copy of packed dense weights (<c>[feature][paddedUnits]</c>, or in unit blocks of
    /// <paramref name="blockUnits"/>: <c>[unitBlock][feature][blockUnits]</c>, see <see cref="Dense"/>) the data-gradient
    /// kernel reads: <c>[unit][gradientFloats]</c>, each row in the order the input's gradient is stored: HWC with
    /// <paramref name="gradientChannels"/> floats per pixel (<paramref name="gradientHwc"/>), else PyTorch's C, H, W order.
    /// Padded lanes are zero.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // once per step: fully optimized from the first call
    public static void TransposeDense(ReadOnlySpan<float> packed, Span<float> transposed, int units, int paddedUnits, int channels, int height, int width,
        bool forwardHwc, bool gradientHwc, int gradientChannels, int gradientFloats, int blockUnits = 0)
    {
        int pixels = height * width, features = channels * pixels;
        int block = BlockUnits(paddedUnits, blockUnits);
        int lastFirst = (units - 1) / block * block;
        if ((long)packed.Length < BlockRow(features - 1, lastFirst, block, features) + (units - lastFirst) || (long)transposed.Length < (long)units * gradientFloats)
        {
            throw new ArgumentException("The packed or transposed dense weights are shorter than the layer's shape needs.");
        }

        if (gradientHwc || pixels == 1)
        {
            // Per pixel and block of units, a gradient row's channels are consecutive: one [channels][units] block (rows
            // kStep weight rows apart) transposed into [units][channels] (rows gradientFloats apart), 8 x 8 blocks at a time.
            int kStep = forwardHwc ? 1 : pixels;
            if ((pixels - 1) * (long)(gradientHwc ? gradientChannels : 1) + channels > gradientFloats)
            {
                throw new ArgumentException("The transposed dense weights' rows are shorter than the layer's input gradient.");
            }

            for (int p = 0; p < pixels; p++)
            {
                int k = forwardHwc ? p * channels : p;
                int s = gradientHwc ? p * gradientChannels : p;
                for (int o = 0; o < units; o += block)
                {
                    Transpose.Run(
                        ref Unsafe.AsRef(in packed[(int)BlockRow(k, o, block, features)]), channels, Math.Min(block, units - o), kStep * block, ref transposed[(o * gradientFloats) + s], gradientFloats);
                }
            }

            return;
        }

        for (int c = 0; c < channels; c++)
        {
            for (int p = 0; p < pixels; p++)
            {
                int k = forwardHwc ? (p * channels) + c : (c * pixels) + p;
                int s = gradientHwc ? (p * gradientChannels) + c : (c * pixels) + p;
                for (int first = 0; first < units; first += block)
                {
                    ReadOnlySpan<float> row = packed.Slice((int)BlockRow(k, first, block, features), Math.Min(block, units - first));
                    for (int o = 0; o < row.Length; o++)
                    {
                        transposed[((first + o) * gradientFloats) + s] = row[o];
                    }
                }
            }
        }
    }

    /// <summary>The units of a dense layout's unit block: the padded units (one block, rows of features) unless a smaller block that divides them is given.</summary>
    private static int BlockUnits(int paddedUnits, int blockUnits)
    {
        if (blockUnits < 0 || paddedUnits <= 0 || (blockUnits > 0 && paddedUnits % blockUnits != 0))
        {
            throw new ArgumentException($"Dense weights of {paddedUnits} padded units do not split into blocks of {blockUnits} units.");
        }

        return blockUnits == 0 ? paddedUnits : blockUnits;
    }

    /// <summary>
    /// Where feature <paramref name="k"/>'s row of the unit block starting at unit <paramref name="first"/> (a multiple of
    /// <paramref name="block"/>) begins in packed dense weights, <c>[unitBlock][feature][block]</c>: unit
    /// <c>first + i</c> of that row is at the result + i.
    /// </summary>
    private static long BlockRow(int k, int first, int block, int features) => (((long)(first / block) * features) + k) * block;

    /// <summary>
    /// Zeroes the entries of a grouped convolution's packed weight gradient that lie outside a filter's group (the kernels
    /// compute every channel of every filter; the weights there are structural zeros and must stay zero).
    /// </summary>
    public static void ClearOutOfGroup(Span<float> gradient, int filters, int channels, int groups, int kh, int kw, int paddedFilters, int tileFloats)
    {
        int perGroupIn = channels / groups, perGroupOut = filters / groups, taps = kh * kw;
        for (int tile = 0; tile < paddedFilters / tileFloats; tile++)
        {
            for (int t = 0; t < taps; t++)
            {
                for (int c = 0; c < channels; c++)
                {
                    Span<float> lanes = gradient.Slice(((((tile * taps) + t) * channels) + c) * tileFloats, tileFloats);
                    for (int lane = 0; lane < tileFloats; lane++)
                    {
                        int o = (tile * tileFloats) + lane;
                        if (o >= filters || o / perGroupOut != c / perGroupIn)
                        {
                            lanes[lane] = 0f;
                        }
                    }
                }
            }
        }
    }
}
