using System.Linq;
using CnnGen.Generator.Model;
using CnnGen.Generator.Planning;
using static CnnGen.Generator.Emit.Kernels.KernelWriter;
using static CnnGen.Generator.Model.Words;

namespace CnnGen.Generator.Emit;

/// <summary>
/// Writes weight loading: the constructor (read each tensor by its PyTorch name and shape, fold batch norms, then
/// repack for the chosen width), the width choice, and the public <c>Load</c> overloads.
/// </summary>
internal static class LoadEmitter
{
    public static void Emit(SourceWriter w, NetworkModel model)
    {
        Constructor(w, model);
        ChooseWidth(w, model);
        Loaders(w, model.Net.Spec.ClassName);
    }

    private static void Constructor(SourceWriter w, NetworkModel model)
    {
        var net = model.Net;
        string name = net.Spec.ClassName;
        w.Line($"private {name}({Code.TensorSet} tensors, {Code.LoadOptions}? options)");
        using (w.Block())
        {
            w.Line($"_width = ChooseWidth(options?.VectorWidth ?? {Code.VectorWidth}.Auto);");
            w.Line($"var reader = new {Code.WeightReader}(tensors, options, \"{name}\");");
            foreach (var layer in model.Common.Weights)
            {
                w.Line();
                Read(w, net.Layers[layer.Layer], layer, net);
            }

            w.Line();
            w.Line("reader.Finish();");
            w.Line();
            w.Line("// Repack once into the order the chosen width's kernels stream.");
            using (w.Block("switch (_width)"))
            {
                var plans = model.Plans.OrderByDescending(p => p.Width).ToList();
                foreach (var plan in plans)
                {
                    w.Line(plan == plans[plans.Count - 1] ? "default:" : $"case {Code.VectorWidth}.V{I(plan.Width * 32)}:");
                    using (w.Indented())
                    {
                        foreach (var pack in plan.Packs)
                        {
                            Repack(w, net.Layers[pack.Weights.Layer], pack);
                        }

                        w.Line("break;");
                    }
                }
            }
        }

        w.Line();
    }

    /// <summary>Reads one layer's tensors into locals (and folds a batch norm into a convolution's).</summary>
    private static void Read(SourceWriter w, Shapes.ShapedLayer l, WeightedLayer layer, Shapes.ShapedNetwork net)
    {
        var spec = l.Spec;
        string id = layer.Local;
        string key = SourceWriter.Str(spec.Name);
        switch (layer.Kind)
        {
            case WeightKind.Conv:
            {
                string desc = SourceWriter.Str($"Conv2D '{spec.Name}' ({Count(spec.Units, "filter")}, {Count(l.In.C / spec.Groups, "input channel")}{(spec.Groups > 1 ? " per group" : string.Empty)}, {I(spec.KernelH)}x{I(spec.KernelW)})");
                w.Line($"// {spec.Name}: Conv2D {I(l.In.C)} -> {Count(spec.Units, "channel")}, {I(spec.KernelH)}x{I(spec.KernelW)}");
                w.Line($"var {id}Weight = reader.Read({key}, \"weight\", {desc}, {I(spec.Units)}, {I(l.In.C / spec.Groups)}, {I(spec.KernelH)}, {I(spec.KernelW)});");
                w.Line(spec.Bias
                    ? $"var {id}Bias = reader.Read({key}, \"bias\", {desc}, {I(spec.Units)});"
                    : $"var {id}Bias = {Code.Array}.Empty<float>(); // Bias = false");
                if (layer.FoldedBatchNorm >= 0)
                {
                    var bn = net.Layers[layer.FoldedBatchNorm].Spec;
                    string bnKey = SourceWriter.Str(bn.Name);
                    string bnDesc = SourceWriter.Str($"BatchNorm2D '{bn.Name}' ({Count(spec.Units, "channel")})");
                    w.Line($"// {bn.Name}: BatchNorm2D folded into {spec.Name}: W' = W * g / sqrt(var + eps), b' = (b - mean) * g / sqrt(var + eps) + beta");
                    w.Line($"({id}Weight, {id}Bias) = {Code.Packing}.FoldBatchNorm({id}Weight, {id}Bias, {I(spec.Units)},");
                    using (w.Indented())
                    {
                        w.Line($"reader.Read({bnKey}, \"weight\", {bnDesc}, {I(spec.Units)}), reader.Read({bnKey}, \"bias\", {bnDesc}, {I(spec.Units)}),");
                        w.Line($"reader.Read({bnKey}, \"running_mean\", {bnDesc}, {I(spec.Units)}), reader.Read({bnKey}, \"running_var\", {bnDesc}, {I(spec.Units)}), {SourceWriter.Float(bn.Eps)});");
                    }
                }

                break;
            }

            case WeightKind.Dense:
            {
                string desc = SourceWriter.Str($"Dense '{spec.Name}' ({Count(spec.Units, "unit")}, {Count((int)l.In.Size, "input feature")})");
                w.Line($"// {spec.Name}: Dense {I(l.In.Size)} -> {I(spec.Units)}");
                w.Line($"var {id}Weight = reader.Read({key}, \"weight\", {desc}, {I(spec.Units)}, {I(l.In.Size)});");
                w.Line(spec.Bias
                    ? $"var {id}Bias = reader.Read({key}, \"bias\", {desc}, {I(spec.Units)});"
                    : $"var {id}Bias = {Code.Array}.Empty<float>(); // Bias = false");
                break;
            }

            case WeightKind.BatchNorm:
            {
                string desc = SourceWriter.Str($"BatchNorm2D '{spec.Name}' ({Count(l.In.C, "channel")})");
                w.Line($"// {spec.Name}: BatchNorm2D over {Count(l.In.C, "channel")}, eps {SourceWriter.Float(spec.Eps)}");
                foreach (var p in new[] { ("Gamma", "weight"), ("Beta", "bias"), ("Mean", "running_mean"), ("Var", "running_var") })
                {
                    w.Line($"var {id}{p.Item1} = reader.Read({key}, \"{p.Item2}\", {desc}, {I(l.In.C)});");
                }

                break;
            }
        }
    }

