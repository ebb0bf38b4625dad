using System.Linq;
using CnnGen.Generator.Model;

namespace CnnGen.Generator.Planning.Passes;

/// <summary>
/// A row-fused depthwise + pointwise pair that reads the network input and writes the network output (a separable block
/// at both edges, as in the mobilenet_block benchmark) runs over planar rows instead of channels-last ones: the depthwise
/// reads the NCHW input in place (the packing step only checks it for NaN and infinity; the zero border is never stored:
/// a step at the top or bottom leaves out the taps of missing rows, and a row's first and last vectors shift their lanes
/// in from the neighbouring load with zeros for the border); per step the depthwise computes one or two output rows,
/// one channel at a time in vectors of pixels (two rows share their input loads; the input's rows, like the output's, at
/// least a vector wide), into a CHW row buffer; the pointwise
/// reads the buffer's rows as one run of pixels per channel and computes tiles of pixel vectors x filters, broadcasting
/// one weight per filter, storing NCHW straight into each filter's plane (no staging, no transpose). Only where the
/// vectors waste at most an eighth of the pointwise's lanes and half the depthwise's (a row's last vector overlaps the one
/// before it; measured: a seventh lost made Vector512 5% slower on mobilenet_block's 56-pixel rows, one row per step)
/// and the depthwise window is unrolled; per width, since both depend on the vector width
/// (<see cref="PlanOptions.PlanarPairs"/>).
/// </summary>
internal static class PlanarPairs
{
    /// <summary>Largest row buffer (floats) of two rows per step: 16 KB, half an L1 data cache.</summary>
    private const long MaxRowFloats = 4096;

    public static void Run(PlanGraph g, MachineModel m)
    {
        if (!g.Options.PlanarPairs)
        {
            return;
        }

        foreach (var p in g.Steps.Where(s => s.Kind == StepKind.Conv && s.FusedDepthwise >= 0 && s.DirectOutput).ToList())
        {
            var d = g.Steps.First(s => s.Layer == p.FusedDepthwise && s.RowFused);
            int packed = d.Inputs[0];
            var pack = g.Producer(packed);
            var spec = g.Layers[d.Layer].Spec;
            var shape = g.Layers[d.Layer].Out;
            int rows = shape.H % 2 == 0 && 2L * shape.C * shape.W <= MaxRowFloats ? 2 : 1;
            long rowVectors = Tiling.PixelVectors(shape.W, m.Width), flatVectors = Tiling.PixelVectors(rows * shape.W, m.Width);
            long taps = (long)spec.KernelH * spec.KernelW;
            bool onlyPair = g.Steps.All(s => !s.Inputs.Contains(packed) || s == d || s == p);
            if (pack is not { Kind: StepKind.PackInput } || !onlyPair || spec.StrideW != 1 || shape.W < m.Width || g.Layers[d.Layer].In.W < m.Width
                || ((flatVectors * m.Width) - (rows * shape.W)) * 8 > rows * shape.W || ((rowVectors * m.Width) - shape.W) * 2 > shape.W
                || taps > m.MaxUnrolledTaps || taps * rows * rowVectors > m.UnrollBudget)
            {
                continue;
            }

            p.Planar = d.Planar = true;
            p.PlanarRows = d.PlanarRows = rows;

            // The input is read in place, NCHW without a border: the packing step only checks it, before any output is written.
            pack.Output = 0;
            foreach (var s in new[] { d, p })
            {
                s.Inputs = s.Inputs.Select(t => t == packed ? 0 : t).ToList();
            }

            g.Tensors[d.Output].Layout = Layout.Chw;
            g.Tensors[d.Output].H = rows;
            if (rows > 1)
            {
                g.Tensors[d.Output].Name = g.Tensors[d.Output].Name.Replace("(one row at a time)", "(two rows at a time)");
            }
        }
    }
}
