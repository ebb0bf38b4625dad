using CnnGen.Generator.Model;

namespace CnnGen.Generator.Planning.Passes;

/// <summary>
/// A two-input Add whose one operand is a convolution that nothing else reads, and whose other operand is ready
/// before that convolution runs, is done in the convolution's store: the convolution reads the other operand as a
/// residual, adds it to its accumulators, applies the Add's activation and writes the sum
/// (<see cref="PlanOptions.FuseResidualAdds"/>).
/// </summary>
internal static class ResidualAdds
{
    public static void Run(PlanGraph g)
    {
        if (!g.Options.FuseResidualAdds)
        {
            return;
        }

        var steps = g.Steps;
        for (int a = 0; a < steps.Count; a++)
        {
            var add = steps[a];
            if (add.Kind != StepKind.Add || add.Inputs.Count != 2 || add.Inputs[0] == add.Inputs[1])
            {
                continue;
            }

            for (int k = 0; k < 2; k++)
            {
                int t = add.Inputs[k], other = add.Inputs[1 - k];
                int ci = steps.FindIndex(s => s.Output == t);
                if (ci < 0 || steps[ci] is not { Kind: StepKind.Conv or StepKind.DepthwiseConv, Act: Activation.None } conv || conv.Inputs.Count != 1
                    || g.Readers(t) != 1)
                {
                    continue;
                }

                int otherProducer = steps.FindIndex(s => s.Output == other);
                if (other == 0 || otherProducer >= ci)
                {
                    continue;
                }

                conv.Inputs.Add(other);
                conv.Act = add.Act;
                conv.Alpha = add.Alpha;
                conv.FusedAdd = add.Layer;
                foreach (var s in steps)
                {
                    for (int i = 0; i < s.Inputs.Count; i++)
                    {
                        if (s.Inputs[i] == add.Output)
                        {
                            s.Inputs[i] = t;
                        }
                    }
                }

                steps.RemoveAt(a);
                a--;
                break;
            }
        }
    }
}