    /// <summary>Repacks one layer's locals into its fields, in the layout one width's kernels stream.</summary>
    private static void Repack(SourceWriter w, Shapes.ShapedLayer l, WeightPack pack)
    {
        var spec = l.Spec;
        string id = pack.Weights.Local;
        string weight = pack.Weights.Fields[0], bias = pack.Weights.Fields[1];
        string packBias = $"{bias} = {Code.Packing}.Bias({id}Bias, {I(spec.Units)}, {I(pack.PaddedUnits)});";
        switch (pack.Kind)
        {
            case PackKind.Conv:
                w.Line($"{weight} = {Code.Packing}.Conv({id}Weight, {I(spec.Units)}, {I(l.In.C)}, {I(spec.Groups)}, {I(spec.KernelH)}, {I(spec.KernelW)}, paddedFilters: {I(pack.PaddedUnits)}, tileFloats: {I(pack.TileFloats)});");
                w.Line(packBias);
                break;
            case PackKind.ConvTaps:
                w.Line($"{weight} = {Code.Packing}.ConvTaps({id}Weight, {I(spec.Units)}, {I(l.In.C)}, {I(spec.KernelH)}, {I(spec.KernelW)});");
                w.Line(packBias);
                break;
            case PackKind.Depthwise:
                w.Line($"{weight} = {Code.Packing}.Depthwise({id}Weight, {I(spec.Units)}, {I(spec.KernelH)}, {I(spec.KernelW)}, {I(pack.PaddedUnits)});");
                w.Line(packBias);
                break;
            case PackKind.Dense:
                var x = pack.DenseInput!;
                w.Line($"{weight} = {Code.Packing}.Dense({id}Weight, {I(spec.Units)}, {I(x.C)}, {I(x.H)}, {I(x.W)}, hwc: {(pack.DenseHwc ? "true" : "false")}, paddedUnits: {I(pack.PaddedUnits)}, tileFloats: {I(pack.TileFloats)});");
                w.Line(packBias);
                break;
            case PackKind.BatchNorm:
                w.Line($"({weight}, {bias}) = {Code.Packing}.BatchNorm({id}Gamma, {id}Beta, {id}Mean, {id}Var, {SourceWriter.Float(spec.Eps)}, {I(l.In.C)}, {I(pack.PaddedUnits)});");
                break;
        }
    }

    private static void ChooseWidth(SourceWriter w, NetworkModel model)
    {
        var widths = model.Plans.Select(p => p.Width).OrderByDescending(x => x).ToList();
        string vw = Code.VectorWidth;
        w.Line($"private static {vw} ChooseWidth({vw} requested)");
        using (w.Block())
        {
            using (w.Block($"if (requested != {vw}.Auto)"))
            {
                w.Line("return requested switch");
                using (w.SwitchExpression())
                {
                    foreach (int width in widths)
                    {
                        w.Line($"{vw}.V{I(width * 32)} => requested,");
                    }

                    w.Line($"_ => throw new {Code.ArgumentOutOfRangeException}(\"requested\", requested, \"{model.Net.Spec.ClassName} has kernels for {string.Join(", ", widths.Select(x => "V" + I(x * 32)))}\"),");
                }
            }

            w.Line();
            foreach (int width in widths.Take(widths.Count - 1))
            {
                using (w.Block($"if ({Code.Vector(width)}.IsHardwareAccelerated)"))
                {
                    w.Line($"return {vw}.V{I(width * 32)};");
                }

                w.Line();
            }

            w.Line($"return {vw}.V{I(widths.Last() * 32)};");
        }

        w.Line();
    }

    private static void Loaders(SourceWriter w, string name)
    {
        string opts = $"{Code.LoadOptions}? options = null";
        string ex = Code.WeightsException;
        w.Line("/// <summary>Loads PyTorch weights from a safetensors file (state_dict names and layouts).</summary>");
        w.Line($"/// <exception cref=\"{ex}\">The file is malformed, or a tensor is missing, misshapen or not finite.</exception>");
        w.Line($"public static {name} Load(string path, {opts}) => new({Code.TensorSet}.LoadSafeTensors(path), options);");
        w.Line();
        w.Line("/// <summary>Loads PyTorch weights from a safetensors stream.</summary>");
        w.Line($"/// <exception cref=\"{ex}\">The data is malformed, or a tensor is missing, misshapen or not finite.</exception>");
        w.Line($"public static {name} Load({Code.Stream} stream, {opts}) => new({Code.TensorSet}.LoadSafeTensors(stream), options);");
        w.Line();
        w.Line("/// <summary>Loads PyTorch weights from safetensors bytes.</summary>");
        w.Line($"/// <exception cref=\"{ex}\">The data is malformed, or a tensor is missing, misshapen or not finite.</exception>");
        w.Line($"public static {name} Load({Code.ReadOnlySpan}<byte> bytes, {opts}) => new({Code.TensorSet}.LoadSafeTensors(bytes), options);");
        w.Line();
        w.Line("/// <summary>Builds the network from tensors already in memory (PyTorch names and layouts).</summary>");
        w.Line($"/// <exception cref=\"{ex}\">A tensor is missing, misshapen or not finite.</exception>");
        w.Line($"public static {name} Load({Code.TensorSet} tensors, {opts}) => new(tensors, options);");
        w.Line();
    }
}
