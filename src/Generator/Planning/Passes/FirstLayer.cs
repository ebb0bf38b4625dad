using System.Linq;
using CnnGen.Generator.Model;

namespace CnnGen.Generator.Planning.Passes;

/// <summary>
/// A first convolution with few input channels and fewer filters than half a vector wastes most lanes when
/// vectorized over filters; it reads the planar input along the width instead, vectors of output pixels
/// (<see cref="PlanOptions.PixelFirstLayer"/>). A 2x2 stride-2 max pool right after it then runs in its registers
/// (<see cref="PlanOptions.FusePixelPool"/>).
/// </summary>
internal static class FirstLayer
{
    public static void Run(PlanGraph g, MachineModel m)
    {
        if (!g.Options.PixelFirstLayer)
        {
            return;
        }

        int width = m.Width;
        foreach (var s in g.Steps.ToList())
        {
            var l = s.Layer >= 0 ? g.Layers[s.Layer] : null;
            if (s.Kind == StepKind.Conv && l is not null && g.Tensors[s.Inputs[0]].Layout == Layout.Chw && s.FusedAdd < 0 && !s.DirectOutput
                && l.Spec.Groups == 1 && l.Spec.StrideW == 1 && l.In.C <= 4 && l.Out.C * 2 <= width && l.Out.W >= width)
            {
                s.Kind = StepKind.ConvPixels;
                if (g.Options.FusePixelPool)
                {
                    FusePool(g, s, m);
                }
            }
        }
    }

    /// <summary>Blocks of V output pixels covering a row of <paramref name="rowWidth"/>: the last one overlaps the previous so it stays a whole vector.</summary>
    public static int[] Blocks(int rowWidth, int width)
    {
        var blocks = Enumerable.Range(0, rowWidth / width).Select(i => i * width).ToList();
        if (rowWidth % width != 0)
        {
            blocks.Add(rowWidth - width);
        }

        return blocks.ToArray();
    }

    /// <summary>
    /// A 2x2 stride-2 max pool right after a pixel-vectorized convolution (LeNet's conv1 + pool1) runs in the
    /// convolution's registers: two output rows at once, max across rows, then across neighbouring lanes, so the
    /// full-size output is never stored. Only when both rows' accumulators fit the budget.
    /// </summary>
    private static void FusePool(PlanGraph g, PlanStep conv, MachineModel m)
    {
        var steps = g.Steps;
        int at = steps.IndexOf(conv);
        if (at + 1 >= steps.Count || conv.FusedAdd >= 0)
        {
            return;
        }

        var pool = steps[at + 1];
        var out0 = g.Layers[conv.Layer].Out;
        if (pool.Kind != StepKind.Pool || pool.Inputs.Count != 1 || pool.Inputs[0] != conv.Output || g.Readers(conv.Output) != 1)
        {
            return;
        }

        var p = g.Layers[pool.Layer].Spec;
        bool fits = 2 * Blocks(out0.W, m.Width).Length * out0.C <= m.AccumulatorBudget;
        if (p.Kind != LayerKind.MaxPool2D || p.KernelH != 2 || p.KernelW != 2 || p.StrideH != 2 || p.StrideW != 2 || p.DilationH != 1
            || p.PadTop + p.PadLeft != 0 || out0.H % 2 != 0 || out0.W % 2 != 0 || !fits)
        {
            return;
        }

        conv.FusedPool = pool.Layer;
        conv.Output = pool.Output;
        steps.Remove(pool);
    }
}
