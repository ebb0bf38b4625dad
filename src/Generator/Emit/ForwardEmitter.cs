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
        w.Line($"/// {net.Spec.ClassName} with {kw.Vs} ({Count(kw.V, "float")} per vector), planned for {Count(plan.Machine.VectorRegisters, "vector register")}.");
        w.Line($"/// Workspace: {CountNumber(plan.WorkspaceFloats, "float")} ({Kb(plan.WorkspaceFloats)}) per thread.");
        w.Line($"/// </summary>");
        using (w.Block($"private static class {plan.KernelClass}"))
        {
            Forward(w, plan);
            if (plan.BatchGroup > 1)
            {
                w.Line();
                ForwardGroup(w, plan);
            }

            foreach (var step in plan.Steps)
            {
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
            case PixelConvKernel k: PixelConvEmitter.Emit(kw, k); break;
            case DepthwiseKernel k: DepthwiseEmitter.Emit(kw, k); break;
            case PoolKernel k: PoolEmitter.Emit(kw, k); break;
            case GlobalPoolKernel k: PoolEmitter.Emit(kw, k); break;
            case DenseKernel k: DenseEmitter.Emit(kw, k); break;
            case ActivationKernel k: ElementwiseEmitter.Emit(kw, k); break;
            case BatchNormKernel k: ElementwiseEmitter.Emit(kw, k); break;
            case AddKernel k: ElementwiseEmitter.Emit(kw, k); break;
            case ConcatKernel k: ElementwiseEmitter.Emit(kw, k); break;
            case SoftmaxKernel k: ElementwiseEmitter.Emit(kw, k); break;
            default: throw new InvalidOperationException("no emitter for " + kernel.GetType().Name);
        }
    }

    internal static string Kb(long floats) => (floats * 4 / 1024.0).ToString("0.#", CultureInfo.InvariantCulture) + " KB";

    /// <summary>Writes <c>ref float tN = ref Unsafe.Add(ref ws, offset);</c> for every tensor a step uses.</summary>
    private static void Locals(SourceWriter w, NetworkPlan plan, Func<TensorPlan, string> comment)
    {
        w.Line($"ref float ws = ref {Code.MemoryMarshal}.GetArrayDataReference(workspace);");
        foreach (int id in plan.Locals)
        {
            var t = plan.Tensors[id];
            w.Line($"ref float {t.Variable} = ref {Code.Unsafe}.Add(ref ws, {I(t.Offset)}); // {comment(t)}");
        }
    }

    private static string Clear(TensorPlan o, string target) =>
        $"{Code.Buffers}.ClearBorder({target}, {I(o.Rows)}, {I(o.RowPixels)}, {I(o.Cp)}, {I(o.BorderTop)}, {I(o.BorderLeft)}, {I(o.BorderBottom)}, {I(o.BorderRight)});";

    private static void Forward(SourceWriter w, NetworkPlan plan)
    {
        w.Line("/// <summary>");
        w.Line("/// Runs every step in order; <paramref name=\"workspace\"/> holds the intermediate tensors. Returns false, before");
        w.Line("/// anything is written to <paramref name=\"output\"/>, when packing the input finds NaN or infinity.");
        w.Line("/// </summary>");
        w.Line(Code.AggressiveOptimization);
        using (w.Block($"internal static bool Forward({plan.Net.Spec.ClassName} net, ref float input, ref float output, float[] workspace)"))
        {
            Locals(w, plan, t => $"{t.Name}: {t.Describe()}");
            EachStep(w, plan, s =>
            {
                if (s.ClearsOutputBorder)
                {
                    var o = plan.Tensors[s.Output];
                    w.Line(Clear(o, "ref " + o.Variable));
                }

                var args = s.Arguments.Select(id => id < 0 ? "ref output" : "ref " + plan.Tensors[id].Variable).Concat(s.WeightFields.Select(f => "net." + f));
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

            w.Line();
            w.Line("return true;");
        }
    }

    private static void ForwardGroup(SourceWriter w, NetworkPlan plan)
    {
        var net = plan.Net;
        int g = plan.BatchGroup, ws = plan.WorkspaceFloats;
        w.Line($"/// <summary>");
        w.Line($"/// Runs {Count(g, "image")} stored one after another: dense layers compute all {I(g)} at once so their weights stream");
        w.Line($"/// once per group; other steps run image by image. Image i's tensors lie {Count(ws, "float")} after image i - 1's.");
        w.Line($"/// </summary>");
        w.Line(Code.AggressiveOptimization);
        using (w.Block($"internal static void ForwardGroup({net.Spec.ClassName} net, ref float input, ref float output, float[] workspace)"))
        {
            Locals(w, plan, t => $"{t.Name}, image 0");
            EachStep(w, plan, s =>
            {
                var fields = s.WeightFields.Select(f => "net." + f).ToList();
                if (s.GroupMethod is not null)
                {
                    var args = new List<string> { "ref " + plan.Tensors[s.Inputs[0]].Variable, "ref " + plan.Tensors[s.Output].Variable };
                    w.Line($"{s.GroupMethod}({string.Join(", ", args.Concat(fields))});");
                    return;
                }

                using (w.Block($"for (int i = 0; i < {I(g)}; i++)"))
                {
                    string Ref(int id) => id < 0 ? $"ref {Code.Unsafe}.Add(ref output, i * {I(net.Output.Size)})"
                        : id == 0 ? $"ref {Code.Unsafe}.Add(ref input, i * {I(net.Input.Size)})"
                        : $"ref {Code.Unsafe}.Add(ref {plan.Tensors[id].Variable}, i * {I(ws)})";
                    if (s.ClearsOutputBorder)
                    {
                        w.Line(Clear(plan.Tensors[s.Output], Ref(s.Output)));
                    }

                    string note = s.ChecksFinite ? " // the batch was checked before it started" : string.Empty;
                    w.Line($"{s.Method}({string.Join(", ", s.Arguments.Select(Ref).Concat(fields))});{note}");
                }
            });
        }
    }

    /// <summary>Writes the steps a forward pass calls (a row-fused step runs inside the next), each after a blank line and its numbered title.</summary>
    private static void EachStep(SourceWriter w, NetworkPlan plan, Action<StepPlan> call)
    {
        int n = 0;
        foreach (var s in plan.Steps.Where(s => !s.RowFused))
        {
            w.Line();
            w.Line($"// {I(++n)}. {s.Title}");
            call(s);
        }
    }
}
