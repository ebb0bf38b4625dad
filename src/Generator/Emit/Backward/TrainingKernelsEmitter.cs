using System;
using System.Collections.Generic;
using System.Linq;
using CnnGen.Generator.Emit.Kernels;
using CnnGen.Generator.Model;
using CnnGen.Generator.Planning;
using CnnGen.Generator.Planning.Kernels;
using static CnnGen.Generator.Emit.Kernels.KernelWriter;
using static CnnGen.Generator.Model.Words;

namespace CnnGen.Generator.Emit.Backward;

/// <summary>
/// Writes one width's training kernels: the trainer's nested <c>Kernels256</c> (or 512, 128) class with the training
/// forward and backward drivers (from the plan's operations) and every kernel, each written by its family's emitter
/// (the forward's for the forward plan's kernels).
/// </summary>
internal static class TrainingKernelsEmitter
{
    public static string Emit(NetworkModel model, TrainingPlan plan)
    {
        var spec = model.Net.Spec;
        var w = new SourceWriter();
        var kw = new KernelWriter(w, plan.Forward, trainerBuffers: true);
        using (Emitter.OpenFile(w, model, $"Training kernels for {plan.Forward.VectorType}."))
        using (w.Block($"partial class {spec.ClassName}"))
        using (w.Block("partial class Trainer"))
        {
            w.Line("/// <summary>");
            w.Line($"/// {spec.ClassName}'s training kernels with {kw.Vs} ({Count(kw.V, "float")} per vector): the forward pass in training or evaluation mode and");
            w.Line($"/// the backward pass, for a thread's slice of the batch. Workspace: {CountNumber(plan.ImageFloats, "float")} ({ForwardEmitter.Kb(plan.ImageFloats)}) per image.");
            w.Line("/// </summary>");
            using (w.Block($"private static class {plan.KernelClass}"))
            {
                kw.Vocabulary();
                w.Line();
                TrainingDriverEmitter.Forward(kw, model, plan);
                w.Line();
                TrainingDriverEmitter.Backward(kw, model, plan);
                foreach (var kernel in plan.Kernels)
                {
                    w.Line();
                    Kernel(kw, kernel);
                }
            }
        }

        return w.ToString();
    }

    /// <summary>Hands a kernel spec to its family's emitter.</summary>
    private static void Kernel(KernelWriter kw, KernelSpec kernel)
    {
        switch (kernel)
        {
            case DenseTrainingKernel k: DenseTrainingEmitter.Emit(kw, k); break;
            case DenseWeightsKernel k: DenseTrainingEmitter.Emit(kw, k); break;
            case DenseDataKernel k: DenseTrainingEmitter.Emit(kw, k); break;
            case ConvBiasKernel k: ConvBackwardEmitter.Emit(kw, k); break;
            case ConvWeightsKernel k: ConvBackwardEmitter.Emit(kw, k); break;
            case ConvWeightsFromMaximaKernel k: ConvMaximaEmitter.Emit(kw, k); break;
            case ConvDataKernel k: ConvBackwardEmitter.Emit(kw, k); break;
            case ConvDataGatherKernel k: ConvGatherEmitter.Emit(kw, k); break;
            case DepthwiseBackwardKernel k: ConvBackwardEmitter.Emit(kw, k); break;
            case PoolBackwardKernel k: PoolBackwardEmitter.Emit(kw, k); break;
            case GlobalPoolBackwardKernel k: PoolBackwardEmitter.Emit(kw, k); break;
            case AdaptivePoolBackwardKernel k: PoolBackwardEmitter.Emit(kw, k); break;
            case BatchNormStatisticsKernel k: BatchNormTrainingEmitter.Emit(kw, k); break;
            case BatchNormBackwardKernel k: BatchNormTrainingEmitter.Emit(kw, k); break;
            case ActivationBackwardKernel k: ElementwiseBackwardEmitter.Emit(kw, k); break;
            case MultiplyBackwardKernel k: ElementwiseBackwardEmitter.Emit(kw, k); break;
            case GradientCopyKernel k: ElementwiseBackwardEmitter.Emit(kw, k); break;
            case GradientInKernel k: ElementwiseBackwardEmitter.Emit(kw, k); break;
            case SoftmaxBackwardKernel k: ElementwiseBackwardEmitter.Emit(kw, k); break;
            case DropoutKernel k: ElementwiseBackwardEmitter.Emit(kw, k); break;
            case DropoutBackwardKernel k: ElementwiseBackwardEmitter.Emit(kw, k); break;
            default: ForwardEmitter.Kernel(kw, kernel); break;
        }
    }
}

