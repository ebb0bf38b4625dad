using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using CnnGen.Generator.Emit.Kernels;
using CnnGen.Generator.Planning;
using CnnGen.Generator.Planning.Kernels;
using static CnnGen.Generator.Emit.Kernels.KernelWriter;
using static CnnGen.Generator.Model.Words;

namespace CnnGen.Generator.Emit;

/// <summary>
/// Writes one vector width's kernel class: a nested static class <c>Kernels256</c> (or 512, 128) holding the
/// forward drivers (<c>Forward</c>, and <c>ForwardGroup</c> for batch groups) and every step's kernel, each
/// written by its family's emitter from the step's spec.
/// </summary>
internal static class ForwardEmitter
{
    public static void Emit(SourceWriter w, NetworkPlan plan)
    {
        var kw = new KernelWriter(w, plan);
        var net = plan.Net;
        w.Line($"/// <summary>");
        w.Line($"/// {net.Spec.ClassName} with {kw.VectorName} ({Count(kw.V, "float")} per vector), planned for {Count(plan.Machine.VectorRegisters, "vector register")}.");
        w.Line($"/// Workspace: {CountNumber(plan.WorkspaceFloats, "float")} ({Kb(plan.WorkspaceFloats)}) per thread.");
        w.Line($"/// </summary>");
        using (w.Block($"private static class {plan.KernelClass}"))
        {
            kw.Vocabulary();
            w.Line();
            Forward(w, plan);
            if (plan.SplitsImage)
            {
                w.Line();
                ThreadForward.Emit(w, plan);
            }

            if (plan.BatchGroup > 1)
            {
                w.Line();
                ForwardGroup(w, plan);
            }

            // A kernel shared by several steps is written once, where its first step is.
            var written = new Dictionary<string, KernelSpec>(StringComparer.Ordinal);
            foreach (var step in plan.Steps)
            {
                if (written.TryGetValue(step.Kernel.Method, out var first))
                {
                    if (!first.Equals(step.Kernel))
                    {
                        throw new InvalidOperationException($"two different kernels are named {step.Kernel.Method}");
                    }

                    continue;
                }

                written.Add(step.Kernel.Method, step.Kernel);
                w.Line();
                Kernel(kw, step.Kernel);
            }
        }
    }

    /// <summary>Hands a kernel spec to its family's emitter.</summary>
    internal static void Kernel(KernelWriter kw, KernelSpec kernel)
    {
        switch (kernel)
        {
            case PackInputKernel k: LayoutEmitter.Emit(kw, k); break;
            case CopyOutputKernel k: LayoutEmitter.Emit(kw, k); break;
            case ConvKernel k: ConvEmitter.Emit(kw, k); break;
            case WinogradKernel k: WinogradEmitter.Emit(kw, k); break;
            case PixelConvKernel k: PixelConvEmitter.Emit(kw, k); break;
            case DepthwiseKernel k: DepthwiseEmitter.Emit(kw, k); break;
            case PoolKernel k: PoolEmitter.Emit(kw, k); break;
            case GlobalPoolKernel k: PoolEmitter.Emit(kw, k); break;
            case DenseKernel k: DenseEmitter.Emit(kw, k); break;
            case ActivationKernel k: ElementwiseEmitter.Emit(kw, k); break;
            case BatchNormKernel k: ElementwiseEmitter.Emit(kw, k); break;
            case AddKernel k: ElementwiseEmitter.Emit(kw, k); break;
            case ConcatKernel k: ElementwiseEmitter.Emit(kw, k); break;
            case MultiplyKernel k: ElementwiseEmitter.Emit(kw, k); break;
            case AdaptivePoolKernel k: PoolEmitter.Emit(kw, k); break;
            case SoftmaxKernel k: ElementwiseEmitter.Emit(kw, k); break;
            default: throw new InvalidOperationException("no emitter for " + kernel.GetType().Name);
        }
    }

    internal static string Kb(long floats) => (floats * 4 / 1024.0).ToString("0.#", CultureInfo.InvariantCulture) + " KB";

