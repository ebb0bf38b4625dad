using System;

namespace CnnGen;

/// <summary>
/// Marks a <c>partial</c> class as a CNN. The CnnGen source generator reads the layer attributes on the
/// class, in source order, and fills the class with shape-specialized SIMD kernels, weight loading,
/// <c>Predict</c>/<c>Classify</c> and metadata.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class NetworkAttribute : Attribute
{
    /// <summary>The layer whose output is the network's output. Default: the last layer.</summary>
    public string? Output { get; set; }

    /// <summary>
    /// Also generate a trainer (<c>MyNetwork.Trainer</c>): backward kernels for every layer, PyTorch's initialisation,
    /// training steps with an optimizer of <c>CnnGen.Training</c>, saving and loading. Default false: an inference-only
    /// network generates no training code.
    /// </summary>
    public bool Trainable { get; set; }

    /// <summary>
    /// Let the planner compute 3x3 stride-1 convolutions with many channels with Winograd F(2x2, 3x3) where its cost model
    /// says that is faster (2.25x fewer multiplies; results agree with direct convolution to float32 rounding, not bit for
    /// bit). Default true; false computes every convolution directly, for outputs that must match the direct kernels exactly.
    /// </summary>
    public bool Winograd { get; set; } = true;
}

/// <summary>The network's input shape, NCHW without the batch axis: channels, height, width.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class InputAttribute : Attribute
{
    /// <summary>Declares the input as <paramref name="channels"/> x <paramref name="height"/> x <paramref name="width"/>.</summary>
    public InputAttribute(int channels, int height, int width)
    {
        Channels = channels;
        Height = height;
        Width = width;
    }

    /// <summary>Input channels (1 for grayscale, 3 for RGB).</summary>
    public int Channels { get; }
    /// <summary>Input height in pixels.</summary>
    public int Height { get; }
    /// <summary>Input width in pixels.</summary>
    public int Width { get; }
}

/// <summary>Base of every layer attribute: an optional name and an optional input.</summary>
public abstract class LayerAttribute : Attribute
{
    /// <summary>
    /// The layer's name. Weights are looked up as <c>{Name}.weight</c>, <c>{Name}.bias</c> (PyTorch
    /// <c>state_dict</c> keys). Default: the kind and its 1-based index among layers of that kind
    /// (<c>conv1</c>, <c>fc2</c>, <c>bn1</c>, <c>pool1</c>, ...).
    /// </summary>
    public string? Name { get; set; }

    /// <summary>The name of the layer this one reads. Default: the previous layer (or the input).</summary>
    public string? From { get; set; }
}