/// <summary>Writes the training drivers from the plan's operations: per-image loops, batched calls, batch-norm synchronization.</summary>
internal static class TrainingDriverEmitter
{
    public static void Forward(KernelWriter kw, NetworkModel model, TrainingPlan plan)
    {
        var w = kw.W;
        w.Line("/// <summary>");
        w.Line("/// The forward pass of images [<paramref name=\"begin\"/>, <paramref name=\"end\"/>) of the batch: in training mode batch norm uses");
        w.Line("/// the batch's statistics (every thread meets at its synchronization points) and dropout draws its mask; with");
        w.Line("/// <paramref name=\"logits\"/> a final softmax is left to the loss and the logits are copied out.");
        w.Line("/// </summary>");
        w.Line(Code.AggressiveOptimization);
        using (w.Block($"internal static void Forward(Trainer t, int thread, int begin, int end, bool training, bool logits)"))
        {
            Body(kw, model, plan, plan.ForwardOps, backward: false);
        }
    }

    public static void Backward(KernelWriter kw, NetworkModel model, TrainingPlan plan)
    {
        var w = kw.W;
        w.Line("/// <summary>");
        w.Line("/// The backward pass of images [<paramref name=\"begin\"/>, <paramref name=\"end\"/>), from d loss / d output (or d logits):");
        w.Line("/// parameter gradients are added into the thread's buffers (cleared before), gradient tensors live in each image's");
        w.Line("/// workspace; d loss / d input only when <paramref name=\"inputGradients\"/>.");
        w.Line("/// </summary>");
        w.Line(Code.AggressiveOptimization);
        using (w.Block($"internal static void Backward(Trainer t, int thread, int begin, int end, bool fromLogits, bool inputGradients)"))
        {
            Body(kw, model, plan, plan.BackwardOps, backward: true);
        }
    }

    private static void Body(KernelWriter kw, NetworkModel model, TrainingPlan plan, EquatableArray<TrainingOp> ops, bool backward)
    {
        var w = kw.W;
        var calls = ops.OfType<CallOp>().ToList();
        var kinds = new HashSet<ArgKind>(calls.SelectMany(c => c.Args).Select(a => a.Kind));
        if (ops.OfType<ClearOp>().Any())
        {
            kinds.Add(ArgKind.Gradient);
        }

        void Ref(ArgKind kind, string name, string array, string type = "float")
        {
            if (kinds.Contains(kind))
            {
                w.Line($"ref {type} {name} = ref Data({array});");
            }
        }

        Ref(ArgKind.Input, "input", "t.Inputs");
        if (kinds.Contains(ArgKind.Tensor) || kinds.Contains(ArgKind.Gradient))
        {
            w.Line($"ref float workspace = ref Data(t.Workspace);");
        }

        Ref(ArgKind.Statistics, "statistics", "t.Statistics", "double");
        Ref(ArgKind.Output, "outputs", "t.Outputs");
        Ref(ArgKind.OutputGradient, "outputGradients", "t.OutputGradients");
        Ref(ArgKind.InputGradient, "inputGradientBuffer", "t.InputGradients");
        var locals = calls.SelectMany(c => c.Args).Where(a => a.Kind == ArgKind.ParameterGradient).Select(a => a.Name)
            .Concat(ops.OfType<CombineOp>().SelectMany(c => new[] { c.GammaGradient, c.BetaGradient }).OfType<string>())
            .Concat(ops.OfType<MaskGroupsOp>().Select(m => m.Gradient)).Distinct().ToList();
        if (locals.Count > 0)
        {
            w.Line($"{Code.TrainingBuffer}[] gradients = t.GradientsOf(thread);");
            var layers = model.Training!.Layers;
            foreach (var l in layers)
            {
                foreach (var (local, index, what) in new[] { (l.WeightGradient, l.WeightParameter, "weight"), (l.BiasGradient, l.BiasParameter, "bias") })
                {
                    if (locals.Contains(local))
                    {
                        w.Line($"{Code.TrainingBuffer} {local} = gradients[{I(index)}]; // {Xml(l.Name)}.{what}");
                    }
                }
            }
        }

        int i = 0;
        while (i < ops.Count)
        {
            var when = ops[i].When;
            int j = i;
            while (j < ops.Count && ops[j].When == when)
            {
                j++;
            }

            string? condition = Condition(when, backward);
            using (w.BlockIf(condition is not null, $"if ({condition})"))
            {
                Run(kw, plan, ops.Skip(i).Take(j - i).ToList(), condition is not null);
            }

            i = j;
        }
    }

