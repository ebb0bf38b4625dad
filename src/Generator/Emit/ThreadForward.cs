using System.Collections.Generic;
using System.Linq;
using CnnGen.Generator.Planning;
using static CnnGen.Generator.Emit.Kernels.KernelWriter;
using static CnnGen.Generator.Model.Words;

namespace CnnGen.Generator.Emit;

/// <summary>
/// Writes the <c>Forward</c> overload one thread of several runs when they share one image (a width whose plan splits
/// steps, <see cref="NetworkPlan.SplitsImage"/>): the same steps as <c>Forward</c>, a split step called with the thread's
/// range of rows (<c>Slice</c>), the others on thread 0, and a <c>Barrier()</c> wherever a step reads what another
/// thread wrote (before and after every split step).
/// </summary>
internal static class ThreadForward
{
    private const string Parameters = "ref float input, ref float output, float[] workspace, int thread, int threads";

    public static void Emit(SourceWriter w, NetworkPlan plan)
    {
        string parameters = $"{plan.Net.Spec.ClassName} net, {Parameters}";
        w.Line("/// <summary>");
        w.Line("/// Thread <paramref name=\"thread\"/>'s share of <see cref=\"Forward(" + plan.Net.Spec.ClassName + ", ref float, ref float, float[])\"/> when <paramref name=\"threads\"/> threads run one");
        w.Line("/// image together on one workspace: a large step's output rows (a dense layer's tiles) are cut into one contiguous");
        w.Line("/// range per thread, the small steps run on thread 0, and the threads wait for each other at a barrier before a step");
        w.Line("/// that reads what others wrote. Every thread returns false, before anything is written to <paramref name=\"output\"/>,");
        w.Line("/// when packing the input finds NaN or infinity. Called with thread 0 of 1, it is the whole pass on one thread.");
        w.Line("/// </summary>");
        w.Line(Code.Hot);
        if (plan.Parts.Count == 1)
        {
            using (w.Block($"internal static bool Forward({parameters})"))
            {
                Steps(w, plan, plan.Parts[0]);
                w.Line();
                w.Line("return true;");
            }

            return;
        }

        using (w.Block($"internal static bool Forward({parameters})"))
        {
            ForwardEmitter.PartCalls(w, plan, "Forward", returns: true, "net, ref input, ref output, workspace, thread, threads");
            w.Line();
            w.Line("return true;");
        }

        foreach (var part in plan.Parts)
        {
            w.Line();
            w.Line($"/// <summary>Steps {I(part.First + 1)} to {I(part.First + part.Count)} of thread <paramref name=\"thread\"/>'s share of the forward pass.</summary>");
            w.Line(Code.Hot);
            using (w.Block($"private static {(part.ChecksFinite ? "bool" : "void")} Forward{part.Suffix}({parameters})"))
            {
                Steps(w, plan, part);
                if (part.ChecksFinite)
                {
                    w.Line();
                    w.Line("return true;");
                }
            }
        }
    }

    /// <summary>One part's steps: split steps on every thread with its range, runs of small steps on thread 0, barriers between.</summary>
    private static void Steps(SourceWriter w, NetworkPlan plan, ForwardPart part)
    {
        var run = plan.Steps.Where(s => !s.RowFused).ToList();
        ForwardEmitter.Locals(w, plan, part, t => $"{t.Name}: {t.Describe()}");
        int i = part.First, end = part.First + part.Count;
        while (i < end)
        {
            var s = run[i];
            if (i > 0 && !run[i - 1].ChecksFinite && (s.SplitUnits > 0 || run[i - 1].SplitUnits > 0))
            {
                w.Line();
                w.Line(s.SplitUnits > 0 && run[i - 1].SplitUnits > 0
                    ? "Barrier(); // the next step reads rows the other threads wrote"
                    : s.SplitUnits > 0 ? "Barrier(); // the next step reads what thread 0 wrote" : "Barrier(); // the next steps read rows every thread wrote");
            }

            if (s.SplitUnits > 0 && !s.ChecksFinite)
            {
                Title(w, i, s, $", {s.Kind switch { StepKind.Dense => "tiles", StepKind.GlobalPool => "channel vectors", _ when s.Kernel is Planning.Kernels.ConvKernel { SplitTiles: > 0 } => "rows' weight tiles", _ => "rows" }} split between the threads");
                if (s.ClearsOutputBorder)
                {
                    using (w.Block("if (thread == 0)"))
                    {
                        var o = plan.Tensors[s.Output];
                        w.Line(ForwardEmitter.Clear(o, "ref " + o.Variable));
                    }
                }

                string n = I(s.SplitUnits);
                // What each thread but thread 0 keeps of its own: a Winograd convolution's tiles, a row pair's row buffer.
                var (scratch, what) = s.Kernel is Planning.Kernels.WinogradKernel ? (s.Inputs[s.Inputs.Count - 1], "tiles")
                    : s.FusedDepthwise >= 0 ? (s.Inputs[0], "row buffer") : (-2, string.Empty);
                var args = ForwardEmitter.Arguments(plan, s, id => id == scratch
                    ? $"ref {Code.Parallelism}.Scratch(thread, {ForwardEmitter.Ref(plan, id)}, {I(plan.Tensors[id].Floats)}) /* threads but thread 0: their own {what} */"
                    : ForwardEmitter.Ref(plan, id), $"Slice({n}, thread, threads), Slice({n}, thread + 1, threads)");
                w.Line($"{s.Method}({string.Join(", ", args)});");
                i++;
                continue;
            }

            if (s.ChecksFinite)
            {
                // Packing the input: each thread its rows (or thread 0 all), and no thread goes on if one found NaN or infinity.
                bool split = s.SplitUnits > 0;
                string n = I(s.SplitUnits);
                Title(w, i, s, split ? ", rows split between the threads" : ", on thread 0");
                var args = ForwardEmitter.Arguments(plan, s, id => ForwardEmitter.Ref(plan, id), split ? $"Slice({n}, thread, threads), Slice({n}, thread + 1, threads)" : null);
                w.Line($"bool finite = {(split ? string.Empty : "thread != 0 || ")}{s.Method}({string.Join(", ", args)});");
                using (w.Block("if (!Barrier(finite))"))
                {
                    w.Line(split ? "return false; // a thread found NaN or infinity in its rows: no thread goes on" : "return false; // thread 0 found NaN or infinity: no thread goes on");
                }

                i++;
                continue;
            }

            // A run of small steps: thread 0 does them in order while the others go on to the barrier after them.
            var serial = new List<int>();
            while (i < end && run[i].SplitUnits == 0 && !run[i].ChecksFinite)
            {
                serial.Add(i++);
            }

            w.Line();
            using (w.Block("if (thread == 0)"))
            {
                bool first = true;
                foreach (int j in serial)
                {
                    if (!first)
                    {
                        w.Line();
                    }

                    first = false;
                    var t = run[j];
                    w.Line($"// {I(j + 1)}. {t.Title}");
                    if (t.ClearsOutputBorder)
                    {
                        var o = plan.Tensors[t.Output];
                        w.Line(ForwardEmitter.Clear(o, "ref " + o.Variable));
                    }

                    w.Line($"{t.Method}({string.Join(", ", ForwardEmitter.Arguments(plan, t, id => ForwardEmitter.Ref(plan, id)))});");
                }
            }
        }
    }

    private static void Title(SourceWriter w, int i, StepPlan s, string how)
    {
        w.Line();
        w.Line($"// {I(i + 1)}. {s.Title}{how}");
    }
}
