using System.Globalization;
using CnnGen.Generator.Model;

namespace CnnGen.Generator.Shapes;

/// <summary>A tensor shape without the batch axis: C x H x W, or a flat vector of C features.</summary>
internal sealed record TensorShape(int C, int H, int W, bool Flat)
{
    public long Size => (long)C * H * W;

    public static TensorShape Spatial(int c, int h, int w) => new(c, h, w, false);

    public static TensorShape Vector(int n) => new(n, 1, 1, true);

    public override string ToString() => Flat
        ? "[" + C.ToString(CultureInfo.InvariantCulture) + "]"
        : string.Format(CultureInfo.InvariantCulture, "{0}x{1}x{2}", C, H, W);

    public string ToPyTorch() => Flat
        ? string.Format(CultureInfo.InvariantCulture, "[{0}]", C)
        : string.Format(CultureInfo.InvariantCulture, "[{0}, {1}, {2}]", C, H, W);
}

/// <summary>A layer with its resolved inputs and shapes.</summary>
internal sealed record ShapedLayer
{
    /// <summary>The declared layer (padding resolved for <c>PaddingMode.Same</c>).</summary>
    public required LayerSpec Spec { get; init; }

    /// <summary>Indices of the layers read, -1 for the network input.</summary>
    public required EquatableArray<int> Inputs { get; init; }

    /// <summary>Shape of the first input.</summary>
    public required TensorShape In { get; init; }

    /// <summary>Output shape.</summary>
    public required TensorShape Out { get; init; }

    /// <summary>Trainable parameters (PyTorch's count).</summary>
    public required long Params { get; init; }

    /// <summary>Multiply-accumulates of a convolution or dense layer.</summary>
    public required long Macs { get; init; }
}

/// <summary>The network after shape inference: every layer's shapes are known and valid.</summary>
internal sealed record ShapedNetwork
{
    /// <summary>The declaration.</summary>
    public required NetworkSpec Spec { get; init; }

    /// <summary>The input shape (C, H, W).</summary>
    public required TensorShape Input { get; init; }

    /// <summary>Every layer, in declaration order.</summary>
    public required EquatableArray<ShapedLayer> Layers { get; init; }

    /// <summary>The index of the layer whose output is the network's output.</summary>
    public required int OutputLayer { get; init; }

    public long Params
    {
        get
        {
            long sum = 0;
            foreach (var l in Layers)
            {
                sum += l.Params;
            }

            return sum;
        }
    }

    public long Flops
    {
        get
        {
            long sum = 0;
            foreach (var l in Layers)
            {
                sum += 2 * l.Macs;
            }

            return sum;
        }
    }

    public TensorShape Output => Layers[OutputLayer].Out;
}
