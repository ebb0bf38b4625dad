using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using CnnGen.Generator.Diagnostics;
using CnnGen.Generator.Model;
using Microsoft.CodeAnalysis;

namespace CnnGen.Generator.Shapes;

/// <summary>
/// Infers every layer's shape and checks the topology. Reports a diagnostic located on the offending
/// attribute argument for anything a user can get wrong; returns null when the network is invalid.
/// </summary>
internal static class ShapeInference
{
    /// <summary>Largest tensor the generator accepts (floats), so every offset fits an int with room to spare.</summary>
    public const long MaxTensorFloats = 1L << 28;

    /// <summary>Shapes every layer of <paramref name="spec"/>; problems go to <paramref name="diags"/>, located through <paramref name="sources"/>.</summary>
    public static ShapedNetwork? Infer(NetworkSpec spec, NetworkSourceMap sources, DiagnosticBag diags)
    {
        // The parser's errors (not partial, generic, no input, ...) also stop generation.
        int parseErrors = diags.ErrorCount;
        var errors = new DiagnosticBag();
        void Report(DiagnosticDescriptor d, LocationInfo? loc, params object[] args) => errors.Add(d, loc, args);

        if (spec.Layers.Count == 0 || sources.Input is null)
        {
            return null;
        }

        var inputShape = TensorShape.Spatial(spec.InputC, spec.InputH, spec.InputW);
        foreach (var (value, what) in new[] { (spec.InputC, "channels"), (spec.InputH, "height"), (spec.InputW, "width") })
        {
            if (value < 1)
            {
                Report(DiagnosticDescriptors.NonPositive, sources.Input, "Input", "input", what, 1, value);
            }
        }

        if (errors.Count == 0 && inputShape.Size > MaxTensorFloats)
        {
            Report(DiagnosticDescriptors.TooLarge, sources.Input, spec.ClassName, $"the input {inputShape} has more than {MaxTensorFloats} values");
        }

        if (errors.Count > 0)
        {
            diags.AddRange(errors);
            return null;
        }

        var byName = new Dictionary<string, int>(StringComparer.Ordinal) { ["input"] = -1 };
        var shapes = new List<TensorShape>();
        var layers = new List<ShapedLayer>();
        for (int i = 0; i < spec.Layers.Count; i++)
        {
            var layer = spec.Layers[i];
            var src = sources.Layers[i];
            if (byName.ContainsKey(layer.Name))
            {
                Report(DiagnosticDescriptors.DuplicateName, src.Argument("Name"), layer.Name);
            }

            var inputIds = new List<int>();
            var inputShapes = new List<TensorShape>();
            bool inputsOk = true;
            foreach (var name in layer.Inputs)
            {
                if (byName.TryGetValue(name, out int id))
                {
                    inputIds.Add(id);
                    inputShapes.Add(id < 0 ? inputShape : shapes[id]);
                }
                else
                {
                    bool isMerge = layer.Kind is LayerKind.Add or LayerKind.Concat;
                    int operand = inputIds.Count + (inputsOk ? 0 : 1); // this name's position: the resolved ones, and an earlier unknown one
                    string argument = layer.Kind == LayerKind.Multiply ? MultiplyOperand(operand) : isMerge ? "inputs" : "From";
                    Report(DiagnosticDescriptors.UnknownReference, src.Argument(argument), layer.DisplayKind, layer.Name, name,
                        string.Join(", ", byName.Keys.Take(12)));
                    inputsOk = false;
                }
            }

            TensorShape? outShape = null;
            long macs = 0, prms = 0;
            if (inputsOk)
            {
                var r = InferLayer(layer, src, inputShapes, Report);
                if (r is { } ok)
                {
                    (outShape, prms, macs, layer) = ok;
                    if (outShape.Size > MaxTensorFloats)
                    {
                        Report(DiagnosticDescriptors.TooLarge, src.Attribute, spec.ClassName, $"the output of '{layer.Name}' ({outShape}) has more than {MaxTensorFloats} values");
                        outShape = null;
                    }
                }
            }

            if (outShape is null)
            {
                diags.AddRange(errors);
                return null; // Later layers' shapes would be guesses; report the first problem only.
            }

            if (!byName.ContainsKey(layer.Name))
            {
                byName[layer.Name] = i;
            }

            shapes.Add(outShape);
            layers.Add(new ShapedLayer { Spec = layer, Inputs = inputIds.ToEquatableArray(), In = inputShapes[0], Out = outShape, Params = prms, Macs = macs });
        }

        int output = layers.Count - 1;
        if (spec.OutputName is { } outName)
        {
            if (byName.TryGetValue(outName, out int o) && o >= 0)
            {
                output = o;
            }
            else
            {
                Report(DiagnosticDescriptors.UnknownOutput, sources.NetworkAttribute, spec.ClassName, outName);
            }
        }

        // Which layers feed which: used for the Softmax rule and for unused-layer warnings.
        var used = new bool[layers.Count];
        for (int i = 0; i < layers.Count; i++)
        {
            foreach (int id in layers[i].Inputs)
            {
                if (id >= 0)
                {
                    used[id] = true;
                }
            }
        }

        for (int i = 0; i < layers.Count; i++)
        {
            var l = layers[i].Spec;
            if (l.Activation == Activation.Softmax && i != output)
            {
                Report(DiagnosticDescriptors.SoftmaxNotLast, sources.Layers[i].Argument(l.Kind == LayerKind.Activation ? "Name" : "Activation"), l.DisplayKind, l.Name);
            }

            if (!used[i] && i != output)
            {
                diags.Add(DiagnosticDescriptors.UnusedLayer, sources.Layers[i].Attribute, l.Name);
            }
        }

        diags.AddRange(errors);
        if (errors.Count > 0 || parseErrors > 0)
        {
            return null;
        }

        return new ShapedNetwork { Spec = spec, Input = inputShape, Layers = layers.ToEquatableArray(), OutputLayer = output };
    }