    /// <summary>Writes <c>ref float tN = ref Unsafe.Add(ref ws, offset);</c> for every tensor a part's steps use.</summary>
    internal static void Locals(SourceWriter w, NetworkPlan plan, ForwardPart part, Func<TensorPlan, string> comment)
    {
        w.Line($"ref float ws = ref {Code.Buffers}.Aligned(workspace); // 64-byte aligned");
        foreach (int id in part.Locals)
        {
            var t = plan.Tensors[id];
            w.Line($"ref float {t.Variable} = ref At(ref ws, {I(t.Offset)}); // {comment(t)}");
        }
    }

    /// <summary>The arguments of a step's kernel call: its tensors, its weights, and a split step's range (all of it: <c>0, rows</c>).</summary>
    internal static IEnumerable<string> Arguments(NetworkPlan plan, StepPlan s, Func<int, string> tensor, string? range = null) =>
        s.Arguments.Select(tensor).Concat(s.WeightFields.Select(f => "net." + f))
            .Concat(s.SplitUnits > 0 ? new[] { range ?? $"0, {I(s.SplitUnits)}" } : Array.Empty<string>());

    /// <summary>A step's tensor as <c>Forward</c> passes it: <c>ref t3</c>, or <c>ref output</c> for -1.</summary>
    internal static string Ref(NetworkPlan plan, int id) => id < 0 ? "ref output" : "ref " + plan.Tensors[id].Variable;

    internal static string Clear(TensorPlan o, string target) =>
        $"{Code.Buffers}.ClearBorder({target}, {I(o.Rows)}, {I(o.RowPixels)}, {I(o.Cp)}, {I(o.BorderTop)}, {I(o.BorderLeft)}, {I(o.BorderBottom)}, {I(o.BorderRight)});";

    private static void Forward(SourceWriter w, NetworkPlan plan)
    {
        string parameters = $"{plan.Net.Spec.ClassName} net, ref float input, ref float output, float[] workspace";
        w.Line("/// <summary>");
        w.Line("/// Runs every step in order; <paramref name=\"workspace\"/> holds the intermediate tensors. Returns false, before");
        w.Line("/// anything is written to <paramref name=\"output\"/>, when packing the input finds NaN or infinity" + (plan.ChecksOutput ? "; and, after" : "."));
        if (plan.ChecksOutput)
        {
            w.Line("/// writing it, when the last step finds that an output may be NaN or infinity (it checks what it stores).");
        }

        w.Line("/// </summary>");
        w.Line(Code.Hot);
        if (plan.Parts.Count == 1)
        {
            using (w.Block($"internal static bool Forward({parameters})"))
            {
                ForwardSteps(w, plan, plan.Parts[0]);
                w.Line();
                w.Line("return true;");
            }

            return;
        }

        using (w.Block($"internal static bool Forward({parameters})"))
        {
            PartCalls(w, plan, "Forward", returns: true);
            w.Line();
            w.Line("return true;");
        }

        foreach (var part in plan.Parts)
        {
            w.Line();
            w.Line($"/// <summary>Steps {I(part.First + 1)} to {I(part.First + part.Count)} of <see cref=\"Forward\"/>.</summary>");
            w.Line(Code.Hot);
            using (w.Block($"private static {(part.ChecksFinite ? "bool" : "void")} Forward{part.Suffix}({parameters})"))
            {
                ForwardSteps(w, plan, part);
                if (part.ChecksFinite)
                {
                    w.Line();
                    w.Line("return true;");
                }
            }
        }
    }

    /// <summary>A long forward pass calls its parts in order (a part that packs the input returns false for NaN or infinity).</summary>
    internal static void PartCalls(SourceWriter w, NetworkPlan plan, string method, bool returns, string arguments = "net, ref input, ref output, workspace")
    {
        int steps = plan.Parts.Sum(p => p.Count);
        w.Line($"// {Count(steps, "step")} in {Count(plan.Parts.Count, "part")} of at most {I(Planner.MaxStepsPerMethod)}, so that no method nears the JIT's limits.");
        foreach (var part in plan.Parts)
        {
            string call = $"{method}{part.Suffix}({arguments})";
            if (returns && part.ChecksFinite)
            {
                using (w.Block($"if (!{call})"))
                {
                    w.Line("return false;");
                }

                w.Line();
            }
            else
            {
                w.Line(call + ";");
            }
        }
    }

