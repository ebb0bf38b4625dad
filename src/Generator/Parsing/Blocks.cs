using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using CnnGen.Generator.Diagnostics;
using CnnGen.Generator.Model;
using Microsoft.CodeAnalysis;

namespace CnnGen.Generator.Parsing;

/// <summary>One layer a block attribute expands to, and where its diagnostics point (the block attribute and its arguments).</summary>
internal sealed record ExpandedLayer(LayerSpec Spec, LayerSourceMap Source);

/// <summary>
/// Expands the block attributes (<c>BasicBlock</c>, <c>Bottleneck</c>, <c>InvertedResidual</c>, <c>MBConv</c>) into the
/// ordinary layers torchvision builds them from, with torchvision's module names and wiring, so that shape inference,
/// the planner and the emitter see nothing new. Whether a block projects its input, adds a residual or expands its
/// channels depends on its input channels, which <see cref="ChannelTracker"/> follows through the declaration. Each
/// expanded layer's diagnostics point at the block attribute, or at the block argument that sets the value in question.
/// </summary>
internal static class Blocks
{
    /// <summary>The most blocks one attribute may stand for (a typo like 1000 would otherwise expand into thousands of layers).</summary>
    public const int MaxRepeat = 256;

    /// <summary>Whether an attribute class (by metadata name) is a block.</summary>
    public static bool IsBlock(string attributeName) =>
        attributeName is "BasicBlockAttribute" or "BottleneckAttribute" or "InvertedResidualAttribute" or "MBConvAttribute";