    private static string? Condition(When when, bool backward) => when switch
    {
        When.Training => "training",
        When.Evaluation => "!training",
        When.Logits => backward ? "fromLogits" : "logits",
        When.FullOutput => backward ? "!fromLogits" : "!logits",
        When.InputGradients => "inputGradients",
        _ => null,
    };

    /// <summary>
    /// Operations under one condition: consecutive per-image operations share one loop over the thread's images, across
    /// the steps' titles (written inside the loop), so that an image's tensors stay in cache from one step to the next
    /// instead of the whole slice's going through memory between steps. Each parameter gradient is still added image by
    /// image in order: the same bits.
    /// </summary>
    private static void Run(KernelWriter kw, TrainingPlan plan, List<TrainingOp> ops, bool nested)
    {
        var w = kw.W;
        int i = 0;
        while (i < ops.Count)
        {
            if (IsPerImage(ops[i]))
            {
                int j = i, last = i;
                while (j < ops.Count && (IsPerImage(ops[j]) || ops[j] is StepOp))
                {
                    if (IsPerImage(ops[j]))
                    {
                        last = j;
                    }

                    j++;
                }

                Loop(kw, plan, ops.Skip(i).Take(last + 1 - i).ToList());
                i = last + 1;
                continue;
            }

            switch (ops[i])
            {
                case StepOp s:
                    if (i > 0 || !nested)
                    {
                        w.Line();
                    }

                    w.Line("// " + s.Title);
                    break;
                case CallOp c:
                    w.Line($"{c.Method}({string.Join(", ", c.Args.Select(a => Render(kw, plan, a, c.AllImages ? Images.All : Images.Slice)))});");
                    break;
                case SyncOp:
                    w.Line("t.Synchronize();");
                    break;
                case CombineOp c:
                    Combine(w, plan, c);
                    break;
                case MaskGroupsOp m:
                    w.Line();
                    w.Line($"// {m.Gradient}: grouped, so the entries outside each filter's group stay zero");
                    w.Line($"{Code.TrainingLayouts}.ClearOutOfGroup({m.Gradient}.Span, {I(m.Filters)}, {I(m.Channels)}, {I(m.Groups)}, {I(m.KernelH)}, {I(m.KernelW)}, {I(m.PaddedFilters)}, {I(m.TileFloats)});");
                    break;
            }

            i++;
        }
    }

    private static bool IsPerImage(TrainingOp op) => op is ClearOp || op is CallOp { Batched: false };

