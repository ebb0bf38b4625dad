using System.Linq;
using CnnGen.Generator.Model;

namespace CnnGen.Generator.Planning.Passes;

/// <summary>
/// Decides which steps the threads of a prediction on several threads share (one image, intra-op parallelism), as ONNX
/// Runtime does: packing the input, a convolution (on a small map, its rows' weight tiles), depthwise convolution, pool or element-wise step on a map (add, multiply, a stand-alone
/// activation or batch norm) splits its output rows, a global pool its channel vectors, a dense layer its output tiles,
/// into one contiguous range per thread (a Winograd convolution its blocks of tile rows, a depthwise + pointwise row pair
/// its output rows; every thread but thread 0 then uses scratch of its own for the blocks or the row buffer,
/// <c>Parallelism.Scratch</c>). Splitting rows changes no sum, so every thread count computes the same bits.
/// A step stays on one thread when it is too small to pay for the barrier after it (<see cref="MachineModel.BarrierCycles"/>,
/// <see cref="MachineModel.SplitMinimumBarriers"/>) or has fewer than two rows or tiles; so are softmax and
/// copying the output. A width pass: the cost is in cycles at the target's width.
/// </summary>
internal static class Splitting
{
    public static void Run(PlanGraph g, MachineModel m)
    {
        foreach (var s in g.Steps)
        {
            s.SplitUnits = 0;
            if (!g.Options.SplitSteps || s.RowFused)
            {
                continue;
            }

            int units = Units(g, s, m);
            if (units >= 2 && Cycles(g, s, m) >= m.SplitMinimumBarriers * m.BarrierCycles)
            {
                s.SplitUnits = units;
            }
        }
    }

    /// <summary>The rows (dense: register tiles) a step can be split into, or 0 when it runs on one thread.</summary>
    private static int Units(PlanGraph g, PlanStep s, MachineModel m)
    {
        switch (s.Kind)
        {
            case StepKind.PackInput:
                // Copying the image into the first layer's layout, row by row; an input read in place is only checked.
                return s.Output == 0 ? 0 : g.Net.Input.H;
            case StepKind.Conv when s.Winograd is { } e:
                // Winograd computes blocks of tile rows (two output rows each) through its scratch: it splits whole blocks.
                int tileRows = (g.Layers[s.Layer].Out.H + 1) / 2;
                return (tileRows + e.BlockRows - 1) / e.BlockRows;
            case StepKind.Conv when !s.Planar: // a planar pair is the whole network: a few small rows
                int tiles = RowTiles(g, s, m);
                return g.Layers[s.Layer].Out.H * (tiles > 0 ? tiles : 1);
            case StepKind.DepthwiseConv:
            case StepKind.Pool:
                return g.Layers[s.Layer].Out.H;
            case StepKind.Add:
            case StepKind.Multiply:
            case StepKind.Activation:
            case StepKind.BatchNorm:
                // Element-wise over the map's rows; a flat vector (after a dense layer) stays on one thread.
                return g.Tensors[s.Output].Layout == Layout.Hwc ? g.Layers[s.Layer].Out.H : 0;
            case StepKind.GlobalPool:
                // Every output channel sums the whole map: the threads take channel vectors.
                return g.Tensors[s.Inputs[0]].Layout == Layout.Hwc ? (g.Layers[s.Layer].Out.C + m.Width - 1) / m.Width : 0;
            case StepKind.Dense:
                int vectors = (g.Layers[s.Layer].Out.C + m.Width - 1) / m.Width;
                return (vectors / s.TileB) + (vectors % s.TileB > 0 ? 1 : 0);
            default:
                return 0;
        }
    }

    /// <summary>Output rows below which whole rows cut a convolution too coarsely (7 rows: 4 on one thread, 3 on the other).</summary>
    private const int FewRows = 16;

    /// <summary>
    /// The weight tiles (groups of filter vectors) each output row of a direct convolution on a small map is cut into
    /// for the threads, or 0 for whole rows: below <see cref="FewRows"/> rows the threads take (row, weight tile) units,
    /// row by row. Only where every pixel tile of a row walks the same weight tiles, and not for a depthwise row pair
    /// (its row buffer) or a kernel writing NCHW through a stage.
    /// </summary>
    public static int RowTiles(PlanGraph g, PlanStep s, MachineModel m)
    {
        var o = g.Layers[s.Layer].Out;
        if (s.Kind != StepKind.Conv || s.Winograd is not null || s.Planar || s.FusedDepthwise >= 0 || s.DirectOutput || o.H >= FewRows)
        {
            return 0;
        }

        int tiles = (o.C + m.Width - 1) / m.Width / s.TileB;
        return tiles >= 2 && (o.W % s.TileP == 0 || s.LastTileB == s.TileB) ? tiles : 0;
    }

    /// <summary>The inputs of an element-wise step the size of its output (a multiply's per-channel scale is not).</summary>
    private static int Maps(PlanGraph g, PlanStep s)
    {
        var o = g.Tensors[s.Output];
        return s.Inputs.Count(i => g.Tensors[i].H == o.H && g.Tensors[i].W == o.W);
    }

    /// <summary>
    /// One thread's cycles for the whole step at the target's peak: multiply-adds at the FMA rate (a row pair's depthwise
    /// ones included), a pool's window loads at the load rate; an element-wise step or global pool streams its maps
    /// through the caches (<see cref="MachineModel.StreamFloatsPerCycle"/>: each input map read, the output written).
    /// </summary>
    private static double Cycles(PlanGraph g, PlanStep s, MachineModel m)
    {
        if (s.Kind == StepKind.PackInput)
        {
            return g.Net.Input.Size * 2.0 / m.StreamFloatsPerCycle; // read the image, write the packed copy
        }

        var l = g.Layers[s.Layer];
        return s.Kind switch
        {
            StepKind.Pool => (double)l.Out.Size * l.Spec.KernelH * l.Spec.KernelW / (m.LoadsPerCycle * m.Width),
            StepKind.GlobalPool => l.In.Size / m.StreamFloatsPerCycle,
            StepKind.Add or StepKind.Multiply or StepKind.Activation or StepKind.BatchNorm => (double)l.Out.Size * (Maps(g, s) + 1) / m.StreamFloatsPerCycle,
            _ => (l.Macs + (s.FusedDepthwise >= 0 ? g.Layers[s.FusedDepthwise].Macs : 0)) / (m.FmaPerCycle * m.Width),
        };
    }
}