    /// <summary>
    /// The layers of one block attribute, whose first block reads its <c>From</c> (default <paramref name="previous"/>) with the
    /// channels <paramref name="tracker"/> knows (0 when unknown: shape inference then reports the bad reference). Block-level
    /// argument errors go to <paramref name="diagnostics"/>; the block is still expanded (with the value clamped) so later
    /// layers resolve and no second error follows.
    /// </summary>
    public static List<ExpandedLayer> Expand(AttributeData a, LayerSourceMap source, string previous, ChannelTracker tracker, Dictionary<string, int> counters, DiagnosticBag diagnostics)
    {
        string attrName = a.AttributeClass!.Name;
        string display = attrName.Substring(0, attrName.Length - "Attribute".Length);
        var ctor = a.ConstructorArguments;
        int Ctor(int i) => i < ctor.Length && ctor[i].Value is int v ? v : 0;
        var named = a.NamedArguments.ToDictionary(kv => kv.Key, kv => kv.Value);
        int Int(string name, int fallback) => named.TryGetValue(name, out var v) && v.Value is int i ? i : fallback;
        string? Text(string name) => named.TryGetValue(name, out var v) && v.Value is string s && s.Length > 0 ? s : null;

        var b = new Builder(source, Text("From") ?? previous);
        int channels = tracker[b.Current], repeat = Int("Repeat", 1), stride = Int("Stride", 1);
        string? name = Text("Name");
        string label = name ?? DefaultName(display, counters); // what messages call the block
        void Positive(string what, string argument, int value) =>
            diagnostics.Add(DiagnosticDescriptors.NonPositive, source.Argument(argument), display, label, what, 1, value);

        if (repeat < 1)
        {
            Positive("Repeat", "Repeat", repeat);
            repeat = 1;
        }
        else if (repeat > MaxRepeat)
        {
            diagnostics.Add(DiagnosticDescriptors.InvalidArgument, source.Argument("Repeat"), display, label,
                $"Repeat = {I(repeat)} is more than {I(MaxRepeat)} blocks; split the stage or check the count");
            repeat = MaxRepeat;
        }

        switch (display)
        {
            case "BasicBlock":
            case "Bottleneck":
            {
                name ??= Next(counters, "layer", 1);
                bool bottleneck = display == "Bottleneck";
                int planes = Ctor(0), outChannels = bottleneck ? 4 * planes : planes;
                for (int i = 0; i < repeat; i++)
                {
                    string p = name + "." + I(i), input = b.Current;
                    int s = i == 0 ? stride : 1;
                    if (bottleneck)
                    {
                        b.ConvBn(p + ".conv1", p + ".bn1", planes, 1, 1, "planes", Activation.Relu);
                        b.ConvBn(p + ".conv2", p + ".bn2", planes, 3, s, "planes", Activation.Relu, strideArgument: i == 0);
                        b.ConvBn(p + ".conv3", p + ".bn3", outChannels, 1, 1, "planes", Activation.None);
                    }
                    else
                    {
                        b.ConvBn(p + ".conv1", p + ".bn1", planes, 3, s, "planes", Activation.Relu, strideArgument: i == 0);
                        b.ConvBn(p + ".conv2", p + ".bn2", planes, 3, 1, "planes", Activation.None);
                    }

                    string skip = input;
                    if (i == 0 && (stride != 1 || channels != outChannels))
                    {
                        string main = b.Current;
                        b.Current = input;
                        b.ConvBn(p + ".downsample.0", p + ".downsample.1", outChannels, 1, stride, "planes", Activation.None, strideArgument: true);
                        skip = b.Current;
                        b.Current = main;
                    }

                    b.Merge(LayerKind.Add, p, b.Current, skip, Activation.Relu);
                }

                return b.Layers;
            }

            case "InvertedResidual":
            {
                int ratio = Ctor(0), filters = Ctor(1);
                if (ratio < 1)
                {
                    Positive("ExpandRatio", "expandRatio", ratio);
                    ratio = 1;
                }

                string prefix;
                int first;
                if (name is null)
                {
                    counters.TryGetValue("block", out int blocks);
                    counters["block"] = blocks + repeat;
                    (prefix, first) = ("block", blocks + 1);
                }
                else if (!TrailingNumber(name, out prefix, out first))
                {
                    if (repeat > 1)
                    {
                        diagnostics.Add(DiagnosticDescriptors.InvalidArgument, source.Argument("Name"), display, name,
                            $"with Repeat = {I(repeat)} the blocks are numbered on from the number Name ends with (features.2, features.3, ...), but '{name}' ends without one; name the first block, e.g. Name = \"features.2\"");
                    }

                    (prefix, first) = (name + ".", 0);
                }

                for (int i = 0; i < repeat; i++)
                {
                    string p = i == 0 && name is not null ? name : prefix + I(first + i), input = b.Current;
                    int inChannels = i == 0 ? channels : filters, s = i == 0 ? stride : 1;
                    int hidden = inChannels * ratio, k = 0;
                    if (ratio != 1)
                    {
                        b.ConvBn(p + ".conv.0.0", p + ".conv.0.1", hidden, 1, 1, "expandRatio", Activation.Relu6);
                        k = 1;
                    }

                    b.ConvBn($"{p}.conv.{I(k)}.0", $"{p}.conv.{I(k)}.1", hidden, 3, s, "expandRatio", Activation.Relu6, strideArgument: i == 0, depthwise: true);
                    b.ConvBn($"{p}.conv.{I(k + 1)}", $"{p}.conv.{I(k + 2)}", filters, 1, 1, "filters", Activation.None);
                    if (s == 1 && inChannels == filters)
                    {
                        b.Merge(LayerKind.Add, p, b.Current, input, Activation.None);
                    }
                }

                return b.Layers;
            }

            default: // MBConv
            {
                name ??= Next(counters, "stage", 1);
                int ratio = Ctor(0), filters = Ctor(1), kernel = Int("KernelSize", 3);
                if (ratio < 1)
                {
                    Positive("ExpandRatio", "expandRatio", ratio);
                    ratio = 1;
                }

                for (int i = 0; i < repeat; i++)
                {
                    string p = name + "." + I(i), input = b.Current;
                    int inChannels = i == 0 ? channels : filters, s = i == 0 ? stride : 1;
                    int expanded = MakeDivisible(inChannels * (long)ratio, 8), k = 0;
                    if (expanded != inChannels)
                    {
                        b.ConvBn(p + ".block.0.0", p + ".block.0.1", expanded, 1, 1, "expandRatio", Activation.SiLU);
                        k = 1;
                    }

                    b.ConvBn($"{p}.block.{I(k)}.0", $"{p}.block.{I(k)}.1", expanded, kernel, s, "expandRatio", Activation.SiLU, strideArgument: i == 0, depthwise: true);
                    string features = b.Current, se = $"{p}.block.{I(k + 1)}";
                    b.Add(new LayerSpec { Kind = LayerKind.GlobalAvgPool2D, DisplayKind = "GlobalAvgPool2D", Name = se + ".avgpool", Inputs = b.Reads(b.Current) });
                    b.Conv(se + ".fc1", Math.Max(1, inChannels / 4), 1, 1, "filters", Activation.SiLU, bias: true);
                    b.Conv(se + ".fc2", expanded, 1, 1, "expandRatio", Activation.Sigmoid, bias: true);
                    b.Merge(LayerKind.Multiply, se, features, b.Current, Activation.None);
                    b.ConvBn($"{p}.block.{I(k + 2)}.0", $"{p}.block.{I(k + 2)}.1", filters, 1, 1, "filters", Activation.None);
                    if (s == 1 && inChannels == filters)
                    {
                        b.Merge(LayerKind.Add, p, b.Current, input, Activation.None);
                    }
                }

                return b.Layers;
            }
        }
    }

