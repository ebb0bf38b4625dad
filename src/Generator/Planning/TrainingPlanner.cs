using System.Collections.Generic;
using System.Linq;
using CnnGen.Generator.Model;
using CnnGen.Generator.Planning.Kernels;
using CnnGen.Generator.Planning.Passes;
using CnnGen.Generator.Shapes;

namespace CnnGen.Generator.Planning;

/// <summary>
/// Plans a trainable network's trainer: the forward plan with <see cref="PlanOptions.Trainer"/> (one plan, two
/// directions), the backward analysis (<see cref="BackwardGraph"/>), the trainable layers and their parameters, then per
/// width the training forward and backward drivers with every kernel's spec (<see cref="BackwardBuilder"/>).
/// </summary>
internal static class TrainingPlanner
{
    public static TrainingModel Plan(ShapedNetwork net) => Plan(net, PlanOptions.Trainer);

    /// <summary>
    /// Plans with other options than <see cref="PlanOptions.Trainer"/>: for tests, which reach the backward's safety net
    /// this way (a step kind without a backward throws <see cref="NotTrainableException"/>, reported as CNN0034).
    /// </summary>
    internal static TrainingModel Plan(ShapedNetwork net, PlanOptions options)
    {
        var (common, plans) = Planner.Plan(net, options, MachineModel.Targets);
        var graph = BackwardGraph.Analyze(plans[0]);
        var layers = Layers(net, common, plans[0], graph).ToEquatableArray();
        layers = layers.Select(l => l with { SplitColumns = SplitsColumns(l, plans[0].Machine) }).ToEquatableArray();
        int pixels = net.Layers.Where(l => l.Spec.Kind == LayerKind.BatchNorm2D).Select(l => l.Out.H * l.Out.W).DefaultIfEmpty(0).Min();
        return new TrainingModel
        {
            Layers = layers,
            Classes = graph.Classes,
            FoldsSoftmax = graph.FoldedSoftmax >= 0,
            BatchNormPixels = pixels,
            Plans = plans.Select(p => new BackwardBuilder(p, graph, layers).Build() with { LaneMultiplyAdds = TrainingWidth.LaneMultiplyAdds(net, p.Machine.Width) })
                .ToEquatableArray(),
            AutoWidth = TrainingWidth.Auto(net),
        };
    }

    /// <summary>
    /// Whether the threads split a dense layer by output columns: its weights (PyTorch's units x features) hold at least
    /// <see cref="MachineModel.DenseColumnSplitFloats"/> floats. The same choice at every width (the count is unpadded).
    /// </summary>
    private static bool SplitsColumns(TrainableLayer l, MachineModel m) =>
        l.Kind == TrainableKind.Dense && (long)l.WeightShape[0] * l.WeightShape[1] >= m.DenseColumnSplitFloats;

    /// <summary>The layers with parameters in layer order (PyTorch registers modules in declaration order), numbering the parameters.</summary>
    private static IEnumerable<TrainableLayer> Layers(ShapedNetwork net, CommonPlan common, NetworkPlan plan, BackwardGraph graph)
    {
        int parameter = 0;
        var weighted = Enumerable.Range(0, plan.Steps.Count)
            .Where(i => plan.Steps[i].Kind is StepKind.Conv or StepKind.DepthwiseConv or StepKind.Dense or StepKind.BatchNorm)
            .OrderBy(i => plan.Steps[i].Layer);
        foreach (int index in weighted)
        {
            var step = plan.Steps[index];
            var l = net.Layers[step.Layer];
            var spec = l.Spec;
            string local = Naming.Camel(common.LayerIdentifiers[step.Layer]);
            var x = plan.Tensors[step.Inputs[0]];
            bool dx = graph.Active[index];
            var kind = step.Kind switch
            {
                StepKind.Conv => TrainableKind.Conv,
                StepKind.DepthwiseConv => TrainableKind.Depthwise,
                StepKind.Dense => TrainableKind.Dense,
                _ => TrainableKind.BatchNorm,
            };
            bool hasBias = kind == TrainableKind.BatchNorm || spec.Bias;
            int[] shape = kind switch
            {
                TrainableKind.Conv or TrainableKind.Depthwise => new[] { spec.Units, l.In.C / spec.Groups, spec.KernelH, spec.KernelW },
                TrainableKind.Dense => new[] { spec.Units, (int)l.In.Size },
                _ => new[] { l.In.C },
            };
            yield return new TrainableLayer
            {
                Layer = step.Layer,
                Name = spec.Name,
                Kind = kind,
                Local = local,
                WeightField = "_" + local + "Weight",
                BiasField = "_" + local + "Bias",
                HasBias = hasBias,
                WeightShape = shape.ToEquatableArray(),
                Units = kind == TrainableKind.BatchNorm ? l.In.C : spec.Units,
                Channels = x.C,
                Groups = spec.Groups,
                KernelH = spec.KernelH,
                KernelW = spec.KernelW,
                InputH = x.H,
                InputW = x.W,
                TransposedField = dx && kind is TrainableKind.Conv or TrainableKind.Dense ? "_" + local + "WeightT" : null,
                TransposedOnRequest = graph.OnRequest(step.Inputs[0]),
                StateField = kind == TrainableKind.BatchNorm ? "_" + local : null,
                Eps = spec.Eps,
                WeightParameter = parameter++,
                BiasParameter = hasBias ? parameter++ : -1,
            };
        }
    }
}