    private static void Loop(KernelWriter kw, TrainingPlan plan, List<TrainingOp> ops)
    {
        var w = kw.W;
        bool image = ops.Any(o => o is ClearOp) || ops.OfType<CallOp>().SelectMany(c => c.Args).Any(a => a.Kind is ArgKind.Tensor or ArgKind.Gradient);
        using (w.Block("for (int i = begin; i < end; i++)"))
        {
            if (image)
            {
                w.Line($"ref float image = ref At(ref workspace, i * {I(plan.ImageFloats)});");
            }

            foreach (var op in ops)
            {
                if (op is StepOp step)
                {
                    w.Line();
                    w.Line("// " + step.Title);
                }
                else if (op is ClearOp clear)
                {
                    w.Line($"{Code.TrainingBuffers}.Clear({Ref("image", I(clear.Gradient.Offset))}, {I(clear.Gradient.Floats)}); // {clear.Gradient.Name}");
                }
                else
                {
                    var c = (CallOp)op;
                    w.Line($"{c.Method}({string.Join(", ", c.Args.Select(a => Render(kw, plan, a, Images.Loop)))});");
                }
            }
        }
    }

    /// <summary>The images a call's arguments address.</summary>
    private enum Images
    {
        /// <summary>One image of a per-image loop (<c>i</c>, its tensors at <c>image</c>).</summary>
        Loop,

        /// <summary>The thread's images from <c>begin</c> to <c>end</c> (a batched call).</summary>
        Slice,

        /// <summary>Every image of the batch (a layer split by columns).</summary>
        All,
    }

    /// <summary>An argument for the <paramref name="images"/> a call works on.</summary>
    private static string Render(KernelWriter kw, TrainingPlan plan, CallArg a, Images images)
    {
        var net = plan.Forward.Net;
        bool all = images == Images.All;
        bool loop = images == Images.Loop;
        string index = images switch { Images.All => "0", Images.Slice => "begin", _ => "i" };
        string At(string reference, long stride, long offset) => all ? KernelWriter.Ref(reference, I(offset)) : $"ref At(ref {reference}, {Lin(index, stride, offset)})";
        string AtDouble(string reference, long stride, long offset) => $"ref {Code.Unsafe}.Add(ref {reference}, {Lin(index, stride, offset)})"; // the vocabulary's At is for floats
        return a.Kind switch
        {
            ArgKind.Tensor or ArgKind.Gradient => loop ? Ref("image", I(a.Offset)) : At("workspace", plan.ImageFloats, a.Offset),
            ArgKind.Input => At("input", net.Input.Size, 0),
            ArgKind.Output => At("outputs", net.Output.Size, 0),
            ArgKind.OutputGradient => At("outputGradients", net.Output.Size, 0),
            ArgKind.InputGradient => At("inputGradientBuffer", net.Input.Size, 0),
            ArgKind.Statistics => AtDouble("statistics", plan.StatisticsDoubles, a.Offset),
            ArgKind.Field => "t." + a.Name,
            ArgKind.ParameterGradient => a.Name,
            ArgKind.DropoutSeed => $"t.DropoutSeed({SourceWriter.Str(a.Name)})",
            ArgKind.Image => index,
            ArgKind.Count => all ? "t.BatchSize" : "end - begin",
            ArgKind.Vectors => $"t.VectorPart(thread, {I(a.Offset)}), t.VectorPart(thread + 1, {I(a.Offset)})",
            _ => throw new InvalidOperationException("argument " + a.Kind),
        };
    }

    private static void Combine(SourceWriter w, TrainingPlan plan, CombineOp c)
    {
        string method = c.Phase switch
        {
            CombinePhase.Mean => "CombineMean",
            CombinePhase.Variance => "CombineVariance",
            _ => "CombineGradients",
        };
        string what = c.Phase switch
        {
            CombinePhase.Mean => "the batch mean",
            CombinePhase.Variance => "the batch variance, the scale and shift, the pending running statistics",
            _ => "the sums of dy and dy * (x - mean) over the batch; d gamma and d beta",
        };
        string extra = c.Phase == CombinePhase.Gradients ? $", {c.GammaGradient}.Span, {c.BetaGradient}.Span" : string.Empty;
        using (w.Block("if (thread == 0)"))
        {
            w.Line($"// {what}, from every image's sums in image order");
            w.Line($"t.{c.StateField}.{method}(t.Statistics, {I(c.StatisticsOffset)}, {I(plan.StatisticsDoubles)}, t.BatchSize, (long)t.BatchSize * {I(c.Pixels)}{extra});");
        }
    }
}
