using System.Collections.Generic;
using System.Linq;
using CnnGen.Generator.Model;
using CnnGen.Generator.Planning;
using static CnnGen.Generator.Emit.Kernels.KernelWriter;
using static CnnGen.Generator.Model.Words;

namespace CnnGen.Generator.Emit;

/// <summary>
/// Writes the prediction API: <c>Predict</c> (span and array), <c>PredictBatch</c> (one thread, with batch groups
/// when dense layers dominate, and multi-threaded), <c>Classify</c>, and the width dispatch (<c>Run</c>,
/// <c>RunGroup</c>) into the kernel classes.
/// </summary>
internal static class PredictEmitter
{
    public static void Emit(SourceWriter w, NetworkModel model, string inputShape)
    {
        var net = model.Net;
        string name = net.Spec.ClassName;
        string outShape = net.Output.ToPyTorch();
        string span = Code.Span, readOnlySpan = Code.ReadOnlySpan, guard = Code.Guard, mm = Code.MemoryMarshal, us = Code.Unsafe;
        w.Line("/// <summary>");
        w.Line($"/// Runs {name} on one image: <paramref name=\"input\"/> holds {Count(net.Input.Size, "float")} ({inputShape}), <paramref name=\"output\"/> receives {I(net.Output.Size)} ({outShape}).");
        w.Line("/// Allocates nothing after a thread's first call; one instance may be used from many threads at once.");
        w.Line("/// </summary>");
        w.Line($"/// <exception cref=\"{Code.ArgumentException}\">A span has the wrong length, or the input holds NaN or infinity.</exception>");
        w.Line(Overflow("The message names the first such output; <paramref name=\"output\"/> holds what was computed."));
        using (w.Block($"public void Predict({readOnlySpan}<float> input, {span}<float> output)"))
        {
            w.Line($"{guard}.Length(input.Length, InputSize, \"input\", \"{name}\", \"{inputShape}\", \"input\");");
            w.Line($"{guard}.Length(output.Length, OutputSize, \"output\", \"{name}\", \"{outShape}\", \"output\");");
            if (model.Common.PacksInput)
            {
                w.Line("// Packing the input checks it for NaN and infinity in the same pass, before any output is written.");
                if (ChecksOutput(model) != Checks.None)
                {
                    w.Line((ChecksOutput(model) == Checks.All ? "// The last step" : "// At some widths the last step") + " checks the outputs it stores: false is then either, and NotFinite names which.");
                }

                using (w.Block($"if (!Run(ref {mm}.GetReference(input), ref {mm}.GetReference(output)))"))
                {
                    w.Line(NotFinite(model, "input", $"ref {mm}.GetReference(output)"));
                }
            }
            else
            {
                w.Line($"{guard}.Finite(input, \"input\");");
                w.Line($"Run(ref {mm}.GetReference(input), ref {mm}.GetReference(output));");
            }

            OutputCheck(w, model, $"ref {mm}.GetReference(output)");
        }

        w.Line();
        PredictOnThreads(w, model, inputShape);

        w.Line();
        w.Line("/// <summary>Runs the network on one image and returns a new array with the output (allocates; see the span overload).</summary>");
        w.Line($"/// <exception cref=\"{Code.ArgumentException}\">The input has the wrong length or holds NaN or infinity.</exception>");
        w.Line(Overflow("The message names the first such output."));
        using (w.Block($"public float[] Predict({readOnlySpan}<float> input)"))
        {
            w.Line("var output = new float[OutputSize];");
            w.Line("Predict(input, output);");
            w.Line("return output;");
        }

        w.Line();
        w.Line("/// <summary>Runs the network on <paramref name=\"batchSize\"/> images stored one after another (NCHW).</summary>");
        w.Line($"/// <exception cref=\"{Code.ArgumentException}\">The spans do not hold exactly <paramref name=\"batchSize\"/> inputs and outputs, or an input is not finite.</exception>");
        w.Line(Overflow("The message names the first such output and its image; <paramref name=\"outputs\"/> hold what was computed."));
        using (w.Block($"public void PredictBatch({readOnlySpan}<float> inputs, {span}<float> outputs, int batchSize)"))
        {
            w.Line($"{guard}.Batch(inputs.Length, outputs.Length, batchSize, InputSize, OutputSize, \"{name}\");");
            w.Line($"{guard}.Finite(inputs, \"inputs\");");
            w.Line("RunBatch(inputs, outputs, batchSize);");
            w.Line($"{guard}.OutputFinite(ref {mm}.GetReference(outputs), outputs.Length, OutputSize, \"{name}\");");
        }

        w.Line();
        w.Line("/// <summary>Runs a batch whose spans and inputs were checked.</summary>");
        using (w.Block($"private void RunBatch({readOnlySpan}<float> inputs, {span}<float> outputs, int batchSize)"))
        {
            string Call(string method) => $"{method}(ref {us}.Add(ref {mm}.GetReference(inputs), i * InputSize), ref {us}.Add(ref {mm}.GetReference(outputs), i * OutputSize));";
            if (model.Common.GroupsBatches)
            {
                w.Line("int i = 0;");
                w.Line("// Dense layers do most of the work here: a group of images at a time streams each weight once.");
                w.Line("int group = _width switch");
                using (w.SwitchExpression())
                {
                    foreach (var p in model.Plans)
                    {
                        w.Line($"{Code.VectorWidth}.V{I(p.Width * 32)} => {I(p.BatchGroup)},");
                    }

                    w.Line("_ => 1,");
                }

                using (w.Block("for (; i + group <= batchSize; i += group)"))
                {
                    w.Line(Call("RunGroup"));
                }

                w.Line();
                using (w.Block("for (; i < batchSize; i++)"))
                {
                    w.Line(Call("Run") + " // the caller checked the inputs: packing cannot fail");
                }
            }
            else
            {
                using (w.Block("for (int i = 0; i < batchSize; i++)"))
                {
                    w.Line(Call("Run") + " // the caller checked the inputs: packing cannot fail");
                }
            }
        }

        w.Line();
        w.Line("/// <summary>");
        w.Line("/// Runs a batch on up to <paramref name=\"threads\"/> threads, each taking a contiguous slice of the images");
        w.Line("/// (each thread has its own workspace). The threads are a pool CnnGen keeps for the process, parked between calls;");
        w.Line("/// a call allocates nothing after the first. A call made while another thread's call holds the pool runs its slices");
        w.Line("/// on the .NET thread pool instead (the same results; that call allocates about 2 KB).");
        w.Line("/// </summary>");
        w.Line($"/// <exception cref=\"{Code.ArgumentException}\">The memory does not hold exactly <paramref name=\"batchSize\"/> inputs and outputs, or an input is not finite.</exception>");
        w.Line(Overflow("The message names the first such output and its image; <paramref name=\"outputs\"/> hold what was computed."));
        using (w.Block($"public void PredictBatch({Code.ReadOnlyMemory}<float> inputs, {Code.Memory}<float> outputs, int batchSize, int threads)"))
        {
            w.Line($"{guard}.Batch(inputs.Length, outputs.Length, batchSize, InputSize, OutputSize, \"{name}\");");
            w.Line($"{guard}.Finite(inputs.Span, \"inputs\"); // the whole batch, before any thread writes an output");
            w.Line($"{Code.Parallelism}.Split(threads, batchSize, this, inputs, outputs, s_runSlice);");
            w.Line($"{guard}.OutputFinite(ref {mm}.GetReference(outputs.Span), outputs.Length, OutputSize, \"{name}\");");
        }

        w.Line();
        w.Line("/// <summary>One thread's share of a checked batch: <c>count</c> images from image <c>start</c> (static, so passing it allocates nothing).</summary>");
        w.Line($"private static readonly {Code.BatchSlice}<{name}> s_runSlice = static (network, inputs, outputs, start, count) =>");
        w.Line("    network.RunBatch(inputs.Span.Slice(start * InputSize, count * InputSize), outputs.Span.Slice(start * OutputSize, count * OutputSize), count);");

        w.Line();
        w.Line("/// <summary>The index of the largest output for one image (the predicted class).</summary>");
        w.Line($"/// <exception cref=\"{Code.ArgumentException}\">The input has the wrong length or is not finite.</exception>");
        w.Line(Overflow("The message names the first such output."));
        using (w.Block($"public int Classify({readOnlySpan}<float> input)"))
        {
            w.Line("var output = t_output ??= new float[OutputSize];");
            w.Line("Predict(input, output);");
            w.Line($"return {guard}.ArgMax(output);");
        }

        w.Line();
        var plans = model.Plans.OrderByDescending(p => p.Width).ToList();
        Run(w, plans, "Run", "Forward", returns: true);
        if (model.Common.GroupsBatches)
        {
            w.Line();
            Run(w, plans, "RunGroup", "ForwardGroup", returns: false);
        }
    }