    /// <summary>The output channels of a block, for <see cref="ChannelTracker"/>.</summary>
    public static int OutputChannels(AttributeData a)
    {
        var ctor = a.ConstructorArguments;
        int Ctor(int i) => i < ctor.Length && ctor[i].Value is int v ? v : 0;
        return a.AttributeClass!.Name == "BottleneckAttribute" ? 4 * Ctor(0) : a.AttributeClass!.Name == "BasicBlockAttribute" ? Ctor(0) : Ctor(1);
    }

    /// <summary>torchvision's <c>_make_divisible(v, divisor)</c>: the nearest multiple of the divisor, at least the divisor, and never below 90% of v.</summary>
    public static int MakeDivisible(long v, int divisor)
    {
        long rounded = Math.Max(divisor, (v + (divisor / 2)) / divisor * divisor);
        if (rounded < 0.9 * v)
        {
            rounded += divisor;
        }

        return (int)Math.Min(rounded, int.MaxValue);
    }

    private static string I(long v) => v.ToString(CultureInfo.InvariantCulture);

    /// <summary>The name a block without <c>Name</c> gets next: <c>layer1</c>, <c>block1</c> (InvertedResidual counts blocks) or <c>stage1</c>.</summary>
    private static string DefaultName(string display, Dictionary<string, int> counters)
    {
        string prefix = display switch { "InvertedResidual" => "block", "MBConv" => "stage", _ => "layer" };
        counters.TryGetValue(prefix, out int n);
        return prefix + I(n + 1);
    }

    private static string Next(Dictionary<string, int> counters, string prefix, int step)
    {
        counters.TryGetValue(prefix, out int n);
        counters[prefix] = n + step;
        return prefix + I(n + 1);
    }

    /// <summary>Splits <c>features.12</c> into <c>features.</c> and 12.</summary>
    private static bool TrailingNumber(string name, out string prefix, out int number)
    {
        int start = name.Length;
        while (start > 0 && char.IsDigit(name[start - 1]))
        {
            start--;
        }

        prefix = name.Substring(0, start);
        number = 0;
        return start < name.Length && name.Length - start <= 9 && int.TryParse(name.Substring(start), NumberStyles.None, CultureInfo.InvariantCulture, out number);
    }

    /// <summary>Appends a block's layers in order, each reading the previous unless told otherwise.</summary>
    private sealed class Builder
    {
        private readonly LayerSourceMap _block;
        private bool _first = true;

        public Builder(LayerSourceMap block, string input)
        {
            _block = block;
            Current = input;
        }

        public List<ExpandedLayer> Layers { get; } = new();

        /// <summary>The layer the next one reads: the last appended, or the block's input.</summary>
        public string Current { get; set; }

        public EquatableArray<string> Reads(params string[] names) => names.ToEquatableArray();