/// <summary>2-D convolution (PyTorch <c>nn.Conv2d</c>): weight <c>[filters, inChannels/groups, kh, kw]</c>, bias <c>[filters]</c>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class Conv2DAttribute : LayerAttribute
{
    /// <summary>A square <paramref name="kernelSize"/> x <paramref name="kernelSize"/> convolution.</summary>
    public Conv2DAttribute(int filters, int kernelSize)
        : this(filters, kernelSize, kernelSize)
    {
    }

    /// <summary>A <paramref name="kernelHeight"/> x <paramref name="kernelWidth"/> convolution.</summary>
    public Conv2DAttribute(int filters, int kernelHeight, int kernelWidth)
    {
        Filters = filters;
        KernelHeight = kernelHeight;
        KernelWidth = kernelWidth;
    }

    /// <summary>Output channels.</summary>
    public int Filters { get; }
    /// <summary>Kernel height.</summary>
    public int KernelHeight { get; }
    /// <summary>Kernel width.</summary>
    public int KernelWidth { get; }
    /// <summary>Stride on both axes (default 1).</summary>
    public int Stride { get; set; } = 1;
    /// <summary>Vertical stride; overrides <see cref="Stride"/>.</summary>
    public int StrideHeight { get; set; }
    /// <summary>Horizontal stride; overrides <see cref="Stride"/>.</summary>
    public int StrideWidth { get; set; }
    /// <summary>Zero padding on all four sides (default 0).</summary>
    public int Padding { get; set; }
    /// <summary>Zero padding above and below; overrides <see cref="Padding"/>.</summary>
    public int PaddingHeight { get; set; }
    /// <summary>Zero padding left and right; overrides <see cref="Padding"/>.</summary>
    public int PaddingWidth { get; set; }
    /// <summary>Zero rows above; overrides <see cref="Padding"/> and <see cref="PaddingHeight"/>.</summary>
    public int PadTop { get; set; }
    /// <summary>Zero rows below.</summary>
    public int PadBottom { get; set; }
    /// <summary>Zero columns on the left.</summary>
    public int PadLeft { get; set; }
    /// <summary>Zero columns on the right.</summary>
    public int PadRight { get; set; }
    /// <summary><see cref="CnnGen.PaddingMode.Same"/> or <see cref="CnnGen.PaddingMode.Valid"/> instead of explicit sizes.</summary>
    public PaddingMode PaddingMode { get; set; }
    /// <summary>Dilation on both axes (default 1).</summary>
    public int Dilation { get; set; } = 1;
    /// <summary>Vertical dilation; overrides <see cref="Dilation"/>.</summary>
    public int DilationHeight { get; set; }
    /// <summary>Horizontal dilation; overrides <see cref="Dilation"/>.</summary>
    public int DilationWidth { get; set; }
    /// <summary>Channel groups (default 1). Groups equal to the input channels is a depthwise convolution.</summary>
    public int Groups { get; set; } = 1;
    /// <summary>Whether the layer has a bias (default true).</summary>
    public bool Bias { get; set; } = true;
    /// <summary>Activation fused into the convolution's store (default none).</summary>
    public Activation Activation { get; set; }
    /// <summary>Negative slope of <see cref="Activation.LeakyRelu"/> (default 0.01).</summary>
    public float Alpha { get; set; } = 0.01f;
}

/// <summary>Fully connected layer (PyTorch <c>nn.Linear</c>): weight <c>[units, inFeatures]</c>, bias <c>[units]</c>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class DenseAttribute : LayerAttribute
{
    /// <summary>A dense layer with <paramref name="units"/> outputs.</summary>
    public DenseAttribute(int units) => Units = units;

    /// <summary>Output features.</summary>
    public int Units { get; }
    /// <summary>Whether the layer has a bias (default true).</summary>
    public bool Bias { get; set; } = true;
    /// <summary>Activation fused into the layer's store (default none).</summary>
    public Activation Activation { get; set; }
    /// <summary>Negative slope of <see cref="Activation.LeakyRelu"/> (default 0.01).</summary>
    public float Alpha { get; set; } = 0.01f;
}

/// <summary>Base of max and average pooling.</summary>
public abstract class Pool2DAttribute : LayerAttribute
{
    private protected Pool2DAttribute(int height, int width)
    {
        PoolHeight = height;
        PoolWidth = width;
    }

    /// <summary>Window height.</summary>
    public int PoolHeight { get; }
    /// <summary>Window width.</summary>
    public int PoolWidth { get; }
    /// <summary>Stride on both axes. Default: the window size (as in PyTorch).</summary>
    public int Stride { get; set; }
    /// <summary>Vertical stride; overrides <see cref="Stride"/>.</summary>
    public int StrideHeight { get; set; }
    /// <summary>Horizontal stride; overrides <see cref="Stride"/>.</summary>
    public int StrideWidth { get; set; }
    /// <summary>Implicit padding on all sides (at most half the window, as in PyTorch).</summary>
    public int Padding { get; set; }
    /// <summary>Vertical padding; overrides <see cref="Padding"/>.</summary>
    public int PaddingHeight { get; set; }
    /// <summary>Horizontal padding; overrides <see cref="Padding"/>.</summary>
    public int PaddingWidth { get; set; }
    /// <summary>Use ceil instead of floor for the output size (PyTorch <c>ceil_mode</c>).</summary>
    public bool CeilMode { get; set; }
}

