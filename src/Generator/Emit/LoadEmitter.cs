using System.Collections.Generic;
using System.Linq;
using CnnGen.Generator.Model;
using CnnGen.Generator.Planning;
using static CnnGen.Generator.Emit.Kernels.KernelWriter;
using static CnnGen.Generator.Model.Words;

namespace CnnGen.Generator.Emit;

/// <summary>
/// Writes weight loading: the constructor (one loader call per weighted layer), the loader methods (read a layer's
/// tensors by their PyTorch names and shapes, fold a batch norm, repack for the chosen width; one method per distinct
/// loader, shared by the layers the planner grouped), the width choice, and the public <c>Load</c> overloads.
/// </summary>
internal static class LoadEmitter
{
    /// <summary>Layers a shared loader's summary names before "and N more".</summary>
    private const int ListedUsers = 4;

    public static void Emit(SourceWriter w, NetworkModel model)
    {
        Constructor(w, model);
        var common = model.Common;
        var written = new HashSet<string>(System.StringComparer.Ordinal);
        for (int i = 0; i < common.Weights.Count; i++)
        {
            if (written.Add(common.Loaders[i]))
            {
                Loader(w, model, i);
            }
        }

        ChooseWidth(w, model);
        Loaders(w, model.Net.Spec.ClassName);
    }

    private static void Constructor(SourceWriter w, NetworkModel model)
    {
        var net = model.Net;
        var common = model.Common;
        w.Line($"private {net.Spec.ClassName}({Code.WeightReader} reader)");
        using (w.Block())
        {
            w.Line($"_width = ChooseWidth(reader.Options.VectorWidth);");
            for (int i = 0; i < common.Weights.Count; i++)
            {
                var layer = common.Weights[i];
                var names = new List<string> { SourceWriter.Str(net.Layers[layer.Layer].Spec.Name) };
                if (layer.FoldedBatchNorm >= 0)
                {
                    names.Add(SourceWriter.Str(net.Layers[layer.FoldedBatchNorm].Spec.Name));
                }

                w.Line($"({layer.Fields[0]}, {layer.Fields[1]}) = {common.Loaders[i]}(reader, _width, {string.Join(", ", names)});");
            }

            w.Line("reader.Finish();");
        }

        w.Line();
    }