        /// <summary>
        /// Appends a layer. Its diagnostics point at the block's argument that sets the layer's value: a convolution's
        /// filters at <paramref name="filtersArgument"/>, its stride at <c>Stride</c> when the block's stride is used, its
        /// kernel at <c>KernelSize</c>; its name at <c>Name</c>; the first layer's input at <c>From</c>.
        /// </summary>
        public void Add(LayerSpec spec, string? filtersArgument = null, bool strideArgument = false)
        {
            var arguments = new List<KeyValuePair<string, LocationInfo?>> { new("Name", _block.Argument("Name")) };
            if (_first)
            {
                arguments.Add(new("From", _block.Argument("From")));
                arguments.Add(new("inputs", _block.Argument("From")));
                _first = false;
            }

            if (filtersArgument is not null)
            {
                arguments.Add(new("filters", _block.Argument(filtersArgument)));
                arguments.Add(new("kernelHeight", _block.Argument("KernelSize")));
                arguments.Add(new("kernelWidth", _block.Argument("KernelSize")));
            }

            if (strideArgument)
            {
                arguments.Add(new("Stride", _block.Argument("Stride")));
            }

            Layers.Add(new ExpandedLayer(spec, new LayerSourceMap(_block.Attribute, arguments)));
            Current = spec.Name;
        }

        public void Conv(string name, int filters, int kernel, int stride, string filtersArgument, Activation activation, bool bias = false, bool strideArgument = false, bool depthwise = false) =>
            Add(new LayerSpec
            {
                Kind = LayerKind.Conv2D,
                DisplayKind = "Conv2D",
                Name = name,
                Inputs = Reads(Current),
                Units = filters,
                KernelH = kernel,
                KernelW = kernel,
                StrideH = stride,
                StrideW = stride,
                PadTop = (kernel - 1) / 2,
                PadLeft = (kernel - 1) / 2,
                PadBottom = (kernel - 1) / 2,
                PadRight = (kernel - 1) / 2,
                Groups = depthwise ? filters : 1,
                Bias = bias,
                Activation = activation,
            }, filtersArgument, strideArgument);

        /// <summary>A convolution without bias and its batch norm, the activation on the batch norm (torchvision's Conv2dNormActivation).</summary>
        public void ConvBn(string conv, string bn, int filters, int kernel, int stride, string filtersArgument, Activation activation, bool strideArgument = false, bool depthwise = false)
        {
            Conv(conv, filters, kernel, stride, filtersArgument, Activation.None, strideArgument: strideArgument, depthwise: depthwise);
            Add(new LayerSpec { Kind = LayerKind.BatchNorm2D, DisplayKind = "BatchNorm2D", Name = bn, Inputs = Reads(Current), Activation = activation });
        }

        public void Merge(LayerKind kind, string name, string a, string b, Activation activation) =>
            Add(new LayerSpec { Kind = kind, DisplayKind = kind.ToString(), Name = name, Inputs = Reads(a, b), Activation = activation });
    }
}

/// <summary>
/// Follows the channels of every declared layer by name, so a block knows its input channels when it is expanded (the
/// parser runs before shape inference). Only channels: 0 means unknown, and shape inference reports whatever made it so.
/// </summary>
internal sealed class ChannelTracker
{
    private readonly Dictionary<string, int> _channels = new(StringComparer.Ordinal);

    public ChannelTracker(int inputChannels) => _channels["input"] = inputChannels;

    public int this[string name] => _channels.TryGetValue(name, out int c) ? c : 0;

    /// <summary>Records a layer's output channels.</summary>
    public void Add(LayerSpec l)
    {
        int c = l.Kind switch
        {
            LayerKind.Conv2D or LayerKind.Dense => l.Units,
            LayerKind.Concat => l.Inputs.Sum(i => (long)this[i]) is var sum and <= int.MaxValue ? (int)sum : 0, // too many: shape inference says so
            LayerKind.Flatten => 0,
            _ => l.Inputs.Count > 0 ? this[l.Inputs[0]] : 0,
        };
        if (!_channels.ContainsKey(l.Name))
        {
            _channels[l.Name] = c;
        }
    }
}
