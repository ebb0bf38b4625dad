using System;

namespace CnnGen.Generator.Planning.Passes;

/// <summary>
/// Zero borders instead of bounds checks: each tensor keeps the largest padding any convolution reading it needs.
/// The producer writes the interior; the forward pass clears the border before each write (slots are reused).
/// </summary>
internal static class Borders
{
    public static void Run(PlanGraph g)
    {
        foreach (var s in g.Steps)
        {
            if (s.Kind is StepKind.Conv or StepKind.DepthwiseConv)
            {
                var spec = g.Layers[s.Layer].Spec;
                var t = g.Tensors[s.Inputs[0]];
                t.BT = Math.Max(t.BT, spec.PadTop);
                t.BL = Math.Max(t.BL, spec.PadLeft);
                t.BB = Math.Max(t.BB, spec.PadBottom);
                t.BR = Math.Max(t.BR, spec.PadRight);
            }
        }
    }
}