    private static (TensorShape Out, long Params, long Macs, LayerSpec Layer)? InferLayer(
        LayerSpec l, LayerSourceMap src, List<TensorShape> ins, Action<DiagnosticDescriptor, LocationInfo?, object[]> report)
    {
        bool failed = false;
        void Fail(DiagnosticDescriptor d, LocationInfo? loc, params object[] args)
        {
            report(d, loc, args);
            failed = true;
        }

        void Positive(int value, string what, string arg, int min = 1)
        {
            if (value < min)
            {
                Fail(DiagnosticDescriptors.NonPositive, src.Argument(arg), l.DisplayKind, l.Name, what, min, value);
            }
        }

        var x = ins[0];
        if (float.IsNaN(l.Alpha) || float.IsInfinity(l.Alpha))
        {
            Fail(DiagnosticDescriptors.InvalidArgument, src.Argument("Alpha"), l.DisplayKind, l.Name, "Alpha must be a finite number");
        }

        bool needsSpatial = l.Kind is LayerKind.Conv2D or LayerKind.MaxPool2D or LayerKind.AvgPool2D or LayerKind.GlobalAvgPool2D
            or LayerKind.GlobalMaxPool2D or LayerKind.BatchNorm2D or LayerKind.Concat or LayerKind.AdaptiveAvgPool2D;
        if (needsSpatial)
        {
            for (int i = 0; i < ins.Count; i++)
            {
                if (ins[i].Flat)
                {
                    Fail(DiagnosticDescriptors.NeedsSpatialInput, src.Argument("From"), l.DisplayKind, l.Name, l.Inputs[i], ins[i].C);
                    return null;
                }
            }
        }

        switch (l.Kind)
        {
            case LayerKind.Conv2D:
            {
                Positive(l.Units, "Filters", "filters");
                Positive(l.KernelH, "the kernel height", "kernelHeight");
                Positive(l.KernelW, "the kernel width", "kernelWidth");
                Positive(l.StrideH, "the stride", "Stride");
                Positive(l.StrideW, "the stride", "Stride");
                Positive(l.DilationH, "the dilation", "Dilation");
                Positive(l.DilationW, "the dilation", "Dilation");
                Positive(l.Groups, "Groups", "Groups");
                Positive(l.PadTop, "PadTop", "Padding", 0);
                Positive(l.PadBottom, "PadBottom", "Padding", 0);
                Positive(l.PadLeft, "PadLeft", "Padding", 0);
                Positive(l.PadRight, "PadRight", "Padding", 0);
                if (failed)
                {
                    return null;
                }

                if (l.PadSame)
                {
                    if (l.StrideH != 1 || l.StrideW != 1)
                    {
                        Fail(DiagnosticDescriptors.InvalidPadding, src.Argument("PaddingMode"), l.DisplayKind, l.Name,
                            "PaddingMode.Same needs stride 1 (as in PyTorch); use explicit padding with a strided convolution");
                        return null;
                    }

                    int th = l.DilationH * (l.KernelH - 1), tw = l.DilationW * (l.KernelW - 1);
                    l = l with { PadTop = th / 2, PadBottom = th - (th / 2), PadLeft = tw / 2, PadRight = tw - (tw / 2) };
                }

                if (x.C % l.Groups != 0 || l.Units % l.Groups != 0)
                {
                    Fail(DiagnosticDescriptors.GroupsMismatch, src.Argument("Groups"), l.Name,
                        $"{x.C} input channels and {l.Units} filters must both be divisible by Groups = {l.Groups}");
                    return null;
                }

                var oh = ConvOut(x.H, l.KernelH, l.StrideH, l.PadTop + l.PadBottom, l.DilationH);
                var ow = ConvOut(x.W, l.KernelW, l.StrideW, l.PadLeft + l.PadRight, l.DilationW);
                if (oh < 1 || ow < 1)
                {
                    WindowError(l, src, x, Fail, isPool: false);
                    return null;
                }

                long macs = (long)oh * ow * l.Units * (x.C / l.Groups) * l.KernelH * l.KernelW;
                long prms = ((long)l.Units * (x.C / l.Groups) * l.KernelH * l.KernelW) + (l.Bias ? l.Units : 0);
                return (TensorShape.Spatial(l.Units, oh, ow), prms, macs, l);
            }

            case LayerKind.MaxPool2D:
            case LayerKind.AvgPool2D:
            {
                Positive(l.KernelH, "the window height", "height");
                Positive(l.KernelW, "the window width", "width");
                Positive(l.StrideH, "the stride", "Stride");
                Positive(l.StrideW, "the stride", "Stride");
                Positive(l.DilationH, "the dilation", "Dilation");
                Positive(l.PadTop, "the padding", "Padding", 0);
                Positive(l.PadLeft, "the padding", "Padding", 0);
                if (failed)
                {
                    return null;
                }

                if (l.PadTop > l.KernelH / 2 || l.PadLeft > l.KernelW / 2)
                {
                    Fail(DiagnosticDescriptors.InvalidPadding, src.Argument("Padding"), l.DisplayKind, l.Name,
                        $"padding {l.PadTop}x{l.PadLeft} is more than half the {l.KernelH}x{l.KernelW} window (PyTorch requires padding <= kernel / 2); use a smaller padding");
                    return null;
                }

                int oh = PoolOut(x.H, l.KernelH, l.StrideH, l.PadTop, l.DilationH, l.CeilMode);
                int ow = PoolOut(x.W, l.KernelW, l.StrideW, l.PadLeft, l.DilationW, l.CeilMode);
                if (oh < 1 || ow < 1)
                {
                    WindowError(l, src, x, Fail, isPool: true);
                    return null;
                }

                return (TensorShape.Spatial(x.C, oh, ow), 0, 0, l);
            }

            case LayerKind.GlobalAvgPool2D:
            case LayerKind.GlobalMaxPool2D:
                return (TensorShape.Spatial(x.C, 1, 1), 0, 0, l);

            case LayerKind.AdaptiveAvgPool2D:
                // AdaptiveAvgPool2D(outputSize) or AdaptiveAvgPool2D(outputHeight, outputWidth).
                bool square = src.Argument("outputHeight") == src.Attribute;
                Positive(l.OutputH, "the output height", square ? "outputSize" : "outputHeight");
                Positive(l.OutputW, "the output width", square ? "outputSize" : "outputWidth");
                return failed ? null : (TensorShape.Spatial(x.C, l.OutputH, l.OutputW), 0, 0, l);

            case LayerKind.Multiply:
                return MultiplyShape(l, src, ins, Fail);

            case LayerKind.Flatten:
                return (TensorShape.Vector(x.C * x.H * x.W), 0, 0, l);

            case LayerKind.Dropout:
                return (x, 0, 0, l);

            case LayerKind.Activation:
                return (x, 0, 0, l);

            case LayerKind.Dense:
            {
                Positive(l.Units, "Units", "units");
                if (failed)
                {
                    return null;
                }

                if (!x.Flat && (x.H != 1 || x.W != 1))
                {
                    Fail(DiagnosticDescriptors.NeedsFlatten, src.Attribute, l.Name, x.ToString(), l.Inputs[0]);
                    return null;
                }

                long macs = (long)x.C * l.Units;
                return (TensorShape.Vector(l.Units), macs + (l.Bias ? l.Units : 0), macs, l);
            }

            case LayerKind.BatchNorm2D:
                if (!(l.Eps > 0f) || float.IsInfinity(l.Eps))
                {
                    Fail(DiagnosticDescriptors.InvalidArgument, src.Argument("Eps"), l.DisplayKind, l.Name, "Eps must be a positive finite number (PyTorch's default is 1e-5)");
                    return null;
                }

                return (x, 2L * x.C, 0, l);

            case LayerKind.Add:
                if (ins.Count < 2)
                {
                    Fail(DiagnosticDescriptors.ShapeMismatch, src.Attribute, l.DisplayKind, l.Name, "Add needs at least two inputs, e.g. [Add(\"conv2\", \"input\")]");
                    return null;
                }

                for (int i = 1; i < ins.Count; i++)
                {
                    if (ins[i] != x)
                    {
                        Fail(DiagnosticDescriptors.ShapeMismatch, src.Argument("inputs"), l.DisplayKind, l.Name,
                            $"'{l.Inputs[0]}' is {x} but '{l.Inputs[i]}' is {ins[i]}; Add needs equal shapes (use a 1x1 Conv2D projection to match them)");
                        return null;
                    }
                }

                return (x, 0, 0, l);

            case LayerKind.Concat:
            {
                if (ins.Count < 2)
                {
                    Fail(DiagnosticDescriptors.ShapeMismatch, src.Attribute, l.DisplayKind, l.Name, "Concat needs at least two inputs, e.g. [Concat(\"branch1\", \"branch2\")]");
                    return null;
                }

                int c = 0;
                for (int i = 0; i < ins.Count; i++)
                {
                    if (ins[i].H != x.H || ins[i].W != x.W)
                    {
                        Fail(DiagnosticDescriptors.ShapeMismatch, src.Argument("inputs"), l.DisplayKind, l.Name,
                            $"'{l.Inputs[0]}' is {x} but '{l.Inputs[i]}' is {ins[i]}; Concat joins channels and needs equal height and width");
                        return null;
                    }

                    c += ins[i].C;
                }

                return (TensorShape.Spatial(c, x.H, x.W), 0, 0, l);
            }
        }

        return null;
    }