/// <summary>Max pooling (PyTorch <c>nn.MaxPool2d</c>); padding counts as -infinity.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class MaxPool2DAttribute : Pool2DAttribute
{
    /// <summary>A square window.</summary>
    public MaxPool2DAttribute(int size) : base(size, size) { }

    /// <summary>A <paramref name="height"/> x <paramref name="width"/> window.</summary>
    public MaxPool2DAttribute(int height, int width) : base(height, width) { }

    /// <summary>Dilation on both axes (default 1).</summary>
    public int Dilation { get; set; } = 1;
}

/// <summary>Average pooling (PyTorch <c>nn.AvgPool2d</c>).</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class AvgPool2DAttribute : Pool2DAttribute
{
    /// <summary>A square window.</summary>
    public AvgPool2DAttribute(int size) : base(size, size) { }

    /// <summary>A <paramref name="height"/> x <paramref name="width"/> window.</summary>
    public AvgPool2DAttribute(int height, int width) : base(height, width) { }

    /// <summary>Whether padded zeros count in the divisor (default true, as in PyTorch).</summary>
    public bool CountIncludePad { get; set; } = true;
}

/// <summary>Mean over each channel's whole map: <c>[C, H, W] -> [C, 1, 1]</c> (<c>nn.AdaptiveAvgPool2d(1)</c>).</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class GlobalAvgPool2DAttribute : LayerAttribute { }

/// <summary>Max over each channel's whole map: <c>[C, H, W] -> [C, 1, 1]</c> (<c>nn.AdaptiveMaxPool2d(1)</c>).</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class GlobalMaxPool2DAttribute : LayerAttribute { }

/// <summary>
/// Adaptive average pooling to a fixed output size (PyTorch <c>nn.AdaptiveAvgPool2d((outputHeight, outputWidth))</c>):
/// output cell (i, j) is the mean of input rows <c>floor(i * H / outputHeight)</c> to <c>ceil((i + 1) * H / outputHeight) - 1</c>
/// and columns likewise, so windows overlap when the input is not a multiple of the output. The identity when the input
/// already has the output size; global average pooling for 1 x 1.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class AdaptiveAvgPool2DAttribute : LayerAttribute
{
    /// <summary>A square <paramref name="outputSize"/> x <paramref name="outputSize"/> output.</summary>
    public AdaptiveAvgPool2DAttribute(int outputSize)
        : this(outputSize, outputSize)
    {
    }

    /// <summary>An <paramref name="outputHeight"/> x <paramref name="outputWidth"/> output.</summary>
    public AdaptiveAvgPool2DAttribute(int outputHeight, int outputWidth)
    {
        OutputHeight = outputHeight;
        OutputWidth = outputWidth;
    }

    /// <summary>Output height.</summary>
    public int OutputHeight { get; }
    /// <summary>Output width.</summary>
    public int OutputWidth { get; }
}

/// <summary>Flattens <c>[C, H, W]</c> to <c>[C*H*W]</c> in PyTorch's C,H,W order.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class FlattenAttribute : LayerAttribute { }

/// <summary>Dropout: the identity at inference (as PyTorch in eval mode). Kept so a declaration can mirror a PyTorch model.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class DropoutAttribute : LayerAttribute
{
    /// <summary>Dropout with probability <paramref name="p"/> during training.</summary>
    public DropoutAttribute(float p = 0.5f) => P = p;

    /// <summary>Drop probability (unused at inference).</summary>
    public float P { get; }
}

/// <summary>Base of the stand-alone activation layers.</summary>
public abstract class ActivationLayerAttribute : LayerAttribute { }

/// <summary><c>max(x, 0)</c>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class ReLUAttribute : ActivationLayerAttribute { }

