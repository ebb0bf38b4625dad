using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using CnnGen.Generator.Model;
using CnnGen.Generator.Shapes;

namespace CnnGen.Generator.Planning.Passes;

/// <summary>
/// Every C# identifier and title the emitter writes for a layer or step, computed once: layer identifiers (unique
/// PascalCase), kernel method names, weight field names and the one-line titles of steps.
/// </summary>
internal static class Naming
{
    /// <summary>
    /// Names the emitter writes in every kernel class (its fixed methods, the vocabulary, the kernel classes
    /// themselves); a layer whose identifier would clash, ignoring case, gets its index appended.
    /// </summary>
    internal static readonly string[] Reserved =
    {
        "Forward", "ForwardGroup", "PackInput", "CheckInput", "CopyOutput", "Kernels128", "Kernels256", "Kernels512",
        "Backward", "CopyLogits", "OutputGradients", "LogitsGradients", "InputGradients",
        "Hot", "Inline", "Zero", "At", "Data", "Load", "Store", "Broadcast", "Fma", "Max", "Min", "Sigmoid", "Tanh", "SiLU",
        "SigmoidInPlace", "TanhInPlace", "SiLUInPlace",
        "Barrier", "Slice", "Shuffle", "Lanes", "AllFinite",
    };

    /// <summary>
    /// Suffixes of the methods derived from a layer's identifier (<c>Conv1Tile4</c>, <c>Fc1GroupTile2</c>,
    /// <c>Conv1Pixels</c>, <c>Fc1Softmax</c>, <c>Conv2WinogradGemm6</c>, a planar depthwise's <c>DwTile112Top1</c>): an identifier ending like one gets its index appended, so it cannot be
    /// another layer's derived name.
    /// </summary>
    private static readonly System.Text.RegularExpressions.Regex DerivedSuffix =
        new("(Tile[0-9]+(Top[0-9]+)?(Bottom[0-9]+)?|Group|Pixels|Softmax|Winograd[A-Za-z0-9]*)$", System.Text.RegularExpressions.RegexOptions.IgnoreCase | System.Text.RegularExpressions.RegexOptions.CultureInvariant);

    /// <summary>Longest identifier made from a layer name (C# allows 512 characters; shorter names read better).</summary>
    private const int MaxIdentifier = 64;

    /// <summary>
    /// A unique PascalCase identifier per layer, for its kernel methods and weight fields: layer names that map to the
    /// same identifier (<c>conv1</c> and <c>Conv1</c>) or to a fixed method name (<c>forward</c>) get their index appended.
    /// </summary>
    public static string[] LayerIdentifiers(EquatableArray<ShapedLayer> layers)
    {
        var taken = new HashSet<string>(Reserved, StringComparer.OrdinalIgnoreCase);
        var ids = new string[layers.Count];
        for (int i = 0; i < layers.Count; i++)
        {
            string id = Identifier(layers[i].Spec.Name);
            if (DerivedSuffix.IsMatch(id) || !taken.Add(id) || !taken.Add(id + "Softmax") || !taken.Add(id + "Activation"))
            {
                id += "_" + i.ToString(CultureInfo.InvariantCulture);
                taken.Add(id);
                taken.Add(id + "Softmax");
                taken.Add(id + "Activation");
            }

            ids[i] = id;
        }

        return ids;
    }

    /// <summary>
    /// A PascalCase C# identifier for a layer name: separators start a new word (<c>layer1.conv2</c> becomes
    /// <c>Layer1Conv2</c>), and stay as one underscore between two digits so numbers do not merge (<c>relu6_1</c>
    /// becomes <c>Relu6_1</c>, not <c>Relu61</c>); at most 64 characters.
    /// </summary>
    public static string Identifier(string name)
    {
        var sb = new StringBuilder();
        bool upper = true, separated = false;
        foreach (char c in name)
        {
            if (char.IsLetterOrDigit(c))
            {
                if (separated && char.IsDigit(c) && sb.Length > 0 && char.IsDigit(sb[sb.Length - 1]))
                {
                    sb.Append('_');
                }

                sb.Append(upper ? char.ToUpperInvariant(c) : c);
                upper = false;
                separated = false;
            }
            else
            {
                upper = true;
                separated = true;
            }
        }

        if (sb.Length == 0 || char.IsDigit(sb[0]))
        {
            sb.Insert(0, 'L');
        }

        return sb.ToString(0, Math.Min(sb.Length, MaxIdentifier));
    }

