using System.Collections.Generic;
using System.Linq;
using CnnGen.Generator.Model;
using CnnGen.Generator.Planning;
using static CnnGen.Generator.Emit.Kernels.KernelWriter;
using static CnnGen.Generator.Model.Words;

namespace CnnGen.Generator.Emit;

/// <summary>
/// Writes a trainable network's trainer: the nested <c>Trainer</c> class (a <c>CnnGen.Training.NetworkTrainer</c>) with
/// the parameters in the kernels' packed layouts, the batch norms' states, <c>Create</c> and <c>Load</c>, the hand-over to
/// the network, and the width dispatch into the training kernels (<see cref="Backward.TrainingKernelsEmitter"/>).
/// </summary>
internal static class TrainerEmitter
{
    public static string Emit(NetworkModel model, TrainingModel training)
    {
        var net = model.Net;
        string name = net.Spec.ClassName;
        var w = new SourceWriter();
        var plans = training.Plans.OrderByDescending(p => p.Width).ToList();
        using (Emitter.OpenFile(w, model, "The trainer."))
        using (w.Block($"partial class {name}"))
        {
            Doc(w, model, training);
            w.Line($"[{Code.GeneratedCode}(\"CnnGen\", \"{Emitter.Version}\")]");
            using (w.Block($"public sealed partial class Trainer : {Code.NetworkTrainer}"))
            {
                Fields(w, training);
                w.Line();
                Constructor(w, model, training, plans);
                Factories(w, name, training);
                Overrides(w, training, plans);
            }
        }

        return w.ToString();
    }

    private static void Doc(SourceWriter w, NetworkModel model, TrainingModel training)
    {
        string name = model.Net.Spec.ClassName;
        int parameters = training.Layers.Sum(l => l.HasBias ? 2 : 1);
        w.Line("/// <summary>");
        w.Line($"/// Trains {name} ({CountNumber(model.Net.Params, "parameter")} in {Count(parameters, "tensor")}) with generated backward kernels: create it with");
        w.Line("/// <see cref=\"Create\"/> (PyTorch's default initialisation) or <see cref=\"Load(string, global::CnnGen.Training.TrainerOptions?)\"/>,");
        w.Line($"/// step it with an optimizer over <see cref=\"{Code.NetworkTrainer}.Parameters\"/>, then <see cref=\"{Code.NetworkTrainer}.Save(string)\"/> or <see cref=\"ToNetwork\"/>.");
        w.Line("/// </summary>");
        w.Line("/// <remarks>");
        w.Line(training.Classes > 0
            ? $"/// Loss: cross-entropy over {Count(training.Classes, "class")}" + (training.FoldsSoftmax ? " on the logits (the final softmax is folded into it)" : string.Empty) + ", or the mean squared error.<br/>"
            : "/// Loss: the mean squared error (the output is not a vector of class scores).<br/>");
        foreach (var p in training.Plans)
        {
            w.Line($"/// {p.Forward.VectorType}: {CountNumber(p.ImageFloats, "float")} ({ForwardEmitter.Kb(p.ImageFloats)}) of workspace per image, {CountNumber(p.LaneMultiplyAdds, "multiply-add")} per image with the channels padded to the vectors.<br/>");
        }

        if (training.AutoWidth > 0)
        {
            w.Line($"/// Runs at Vector{I(training.AutoWidth * 32)} unless <c>TrainerOptions.VectorWidth</c> asks for another: wider vectors would multiply more padding");
            w.Line("/// (few channels in a wide vector), and a lane of multiply-add costs the same at both widths where a 512-bit FMA takes two 256-bit ones' cycles (AMD Zen 4).<br/>");
        }

        w.Line("/// </remarks>");
    }

    private static void Fields(SourceWriter w, TrainingModel training)
    {
        foreach (var l in training.Layers)
        {
            w.Line($"private readonly {Code.TrainingBuffer} {l.WeightField};");
            w.Line($"private readonly {Code.TrainingBuffer} {l.BiasField};");
            if (l.TransposedField is { } t)
            {
                w.Line($"private readonly {Code.TrainingBuffer} {t};");
            }

            if (l.StateField is { } s)
            {
                w.Line($"private readonly {Code.BatchNormTraining} {s};");
            }
        }
    }

    private static string Width(TrainingPlan p) => $"{Code.VectorWidth}.V{I(p.Width * 32)}";

    /// <summary>A value per width: <c>width switch { V512 =&gt; a, V128 =&gt; b, _ =&gt; c }</c> (Vector256 is the default).</summary>
    private static string PerWidth(List<TrainingPlan> plans, System.Func<TrainingPlan, long> value)
    {
        var baseline = plans.First(p => p.Width == 8);
        if (plans.All(p => value(p) == value(baseline)))
        {
            return I(value(baseline)); // the same at every width
        }

        var cases = plans.Where(p => p != baseline).Select(p => $"{Width(p)} => {I(value(p))}").Append($"_ => {I(value(baseline))}");
        return $"width switch {{ {string.Join(", ", cases)} }}";
    }

