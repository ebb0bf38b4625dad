using System;
using System.Linq;
using CnnGen.Generator.Model;
using CnnGen.Generator.Shapes;

namespace CnnGen.Generator.Planning;

/// <summary>
/// The width a trainer runs at when none is asked for. Vectors over channels pad each layer's channels to the width, so
/// a layer with few filters multiplies padding: LeNet's conv1 (6 filters) fills 6 of 16 lanes at Vector512 in its forward
/// pass and its weight gradient, 6 of 8 at Vector256. Zen 4 issues one 512-bit FMA or two 256-bit ones per cycle, so a
/// lane of multiply-add costs the same at both widths and the narrower one is faster whenever the wider pads more. The
/// trainer takes Vector256 over Vector512 when its padded multiply-adds per image (<see cref="LaneMultiplyAdds"/>) are at
/// most <see cref="MaxShare"/> of Vector512's; otherwise the widest accelerated width, as inference does. Networks whose
/// channels fill the vectors (the MLP, the ResNets) pad the same at both widths and keep Vector512.
/// </summary>
internal static class TrainingWidth
{
    /// <summary>The share of the wider width's padded multiply-adds below which the narrower width is chosen (a 10% saving).</summary>
    public const double MaxShare = 0.9;

    /// <summary>Vector256 (8 floats) where it beats Vector512 (16) by the padding it saves, else 0: the widest accelerated width.</summary>
    public static int Auto(ShapedNetwork net) =>
        LaneMultiplyAdds(net, 8) <= MaxShare * LaneMultiplyAdds(net, 16) ? 8 : 0;

    /// <summary>
    /// The multiply-adds of one training image (forward, weight gradient and input gradient of every convolution and dense
    /// layer; no input gradient for a layer reading the network input) with each one's vectorized dimension padded to
    /// <paramref name="width"/> floats: output channels in the forward pass and the weight gradient, the less padded of
    /// input and output channels in the input gradient (the planner scatters over the one or gathers over the other).
    /// </summary>
    public static long LaneMultiplyAdds(ShapedNetwork net, int width)
    {
        long total = 0;
        foreach (var l in net.Layers.Where(l => l.Spec.Kind is LayerKind.Conv2D or LayerKind.Dense && l.Macs > 0))
        {
            int units = l.Out.C;
            int inputs = l.Spec.Kind == LayerKind.Dense ? (int)Math.Min(int.MaxValue, l.In.Size) : l.In.C;
            long outputs = Padded(l.Macs, units, width);
            total += 2 * outputs;
            if (!l.Inputs.Contains(-1))
            {
                bool depthwise = l.Spec.Kind == LayerKind.Conv2D && l.Spec.Groups > 1;
                total += depthwise ? outputs : Math.Min(outputs, Padded(l.Macs, inputs, width));
            }
        }

        return total;
    }

    /// <summary><paramref name="macs"/> with the vectorized dimension of length <paramref name="n"/> padded to whole vectors.</summary>
    private static long Padded(long macs, int n, int width) => n <= 0 ? macs : macs / n * ((n + width - 1) / width * width);
}
