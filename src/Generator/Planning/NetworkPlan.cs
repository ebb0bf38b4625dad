using System.Linq;
using CnnGen.Generator.Model;
using CnnGen.Generator.Planning.Kernels;
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
internal sealed record TensorPlan
{
    /// <summary>Index in <see cref="NetworkPlan.Tensors"/>; 0 is the network input.</summary>
    public required int Id { get; init; }

    /// <summary>The producing layer's name (or <c>input</c>), for comments.</summary>
    public required string Name { get; init; }

    /// <summary>The C# name of the <c>ref float</c> that points at it in the forward pass.</summary>
    public required string Variable { get; init; }

    public required Layout Layout { get; init; }

    public required int C { get; init; }

    public required int H { get; init; }

    public required int W { get; init; }

    /// <summary>Floats per pixel: channels padded to the vector width (HWC and flat), or C (CHW).</summary>
    public required int Cp { get; init; }

    public int BorderTop { get; init; }

    public int BorderLeft { get; init; }

    public int BorderBottom { get; init; }

    public int BorderRight { get; init; }

    /// <summary>Offset in the workspace (floats).</summary>
    public int Offset { get; init; }

    /// <summary>The caller's memory (the network input), not the workspace.</summary>
    public bool External { get; init; }

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

    /// <summary>Offset of element (0, 0, 0) from the tensor's start: where its interior begins.</summary>
    public int Origin => Index(0, 0, 0);

    /// <summary>Offset of element (c, h, w) from the tensor's start (h, w without border).</summary>
    public int Index(int c, int h, int w) => Layout switch
    {
        Layout.Flat => c,
        Layout.Hwc => ((((h + BorderTop) * RowPixels) + w + BorderLeft) * Cp) + c,
        _ => (c * Rows * RowPixels) + ((h + BorderTop) * RowPixels) + w + BorderLeft,
    };

    /// <summary>
    /// Offset of the top-left tap of output pixel (0, 0) of a window padded by <paramref name="padTop"/> and
    /// <paramref name="padLeft"/>: it lies in the zero border, which is at least that wide.
    /// </summary>
    public long PaddedOrigin(int padTop, int padLeft) => Origin - ((long)padTop * RowStride) - ((long)padLeft * PixelStride);

