using CnnGen.Generator.Model;
using CnnGen.Generator.Shapes;

namespace CnnGen.Generator.Planning;

/// <summary>How a tensor is laid out in memory.</summary>
internal enum Layout
{
    /// <summary>Planar C, H, W (PyTorch's NCHW), optionally with a zero border: the network input.</summary>
    Chw,

    /// <summary>Interleaved H, W, C with channels padded to the vector width and an optional zero border.</summary>
    Hwc,

    /// <summary>A vector of features, padded to the vector width.</summary>
    Flat,
}

/// <summary>One tensor of the forward pass and where it lives in the workspace.</summary>
internal sealed record TensorPlan(
    int Id,
    string Name,
    Layout Layout,
    int C,
    int H,
    int W,
    int Cp,
    int BorderTop,
    int BorderLeft,
    int BorderBottom,
    int BorderRight,
    int Offset,
    bool External)
{
    /// <summary>Pixels per stored row, border included.</summary>
    public int RowPixels => W + BorderLeft + BorderRight;

    /// <summary>Stored rows, border included.</summary>
    public int Rows => H + BorderTop + BorderBottom;

    /// <summary>Floats between vertically adjacent pixels.</summary>
    public int RowStride => Layout == Layout.Hwc ? RowPixels * Cp : RowPixels;

    /// <summary>Floats between horizontally adjacent pixels.</summary>
    public int PixelStride => Layout == Layout.Hwc ? Cp : 1;

    /// <summary>Floats between channels of one pixel.</summary>
    public int ChannelStride => Layout == Layout.Chw ? Rows * RowPixels : 1;

    public bool HasBorder => BorderTop + BorderLeft + BorderBottom + BorderRight > 0;

    /// <summary>Floats the tensor occupies.</summary>
    public int Floats => Layout switch
    {
        Layout.Flat => Cp,
        Layout.Hwc => Rows * RowPixels * Cp,
        _ => C * Rows * RowPixels,
    };

    /// <summary>Offset of element (c, h, w) from the tensor's start (h, w without border).</summary>
    public int Index(int c, int h, int w) => Layout switch
    {
        Layout.Flat => c,
        Layout.Hwc => ((((h + BorderTop) * RowPixels) + w + BorderLeft) * Cp) + c,
        _ => (c * Rows * RowPixels) + ((h + BorderTop) * RowPixels) + w + BorderLeft,
    };

    public string Describe()
    {
        string border = HasBorder ? $", zero border {BorderTop}/{BorderLeft}/{BorderBottom}/{BorderRight} (top/left/bottom/right)" : string.Empty;
        return Layout switch
        {
            Layout.Flat => Cp == C ? $"flat [{C}]" : $"flat [{C}] padded to {Cp}",
            Layout.Hwc => $"HWC {H}x{W}, {Cp} floats per pixel ({C} channels){border}",
            _ => $"CHW {C}x{H}x{W}{border}",
        };
    }
}

/// <summary>The kind of work a forward step does.</summary>
internal enum StepKind
{
    PackInput,
    Conv,
    ConvPixels,
    DepthwiseConv,
    Pool,
    GlobalPool,
    Dense,
    Activation,
    Softmax,
    BatchNorm,
    Add,
    Concat,
    CopyOutput,
}

/// <summary>
/// One step of the forward pass: which layer (or -1), what it reads and writes, what is fused into it,
/// and the register tile the kernel uses.
/// </summary>
/// <param name="FoldedBatchNorm">Index of a BatchNorm2D layer folded into this convolution's weights, or -1.</param>
/// <param name="FusedAdd">Index of an Add layer done in this convolution's store (Inputs[1] is the residual), or -1.</param>
/// <param name="FusedDepthwise">
/// A 1x1 convolution running a depthwise layer row by row inside it: that layer's index, or -1. Inputs[0] is the
/// one-row buffer between them, Inputs[1] the depthwise layer's input.
/// </param>
/// <param name="RowFused">A depthwise step run by the next step (only its tiles are emitted; Forward skips it).</param>
/// <param name="DirectOutput">A convolution writing the network's output directly in NCHW order (Output names its shape only).</param>
/// <param name="FusedPool">A 2x2 max pool computed in a pixel-vectorized convolution's registers: its layer index, or -1 (Output is then the pool's).</param>
/// <param name="TilePixels">Output pixels per register tile (convolutions).</param>
/// <param name="TileVectors">Output-channel vectors per register tile (convolutions, dense).</param>
/// <param name="GroupTileVectors">Dense only: output vectors per register tile when a group of images is computed at once.</param>
internal sealed record StepPlan(
    StepKind Kind,
    int Layer,
    string Method,
    EquatableArray<int> Inputs,
    int Output,
    Activation Activation,
    float Alpha,
    int FoldedBatchNorm,
    int FusedAdd,
    int FusedDepthwise,
    bool RowFused,
    bool DirectOutput,
    int FusedPool,
    int TilePixels,
    int TileVectors,
    int GroupTileVectors);

/// <summary>A complete plan for one vector width.</summary>
/// <param name="Width">Floats per vector: 4 (Vector128), 8 (Vector256) or 16 (Vector512).</param>
/// <param name="WorkspaceFloats">Workspace of one image.</param>
/// <param name="BatchGroup">
/// Images a batch computes together (1: one at a time). Dense-dominated networks run each step for a group of
/// images, so a dense layer's weights stream once for the whole group (a small GEMM instead of GEMVs).
/// </param>
internal sealed record NetworkPlan(
    ShapedNetwork Net,
    int Width,
    EquatableArray<TensorPlan> Tensors,
    EquatableArray<StepPlan> Steps,
    int WorkspaceFloats,
    int BatchGroup)
{
    public string VectorType => "Vector" + (Width * 32).ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Registers the plan assumes: 16 for Vector256 (a real AVX2 machine), 32 for AVX-512 and ARM64 NEON.</summary>
    public int Registers => Planner.Registers(Width);
}