    /// <summary>The constructor parameter naming a Multiply's operand <paramref name="index"/>.</summary>
    private static string MultiplyOperand(int index) => index == 0 ? "first" : "second";

    /// <summary>
    /// A product of equal shapes, or of a map and a per-channel scale (C x 1 x 1 or a flat vector of C) broadcast over its
    /// H x W, in either order. A mismatch points at the operand that does not fit: the scale, or the second operand.
    /// </summary>
    private static (TensorShape Out, long Params, long Macs, LayerSpec Layer)? MultiplyShape(
        LayerSpec l, LayerSourceMap src, List<TensorShape> ins, Action<DiagnosticDescriptor, LocationInfo?, object[]> fail)
    {
        TensorShape a = ins[0], b = ins[1];
        if (a == b)
        {
            return (a, 0, 0, l);
        }

        static bool PerChannel(TensorShape t) => t.H == 1 && t.W == 1;
        int scale = PerChannel(b) ? 1 : PerChannel(a) ? 0 : -1;
        if (scale >= 0 && ins[1 - scale].C == ins[scale].C && !ins[1 - scale].Flat)
        {
            return (ins[1 - scale], 0, 0, l);
        }

        string why = scale < 0
            ? "Multiply needs equal shapes, or one operand a per-channel scale (C x 1 x 1, or a flat vector of C) to broadcast over the other's H x W"
            : ins[1 - scale].Flat
                ? "a per-channel scale multiplies a C x H x W map, not a flat vector; use equal shapes"
                : $"a per-channel scale must have the map's {Words.Count(ins[1 - scale].C, "channel")}";
        fail(DiagnosticDescriptors.ShapeMismatch, src.Argument(MultiplyOperand(scale < 0 ? 1 : scale)), new object[]
        {
            l.DisplayKind, l.Name, $"'{l.Inputs[0]}' is {a} but '{l.Inputs[1]}' is {b}; {why}",
        });
        return null;
    }