/// <summary><c>min(max(x, 0), 6)</c>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class ReLU6Attribute : ActivationLayerAttribute { }

/// <summary><c>x &gt;= 0 ? x : alpha * x</c>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class LeakyReLUAttribute : ActivationLayerAttribute
{
    /// <summary>A leaky ReLU with negative slope <paramref name="alpha"/> (PyTorch default 0.01).</summary>
    public LeakyReLUAttribute(float alpha = 0.01f) => Alpha = alpha;

    /// <summary>Negative slope.</summary>
    public float Alpha { get; }
}

/// <summary><c>1 / (1 + exp(-x))</c>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class SigmoidAttribute : ActivationLayerAttribute { }

/// <summary><c>tanh(x)</c>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class TanhAttribute : ActivationLayerAttribute { }

/// <summary><c>x * sigmoid(x)</c>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class SiLUAttribute : ActivationLayerAttribute { }

/// <summary>Softmax over channels (PyTorch <c>dim=1</c>); must be the network's last layer.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class SoftmaxAttribute : ActivationLayerAttribute { }

/// <summary>
/// Batch normalization in eval mode (PyTorch <c>nn.BatchNorm2d</c>; keys <c>weight</c>, <c>bias</c>,
/// <c>running_mean</c>, <c>running_var</c>). Folded into the preceding convolution at load when it
/// directly follows one.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class BatchNorm2DAttribute : LayerAttribute
{
    /// <summary>Added to the variance (default 1e-5, as in PyTorch).</summary>
    public float Eps { get; set; } = 1e-5f;
    /// <summary>Activation applied after normalization (default none).</summary>
    public Activation Activation { get; set; }
    /// <summary>Negative slope of <see cref="Activation.LeakyRelu"/> (default 0.01).</summary>
    public float Alpha { get; set; } = 0.01f;
}

/// <summary>Element-wise sum of two or more layers of the same shape (a residual connection).</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class AddAttribute : LayerAttribute
{
    /// <summary>Sums the named layers (<c>"input"</c> names the network input).</summary>
    public AddAttribute(params string[] inputs) => Inputs = inputs;

    /// <summary>The layers summed.</summary>
    public string[] Inputs { get; }
    /// <summary>Activation applied to the sum (default none).</summary>
    public Activation Activation { get; set; }
    /// <summary>Negative slope of <see cref="Activation.LeakyRelu"/> (default 0.01).</summary>
    public float Alpha { get; set; } = 0.01f;
}

/// <summary>
/// Element-wise product of two layers' outputs (PyTorch <c>first * second</c>, Keras <c>Multiply</c>): equal shapes, or one
/// operand a per-channel scale (C x 1 x 1, or a flat vector of C) broadcast over the other's H x W, as squeeze-and-excitation
/// scales a feature map. Either operand may be the scale.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class MultiplyAttribute : LayerAttribute
{
    /// <summary>Multiplies the outputs of the layers named <paramref name="first"/> and <paramref name="second"/> (<c>"input"</c> names the network input).</summary>
    public MultiplyAttribute(string first, string second)
    {
        First = first;
        Second = second;
    }

    /// <summary>The first operand.</summary>
    public string First { get; }
    /// <summary>The second operand.</summary>
    public string Second { get; }
    /// <summary>Activation applied to the product (default none).</summary>
    public Activation Activation { get; set; }
    /// <summary>Negative slope of <see cref="Activation.LeakyRelu"/> (default 0.01).</summary>
    public float Alpha { get; set; } = 0.01f;
}

/// <summary>Concatenation along channels (<c>torch.cat(dim=1)</c>) of layers with the same height and width.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class ConcatAttribute : LayerAttribute
{
    /// <summary>Concatenates the named layers in order.</summary>
    public ConcatAttribute(params string[] inputs) => Inputs = inputs;

    /// <summary>The layers concatenated, in channel order.</summary>
    public string[] Inputs { get; }
}