    private static void Constructor(SourceWriter w, NetworkModel model, TrainingModel training, List<TrainingPlan> plans)
    {
        var net = model.Net;
        string options = $"{Code.TrainerOptions}? options";
        w.Line($"private Trainer({Code.VectorWidth} width, {options})");
        using (w.Indented())
        {
            w.Line($": base({SourceWriter.Str(net.Spec.ClassName)}, {net.Spec.ClassName}.InputSize, {net.Spec.ClassName}.OutputSize, {I(training.Classes)}, width, {PerWidth(plans, p => p.ImageFloats)}, {PerWidth(plans, p => p.StatisticsDoubles)}, {I(training.BatchNormPixels)}, options)");
        }

        using (w.Block())
        {
            w.Line("// The layouts of this width's kernels: padded to the vector width, convolution filters in register tiles.");
            var declarations = new List<string>();
            foreach (var l in training.Layers)
            {
                declarations.Add(l.Local + "Weight");
                if (l.HasBias)
                {
                    declarations.Add(l.Local + "Bias");
                }
            }

            if (declarations.Count > 0)
            {
                w.Line($"{Code.ParameterLayout} {string.Join(", ", declarations)};");
            }

            var sizes = training.Layers.Where(NeedsPadded).Select(l => l.Local + "Padded")
                .Concat(training.Layers.Where(l => l.SplitColumns).SelectMany(l => new[] { l.Local + "Vector", l.Local + "Block" }))
                .Concat(training.Layers.Where(l => l.TransposedField is not null).Select(l => l.Local + "Transposed")).ToList();
            if (sizes.Count > 0)
            {
                w.Line("int " + string.Join(", ", sizes) + ";");
            }

            using (w.Block("switch (width)"))
            {
                foreach (var p in plans)
                {
                    w.Line(p.Width == 8 ? "default:" : $"case {Width(p)}:");
                    using (w.Indented())
                    {
                        foreach (var pack in p.Packs)
                        {
                            Layouts(w, pack);
                        }

                        foreach (var o in p.Outputs)
                        {
                            w.Line($"AddOutput({SourceWriter.Str(o.Layer)}, {I(o.Offset)}, {I(o.Floats)});");
                        }

                        w.Line("break;");
                    }
                }
            }

            foreach (var l in training.Layers)
            {
                w.Line();
                Register(w, net, l);
            }
        }

        w.Line();
    }

    private static void Layouts(SourceWriter w, ParameterPack pack)
    {
        var l = pack.Layer;
        string layouts = Code.TrainingLayouts;
        string vector = $"{layouts}.Vector({I(l.Units)}, {I(pack.PaddedUnits)})";
        switch (l.Kind)
        {
            case TrainableKind.Conv:
                w.Line($"{l.Local}Weight = {layouts}.Conv({I(l.Units)}, {I(l.Channels)}, {I(l.Groups)}, {I(l.KernelH)}, {I(l.KernelW)}, paddedFilters: {I(pack.PaddedUnits)}, tileFloats: {I(pack.TileFloats)});");
                break;
            case TrainableKind.Depthwise:
                w.Line($"{l.Local}Weight = {layouts}.Depthwise({I(l.Units)}, {I(l.KernelH)}, {I(l.KernelW)}, paddedChannels: {I(pack.PaddedUnits)});");
                break;
            case TrainableKind.Dense:
                string blocks = pack.BlockUnits > 0 ? $", blockUnits: {I(pack.BlockUnits)}" : string.Empty;
                w.Line($"{l.Local}Weight = {layouts}.Dense({I(l.Units)}, {I(l.Channels)}, {I(l.InputH)}, {I(l.InputW)}, hwc: {(pack.DenseHwc ? "true" : "false")}, paddedUnits: {I(pack.PaddedUnits)}{blocks});");
                break;
            default:
                w.Line($"{l.Local}Weight = {vector};");
                break;
        }

        if (l.HasBias)
        {
            w.Line($"{l.Local}Bias = {vector};");
        }

        if (NeedsPadded(l))
        {
            w.Line($"{l.Local}Padded = {I(pack.PaddedUnits)};");
        }
        if (l.SplitColumns)
        {
            w.Line($"{l.Local}Vector = {I(pack.BlockUnits)};");
            w.Line($"{l.Local}Block = {I((long)pack.BlockUnits * l.Channels * l.InputH * l.InputW)}; // one output vector's weights: a thread's columns are whole blocks");
        }

        if (l.TransposedField is not null)
        {
            w.Line($"{l.Local}Transposed = {I(pack.TransposedFloats)};");
        }
    }