    private static void WindowError(LayerSpec l, LayerSourceMap src, TensorShape x, Action<DiagnosticDescriptor, LocationInfo?, object[]> fail, bool isPool)
    {
        int eh = (l.DilationH * (l.KernelH - 1)) + 1, ew = (l.DilationW * (l.KernelW - 1)) + 1;
        int ph = isPool ? 2 * l.PadTop : l.PadTop + l.PadBottom, pw = isPool ? 2 * l.PadLeft : l.PadLeft + l.PadRight;
        int needH = Math.Max(0, eh - x.H), needW = Math.Max(0, ew - x.W);
        string window = string.Format(CultureInfo.InvariantCulture, "{0}x{1}", l.KernelH, l.KernelW)
            + (l.DilationH > 1 || l.DilationW > 1 ? string.Format(CultureInfo.InvariantCulture, " (dilated to {0}x{1})", eh, ew) : string.Empty);
        string input = string.Format(CultureInfo.InvariantCulture, "{0}x{1}", x.H, x.W)
            + (ph > 0 || pw > 0 ? string.Format(CultureInfo.InvariantCulture, " (padded {0}x{1})", x.H + ph, x.W + pw) : string.Empty);
        int pad = (Math.Max(needH, needW) + 1) / 2;
        string fix = isPool
            ? "use a smaller window or remove an earlier pooling layer"
            : string.Format(CultureInfo.InvariantCulture, "use Padding = {0} or a smaller kernel", Math.Max(pad, 1));
        fail(DiagnosticDescriptors.WindowTooLarge, src.Attribute, new object[] { l.DisplayKind, l.Name, window, input, fix });
    }

    /// <summary>PyTorch's convolution output size (floor); below 1 means the window does not fit.</summary>
    public static int ConvOut(int size, int k, int s, int padTotal, int d)
    {
        long span = size + (long)padTotal - ((long)d * (k - 1)) - 1;
        return span < 0 ? 0 : (int)((span / s) + 1);
    }

    /// <summary>PyTorch's pooling output size, including the ceil-mode rule that drops a window starting in the padding.</summary>
    public static int PoolOut(int size, int k, int s, int pad, int d, bool ceil)
    {
        long span = size + (2L * pad) - ((long)d * (k - 1)) - 1;
        if (span < 0)
        {
            return 0;
        }

        long o = (ceil ? (span + s - 1) / s : span / s) + 1;
        if (ceil && (o - 1) * s >= size + pad)
        {
            o--;
        }

        return (int)o;
    }

}