    public static string Camel(string pascal) => char.ToLowerInvariant(pascal[0]) + pascal.Substring(1);

    /// <summary>The kernel method a step's forward call names.</summary>
    public static string Method(PlanStep s, EquatableArray<ShapedLayer> layers, IReadOnlyList<string> ids) => s.Kind switch
    {
        StepKind.PackInput when s.Output == 0 => "CheckInput", // the input read in place (a planar pair)
        StepKind.PackInput => "PackInput",
        StepKind.CopyOutput => "CopyOutput",
        StepKind.Softmax when layers[s.Layer].Spec.Kind == LayerKind.Activation => ids[s.Layer], // a [Softmax] layer
        StepKind.Softmax => ids[s.Layer] + "Softmax", // Activation = Softmax on a dense layer: its second step
        StepKind.Activation when layers[s.Layer].Spec.Kind != LayerKind.Activation => ids[s.Layer] + "Activation", // a training plan's split activation
        _ => ids[s.Layer],
    };

    /// <summary>The layer's weights as loaded: the locals the constructor reads them into and the fields the kernels read.</summary>
    public static WeightedLayer Weights(PlanStep s, IReadOnlyList<string> ids)
    {
        string local = Camel(ids[s.Layer]);
        var kind = s.Kind switch
        {
            StepKind.Dense => WeightKind.Dense,
            StepKind.BatchNorm => WeightKind.BatchNorm,
            _ => WeightKind.Conv,
        };
        var fields = kind == WeightKind.BatchNorm
            ? new[] { "_" + local + "Scale", "_" + local + "Shift" }
            : new[] { "_" + local + "Weight", "_" + local + "Bias" };
        return new WeightedLayer { Layer = s.Layer, Kind = kind, Local = local, Fields = fields.ToEquatableArray(), FoldedBatchNorm = s.FoldedBn };
    }

    /// <summary>What a step computes, one line: the layer, what was fused into it, and the output shape.</summary>
    public static string Title(PlanStep s, PlanGraph g, Func<int, TensorPlan> tensor)
    {
        if (s.Kind == StepKind.PackInput && s.Output == 0)
        {
            return "check the input for NaN and infinity (the next step reads it in place)";
        }

        if (s.Kind == StepKind.PackInput)
        {
            return $"pack the input into {tensor(s.Output).Describe()}";
        }

        if (s.Kind == StepKind.CopyOutput)
        {
            return $"copy '{tensor(s.Inputs[0]).Name}' to the output ({g.Net.Output.ToPyTorch()}, PyTorch order)";
        }

        var layers = g.Layers;
        var l = layers[s.Layer];
        string fused = s.Act is not Activation.None and not Activation.Softmax && s.Kind != StepKind.Activation ? " + " + s.Act : string.Empty;
        string bn = s.FoldedBn >= 0 ? $" + {layers[s.FoldedBn].Spec.Name} (BatchNorm2D, folded)" : string.Empty;
        bn += s.FusedAdd >= 0 ? $" + {layers[s.FusedAdd].Spec.Name} (Add of '{tensor(s.Inputs[1]).Name}', fused)" : string.Empty;
        string pair = s.FusedDepthwise >= 0 ? $"{layers[s.FusedDepthwise].Spec.Name} (depthwise, row by row) + " : string.Empty;
        fused += s.FusedPool >= 0 ? $" + {layers[s.FusedPool].Spec.Name} (MaxPool2D, fused)" : string.Empty;
        var shape = s.FusedPool >= 0 ? layers[s.FusedPool].Out : l.Out;
        string what = s.Kind switch
        {
            StepKind.Softmax => $"{l.Spec.Name}: Softmax over {Words.Count(l.Out.C, "channel")}",
            StepKind.Activation => $"{l.Spec.Name}: {s.Act}",
            _ => $"{pair}{l.Spec.Name}: {l.Spec.DisplayKind}{bn}{fused}",
        };
        return $"{what} -> {shape}";
    }