    /// <summary>The padded units are needed by a bias-less layer's zero vector and a batch norm's state.</summary>
    private static bool NeedsPadded(TrainableLayer l) => !l.HasBias || l.StateField is not null;

    private static void Register(SourceWriter w, Shapes.ShapedNetwork net, TrainableLayer l)
    {
        var spec = net.Layers[l.Layer].Spec;
        string key = SourceWriter.Str(l.Name);
        string shape = "[" + string.Join(", ", l.WeightShape.Select(d => I(d))) + "]";
        w.Line($"// {l.Name}: {spec.DisplayKind} {shape}" + (l.HasBias ? string.Empty : ", no bias"));
        // on cache lines: the kernels' vector loads and stores of whole rows never split a line, and the threads of a layer
        // split by columns write whole lines of each row
        string aligned = $"{Code.TrainingBuffers}.LineAligned";
        w.Line($"{l.WeightField} = {aligned}({l.Local}Weight.PackedLength);");
        w.Line(l.HasBias ? $"{l.BiasField} = {aligned}({l.Local}Bias.PackedLength);" : $"{l.BiasField} = {aligned}({l.Local}Padded); // Bias = false: zeros for the forward kernel");
        if (l.TransposedField is { } t)
        {
            w.Line($"{t} = {aligned}({l.Local}Transposed);");
        }

        // the backward kernel stores it: no clearing; split by columns, every thread stores its own output vectors of one
        // buffer: whole blocks of the weights (one row of the whole length), whole vectors of the bias
        string overwritten = l.OverwritesGradients ? ", gradientOverwritten: true" : string.Empty;
        string weightSplit = l.SplitColumns ? $", blockFloats: {l.Local}Block" : overwritten;
        string biasSplit = l.SplitColumns ? $", blockFloats: {l.Local}Vector" : overwritten;
        w.Line($"AddParameter(new {Code.Parameter}({SourceWriter.Str(l.Name + ".weight")}, {shape}, {l.WeightField}, {aligned}({l.WeightField}.Length), {l.Local}Weight), {key}{weightSplit});");
        if (l.HasBias)
        {
            w.Line($"AddParameter(new {Code.Parameter}({SourceWriter.Str(l.Name + ".bias")}, [{I(l.Units)}], {l.BiasField}, {aligned}({l.BiasField}.Length), {l.Local}Bias), {key}{biasSplit});");
        }

        if (l.StateField is { } s)
        {
            w.Line($"{s} = new {Code.BatchNormTraining}({key}, {I(l.Units)}, {l.Local}Padded, {SourceWriter.Float(l.Eps)}, {l.WeightField}, {l.BiasField});");
            w.Line($"AddBatchNorm({s});");
        }
    }

