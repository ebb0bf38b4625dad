using System.Linq;

namespace CnnGen.Generator.Planning.Passes;

/// <summary>How the network output reaches the caller: a copy step, or a convolution writing NCHW itself.</summary>
internal static class Output
{
    /// <summary>Appends the step copying the output tensor to the caller's output in PyTorch's order.</summary>
    public static void AddCopy(PlanGraph g)
    {
        var copy = new PlanStep { Kind = StepKind.CopyOutput, Layer = g.Net.OutputLayer, Output = -1 };
        copy.Inputs.Add(g.OutputTensor);
        g.Steps.Add(copy);
    }

    /// <summary>
    /// A convolution producing the network's output writes it in PyTorch's NCHW order itself (through a small
    /// transposing stage per tile), instead of filling a channels-last tensor for a separate copy
    /// (<see cref="PlanOptions.DirectOutput"/>).
    /// </summary>
    public static void WriteDirect(PlanGraph g)
    {
        var steps = g.Steps;
        var copyStep = steps[steps.Count - 1];
        int outTensor = copyStep.Inputs[0];
        if (!g.Options.DirectOutput || copyStep.Kind != StepKind.CopyOutput)
        {
            return;
        }

        var producerOfOutput = steps.FirstOrDefault(s => s.Output == outTensor);
        if (producerOfOutput is { Kind: StepKind.Conv } && outTensor != 0 && g.Tensors[outTensor].Layout == Layout.Hwc && g.Readers(outTensor) == 1)
        {
            producerOfOutput.DirectOutput = true;
            steps.Remove(copyStep);
        }
    }
}
