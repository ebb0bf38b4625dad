using CnnGen.Generator.Planning.Kernels;

namespace CnnGen.Generator.Planning.Passes;

/// <summary>The specs of steps only a training plan has.</summary>
internal sealed partial class KernelSpecs
{
    private DropoutKernel Dropout(PlanStep s)
    {
        var spec = Layer(s).Spec;
        var x = T(s.Inputs[0]);
        return new DropoutKernel
        {
            Method = Method(s),
            Title = Title(s) + $", p = {spec.DropoutP.ToString("R", System.Globalization.CultureInfo.InvariantCulture)}",
            LayerName = spec.Name,
            X = x,
            Y = T(s.Output),
            Mask = null,
            P = spec.DropoutP,
            Scale = spec.DropoutP < 1f ? 1f / (1f - spec.DropoutP) : 0f,
            Features = x.C * x.H * x.W,
            CopyMethod = Method(s) + "Evaluation",
        };
    }
}
