using System;
using System.Collections.Generic;
using System.Globalization;
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
    /// <summary>Method names the emitter writes in every kernel class; a layer whose identifier would clash gets its index appended.</summary>
    private static readonly string[] Reserved = { "Forward", "ForwardGroup", "PackInput", "CopyOutput", "Backward", "CopyLogits", "OutputGradients", "LogitsGradients", "InputGradients" };

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
            if (!taken.Add(id) || !taken.Add(id + "Softmax") || !taken.Add(id + "Activation"))
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
    /// becomes <c>Relu6_1</c>, not <c>Relu61</c>).
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

        return sb.ToString();
    }

    public static string Camel(string pascal) => char.ToLowerInvariant(pascal[0]) + pascal.Substring(1);

    /// <summary>The kernel method a step's forward call names.</summary>
    public static string Method(PlanStep s, EquatableArray<ShapedLayer> layers, IReadOnlyList<string> ids) => s.Kind switch
    {
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
}
