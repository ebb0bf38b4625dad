using System.Collections.Generic;
using System.Linq;
using CnnGen.Generator.Model;
using CnnGen.Generator.Shapes;

namespace CnnGen.Generator.Planning.Passes;

/// <summary>
/// The fusion pass: turns layers into steps, in order. Flatten, Dropout and an adaptive pool to its input's size become
/// views of their input; an adaptive pool to 1 x 1 is a global pool. A batch norm
/// directly after a convolution whose output nothing else reads is folded into its weights and bias at load
/// (<see cref="PlanOptions.FoldBatchNorm"/>). An activation whose producer (convolution, dense, batch norm, add) has
/// no other reader is applied in the producer's store (<see cref="PlanOptions.FuseActivations"/>). Softmax, stand-alone
/// or fused into a layer, runs as its own step over the finished vector.
/// </summary>
internal static class Lowering
{
    public static void Run(PlanGraph g)
    {
        var net = g.Net;
        var layers = g.Layers;
        int n = layers.Count;
        var uses = new int[n];
        for (int i = 0; i < n; i++)
        {
            foreach (int j in layers[i].Inputs)
            {
                if (j >= 0)
                {
                    uses[j]++;
                }
            }
        }

        uses[net.OutputLayer]++;

        var tensors = g.Tensors;
        var steps = g.Steps;
        tensors.Add(new PlanTensor { Name = "input", Layout = Layout.Chw, C = net.Input.C, H = net.Input.H, W = net.Input.W, External = true });
        var tensorOf = new int[n];
        var producer = new Dictionary<int, PlanStep>();
        int TensorOfInput(int j) => j < 0 ? 0 : tensorOf[j];

        int NewTensor(ShapedLayer l)
        {
            tensors.Add(new PlanTensor
            {
                Name = l.Spec.Name,
                Layout = l.Out.Flat ? Layout.Flat : Layout.Hwc,
                C = l.Out.C,
                H = l.Out.Flat ? 1 : l.Out.H,
                W = l.Out.Flat ? 1 : l.Out.W,
            });
            return tensors.Count - 1;
        }

        PlanStep AddStep(StepKind kind, int layer, Activation act = Activation.None)
        {
            var l = layers[layer];
            var s = new PlanStep { Kind = kind, Layer = layer, Act = act, Alpha = l.Spec.Alpha };
            s.Inputs.AddRange(l.Inputs.Select(TensorOfInput));
            s.Output = NewTensor(l);
            tensorOf[layer] = s.Output;
            producer[s.Output] = s;
            steps.Add(s);
            return s;
        }

        // A layer whose output is its input's tensor: readers of either read the same tensor, so both count them all.
        void View(int i, int j)
        {
            tensorOf[i] = TensorOfInput(j);
            if (j >= 0)
            {
                uses[i] = uses[j] = uses[i] + uses[j] - 1;
            }
        }

        // A training plan keeps an activation whose derivative needs its input as a step of its own.
        bool Splits(Activation act, float alpha) => g.Options.Training && NeedsInput(act, alpha);

        // A layer's step, then its activation as a step of its own when it cannot be applied in the store.
        void AddActivated(StepKind kind, int layer, Activation act)
        {
            var spec = layers[layer].Spec;
            if (!Splits(act, spec.Alpha))
            {
                AddStep(kind, layer, act);
                return;
            }

            var s = AddStep(kind, layer);
            var a = new PlanStep { Kind = StepKind.Activation, Layer = layer, Act = act, Alpha = spec.Alpha };
            a.Inputs.Add(s.Output);
            a.Output = NewTensor(layers[layer]);
            tensorOf[layer] = a.Output;
            producer[a.Output] = a;
            steps.Add(a);
        }

        // The step producing layer j's output, when nothing else reads that output.
        PlanStep? SoleProducer(int j) =>
            j >= 0 && uses[j] == 1 && j != net.OutputLayer && producer.TryGetValue(tensorOf[j], out var s) ? s : null;

        for (int i = 0; i < n; i++)
        {
            var l = layers[i];
            var spec = l.Spec;
            int src0 = l.Inputs[0];
            switch (spec.Kind)
            {
                case LayerKind.Conv2D:
                    bool depthwise = spec.Groups > 1 && spec.Groups == l.In.C && spec.Units == l.In.C;
                    AddActivated(depthwise ? StepKind.DepthwiseConv : StepKind.Conv, i, spec.Activation == Activation.Softmax ? Activation.None : spec.Activation);
                    break;
                case LayerKind.Dense:
                    AddActivated(StepKind.Dense, i, spec.Activation == Activation.Softmax ? Activation.None : spec.Activation);
                    break;
                case LayerKind.MaxPool2D:
                case LayerKind.AvgPool2D:
                    AddStep(StepKind.Pool, i);
                    break;
                case LayerKind.GlobalAvgPool2D:
                case LayerKind.GlobalMaxPool2D:
                    AddStep(StepKind.GlobalPool, i);
                    break;
                case LayerKind.Dropout when g.Options.Training && spec.DropoutP > 0:
                {
                    // The mask's output keeps its input's geometry (a map stays a map after a Flatten: the dense layer
                    // reading it visits H, W, C as it would the map itself).
                    var x = tensors[TensorOfInput(src0)];
                    var s = new PlanStep { Kind = StepKind.Dropout, Layer = i };
                    s.Inputs.Add(TensorOfInput(src0));
                    tensors.Add(new PlanTensor { Name = spec.Name, Layout = x.Layout == Layout.Flat ? Layout.Flat : Layout.Hwc, C = x.C, H = x.H, W = x.W });
                    s.Output = tensors.Count - 1;
                    tensorOf[i] = s.Output;
                    producer[s.Output] = s;
                    steps.Add(s);
                    break;
                }

                case LayerKind.Flatten:
                case LayerKind.Dropout:
                    View(i, src0);
                    break;
                case LayerKind.AdaptiveAvgPool2D when l.In.H == l.Out.H && l.In.W == l.Out.W:
                    View(i, src0); // every window is one cell: the identity
                    break;
                case LayerKind.AdaptiveAvgPool2D:
                    AddStep(l.Out.H == 1 && l.Out.W == 1 ? StepKind.GlobalPool : StepKind.AdaptivePool, i);
                    break;
                case LayerKind.BatchNorm2D:
                    if (g.Options.FoldBatchNorm && SoleProducer(src0) is { Kind: StepKind.Conv or StepKind.DepthwiseConv, Act: Activation.None, FoldedBn: < 0 } conv)
                    {
                        conv.FoldedBn = i;
                        conv.Act = spec.Activation;
                        conv.Alpha = spec.Alpha;
                        tensorOf[i] = tensorOf[src0];
                    }
                    else
                    {
                        AddActivated(StepKind.BatchNorm, i, spec.Activation);
                    }

                    break;
                case LayerKind.Add:
                    AddActivated(StepKind.Add, i, spec.Activation);
                    break;
                case LayerKind.Multiply:
                    AddActivated(StepKind.Multiply, i, spec.Activation);
                    break;
                case LayerKind.Concat:
                    AddStep(StepKind.Concat, i);
                    break;
                case LayerKind.Activation when spec.Activation == Activation.Softmax:
                    break;
                case LayerKind.Activation:
                    if (g.Options.FuseActivations && !Splits(spec.Activation, spec.Alpha)
                        && SoleProducer(src0) is { Act: Activation.None, Kind: StepKind.Conv or StepKind.DepthwiseConv or StepKind.Dense or StepKind.BatchNorm or StepKind.Add or StepKind.Multiply } into)
                    {
                        into.Act = spec.Activation;
                        into.Alpha = spec.Alpha;
                        tensorOf[i] = tensorOf[src0];
                    }
                    else
                    {
                        AddStep(StepKind.Activation, i, spec.Activation);
                    }

                    break;
            }

            if (spec.Activation == Activation.Softmax)
            {
                var s = new PlanStep { Kind = StepKind.Softmax, Layer = i, Act = Activation.Softmax };
                s.Inputs.Add(spec.Kind == LayerKind.Activation ? TensorOfInput(src0) : tensorOf[i]);
                s.Output = NewTensor(l);
                tensorOf[i] = s.Output;
                producer[s.Output] = s;
                steps.Add(s);
            }
        }

        g.OutputTensor = tensorOf[net.OutputLayer];
    }

    /// <summary>Whether an activation's derivative needs its input: SiLU, and LeakyReLU with a negative slope (its output does not tell the sign of its input).</summary>
    public static bool NeedsInput(Activation act, float alpha) => act == Activation.SiLU || (act == Activation.LeakyRelu && alpha < 0f);
}