    /// <summary>
    /// The loader of weighted layer <paramref name="index"/> (and of every later layer sharing it): reads the tensors of
    /// the layer named by its parameter, folds a batch norm, and returns the fields' arrays repacked for <c>width</c>.
    /// </summary>
    private static void Loader(SourceWriter w, NetworkModel model, int index)
    {
        var net = model.Net;
        var layer = model.Common.Weights[index];
        var l = net.Layers[layer.Layer];
        var spec = l.Spec;
        string method = model.Common.Loaders[index];
        var users = Enumerable.Range(0, model.Common.Weights.Count).Where(i => model.Common.Loaders[i] == method)
            .Select(i => model.Common.Weights[i]).Select(u => net.Layers[u.Layer].Spec.Name + (u.FoldedBatchNorm >= 0 ? " + " + net.Layers[u.FoldedBatchNorm].Spec.Name : string.Empty)).ToList();
        string listed = string.Join(", ", users.Take(ListedUsers)) + (users.Count > ListedUsers ? $" and {I(users.Count - ListedUsers)} more" : string.Empty);
        bool folds = layer.FoldedBatchNorm >= 0;
        string what = layer.Kind switch
        {
            WeightKind.Conv => $"a Conv2D ({Count(spec.Units, "filter")}, {Count(l.In.C / spec.Groups, "input channel")}{(spec.Groups > 1 ? " per group" : string.Empty)}, {I(spec.KernelH)}x{I(spec.KernelW)}){(folds ? " with the BatchNorm2D after it folded in" : string.Empty)}",
            WeightKind.Dense => $"a Dense layer ({Count(spec.Units, "unit")}, {Count(l.In.Size, "input feature")})",
            _ => $"a BatchNorm2D ({Count(l.In.C, "channel")}) as a scale and shift",
        };
        string parameters = folds ? "string layer, string batchNorm" : "string layer";
        string returns = layer.Kind == WeightKind.BatchNorm ? "(float[] Scale, float[] Shift)" : "(float[] Weight, float[] Bias)";
        w.Line($"/// <summary>Loads {Xml(what)}, repacked for <paramref name=\"width\"/>: {Xml(listed)}.</summary>");
        using (w.Block($"private static {returns} {method}({Code.WeightReader} reader, {Code.VectorWidth} width, {parameters})"))
        {
            Read(w, l, layer, net);
            // One section per distinct repacking, widest width first; the narrowest width's section is the default.
            var plans = model.Plans.OrderByDescending(p => p.Width).ToList();
            var sections = plans.GroupBy(p => Repack(l, p.Packs[index])).ToList();
            if (sections.Count == 1)
            {
                w.Line($"return {sections[0].Key}; // the same at every width");
            }
            else
            {
                using (w.Block("switch (width)"))
                {
                    foreach (var section in sections)
                    {
                        foreach (var plan in section)
                        {
                            w.Line(plan == plans[plans.Count - 1] ? "default:" : $"case {Code.VectorWidth}.V{I(plan.Width * 32)}:");
                        }

                        using (w.Indented())
                        {
                            w.Line($"return {section.Key};");
                        }
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
        switch (layer.Kind)
        {
            case WeightKind.Conv:
            {
                w.Line($"string conv = \"Conv2D '\" + layer + \"' ({Count(spec.Units, "filter")}, {Count(l.In.C / spec.Groups, "input channel")}{(spec.Groups > 1 ? " per group" : string.Empty)}, {I(spec.KernelH)}x{I(spec.KernelW)})\";");
                w.Line($"var weight = reader.Read(layer, \"weight\", conv, {I(spec.Units)}, {I(l.In.C / spec.Groups)}, {I(spec.KernelH)}, {I(spec.KernelW)});");
                w.Line(spec.Bias
                    ? $"var bias = reader.Read(layer, \"bias\", conv, {I(spec.Units)});"
                    : $"var bias = {Code.Array}.Empty<float>(); // Bias = false");
                if (layer.FoldedBatchNorm >= 0)
                {
                    var bn = net.Layers[layer.FoldedBatchNorm].Spec;
                    w.Line($"string norm = \"BatchNorm2D '\" + batchNorm + \"' ({Count(spec.Units, "channel")})\";");
                    w.Line("// W' = W * g / sqrt(var + eps), b' = (b - mean) * g / sqrt(var + eps) + beta");
                    w.Line($"(weight, bias) = {Code.Packing}.FoldBatchNorm(weight, bias, {I(spec.Units)},");
                    using (w.Indented())
                    {
                        w.Line($"reader.Read(batchNorm, \"weight\", norm, {I(spec.Units)}), reader.Read(batchNorm, \"bias\", norm, {I(spec.Units)}),");
                        w.Line($"reader.Read(batchNorm, \"running_mean\", norm, {I(spec.Units)}), reader.Read(batchNorm, \"running_var\", norm, {I(spec.Units)}), {SourceWriter.Float(bn.Eps)});");
                    }
                }

                break;
            }

            case WeightKind.Dense:
            {
                w.Line($"string dense = \"Dense '\" + layer + \"' ({Count(spec.Units, "unit")}, {Count(l.In.Size, "input feature")})\";");
                w.Line($"var weight = reader.Read(layer, \"weight\", dense, {I(spec.Units)}, {I(l.In.Size)});");
                w.Line(spec.Bias
                    ? $"var bias = reader.Read(layer, \"bias\", dense, {I(spec.Units)});"
                    : $"var bias = {Code.Array}.Empty<float>(); // Bias = false");
                break;
            }

            case WeightKind.BatchNorm:
            {
                w.Line($"string norm = \"BatchNorm2D '\" + layer + \"' ({Count(l.In.C, "channel")})\";");
                foreach (var p in new[] { ("gamma", "weight"), ("beta", "bias"), ("mean", "running_mean"), ("variance", "running_var") })
                {
                    w.Line($"var {p.Item1} = reader.Read(layer, \"{p.Item2}\", norm, {I(l.In.C)});");
                }

                break;
            }
        }
    }

    /// <summary>The repacked arrays of one layer for one width: a tuple in the fields' order.</summary>
    private static string Repack(Shapes.ShapedLayer l, WeightPack pack)
    {
        var spec = l.Spec;
        string bias = $"{Code.Packing}.Bias(bias, {I(spec.Units)}, {I(pack.PaddedUnits)})";
        switch (pack.Kind)
        {
            case PackKind.Conv:
                return $"({Code.Packing}.Conv(weight, {I(spec.Units)}, {I(l.In.C)}, {I(spec.Groups)}, {I(spec.KernelH)}, {I(spec.KernelW)}, paddedFilters: {I(pack.PaddedUnits)}, tileFloats: {I(pack.TileFloats)}), {bias})";
            case PackKind.Winograd:
                return $"({Code.Packing}.Winograd(weight, {I(spec.Units)}, {I(l.In.C)}, paddedFilters: {I(pack.PaddedUnits)}, tileFloats: {I(pack.TileFloats)}), {bias})";
            case PackKind.ConvTaps:
                return $"({Code.Packing}.ConvTaps(weight, {I(spec.Units)}, {I(l.In.C)}, {I(spec.KernelH)}, {I(spec.KernelW)}), {bias})";
            case PackKind.Depthwise:
                return $"({Code.Packing}.Depthwise(weight, {I(spec.Units)}, {I(spec.KernelH)}, {I(spec.KernelW)}, {I(pack.PaddedUnits)}), {bias})";
            case PackKind.Dense:
                var x = pack.DenseInput!;
                return $"({Code.Packing}.Dense(weight, {I(spec.Units)}, {I(x.C)}, {I(x.H)}, {I(x.W)}, hwc: {(pack.DenseHwc ? "true" : "false")}, paddedUnits: {I(pack.PaddedUnits)}, tileFloats: {I(pack.TileFloats)}), {bias})";
            default:
                return $"{Code.Packing}.BatchNorm(gamma, beta, mean, variance, {SourceWriter.Float(spec.Eps)}, {I(l.In.C)}, {I(pack.PaddedUnits)})";
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
        string reader = $"new {Code.WeightReader}({Code.TensorSet}.LoadSafeTensors";
        w.Line("/// <summary>");
        w.Line("/// Loads PyTorch weights from a safetensors file (state_dict names and layouts). The tensors are read one layer at a");
        w.Line("/// time and repacked as they are read, so loading needs little more memory than the network keeps.");
        w.Line("/// </summary>");
        w.Line($"/// <exception cref=\"{ex}\">The file is malformed, or a tensor is missing, misshapen or not finite.</exception>");
        w.Line($"/// <exception cref=\"{Code.IOException}\">The file cannot be read.</exception>");
        using (w.Block($"public static {name} Load(string path, {opts})"))
        {
            w.Line($"using var reader = {Code.WeightReader}.Open(path, options, \"{name}\");");
            w.Line("return new(reader);");
        }

        w.Line();
        w.Line("/// <summary>Loads PyTorch weights from a safetensors stream.</summary>");
        w.Line($"/// <exception cref=\"{ex}\">The data is malformed, or a tensor is missing, misshapen or not finite.</exception>");
        w.Line($"public static {name} Load({Code.Stream} stream, {opts}) => new({reader}(stream), options, \"{name}\"));");
        w.Line();
        w.Line("/// <summary>Loads PyTorch weights from safetensors bytes.</summary>");
        w.Line($"/// <exception cref=\"{ex}\">The data is malformed, or a tensor is missing, misshapen or not finite.</exception>");
        w.Line($"public static {name} Load({Code.ReadOnlySpan}<byte> bytes, {opts}) => new({reader}(bytes), options, \"{name}\"));");
        w.Line();
        w.Line("/// <summary>Builds the network from tensors already in memory (PyTorch names and layouts).</summary>");
        w.Line($"/// <exception cref=\"{ex}\">A tensor is missing, misshapen or not finite.</exception>");
        w.Line($"public static {name} Load({Code.TensorSet} tensors, {opts}) => new(new {Code.WeightReader}(tensors, options, \"{name}\"));");
        w.Line();
    }
}
