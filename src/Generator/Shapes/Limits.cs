using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using CnnGen.Generator.Model;

namespace CnnGen.Generator.Shapes;

/// <summary>
/// What the generated code can index. Every offset, trip count and array length in it is a C# <c>int</c>, and the
/// planner computes them in <c>int</c>; so shape inference computes every size in <c>long</c> and keeps each one far
/// enough below 2^31 that nothing the planner derives from it can overflow:
/// <list type="bullet">
/// <item>a tensor as stored (channels padded to <see cref="Lanes"/>, plus the zero border its padded readers need) and a
/// layer's packed weights hold at most <see cref="MaxTensorFloats"/> (2^28, 1 GiB) floats;</item>
/// <item>the workspace (every tensor live at once at the widest point, times the batch group) at most
/// <see cref="MaxWorkspaceFloats"/>;</item>
/// <item>FLOPs fit a <c>long</c>.</item>
/// </list>
/// A stride along an axis with one output and a dilation of a one-tap axis change nothing, and are set to 1 so that no
/// huge value reaches the planner.
/// </summary>
internal static class Limits
{
    /// <summary>Largest tensor or weight array, in floats, as stored: 2^28, so that sums and products of offsets stay in an int.</summary>
    public const long MaxTensorFloats = 1L << 28;

    /// <summary>The widest vector (Vector512) in floats: stored channels are padded to a multiple of it.</summary>
    public const int Lanes = 16;

    /// <summary>Largest workspace of one thread (floats): the generated code allocates it as one array and indexes it with ints.</summary>
    public const long MaxWorkspaceFloats = 0x7FFFFFC7; // Array.MaxLength

    /// <summary>Channels padded to <see cref="Lanes"/>.</summary>
    public static long Padded(long channels) => (channels + Lanes - 1) / Lanes * Lanes;

    /// <summary>Floats a tensor of this shape takes when stored with its channels padded (no border).</summary>
    public static long Stored(long c, long h, long w) => Padded(c) * h * w;

    public static string N(long value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>The reason a tensor of <paramref name="c"/> x <paramref name="h"/> x <paramref name="w"/> cannot be generated, or null.</summary>
    public static string? Tensor(string what, long c, long h, long w)
    {
        if (c > int.MaxValue || h > int.MaxValue || w > int.MaxValue || c * h > MaxTensorFloats || c * h * w > MaxTensorFloats)
        {
            return $"{what} ({N(c)}x{N(h)}x{N(w)}) has more than {N(MaxTensorFloats)} values";
        }

        long stored = Stored(c, h, w);
        return stored > MaxTensorFloats
            ? $"{what} ({N(c)}x{N(h)}x{N(w)}) takes {N(stored)} floats with its channels padded to {Lanes} lanes, more than {N(MaxTensorFloats)}"
            : null;
    }

    /// <summary>The reason a window cannot read its input padded to <paramref name="h"/> x <paramref name="w"/>, or null.</summary>
    public static string? PaddedInput(LayerSpec l, TensorShape x, long h, long w)
    {
        long stored = h > MaxTensorFloats || w > MaxTensorFloats ? long.MaxValue : Stored(x.C, h, w);
        return stored > MaxTensorFloats
            ? $"{l.DisplayKind} '{l.Name}' pads its {x} input to {N(h)}x{N(w)}, which takes more than {N(MaxTensorFloats)} floats; use a smaller padding"
            : null;
    }

    /// <summary>The reason a layer's weights (<paramref name="units"/> outputs of <paramref name="perUnit"/> values, packed with the outputs padded) cannot be generated, or null.</summary>
    public static string? Weights(LayerSpec l, long units, long perUnit)
    {
        return perUnit > MaxTensorFloats || Padded(units) * perUnit > MaxTensorFloats
            ? $"the weights of {l.DisplayKind} '{l.Name}' ({N(units)} x {N(perUnit)}, packed with the outputs padded to {Lanes} lanes) take more than {N(MaxTensorFloats)} floats"
            : null;
    }

    /// <summary>
    /// The workspace at the widest point (every layer output live from its layer to its last reader, stored padded), or
    /// null when it fits; over-counts (views and fused layers take no memory), which is what a bound needs.
    /// </summary>
    public static string? Workspace(TensorShape input, IReadOnlyList<ShapedLayer> layers, int output)
    {
        int n = layers.Count;
        var last = new int[n];
        int inputLast = -1;
        for (int i = 0; i < n; i++)
        {
            last[i] = i == output ? n : i;
        }

        for (int i = 0; i < n; i++)
        {
            foreach (int id in layers[i].Inputs)
            {
                if (id < 0)
                {
                    inputLast = Math.Max(inputLast, i);
                }
                else
                {
                    last[id] = Math.Max(last[id], i);
                }
            }
        }

        long Size(TensorShape s) => s.Flat ? Padded(s.C) : Stored(s.C, s.H, s.W);
        for (int i = 0; i < n; i++)
        {
            long live = inputLast >= i ? Size(input) : 0;
            int count = inputLast >= i ? 1 : 0;
            for (int j = 0; j <= i; j++)
            {
                if (last[j] >= i)
                {
                    live += Size(layers[j].Out);
                    count++;
                }
            }

            if (live > MaxWorkspaceFloats)
            {
                return $"the workspace needs {N(live)} floats at '{layers[i].Spec.Name}', where {count} tensors are live, more than {N(MaxWorkspaceFloats)}";
            }
        }

        return null;
    }

    /// <summary>The reason the network's FLOPs (2 x multiply-adds) do not fit the <c>long</c> constant <c>Flops</c>, or null.</summary>
    public static string? Flops(IEnumerable<ShapedLayer> layers)
    {
        double flops = layers.Sum(l => 2.0 * l.Macs);
        return flops >= long.MaxValue ? $"it performs {flops.ToString("E3", CultureInfo.InvariantCulture)} FLOPs per image, more than a long holds" : null;
    }
}

/// <summary>
/// The planner's refusal of a network whose plan exceeds <see cref="Limits"/> (the workspace of a width, after slot
/// assignment). The generator reports it as CNN0018 on the <c>[Network]</c> attribute; it never escapes the generator.
/// </summary>
internal sealed class LimitException : Exception
{
    public LimitException(string message)
        : base(message)
    {
    }
}

/// <summary>
/// A trainable network has a layer the generated trainer cannot differentiate (reported as CNN0034 on that layer). No
/// declaration reaches it today (every step kind a trainer's plan holds has a backward); it is the safety net for a step
/// kind added later without one.
/// </summary>
internal sealed class NotTrainableException : Exception
{
    public NotTrainableException(int layer, string what)
        : base(what) => Layer = layer;

    /// <summary>The layer's index in the network.</summary>
    public int Layer { get; }
}