    /// <summary>
    /// <c>Predict(input, output, threads)</c>: one image on several threads. A width whose plan splits steps runs its
    /// <c>Forward</c> overload for a thread on the runtime's pool (<c>Parallelism.Share</c>, the delegate a static field);
    /// another width, or a network none of whose steps is worth splitting, runs on the calling thread.
    /// </summary>
    private static void PredictOnThreads(SourceWriter w, NetworkModel model, string inputShape)
    {
        var net = model.Net;
        string name = net.Spec.ClassName;
        string outShape = net.Output.ToPyTorch();
        string guard = Code.Guard, mm = Code.MemoryMarshal;
        var split = model.Plans.Where(p => p.SplitsImage).OrderByDescending(p => p.Width).ToList();
        w.Line("/// <summary>");
        w.Line($"/// Runs {name} on one image with up to <paramref name=\"threads\"/> threads working together: each large layer's output rows");
        w.Line("/// (a dense layer's output tiles) are cut into one contiguous range per thread, small layers run on the calling thread,");
        w.Line("/// and the threads wait for each other between dependent layers. The output is the same, bit for bit, as the span");
        w.Line("/// overload's. The other threads are a pool CnnGen keeps for the process, parked between calls; a call allocates nothing");
        w.Line("/// after the first. A call made while another thread's call holds the pool, or with one thread, runs on the calling thread alone.");
        if (split.Count == 0)
        {
            w.Line($"/// No layer of {name} is large enough to gain from threads: it always runs on the calling thread.");
        }

        w.Line("/// </summary>");
        w.Line($"/// <exception cref=\"{Code.ArgumentException}\">A buffer has the wrong length, or the input holds NaN or infinity.</exception>");
        w.Line($"/// <exception cref=\"{Code.ArgumentOutOfRangeException}\"><paramref name=\"threads\"/> is 0 or negative.</exception>");
        w.Line(Overflow("The message names the first such output; <paramref name=\"output\"/> holds what was computed."));
        using (w.Block($"public void Predict({Code.ReadOnlyMemory}<float> input, {Code.Memory}<float> output, int threads)"))
        {
            if (split.Count == 0)
            {
                w.Line($"{guard}.Threads(threads);");
                w.Line("Predict(input.Span, output.Span);");
                return;
            }

            w.Line($"{guard}.Threads(threads);");
            w.Line($"{guard}.Length(input.Length, InputSize, \"input\", \"{name}\", \"{inputShape}\", \"input\");");
            w.Line($"{guard}.Length(output.Length, OutputSize, \"output\", \"{name}\", \"{outShape}\", \"output\");");
            if (model.Common.PacksInput)
            {
                w.Line("// Packing the input (thread 0) checks it for NaN and infinity in the same pass, before any output is written.");
                using (w.Block("if (!RunShared(input, output, threads))"))
                {
                    w.Line(NotFinite(model, "input.Span", $"ref {mm}.GetReference(output.Span)"));
                }
            }
            else
            {
                w.Line($"{guard}.Finite(input.Span, \"input\");");
                w.Line("RunShared(input, output, threads);");
            }

            OutputCheck(w, model, $"ref {mm}.GetReference(output.Span)", comment: false);
        }

        if (split.Count == 0)
        {
            return;
        }

        w.Line();
        w.Line("/// <summary>Runs one checked image on up to <paramref name=\"threads\"/> threads; false when packing the input found NaN or infinity.</summary>");
        using (w.Block($"private bool RunShared({Code.ReadOnlyMemory}<float> input, {Code.Memory}<float> output, int threads)"))
        {
            w.Line($"var workspace = t_workspace ??= {Code.Buffers}.Workspace(WorkspaceFloats);");
            var plans = model.Plans.OrderByDescending(p => p.Width).ToList();
            using (w.Block("switch (_width)"))
            {
                for (int i = 0; i < plans.Count; i++)
                {
                    var p = plans[i];
                    w.Line(i == plans.Count - 1 ? "default:" : $"case {Code.VectorWidth}.V{I(p.Width * 32)}:");
                    using (w.Indented())
                    {
                        w.Line(p.SplitsImage
                            ? $"return {Code.Parallelism}.Share(threads, this, input, output, workspace, s_share{I(p.Width * 32)});"
                            : $"return {p.KernelClass}.Forward(this, ref {mm}.GetReference(input.Span), ref {mm}.GetReference(output.Span), workspace); // no step of this width is worth splitting");
                    }
                }
            }
        }

        foreach (var p in split)
        {
            w.Line();
            w.Line($"/// <summary>{p.KernelClass}'s forward pass for one of several threads sharing an image (static, so passing it allocates nothing).</summary>");
            w.Line($"private static readonly {Code.ImageShare}<{name}> s_share{I(p.Width * 32)} = {p.KernelClass}.Forward;");
        }
    }

