using CnnGen.Generator.Planning.Kernels;

namespace CnnGen.Generator.Planning.Passes;

/// <summary>The specs of steps only a training plan has.</summary>
internal sealed partial class KernelSpecs
{
    private DropoutKernel Dropout(PlanStep s, KernelNames n)
    {
        var spec = Layer(s).Spec;
        var x = X(s, n);
        return new DropoutKernel
        {
            Method = n.Method,
            Title = n.Title + $", p = {spec.DropoutP.ToString("R", System.Globalization.CultureInfo.InvariantCulture)}",
            LayerName = spec.Name,
            X = x,
            Y = Y(s, n),
            Mask = null,
            P = spec.DropoutP,
            Scale = spec.DropoutP < 1f ? 1f / (1f - spec.DropoutP) : 0f,
            Features = x.C * x.H * x.W,
            CopyMethod = n.Method + "Evaluation",
        };
    }
}