    private static void Factories(SourceWriter w, string name, TrainingModel training)
    {
        string options = $"{Code.TrainerOptions}? options = null";
        string width = $"ChooseWidth(options?.VectorWidth ?? {Code.VectorWidth}.Auto)";
        if (training.AutoWidth > 0)
        {
            string vw = Code.VectorWidth, narrow = $"{vw}.V{I(training.AutoWidth * 32)}";
            width = "TrainingWidth(options)";
            w.Line($"/// <summary>The width asked for, else Vector{I(training.AutoWidth * 32)} where it is accelerated (it pads fewer channels: see the remarks), else the network's choice.</summary>");
            w.Line($"private static {vw} TrainingWidth({Code.TrainerOptions}? options) =>");
            using (w.Indented())
            {
                w.Line($"options is not null && options.VectorWidth != {vw}.Auto ? ChooseWidth(options.VectorWidth)");
                w.Line($": {Code.Vector(training.AutoWidth)}.IsHardwareAccelerated ? {narrow} : ChooseWidth({vw}.Auto);");
            }

            w.Line();
        }

        string ex = Code.WeightsException;
        w.Line("/// <summary>");
        w.Line("/// A trainer with PyTorch's default initialisation drawn from <paramref name=\"seed\"/> (convolution and dense weights");
        w.Line("/// kaiming-uniform with a = sqrt(5), biases uniform in +-1/sqrt(fan_in), batch norm 1 and 0 with running mean 0 and");
        w.Line("/// variance 1); the seed also draws the dropout masks.");
        w.Line("/// </summary>");
        using (w.Block($"public static Trainer Create(ulong seed, {options})"))
        {
            w.Line($"var trainer = new Trainer({width}, options);");
            w.Line("trainer.SetSeed(seed);");
            w.Line($"{Code.Initialization}.PyTorchDefault(trainer.Parameters, seed);");
            w.Line("return trainer;");
        }

        w.Line();
        w.Line("/// <summary>A trainer starting from PyTorch weights in a safetensors file (to continue training or fine-tune); strict, as the network's <c>Load</c>.</summary>");
        w.Line($"/// <exception cref=\"{ex}\">The file is malformed, or a tensor is missing, misshapen, not finite or unknown.</exception>");
        w.Line($"public static Trainer Load(string path, {options}) => Load({Code.TensorSet}.LoadSafeTensors(path), options);");
        w.Line();
        w.Line("/// <summary>A trainer starting from PyTorch weights in a safetensors stream.</summary>");
        w.Line($"/// <exception cref=\"{ex}\">The data is malformed, or a tensor is missing, misshapen, not finite or unknown.</exception>");
        w.Line($"public static Trainer Load({Code.Stream} stream, {options}) => Load({Code.TensorSet}.LoadSafeTensors(stream), options);");
        w.Line();
        w.Line("/// <summary>A trainer starting from PyTorch tensors in memory (names and layouts of a <c>state_dict</c>).</summary>");
        w.Line($"/// <exception cref=\"{ex}\">A tensor is missing, misshapen, not finite or unknown.</exception>");
        using (w.Block($"public static Trainer Load({Code.TensorSet} tensors, {options})"))
        {
            w.Line($"var trainer = new Trainer({width}, options);");
            w.Line("trainer.LoadState(tensors);");
            w.Line("return trainer;");
        }

        w.Line();
        w.Line($"/// <summary>The trained weights as a {name} for inference (through <see cref=\"{Code.NetworkTrainer}.ToTensorSet\"/>, no file).</summary>");
        w.Line($"public {name} ToNetwork({Code.LoadOptions}? options = null) => {name}.Load(ToTensorSet(), options);");
        w.Line();
    }

    private static void Overrides(SourceWriter w, TrainingModel training, List<TrainingPlan> plans)
    {
        void Dispatch(string signature, string call)
        {
            w.Line("/// <inheritdoc/>");
            using (w.Block($"protected override void {signature}"))
            using (w.Block("switch (VectorWidth)"))
            {
                foreach (var p in plans)
                {
                    w.Line(p.Width == 8 ? "default:" : $"case {Width(p)}:");
                    using (w.Indented())
                    {
                        w.Line($"{p.KernelClass}.{call};");
                        w.Line("break;");
                    }
                }
            }

            w.Line();
        }

        Dispatch("ForwardSlice(int thread, int begin, int end, bool training, bool logits)", "Forward(this, thread, begin, end, training, logits)");
        Dispatch("BackwardSlice(int thread, int begin, int end, bool fromLogits, bool inputGradients)", "Backward(this, thread, begin, end, fromLogits, inputGradients)");
        var transposed = training.Layers.Where(l => l.TransposedField is not null).ToList();
        if (transposed.Count == 0)
        {
            return;
        }

        w.Line("/// <inheritdoc/>");
        using (w.Block("protected override void PrepareBackward(bool inputGradients)"))
        using (w.Block("switch (VectorWidth)"))
        {
            foreach (var p in plans)
            {
                w.Line(p.Width == 8 ? "default:" : $"case {Width(p)}:");
                using (w.Indented())
                {
                    foreach (var pack in p.Packs.Where(k => k.Layer.TransposedField is not null))
                    {
                        var l = pack.Layer;
                        string call = l.Kind == TrainableKind.Conv
                            ? $"{Code.TrainingLayouts}.TransposeConv({l.WeightField}.Span, {l.TransposedField}.Span, {I(l.Units)}, {I(l.Channels)}, {I(l.KernelH)}, {I(l.KernelW)}, {I(pack.TileFloats)}, {I(pack.GradientChannels)});"
                            : $"{Code.TrainingLayouts}.TransposeDense({l.WeightField}.Span, {l.TransposedField}.Span, {I(l.Units)}, {I(pack.PaddedUnits)}, {I(l.Channels)}, {I(l.InputH)}, {I(l.InputW)}, forwardHwc: {(pack.DenseHwc ? "true" : "false")}, gradientHwc: {(pack.GradientHwc ? "true" : "false")}, {I(pack.GradientChannels)}, {I(pack.GradientFloats)}{(pack.BlockUnits > 0 ? $", blockUnits: {I(pack.BlockUnits)}" : string.Empty)});";
                        if (l.TransposedOnRequest)
                        {
                            using (w.Block("if (inputGradients)"))
                            {
                                w.Line(call);
                            }
                        }
                        else
                        {
                            w.Line(call);
                        }
                    }

                    w.Line("break;");
                }
            }
        }
    }
}
