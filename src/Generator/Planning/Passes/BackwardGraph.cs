using System.Collections.Generic;
using System.Linq;
using CnnGen.Generator.Model;

namespace CnnGen.Generator.Planning.Passes;

/// <summary>
/// The first backward pass: what a training plan's forward steps need in the backward direction. The same for every
/// width (the width passes do not change steps or tensors), so it is computed once from the first width's plan.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>A step is active when its output reaches the loss; inactive steps get no backward.</item>
/// <item>A tensor depends on the parameters when a weighted step lies upstream of it. Its gradient is needed in
/// training when an active step reads it and it depends on the parameters; a gradient that only leads to the network
/// input is computed on request (<c>Backward(..., inputGradients)</c>).</item>
/// <item>A network ending in a softmax over a vector folds it into the cross-entropy: the loss reads the softmax's input
/// (the logits) and the backward starts there.</item>
/// </list>
/// </remarks>
internal sealed class BackwardGraph
{
    private BackwardGraph(NetworkPlan plan)
    {
        Plan = plan;
        int steps = plan.Steps.Count, tensors = plan.Tensors.Count;
        var copy = plan.Steps[steps - 1];
        OutputTensor = copy.Inputs[0];
        Active = new bool[steps];
        Depends = new bool[tensors];
        Reaches = new bool[tensors];
        Needed = new bool[tensors];

        for (int s = 0; s < steps; s++)
        {
            var step = plan.Steps[s];
            if (step.Output >= 0)
            {
                Depends[step.Output] = IsWeighted(step.Kind) || step.Inputs.Any(t => Depends[t]);
            }
        }

        Reaches[OutputTensor] = true;
        for (int s = steps - 2; s >= 0; s--)
        {
            var step = plan.Steps[s];
            if (step.Output >= 0 && Reaches[step.Output])
            {
                Active[s] = true;
                foreach (int t in step.Inputs)
                {
                    Reaches[t] = true;
                    Needed[t] = true;
                }
            }
        }

        Needed[OutputTensor] = true;
        int producer = -1;
        for (int s = 0; s < steps - 1; s++)
        {
            producer = plan.Steps[s].Output == OutputTensor ? s : producer;
        }

        bool folds = producer >= 0 && plan.Steps[producer].Kind == StepKind.Softmax && plan.Tensors[plan.Steps[producer].Inputs[0]].Layout == Layout.Flat;
        FoldedSoftmax = folds ? producer : -1;
        LogitsTensor = folds ? plan.Steps[producer].Inputs[0] : OutputTensor;
        var output = plan.Net.Output;
        Classes = output.H * output.W == 1 && output.C > 1 ? output.C : 0;
        var pack = plan.Steps.FirstOrDefault(st => st.Kind == StepKind.PackInput);
        InputTensor = pack?.Output ?? 0;
    }

    public NetworkPlan Plan { get; }

    /// <summary>The tensor copied to the caller as the output.</summary>
    public int OutputTensor { get; }

    /// <summary>The tensor the cross-entropy reads (the folded softmax's input, or the output).</summary>
    public int LogitsTensor { get; }

    /// <summary>The final softmax step folded into the cross-entropy, or -1.</summary>
    public int FoldedSoftmax { get; }

    /// <summary>Classes of the cross-entropy, or 0 when the output is not a vector of scores.</summary>
    public int Classes { get; }

    /// <summary>The tensor whose gradient is the network input's (the packed input, or the input itself).</summary>
    public int InputTensor { get; }

    /// <summary>Per step: its output reaches the loss.</summary>
    public bool[] Active { get; }

    /// <summary>Per tensor: a weighted step lies upstream.</summary>
    public bool[] Depends { get; }

    /// <summary>Per tensor: it reaches the loss.</summary>
    public bool[] Reaches { get; }

    /// <summary>Per tensor: an active step reads it (or it is the output), so it has a gradient.</summary>
    public bool[] Needed { get; }

    public static BackwardGraph Analyze(NetworkPlan plan) => new(plan);

    /// <summary>The gradient of <paramref name="tensor"/> is only computed when input gradients are asked for.</summary>
    public bool OnRequest(int tensor) => !Depends[tensor];

    /// <summary>Whether the gradient of a CHW tensor is kept flat: every step reading it reads it as a vector (dense layers).</summary>
    public bool ReadAsVector(int tensor) => Plan.Steps.Where(s => s.Inputs.Contains(tensor)).All(s => s.Kind == StepKind.Dense);

    private static bool IsWeighted(StepKind kind) => kind is StepKind.Conv or StepKind.DepthwiseConv or StepKind.Dense or StepKind.BatchNorm or StepKind.ConvPixels;
}
