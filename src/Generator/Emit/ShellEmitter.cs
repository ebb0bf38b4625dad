using System.Linq;
using CnnGen.Generator.Model;
using static CnnGen.Generator.Emit.Kernels.KernelWriter;
using static CnnGen.Generator.Model.Words;

namespace CnnGen.Generator.Emit;

/// <summary>
/// Writes the network class's shell: its doc comment, metadata constants, fields, weight loading
/// (<see cref="LoadEmitter"/>) and prediction API (<see cref="PredictEmitter"/>). Everything here is the same at
/// every vector width: it reads the <see cref="Planning.CommonPlan"/>, and a width's plan only where the text
/// differs per width (repacking, dispatch).
/// </summary>
internal static class ShellEmitter
{
    public static string Emit(NetworkModel model)
    {
        var net = model.Net;
        string name = net.Spec.ClassName;
        var input = net.Input;
        var output = net.Output;
        string inputShape = $"{I(input.C)}x{I(input.H)}x{I(input.W)}, NCHW";
        var w = new SourceWriter();
        using (Emitter.OpenFile(w, model, string.Empty))
        {
            w.Line($"/// <summary>");
            w.Line($"/// CNN {name}: input {inputShape}, output {output.ToPyTorch()}; {CountNumber(net.Params, "parameter")}, {CountNumber(net.Flops, "FLOP")}.");
            w.Line($"/// Load weights with <see cref=\"Load(string, global::CnnGen.LoadOptions?)\"/>, then call <see cref=\"Predict({Code.ReadOnlySpan}{{float}}, {Code.Span}{{float}})\"/>.");
            w.Line($"/// </summary>");
            w.Line("/// <remarks>");
            w.Line("/// <code>");
            foreach (var line in Summary.Text(model).Split('\n'))
            {
                w.Line("/// " + Kernels.KernelWriter.Xml(line));
            }

            w.Line("/// </code>");
            w.Line("/// </remarks>");
            w.Line($"[{Code.GeneratedCode}(\"CnnGen\", \"{Emitter.Version}\")]");
            using (w.Block($"partial {net.Spec.ClassKeyword} {name} : {Code.INetwork}"))
            {
                Constants(w, model, inputShape);
                Fields(w, model);
                w.Line();
                LoadEmitter.Emit(w, model);
                PredictEmitter.Emit(w, model, inputShape);
            }
        }

        return w.ToString();
    }

    private static void Constants(SourceWriter w, NetworkModel model, string inputShape)
    {
        var net = model.Net;
        var input = net.Input;
        var output = net.Output;
        w.Line($"/// <summary>Input channels.</summary>");
        w.Line($"public const int InputChannels = {I(input.C)};");
        w.Line($"/// <summary>Input height in pixels.</summary>");
        w.Line($"public const int InputHeight = {I(input.H)};");
        w.Line($"/// <summary>Input width in pixels.</summary>");
        w.Line($"public const int InputWidth = {I(input.W)};");
        w.Line($"/// <summary>Floats in one input image ({inputShape}).</summary>");
        w.Line($"public const int InputSize = {I(input.Size)};");
        w.Line($"/// <summary>Floats in one output ({output.ToPyTorch()}).</summary>");
        w.Line($"public const int OutputSize = {I(output.Size)};");
        w.Line($"/// <summary>Trainable parameters (as PyTorch counts them).</summary>");
        w.Line($"public const long ParameterCount = {I(net.Params)};");
        w.Line($"/// <summary>Floating-point operations per image: 2 x multiply-adds of Conv2D and Dense layers.</summary>");
        w.Line($"public const long Flops = {I(net.Flops)};");
        w.Line($"/// <summary>Floats of workspace one thread needs for a prediction (the widest plan).</summary>");
        w.Line($"public const int WorkspaceFloats = {I(model.Plans.Max(p => (long)p.WorkspaceFloats * p.BatchGroup))};");
        w.Line($"/// <summary>A Keras-style summary: every layer with its output shape, parameters and FLOPs.</summary>");
        w.Line($"public const string Summary = {SourceWriter.Str(Summary.Text(model))};");
        w.Line($"/// <summary>The input shape without the batch axis: channels, height, width.</summary>");
        w.Line($"public static {Code.ReadOnlySpan}<int> InputShape => [{I(input.C)}, {I(input.H)}, {I(input.W)}];");
        w.Line($"/// <summary>The output shape without the batch axis.</summary>");
        w.Line($"public static {Code.ReadOnlySpan}<int> OutputShape => [{(output.Flat ? I(output.C) : $"{I(output.C)}, {I(output.H)}, {I(output.W)}")}];");
        w.Line();
        w.Line($"int {Code.INetwork}.InputSize => InputSize;");
        w.Line();
        w.Line($"int {Code.INetwork}.OutputSize => OutputSize;");
        w.Line();
        w.Line("/// <summary>The vector width this instance's kernels run with.</summary>");
        w.Line($"public {Code.VectorWidth} VectorWidth => _width;");
        w.Line();
    }

    private static void Fields(SourceWriter w, NetworkModel model)
    {
        w.Line($"[{Code.ThreadStatic}]");
        w.Line("private static float[]? t_workspace;");
        w.Line($"[{Code.ThreadStatic}]");
        w.Line("private static float[]? t_output;");
        w.Line($"private readonly {Code.VectorWidth} _width;");
        foreach (var f in model.Common.Weights.SelectMany(l => l.Fields))
        {
            w.Line($"private readonly float[] {f};");
        }
    }
}