    /// <summary>Which widths' kernels check the outputs they store (<see cref="NetworkPlan.ChecksOutput"/>).</summary>
    private enum Checks
    {
        None,
        Some,
        All,
    }

    private static Checks ChecksOutput(NetworkModel model) =>
        model.Plans.All(p => p.ChecksOutput) ? Checks.All : model.Plans.Any(p => p.ChecksOutput) ? Checks.Some : Checks.None;

    /// <summary>What a single-image prediction does when its forward pass returns false: name the bad input or, where kernels check their stores, the bad output.</summary>
    private static string NotFinite(NetworkModel model, string input, string output) => ChecksOutput(model) == Checks.None
        ? $"{Code.Guard}.ThrowNotFinite({input}, \"input\");"
        : $"{Code.Guard}.NotFinite({input}, \"input\", {output}, OutputSize, \"{model.Net.Spec.ClassName}\");";

    /// <summary>The scan of a single image's output after its forward pass, unless every width's kernels checked what they stored.</summary>
    private static void OutputCheck(SourceWriter w, NetworkModel model, string output, bool comment = true)
    {
        w.Line();
        if (ChecksOutput(model) == Checks.All)
        {
            w.Line("// The kernels checked every output as they stored it (a false return above): no scan of the output.");
            return;
        }

        if (comment)
        {
            w.Line("// A finite input can still overflow float32 inside the network: report it instead of returning NaN scores.");
        }

        w.Line($"{Code.Guard}.OutputFinite({output}, OutputSize, OutputSize, \"{model.Net.Spec.ClassName}\");");
    }

