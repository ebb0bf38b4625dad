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
/// <param name="Spec">The declared layer (padding resolved for <c>PaddingMode.Same</c>).</param>
/// <param name="Inputs">Indices of the layers read, -1 for the network input.</param>
/// <param name="In">Shape of the first input.</param>
/// <param name="Out">Output shape.</param>
/// <param name="Params">Trainable parameters (PyTorch's count).</param>
/// <param name="Macs">Multiply-accumulates of a convolution or dense layer.</param>
internal sealed record ShapedLayer(LayerSpec Spec, EquatableArray<int> Inputs, TensorShape In, TensorShape Out, long Params, long Macs);

/// <summary>The network after shape inference: every layer's shapes are known and valid.</summary>
internal sealed record ShapedNetwork(NetworkSpec Spec, TensorShape Input, EquatableArray<ShapedLayer> Layers, int OutputLayer)
{
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