    public string Describe()
    {
        string border = HasBorder ? $", zero border {BorderTop}/{BorderLeft}/{BorderBottom}/{BorderRight} (top/left/bottom/right)" : string.Empty;
        return Layout switch
        {
            Layout.Flat => Cp == C ? $"flat [{C}]" : $"flat [{C}] padded to {Cp}",
            Layout.Hwc => $"HWC {H}x{W}, {Words.Count(Cp, "float")} per pixel ({Words.Count(C, "channel")}){border}",
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
    Multiply,
    AdaptivePool,

    /// <summary>Training plans only: an inverted-dropout mask in training, a copy in evaluation.</summary>
    Dropout,
}

/// <summary>
/// One step of the forward pass: which layer (or -1), what it reads and writes, what was fused into it (what a
/// backward pass has to undo), how the forward pass calls it, and its kernel's complete spec.
/// </summary>
internal sealed record StepPlan
{
    public required StepKind Kind { get; init; }

    /// <summary>The layer the step computes, or -1 (packing the input).</summary>
    public required int Layer { get; init; }

    /// <summary>Tensors read (indices into <see cref="NetworkPlan.Tensors"/>).</summary>
    public required EquatableArray<int> Inputs { get; init; }

    /// <summary>Tensor written, or -1 for the network output (copying it).</summary>
    public required int Output { get; init; }

    /// <summary>The activation applied in the step's store.</summary>
    public required ActivationSpec Activation { get; init; }

    /// <summary>Index of a BatchNorm2D layer folded into this convolution's weights, or -1.</summary>
    public int FoldedBatchNorm { get; init; } = -1;

    /// <summary>Index of an Add layer done in this convolution's store (Inputs[1] is the residual), or -1.</summary>
    public int FusedAdd { get; init; } = -1;

    /// <summary>
    /// A 1x1 convolution running a depthwise layer row by row inside it: that layer's index, or -1. Inputs[0] is the
    /// one-row buffer between them, Inputs[1] the depthwise layer's input.
    /// </summary>
    public int FusedDepthwise { get; init; } = -1;

    /// <summary>A depthwise step run by the next step (only its tiles are emitted; Forward skips it).</summary>
    public bool RowFused { get; init; }

    /// <summary>A convolution writing the network's output directly in NCHW order (Output names its shape only).</summary>
    public bool DirectOutput { get; init; }

    /// <summary>A 2x2 max pool computed in a pixel-vectorized convolution's registers: its layer index, or -1 (Output is then the pool's).</summary>
    public int FusedPool { get; init; } = -1;

    /// <summary>The kernel method Forward calls.</summary>
    public required string Method { get; init; }

    /// <summary>What the step computes, one line (a comment in Forward, the kernel's summary).</summary>
    public required string Title { get; init; }

    /// <summary>The tensors Forward passes, in the kernel's order; -1 is the network output.</summary>
    public required EquatableArray<int> Arguments { get; init; }

    /// <summary>The weight fields Forward passes after the tensors.</summary>
    public required EquatableArray<string> WeightFields { get; init; }

    /// <summary>Forward clears the output's zero border before the step (workspace slots are reused).</summary>
    public bool ClearsOutputBorder { get; init; }

    /// <summary>
    /// The kernel returns false when its input holds NaN or infinity (packing the input checks it in the same pass), or,
    /// for a step that checks the network output as it stores it (<see cref="NetworkPlan.ChecksOutput"/>), when an output may be NaN or infinity.
    /// </summary>
    public bool ChecksFinite { get; init; }

    /// <summary>
    /// Output rows (dense: register tiles) the threads sharing an image split between them, one contiguous range each;
    /// 0: thread 0 runs the step alone. Forward passes the range after the weights (all of them on one thread).
    /// </summary>
    public int SplitUnits { get; init; }

    /// <summary>The kernel a batch group calls instead (all images at once), or null when it runs image by image.</summary>
    public string? GroupMethod { get; init; }

    /// <summary>Every number and choice the kernel's emitter needs.</summary>
    public required KernelSpec Kernel { get; init; }
}

/// <summary>A run of consecutive forward steps done by one method.</summary>
internal sealed record ForwardPart
{
    /// <summary>The method's name with <c>Forward</c> (or <c>ForwardGroup</c>) in front: <c>_Steps1To64</c>; empty for a single part.</summary>
    public required string Suffix { get; init; }

    /// <summary>The part's first step, counting the steps Forward runs (a row-fused step runs inside the next) from 0.</summary>
    public required int First { get; init; }

    /// <summary>Steps Forward runs in this part.</summary>
    public required int Count { get; init; }

    /// <summary>The tensors the part declares a <c>ref float</c> for.</summary>
    public required EquatableArray<int> Locals { get; init; }

    /// <summary>The part packs the input, which can find NaN or infinity: it returns false then.</summary>
    public required bool ChecksFinite { get; init; }
}

/// <summary>How a layer's weights are held at run time (fields of the network class).</summary>
internal enum WeightKind
{
    /// <summary>A convolution (regular, pixel-vectorized or depthwise): weight and bias, with a folded batch norm if any.</summary>
    Conv,

    /// <summary>A dense layer: weight and bias.</summary>
    Dense,

    /// <summary>A stand-alone batch norm: scale and shift computed at load.</summary>
    BatchNorm,
}

/// <summary>A layer whose weights the network loads; the same at every vector width.</summary>
internal sealed record WeightedLayer
{
    public required int Layer { get; init; }

    public required WeightKind Kind { get; init; }

    /// <summary>The camelCase identifier its locals and fields are named after (<c>conv1</c>).</summary>
    public required string Local { get; init; }

    /// <summary>The two readonly fields the kernels read (<c>_conv1Weight</c>, <c>_conv1Bias</c>, or <c>_bnScale</c>, <c>_bnShift</c>).</summary>
    public required EquatableArray<string> Fields { get; init; }

    /// <summary>A BatchNorm2D layer folded into this convolution at load, or -1.</summary>
    public int FoldedBatchNorm { get; init; } = -1;
}

/// <summary>The layout a width's kernels stream a layer's weights in, made once at load.</summary>
internal enum PackKind
{
    /// <summary><c>Packing.Conv</c>: [tiles][taps][channels][tile filters].</summary>
    Conv,

    /// <summary><c>Packing.Winograd</c>: U = G g G^T, [tiles][16 positions][channels][tile filters], for Winograd F(2x2, 3x3).</summary>
    Winograd,

    /// <summary><c>Packing.ConvTaps</c>: [channels][taps][filters], for pixel-vectorized convolutions.</summary>
    ConvTaps,

    /// <summary><c>Packing.Depthwise</c>: [taps][channels].</summary>
    Depthwise,

    /// <summary><c>Packing.Dense</c>: tiles of [features][tile outputs], features in the order the input is stored.</summary>
    Dense,

    /// <summary><c>Packing.BatchNorm</c>: per-channel scale and shift.</summary>
    BatchNorm,
}

/// <summary>How one width repacks one weighted layer at load.</summary>
internal sealed record WeightPack
{
    public required WeightedLayer Weights { get; init; }

    public required PackKind Kind { get; init; }

    /// <summary>Outputs padded to the vector width (the output tensor's <see cref="TensorPlan.Cp"/>).</summary>
    public required int PaddedUnits { get; init; }

    /// <summary>Floats per weight tile (convolution and dense), 0 otherwise.</summary>
    public int TileFloats { get; init; }

    /// <summary>Dense only: the input as stored (C, H, W), and whether its features are read in H, W, C order.</summary>
    public TensorShape? DenseInput { get; init; }

    public bool DenseHwc { get; init; }
}

/// <summary>
/// What every vector width's plan shares, decided once before any width is planned: the class shell (fields,
/// loading, Predict) is written from this, so it cannot depend on one width's choices.
/// </summary>
internal sealed record CommonPlan
{
    /// <summary>What the planner was allowed to do.</summary>
    public required PlanOptions Options { get; init; }

    /// <summary>A unique PascalCase identifier per layer, for kernel methods and weight fields.</summary>
    public required EquatableArray<string> LayerIdentifiers { get; init; }

    /// <summary>The layers whose weights are loaded, in step order.</summary>
    public required EquatableArray<WeightedLayer> Weights { get; init; }

    /// <summary>
    /// The shell's method loading each of <see cref="Weights"/> (read, fold, repack for the chosen width), in its order;
    /// layers whose loading differs only in names share one (<see cref="Passes.Loaders"/>).
    /// </summary>
    public required EquatableArray<string> Loaders { get; init; }

    /// <summary>The forward pass starts by packing the input, which checks it for NaN and infinity in the same pass.</summary>
    public required bool PacksInput { get; init; }

    /// <summary>Batches run a group of images at a time (dense layers do most of the work).</summary>
    public required bool GroupsBatches { get; init; }
}

/// <summary>A complete plan for one vector width.</summary>
internal sealed record NetworkPlan
{
    public required ShapedNetwork Net { get; init; }

    /// <summary>The target's facts the plan was made with.</summary>
    public required MachineModel Machine { get; init; }

    /// <summary>The nested class holding this width's kernels (<c>Kernels256</c>).</summary>
    public required string KernelClass { get; init; }

    public required EquatableArray<TensorPlan> Tensors { get; init; }

    public required EquatableArray<StepPlan> Steps { get; init; }

    /// <summary>The tensors the forward pass declares a <c>ref float</c> for (every workspace tensor a step uses).</summary>
    public required EquatableArray<int> Locals { get; init; }

    /// <summary>
    /// The forward pass in parts of at most <see cref="Planner.MaxStepsPerMethod"/> steps, each its own method that
    /// <c>Forward</c> calls in order (one part: <c>Forward</c> runs the steps itself), so that a long network's driver
    /// stays far below the JIT's limits on IL, locals and basic blocks.
    /// </summary>
    public required EquatableArray<ForwardPart> Parts { get; init; }

    /// <summary>How each weighted layer is repacked for this width at load, in <see cref="CommonPlan.Weights"/> order.</summary>
    public required EquatableArray<WeightPack> Packs { get; init; }

    /// <summary>Workspace of one image (floats).</summary>
    public required int WorkspaceFloats { get; init; }

    /// <summary>
    /// Images a batch computes together (1: one at a time). Dense-dominated networks run each step for a group of
    /// images, so a dense layer's weights stream once for the whole group (a small GEMM instead of GEMVs).
    /// </summary>
    public required int BatchGroup { get; init; }

    /// <summary>Several threads can share one image: some step is split between them (a <c>Forward</c> overload per thread).</summary>
    public bool SplitsImage => Steps.Any(s => s.SplitUnits > 0);

    /// <summary>
    /// The step writing the network output checks what it stores (a planar pair: the sum of each tile's stored vectors
    /// must be finite), so <c>Forward</c> returns false when an output may be NaN or infinity and <c>Predict</c> needs no
    /// scan of the output after it (a false alarm, a finite sum's overflow, is rescanned and passes).
    /// </summary>
    public bool ChecksOutput => Steps.Any(s => s.ChecksFinite && s.Kind != StepKind.PackInput);

    /// <summary>Floats per vector.</summary>
    public int Width => Machine.Width;

    /// <summary>The vector type's name: <c>Vector256</c>.</summary>
    public string VectorType => Machine.VectorType;
}