    /// <summary>
    /// The method name of a kernel several steps share, chosen once: what it computes instead of a layer's name
    /// (<c>Conv3x3_64To64_56x56</c>, <c>Depthwise3x3Stride2_144To144_28x28</c>, <c>Dense_4096To4096</c>,
    /// <c>Add_256x56x56</c>; <c>_Add</c> when a residual Add is fused), with <c>_v2</c>, <c>_v3</c>... where two shared
    /// kernels would get the same name (they differ in something the name leaves out: padding, an activation, a border). Never a layer identifier or a name
    /// already in <paramref name="taken"/>, which it joins.
    /// </summary>
    public static string SharedMethod(PlanStep s, EquatableArray<ShapedLayer> layers, HashSet<string> taken)
    {
        var l = layers[s.Layer];
        var spec = l.Spec;
        var output = s.FusedPool >= 0 ? layers[s.FusedPool].Out : l.Out;
        string window = $"{I(spec.KernelH)}x{I(spec.KernelW)}"
            + (spec.StrideH == 1 && spec.StrideW == 1 ? string.Empty : spec.StrideH == spec.StrideW ? "Stride" + I(spec.StrideH) : $"Stride{I(spec.StrideH)}x{I(spec.StrideW)}");
        string spatial = $"{I(output.H)}x{I(output.W)}";
        string name = s.Kind switch
        {
            StepKind.Conv or StepKind.ConvPixels => $"{(s.FusedDepthwise >= 0 ? "Separable" : "Conv")}{window}_{I(l.In.C)}To{I(output.C)}_{spatial}",
            StepKind.DepthwiseConv => $"Depthwise{window}_{I(l.In.C)}To{I(output.C)}_{spatial}",
            StepKind.Pool => $"{(spec.Kind == LayerKind.MaxPool2D ? "MaxPool" : "AvgPool")}{window}_{I(output.C)}_{spatial}",
            StepKind.Dense => $"Dense_{I(l.In.Size)}To{I(output.C)}",
            StepKind.Softmax => "Softmax_" + Shape(output),
            StepKind.Activation => s.Act + "_" + Shape(output),
            StepKind.GlobalPool => Identifier(spec.DisplayKind) + "_" + Shape(l.In),
            _ => Identifier(spec.DisplayKind) + "_" + Shape(output),
        };
        return Unique(s.FusedAdd >= 0 ? name + "_Add" : name, taken);
    }

    /// <summary><paramref name="name"/>, or with <c>_v2</c>, <c>_v3</c>... when it is taken (case-insensitively); the result joins <paramref name="taken"/>.</summary>
    public static string Unique(string name, HashSet<string> taken)
    {
        string unique = name;
        for (int n = 2; !taken.Add(unique); n++)
        {
            unique = name + "_v" + I(n);
        }

        return unique;
    }

    /// <summary>
    /// The summary of a kernel several steps share: what it computes and the layers that call it (the first few by
    /// name): <c>Conv2D + BatchNorm2D (folded) + Relu -> 64x56x56, for 2 layers: layer1.1.conv2, layer1.2.conv2</c>.
    /// </summary>
    public static string SharedTitle(PlanStep s, PlanGraph g, IReadOnlyList<string> layers)
    {
        const int Listed = 4;
        var l = g.Layers[s.Layer];
        string fused = s.Act is not Activation.None and not Activation.Softmax && s.Kind != StepKind.Activation ? " + " + s.Act : string.Empty;
        string folded = (s.FoldedBn >= 0 ? " + BatchNorm2D (folded)" : string.Empty) + (s.FusedAdd >= 0 ? " + Add (fused)" : string.Empty);
        string pair = s.FusedDepthwise >= 0 ? "depthwise Conv2D (row by row) + " : string.Empty;
        fused += s.FusedPool >= 0 ? " + MaxPool2D (fused)" : string.Empty;
        var shape = s.FusedPool >= 0 ? g.Layers[s.FusedPool].Out : l.Out;
        string what = s.Kind switch
        {
            StepKind.Softmax => $"Softmax over {Words.Count(l.Out.C, "channel")}",
            StepKind.Activation => s.Act.ToString(),
            _ => $"{pair}{l.Spec.DisplayKind}{folded}{fused}",
        };
        string names = string.Join(", ", layers.Take(Listed)) + (layers.Count > Listed ? $" and {I(layers.Count - Listed)} more" : string.Empty);
        return $"{what} -> {shape}, for {Words.Count(layers.Count, "layer")}: {names}";
    }

    private static string Shape(TensorShape t) => t.Flat ? I(t.C) : $"{I(t.C)}x{I(t.H)}x{I(t.W)}";

    private static string I(long v) => v.ToString(CultureInfo.InvariantCulture);
}