    /// <summary>The <c>ArithmeticException</c> every prediction documents: a finite input whose result overflowed float32.</summary>
    private static string Overflow(string message) =>
        $"/// <exception cref=\"{Code.ArithmeticException}\">An output is NaN or infinity although the input is finite: an intermediate value overflowed float32 (an input or a weight too large in magnitude, e.g. <see cref=\"float.MaxValue\"/> pixels). {message}</exception>";

    /// <summary>The width dispatch: one case per kernel class, widest first; the last is the default.</summary>
    private static void Run(SourceWriter w, List<NetworkPlan> plans, string name, string forward, bool returns)
    {
        using (w.Block($"private {(returns ? "bool" : "void")} {name}(ref float input, ref float output)"))
        {
            w.Line($"var workspace = t_workspace ??= {Code.Buffers}.Workspace(WorkspaceFloats);");
            using (w.Block("switch (_width)"))
            {
                for (int i = 0; i < plans.Count; i++)
                {
                    string cls = plans[i].KernelClass;
                    w.Line(i == plans.Count - 1 ? "default:" : $"case {Code.VectorWidth}.V{I(plans[i].Width * 32)}:");
                    using (w.Indented())
                    {
                        if (returns)
                        {
                            w.Line($"return {cls}.{forward}(this, ref input, ref output, workspace);");
                        }
                        else
                        {
                            w.Line($"{cls}.{forward}(this, ref input, ref output, workspace);");
                            w.Line("break;");
                        }
                    }
                }
            }
        }
    }
}