    /// <summary>The locals and steps of one part of <c>Forward</c>.</summary>
    private static void ForwardSteps(SourceWriter w, NetworkPlan plan, ForwardPart part)
    {
        Locals(w, plan, part, t => $"{t.Name}: {t.Describe()}");
        EachStep(w, plan, part, s =>
        {
            if (s.ClearsOutputBorder)
            {
                var o = plan.Tensors[s.Output];
                w.Line(Clear(o, "ref " + o.Variable));
            }

            var args = Arguments(plan, s, id => Ref(plan, id));
            if (s.ChecksFinite)
            {
                using (w.Block($"if (!{s.Method}({string.Join(", ", args)}))"))
                {
                    w.Line("return false;");
                }
            }
            else
            {
                w.Line($"{s.Method}({string.Join(", ", args)});");
            }
        });
    }

    private static void ForwardGroup(SourceWriter w, NetworkPlan plan)
    {
        var net = plan.Net;
        int g = plan.BatchGroup, ws = plan.WorkspaceFloats;
        string parameters = $"{net.Spec.ClassName} net, ref float input, ref float output, float[] workspace";
        w.Line($"/// <summary>");
        w.Line($"/// Runs {Count(g, "image")} stored one after another: dense layers compute all {I(g)} at once so their weights stream");
        w.Line($"/// once per group; other steps run image by image. Image i's tensors lie {Count(ws, "float")} after image i - 1's.");
        w.Line($"/// </summary>");
        w.Line(Code.Hot);
        if (plan.Parts.Count == 1)
        {
            using (w.Block($"internal static void ForwardGroup({parameters})"))
            {
                ForwardGroupSteps(w, plan, plan.Parts[0]);
            }

            return;
        }

        using (w.Block($"internal static void ForwardGroup({parameters})"))
        {
            PartCalls(w, plan, "ForwardGroup", returns: false);
        }

        foreach (var part in plan.Parts)
        {
            w.Line();
            w.Line($"/// <summary>Steps {I(part.First + 1)} to {I(part.First + part.Count)} of <see cref=\"ForwardGroup\"/>.</summary>");
            w.Line(Code.Hot);
            using (w.Block($"private static void ForwardGroup{part.Suffix}({parameters})"))
            {
                ForwardGroupSteps(w, plan, part);
            }
        }
    }

    /// <summary>The locals and steps of one part of <c>ForwardGroup</c>.</summary>
    private static void ForwardGroupSteps(SourceWriter w, NetworkPlan plan, ForwardPart part)
    {
        var net = plan.Net;
        int g = plan.BatchGroup, ws = plan.WorkspaceFloats;
        Locals(w, plan, part, t => $"{t.Name}, image 0");
        EachStep(w, plan, part, s =>
        {
            if (s.GroupMethod is not null)
            {
                var args = new List<string> { "ref " + plan.Tensors[s.Inputs[0]].Variable, "ref " + plan.Tensors[s.Output].Variable };
                w.Line($"{s.GroupMethod}({string.Join(", ", args.Concat(s.WeightFields.Select(f => "net." + f)))});");
                return;
            }

            using (w.Block($"for (int i = 0; i < {I(g)}; i++)"))
            {
                string Ref(int id) => id < 0 ? $"ref At(ref output, i * {I(net.Output.Size)})"
                    : id == 0 ? $"ref At(ref input, i * {I(net.Input.Size)})"
                    : $"ref At(ref {plan.Tensors[id].Variable}, i * {I(ws)})";
                if (s.ClearsOutputBorder)
                {
                    w.Line(Clear(plan.Tensors[s.Output], Ref(s.Output)));
                }

                string note = s.ChecksFinite ? " // the batch was checked before it started" : string.Empty;
                w.Line($"{s.Method}({string.Join(", ", Arguments(plan, s, Ref))});{note}");
            }
        });
    }

    /// <summary>Writes the steps of a part (a row-fused step runs inside the next), each after a blank line and its numbered title.</summary>
    internal static void EachStep(SourceWriter w, NetworkPlan plan, ForwardPart part, Action<StepPlan> call)
    {
        int n = part.First;
        foreach (var s in plan.Steps.Where(s => !s.RowFused).Skip(part.First).Take(part.Count))
        {
            w.Line();
            w.Line($"// {I(++n)}. {s.Title}");
            call(s);
        }
    }
}
