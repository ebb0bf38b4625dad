namespace CnnGen.Generator.Planning.Passes;

/// <summary>
/// A depthwise convolution whose output only the next step reads, as a 1x1 stride-1 convolution (MobileNet's
/// depthwise + pointwise pair), runs row by row inside that convolution: each depthwise output row goes to a
/// one-row buffer that stays in L1 and is consumed at once, instead of a full tensor round-tripping through L2
/// (<see cref="PlanOptions.FuseDepthwiseRows"/>).
/// </summary>
internal static class DepthwiseRows
{
    public static void Run(PlanGraph g)
    {
        if (!g.Options.FuseDepthwiseRows)
        {
            return;
        }

        var steps = g.Steps;
        for (int i = 0; i + 1 < steps.Count; i++)
        {
            var d = steps[i];
            var p = steps[i + 1];
            if (d.Kind != StepKind.DepthwiseConv || d.FusedAdd >= 0 || p.Kind != StepKind.Conv || p.FusedAdd >= 0
                || p.Inputs.Count != 1 || p.Inputs[0] != d.Output || g.Readers(d.Output) != 1)
            {
                continue;
            }

            var spec = g.Layers[p.Layer].Spec;
            if (spec.KernelH != 1 || spec.KernelW != 1 || spec.StrideH != 1 || spec.StrideW != 1 || spec.Groups != 1
                || spec.PadTop + spec.PadLeft + spec.PadBottom + spec.PadRight != 0)
            {
                continue;
            }

            d.RowFused = true;
            p.FusedDepthwise = d.Layer;
            p.Inputs.Add(d.Inputs[0]); // the depthwise input stays alive until the pair runs
            var row = g.Tensors[d.Output];
            row.H = 1;
            row.Name += " (one row at a time)";
        }
    }
}
