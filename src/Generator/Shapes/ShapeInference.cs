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
    /// <summary>Largest tensor the generator accepts (floats), so every offset fits an int with room to spare (<see cref="Limits"/>).</summary>
    public const long MaxTensorFloats = Limits.MaxTensorFloats;

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

        // An invalid input leaves every shape unknown; the layers' own arguments are still checked.
        TensorShape? inputShape = null;
        foreach (var (value, what) in new[] { (spec.InputC, "channels"), (spec.InputH, "height"), (spec.InputW, "width") })
        {
            if (value < 1)
            {
                Report(DiagnosticDescriptors.NonPositive, sources.Input, "Input", "input", what, 1, value);
            }
        }

        if (errors.Count == 0)
        {
            if (Limits.Tensor("the input", spec.InputC, spec.InputH, spec.InputW) is { } tooLarge)
            {
                Report(DiagnosticDescriptors.TooLarge, sources.Input, spec.ClassName, tooLarge);
            }
            else
            {
                inputShape = TensorShape.Spatial(spec.InputC, spec.InputH, spec.InputW);
            }
        }

        // Every layer is checked; a layer reading one whose shape is unknown (it failed) only checks its own arguments,
        // so each problem is reported once, where it is, and none is a guess.
        var byName = new Dictionary<string, int>(StringComparer.Ordinal) { ["input"] = -1 };
        var shapes = new List<TensorShape?>();
        var flattened = new List<TensorShape?>(); // per layer: the map a flat output stores pixel by pixel (a Flatten's view), or null
        var layers = new List<ShapedLayer>();
        for (int i = 0; i < spec.Layers.Count; i++)
        {
            var layer = spec.Layers[i];
            var src = sources.Layers[i];
            if (byName.ContainsKey(layer.Name) && layer.Name != "input")
            {
                Report(DiagnosticDescriptors.DuplicateName, src.Argument("Name"), layer.Name);
            }

            bool argumentsOk = LayerChecks.Arguments(layer, src, Report);
            var inputIds = new List<int>();
            var inputShapes = new List<TensorShape>();
            bool inputsKnown = true;
            bool tooFewInputs = layer.Kind is LayerKind.Add or LayerKind.Concat && layer.Inputs.Count < 2; // reported by LayerChecks
            int operand = -1; // the position of name among the layer's inputs
            foreach (var name in tooFewInputs ? EquatableArray<string>.Empty : layer.Inputs)
            {
                operand++;
                if (byName.TryGetValue(name, out int id))
                {
                    inputIds.Add(id);
                    if ((id < 0 ? inputShape : shapes[id]) is { } known)
                    {
                        inputShapes.Add(known);
                    }
                    else
                    {
                        inputsKnown = false;
                    }
                }
                else
                {
                    bool isMerge = layer.Kind is LayerKind.Add or LayerKind.Concat;
                    string argument = layer.Kind == LayerKind.Multiply ? MultiplyOperand(operand) : isMerge ? "inputs" : "From";
                    Report(DiagnosticDescriptors.UnknownReference, src.Argument(argument), layer.DisplayKind, layer.Name, name,
                        string.Join(", ", byName.Keys.Take(12)));
                    inputsKnown = false;
                }
            }

            TensorShape? outShape = null;
            TensorShape? FlattenedOf(int id) => id < 0 ? null : flattened[id];
            bool mixesOrders = inputsKnown && MixesFlattenedMap(layer, src, inputIds, inputShapes, FlattenedOf, Report);
            if (argumentsOk && inputsKnown && !mixesOrders && inputShapes.Count > 0)
            {
                if (InferLayer(spec.ClassName, layer, src, inputShapes, Report) is { } ok)
                {
                    var (shape, prms, macs, shapedSpec) = ok;
                    if (Limits.Tensor($"the output of '{layer.Name}'", shape.C, shape.H, shape.W) is { } tooLarge)
                    {
                        Report(DiagnosticDescriptors.TooLarge, src.Attribute, spec.ClassName, tooLarge);
                    }
                    else
                    {
                        outShape = shape;
                        layers.Add(new ShapedLayer { Spec = shapedSpec, Inputs = inputIds.ToEquatableArray(), In = inputShapes[0], Out = shape, Params = prms, Macs = macs });
                    }
                }
            }

            if (!byName.ContainsKey(layer.Name))
            {
                byName[layer.Name] = i;
            }

            shapes.Add(outShape);
            flattened.Add(outShape is null || !outShape.Flat ? null
                : layer.Kind == LayerKind.Flatten ? (inputShapes[0].H * inputShapes[0].W > 1 ? inputShapes[0] : null)
                : layer.Kind is LayerKind.Dropout or LayerKind.Activation or LayerKind.Add or LayerKind.Multiply ? FlattenedOf(inputIds[0])
                : null);
        }

        if (layers.Count < spec.Layers.Count)
        {
            diags.AddRange(errors);
            return null;
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

        if ((Limits.Workspace(inputShape!, layers, output) ?? Limits.Flops(layers)) is { } network)
        {
            Report(DiagnosticDescriptors.TooLarge, sources.NetworkAttribute ?? sources.Class, spec.ClassName, network);
        }

        diags.AddRange(errors);
        if (errors.Count > 0 || parseErrors > 0)
        {
            return null;
        }

        return new ShapedNetwork { Spec = spec, Input = inputShape!, Layers = layers.ToEquatableArray(), OutputLayer = output };
    }

    private static (TensorShape Out, long Params, long Macs, LayerSpec Layer)? InferLayer(string network,
        LayerSpec l, LayerSourceMap src, List<TensorShape> ins, Action<DiagnosticDescriptor, LocationInfo?, object[]> report)
    {
        void Fail(DiagnosticDescriptor d, LocationInfo? loc, params object[] args) => report(d, loc, args);

        var x = ins[0];
        bool needsSpatial = l.Kind is LayerKind.Conv2D or LayerKind.MaxPool2D or LayerKind.AvgPool2D or LayerKind.GlobalAvgPool2D
            or LayerKind.GlobalMaxPool2D or LayerKind.BatchNorm2D or LayerKind.Concat or LayerKind.AdaptiveAvgPool2D;
        if (needsSpatial)
        {
            for (int i = 0; i < ins.Count; i++)
            {
                if (ins[i].Flat)
                {
                    Fail(DiagnosticDescriptors.NeedsSpatialInput, src.Argument(l.Kind == LayerKind.Concat ? "inputs" : "From"), l.DisplayKind, l.Name, l.Inputs[i], ins[i].C);
                    return null;
                }
            }
        }

        switch (l.Kind)
        {
            case LayerKind.Conv2D:
            {
                if (l.PadSame)
                {
                    // PyTorch's 'same': dilation * (kernel - 1) per axis, the odd one at the bottom/right.
                    long th = (long)l.DilationH * (l.KernelH - 1), tw = (long)l.DilationW * (l.KernelW - 1);
                    if (Limits.PaddedInput(l, x, x.H + th, x.W + tw) is { } samePad)
                    {
                        Fail(DiagnosticDescriptors.TooLarge, src.Argument("PaddingMode"), network, samePad);
                        return null;
                    }

                    l = l with { PadTop = (int)(th / 2), PadBottom = (int)(th - (th / 2)), PadLeft = (int)(tw / 2), PadRight = (int)(tw - (tw / 2)) };
                }

                if (x.C % l.Groups != 0 || l.Units % l.Groups != 0)
                {
                    Fail(DiagnosticDescriptors.GroupsMismatch, src.Argument("Groups"), l.Name,
                        $"{x.C} input channels and {l.Units} filters must both be divisible by Groups = {l.Groups}");
                    return null;
                }

                long paddedH = (long)x.H + l.PadTop + l.PadBottom, paddedW = (long)x.W + l.PadLeft + l.PadRight;
                if (Limits.PaddedInput(l, x, paddedH, paddedW) is { } padded)
                {
                    Fail(DiagnosticDescriptors.TooLarge, src.Argument("PadTop", "PadBottom", "PadLeft", "PadRight", "PaddingHeight", "PaddingWidth", "Padding"), network, padded);
                    return null;
                }

                long oh = ConvOut(x.H, l.KernelH, l.StrideH, l.PadTop + (long)l.PadBottom, l.DilationH);
                long ow = ConvOut(x.W, l.KernelW, l.StrideW, l.PadLeft + (long)l.PadRight, l.DilationW);
                if (oh < 1 || ow < 1)
                {
                    WindowError(l, src, x, Fail, isPool: false);
                    return null;
                }

                if (Limits.Weights(l, l.Units, (long)(x.C / l.Groups) * l.KernelH * l.KernelW) is { } weights)
                {
                    Fail(DiagnosticDescriptors.TooLarge, src.Attribute, network, weights);
                    return null;
                }

                // oh and ow are at most the padded input's sides; the output's size is checked by the caller.
                long macs = oh * ow * l.Units * (x.C / l.Groups) * l.KernelH * l.KernelW;
                long prms = ((long)l.Units * (x.C / l.Groups) * l.KernelH * l.KernelW) + (l.Bias ? l.Units : 0);
                return (TensorShape.Spatial(l.Units, (int)oh, (int)ow), prms, macs, Normalized(l, oh, ow));
            }

            case LayerKind.MaxPool2D:
            case LayerKind.AvgPool2D:
            {
                if (Limits.PaddedInput(l, x, x.H + (2L * l.PadTop), x.W + (2L * l.PadLeft)) is { } padded)
                {
                    Fail(DiagnosticDescriptors.TooLarge, src.Argument("PaddingHeight", "PaddingWidth", "Padding"), network, padded);
                    return null;
                }

                long oh = PoolOut(x.H, l.KernelH, l.StrideH, l.PadTop, l.DilationH, l.CeilMode);
                long ow = PoolOut(x.W, l.KernelW, l.StrideW, l.PadLeft, l.DilationW, l.CeilMode);
                if (oh < 1 || ow < 1)
                {
                    WindowError(l, src, x, Fail, isPool: true);
                    return null;
                }

                return (TensorShape.Spatial(x.C, (int)oh, (int)ow), 0, 0, Normalized(l, oh, ow));
            }

            case LayerKind.GlobalAvgPool2D:
            case LayerKind.GlobalMaxPool2D:
                return (TensorShape.Spatial(x.C, 1, 1), 0, 0, l);

            case LayerKind.AdaptiveAvgPool2D: // its output size is checked by LayerChecks
                return (TensorShape.Spatial(x.C, l.OutputH, l.OutputW), 0, 0, l);

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
                if (!x.Flat && (x.H != 1 || x.W != 1))
                {
                    Fail(DiagnosticDescriptors.NeedsFlatten, src.Attribute, l.Name, x.ToString(), l.Inputs[0]);
                    return null;
                }

                // The features as stored: a flattened HWC map keeps its padded channels.
                long features = x.Flat ? Limits.Padded(x.C) : Limits.Stored(x.C, x.H, x.W);
                if (Limits.Weights(l, l.Units, features) is { } weights)
                {
                    Fail(DiagnosticDescriptors.TooLarge, src.Attribute, network, weights);
                    return null;
                }

                long macs = (long)x.C * l.Units;
                return (TensorShape.Vector(l.Units), macs + (l.Bias ? l.Units : 0), macs, l);
            }

            case LayerKind.BatchNorm2D:
                return (x, 2L * x.C, 0, l);

            case LayerKind.Add:
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
                long c = 0;
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

                if (Limits.Tensor($"the output of '{l.Name}'", c, x.H, x.W) is { } tooLarge)
                {
                    Fail(DiagnosticDescriptors.TooLarge, src.Attribute, network, tooLarge);
                    return null;
                }

                return (TensorShape.Spatial((int)c, x.H, x.W), 0, 0, l);
            }
        }

        return null;
    }

    /// <summary>
    /// An Add or Multiply reading a flattened map (H x W &gt; 1): Flatten is a view, so the map stays stored pixel by pixel,
    /// and the element-wise kernel and the flat output it writes would not be in PyTorch's order. Refused (CNN0014) until
    /// the planner can copy a flattened map into PyTorch's order; the same layer before Flatten computes the same.
    /// </summary>
    private static bool MixesFlattenedMap(LayerSpec l, LayerSourceMap src, List<int> ids, List<TensorShape> shapes, Func<int, TensorShape?> flattenedOf,
        Action<DiagnosticDescriptor, LocationInfo?, object[]> report)
    {
        if (l.Kind is not (LayerKind.Add or LayerKind.Multiply) || ids.Count != shapes.Count || !shapes.All(x => x.Flat))
        {
            return false;
        }

        int map = ids.FindIndex(id => flattenedOf(id) is not null);
        if (map < 0)
        {
            return false;
        }

        var m = flattenedOf(ids[map])!;
        report(DiagnosticDescriptors.ShapeMismatch, src.Argument(l.Kind == LayerKind.Multiply ? MultiplyOperand(map) : "inputs"), new object[]
        {
            l.DisplayKind, l.Name,
            $"'{l.Inputs[map]}' is a flattened {m.C}x{m.H}x{m.W} map; {l.DisplayKind} of a flattened map is not supported yet: apply it to the maps before [Flatten]",
        });
        return true;
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

    /// <summary>
    /// A stride along an axis with one output, and a dilation along a one-tap axis, change nothing: they become 1, so
    /// that no huge value reaches the planner's int arithmetic (PyTorch computes the same output).
    /// </summary>
    private static LayerSpec Normalized(LayerSpec l, long oh, long ow) => l with
    {
        StrideH = oh == 1 ? 1 : l.StrideH,
        StrideW = ow == 1 ? 1 : l.StrideW,
        DilationH = l.KernelH == 1 ? 1 : l.DilationH,
        DilationW = l.KernelW == 1 ? 1 : l.DilationW,
    };

    private static void WindowError(LayerSpec l, LayerSourceMap src, TensorShape x, Action<DiagnosticDescriptor, LocationInfo?, object[]> fail, bool isPool)
    {
        long eh = ((long)l.DilationH * (l.KernelH - 1)) + 1, ew = ((long)l.DilationW * (l.KernelW - 1)) + 1;
        long ph = isPool ? 2L * l.PadTop : (long)l.PadTop + l.PadBottom, pw = isPool ? 2L * l.PadLeft : (long)l.PadLeft + l.PadRight;
        string window = string.Format(CultureInfo.InvariantCulture, "{0}x{1}", l.KernelH, l.KernelW)
            + (l.DilationH > 1 || l.DilationW > 1 ? string.Format(CultureInfo.InvariantCulture, " (dilated to {0}x{1})", eh, ew) : string.Empty);
        string input = string.Format(CultureInfo.InvariantCulture, "{0}x{1}", x.H, x.W)
            + (ph > 0 || pw > 0 ? string.Format(CultureInfo.InvariantCulture, " (padded {0}x{1})", x.H + ph, x.W + pw) : string.Empty);

        // Padding on every side that makes the window fit, suggested only when it is more than the layer has and the
        // padded input stays within the limits (a window of a billion taps is not fixed by padding).
        long pad = Math.Max(1, (Math.Max(Math.Max(0, eh - x.H), Math.Max(0, ew - x.W)) + 1) / 2);
        bool padHelps = !isPool && pad > Math.Max(Math.Max(l.PadTop, l.PadBottom), Math.Max(l.PadLeft, l.PadRight))
            && Limits.PaddedInput(l, x, x.H + (2 * pad), x.W + (2 * pad)) is null;
        string smaller = l.DilationH > 1 || l.DilationW > 1 ? "a smaller kernel or dilation" : "a smaller kernel";
        string fix = isPool
            ? "use a smaller window or remove an earlier pooling layer"
            : padHelps ? string.Format(CultureInfo.InvariantCulture, "use Padding = {0} or {1}", pad, smaller) : "use " + smaller;
        fail(DiagnosticDescriptors.WindowTooLarge, src.Attribute, new object[] { l.DisplayKind, l.Name, window, input, fix });
    }

    /// <summary>PyTorch's convolution output size (floor); below 1 means the window does not fit.</summary>
    public static long ConvOut(long size, int k, int s, long padTotal, int d)
    {
        long span = size + padTotal - ((long)d * (k - 1)) - 1;
        return span < 0 ? 0 : (span / s) + 1;
    }

    /// <summary>PyTorch's pooling output size, including the ceil-mode rule that drops a window starting in the padding.</summary>
    public static long PoolOut(long size, int k, int s, int pad, int d, bool ceil)
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

        return o;
    }
}
