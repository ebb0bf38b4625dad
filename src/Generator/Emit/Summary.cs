using System.Globalization;
using System.Linq;
using System.Text;
using CnnGen.Generator.Model;
using CnnGen.Generator.Shapes;

namespace CnnGen.Generator.Emit;

/// <summary>The Keras-style summary table written into the header comment and the <c>Summary</c> constant.</summary>
internal static class Summary
{
    public static string Text(NetworkModel model)
    {
        var net = model.Net;
        var rows = net.Layers.Select((l, i) => (
            Layer: $"{l.Spec.Name} ({l.Spec.DisplayKind}{Extra(l)})",
            Shape: l.Out.ToString(),
            Params: N(l.Params),
            Flops: N(2 * l.Macs),
            Reads: string.Join(", ", l.Spec.Inputs))).ToList();
        int c0 = System.Math.Max(13, rows.Max(r => r.Layer.Length)) + 2;
        int c1 = System.Math.Max(12, rows.Max(r => r.Shape.Length)) + 2;
        int c2 = System.Math.Max(8, rows.Max(r => r.Params.Length)) + 2;
        int c3 = System.Math.Max(11, rows.Max(r => r.Flops.Length)) + 2;
        var sb = new StringBuilder();
        sb.Append("Model: ").Append(net.Spec.ClassName).Append(" (input ").Append(net.Input).Append(")\n");
        string header = "Layer (type)".PadRight(c0) + "Output shape".PadRight(c1) + "Params".PadLeft(c2 - 2) + "  " + "FLOPs".PadLeft(c3 - 2) + "  Reads";
        sb.Append(new string('=', header.Length + 8)).Append('\n');
        sb.Append(header).Append('\n');
        sb.Append(new string('-', header.Length + 8)).Append('\n');
        foreach (var r in rows)
        {
            sb.Append(r.Layer.PadRight(c0)).Append(r.Shape.PadRight(c1)).Append(r.Params.PadLeft(c2 - 2)).Append("  ")
              .Append(r.Flops.PadLeft(c3 - 2)).Append("  ").Append(r.Reads).Append('\n');
        }

        sb.Append(new string('=', header.Length + 8)).Append('\n');
        sb.Append("Total params: ").Append(N(net.Params)).Append('\n');
        sb.Append("FLOPs: ").Append(N(net.Flops)).Append(" (2 x multiply-adds of Conv2D and Dense)\n");
        long ws = model.Plans.Max(p => p.WorkspaceFloats);
        sb.Append("Workspace: ").Append(N(ws)).Append(" floats (").Append(ForwardEmitter.Kb(ws)).Append(") per thread");
        return sb.ToString();
    }

    private static string Extra(ShapedLayer l) => l.Spec.Kind switch
    {
        LayerKind.Conv2D or LayerKind.Dense or LayerKind.BatchNorm2D or LayerKind.Add or LayerKind.Multiply when l.Spec.Activation != Activation.None => " + " + l.Spec.Activation,
        _ => string.Empty,
    };

    private static string N(long v) => Words.Number(v);
}
