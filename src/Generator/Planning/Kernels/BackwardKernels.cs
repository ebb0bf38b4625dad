using CnnGen.Generator.Model;

namespace CnnGen.Generator.Planning.Kernels;

/// <summary>
/// An activation's backward: <c>dx = dy * f'(.)</c>, the derivative computed from the activation's output
/// (<see cref="Source"/> is Y: ReLU, ReLU6, LeakyReLU with a slope &gt;= 0, Sigmoid, Tanh, with PyTorch's conventions at the
/// kinks) or from its input (SiLU, LeakyReLU with a negative slope). In place (<c>dy *= f'(y)</c>) for an activation fused
/// into its producer's store.
/// </summary>
internal sealed record ActivationBackwardKernel : KernelSpec
{
    public required TensorPlan Source { get; init; }

    public required bool FromInput { get; init; }

    public required TensorPlan OutputGradient { get; init; }

    /// <summary>The input's gradient, or null in place.</summary>
    public required TensorPlan? InputGradient { get; init; }

    public required bool Accumulate { get; init; }

    public required ActivationSpec Activation { get; init; }
}

/// <summary>
/// Routes a gradient to an input: an Add's operands (and a fused residual) get <c>dy</c> itself, a Concat's get their
/// channel slice. Whole vectors when the channels line up (<see cref="Vectorized"/>), else a copy of the slice per pixel.
/// </summary>
internal sealed record GradientCopyKernel : KernelSpec
{
    public required TensorPlan From { get; init; }

    public required TensorPlan To { get; init; }

    /// <summary>The slice's first channel in <see cref="From"/>.</summary>
    public required int ChannelOffset { get; init; }

    public required bool Vectorized { get; init; }

    public required bool Accumulate { get; init; }
}

/// <summary>
/// Writes one image's d loss / d output (or d logits), given in PyTorch's order, into a gradient tensor: a copy for a
/// vector, a transpose per row for an HWC map.
/// </summary>
internal sealed record GradientInKernel : KernelSpec
{
    public required TensorPlan Y { get; init; }

    /// <summary>The tensor as PyTorch shapes it (for the comment).</summary>
    public required string Shape { get; init; }
}

/// <summary>Inverted dropout's backward: <c>dx = dy * mask</c> (the forward's mask).</summary>
internal sealed record DropoutBackwardKernel : KernelSpec
{
    public required TensorPlan OutputGradient { get; init; }

    public required TensorPlan Mask { get; init; }

    public required TensorPlan InputGradient { get; init; }

    public required bool Accumulate { get; init; }
}

/// <summary>Softmax's backward over each pixel's channels (or the vector): <c>dx = y * (dy - sum(dy * y))</c>.</summary>
internal sealed record SoftmaxBackwardKernel : KernelSpec
{
    public required TensorPlan Y { get; init; }

    public required TensorPlan OutputGradient { get; init; }

    public required TensorPlan InputGradient { get; init; }

    public required bool Accumulate { get; init; }
}

/// <summary>
/// Max or average pooling's backward, vectors over channels, windows clipped at the edges as in the forward pass: max
/// sends each window's gradient to its first maximum in row-major window order (recomputed from the stored input and
/// output with a "taken" mask); average spreads it with the forward's divisor. Accumulates (windows may overlap), or,
/// when the windows tile the input exactly and it is the gradient's first writer, overwrites (no clear needed).
/// </summary>
internal sealed record PoolBackwardKernel : KernelSpec
{
    /// <summary>Add into dx (false only when the windows tile the input and nothing wrote dx before).</summary>
    public required bool Accumulate { get; init; }

    public required TensorPlan X { get; init; }

    public required TensorPlan Y { get; init; }

    public required TensorPlan OutputGradient { get; init; }

    public required TensorPlan InputGradient { get; init; }

    public required Window Window { get; init; }

    public required bool Max { get; init; }

    public required bool CountIncludePad { get; init; }

    public required int PaddedHeight { get; init; }

    public required int PaddedWidth { get; init; }

    /// <summary>
    /// The layer whose fused ReLU is folded in (max pooling only): dy passes where the window's maximum is &gt; 0, and
    /// that layer has no activation pass of its own; null when nothing is folded.
    /// </summary>
    public string? Relu { get; init; }

    /// <summary>
    /// The convolution whose bias gradient this kernel adds (max pooling whose windows tile the convolution's output, the
    /// pool its only reader, the convolution with ReLU or no activation): each window's dy goes to one pixel, so the sum of the windows' dy is the sum of the
    /// convolution's dy, and the convolution has no bias pass over its full-size gradient; null when none.
    /// </summary>
    public string? BiasOf { get; init; }

    /// <summary>
    /// Each window's gradient and the position of its first maximum, for the weight gradient of the convolution the pool
    /// reads (<see cref="ConvWeightsFromMaximaKernel"/>); null when the convolution's weight gradient reads dense dy.
    /// </summary>
    public PoolMaxima? Maxima { get; init; }

    /// <summary>Writes dx (false: only <see cref="Maxima"/>, when nothing reads the convolution's dense dy in this call).</summary>
    public bool Dense { get; init; } = true;
}

/// <summary>Global pooling's backward: the mean's gradient to every pixel, the max's to each channel's first maximum.</summary>
internal sealed record GlobalPoolBackwardKernel : KernelSpec
{
    public required TensorPlan X { get; init; }

    public required TensorPlan Y { get; init; }

    public required TensorPlan OutputGradient { get; init; }

    public required TensorPlan InputGradient { get; init; }

    public required bool Max { get; init; }

    public required float Scale { get; init; }

    public required bool Accumulate { get; init; }
}

/// <summary>
/// An adaptive average pool's backward, vectors over channels: each output cell's gradient, divided by its window's
/// area, added to every input pixel of its window (PyTorch's adaptive windows, which overlap when the input size is not a
/// multiple of the output size). Accumulates.
/// </summary>
internal sealed record AdaptivePoolBackwardKernel : KernelSpec
{
    public required TensorPlan OutputGradient { get; init; }

    public required TensorPlan InputGradient { get; init; }
}

/// <summary>Which operand's gradient a <see cref="MultiplyBackwardKernel"/> computes.</summary>
internal enum MultiplyGradient
{
    /// <summary>Equal shapes: <c>dx = dy * other</c>, element by element.</summary>
    Operand,

    /// <summary>The map of a per-channel product: <c>dmap[h, w, c] = dy[h, w, c] * s[c]</c>.</summary>
    Map,

    /// <summary>The per-channel scale: <c>ds[c] = sum over pixels of dy[h, w, c] * map[h, w, c]</c>.</summary>
    Scale,
}

/// <summary>
/// A Multiply's backward for one operand: the output gradient times the other operand (<see cref="Factor"/>, the forward's
/// stored tensor), element by element, broadcast over the pixels (the map's gradient) or summed over them (the scale's).
/// </summary>
internal sealed record MultiplyBackwardKernel : KernelSpec
{
    public required MultiplyGradient Gradient { get; init; }

    public required TensorPlan OutputGradient { get; init; }

    /// <summary>The other operand: the other equal-shaped input, the scale (for the map's gradient) or the map (for the scale's).</summary>
    public required TensorPlan Factor { get; init; }

    public required TensorPlan InputGradient { get; init; }

    public required bool Accumulate { get; init; }
}

/// <summary>What a batch norm's per-image partial sums hold.</summary>
internal enum StatisticsKind
{
    /// <summary>Forward, first pass: sum of x per channel.</summary>
    Sums,

    /// <summary>Forward, second pass: sum of (x - batch mean)^2 per channel, in double.</summary>
    Squares,

    /// <summary>Backward: sum of dy, then sum of dy * (x - mean), per channel.</summary>
    Gradients,
}

/// <summary>
/// One image's per-channel partial sums for a batch norm in training mode: vector accumulators per row, widened to double
/// and added per row, stored as doubles for thread 0 to combine in image order.
/// </summary>
internal sealed record BatchNormStatisticsKernel : KernelSpec
{
    public required StatisticsKind Kind { get; init; }

    public required TensorPlan X { get; init; }

    /// <summary>Gradients: the output's gradient.</summary>
    public required TensorPlan? OutputGradient { get; init; }
}

/// <summary>
/// Batch norm's backward for the data (training mode): <c>dx = (dy - mean(dy) - (x - mean) * projection) * gamma / sqrt(var + eps)</c>
/// with the batch's sums combined by thread 0.
/// </summary>
internal sealed record BatchNormBackwardKernel : KernelSpec
{
    public required TensorPlan X { get; init; }

    public required TensorPlan OutputGradient { get; init; }

    public required TensorPlan InputGradient { get; init; }

    public required bool Accumulate { get; init; }
}

/// <summary>
/// A dense layer's backward over a thread's images: the bias gradient (sum of dy), the weight gradient as a GEMM reduced
/// over the images in registers (tiles of <see cref="FeatureBlock"/> features x output vectors), added once into the
/// thread's gradient buffer, or stored there when the kernel is the gradient's only writer in a pass
/// (<see cref="Overwrite"/>: the trainer then does not clear it first).
/// </summary>
internal sealed record DenseWeightsKernel : KernelSpec
{
    public required string LayerName { get; init; }

    /// <summary>Store the weight and bias gradients instead of adding to them (one call per thread and pass writes every element).</summary>
    public required bool Overwrite { get; init; }

    public required TensorPlan X { get; init; }

    public required TensorPlan OutputGradient { get; init; }

    public required bool Hwc { get; init; }

    public required long XImageStride { get; init; }

    public required long YImageStride { get; init; }

    public required bool Bias { get; init; }

    /// <summary>Features per register tile.</summary>
    public required int FeatureBlock { get; init; }

    /// <summary>Output vectors per register tile (full tiles, then a last one of <see cref="LastVectors"/>).</summary>
    public required int Vectors { get; init; }

    public required int FullTiles { get; init; }

    public required int LastVectors { get; init; }

    /// <summary>Split by output columns: a range of output vectors for the whole batch (see <see cref="DenseTrainingKernel.Columns"/>).</summary>
    public bool Columns { get; init; }

    /// <summary>The weight gradient's unit blocks, as the weights' (see <see cref="DenseTrainingKernel.BlockFloats"/>); 0: one tile.</summary>
    public long BlockFloats { get; init; }
}

/// <summary>
/// A dense layer's input gradient over a thread's images: <c>dx = W^T dy</c> from the transposed weights
/// (<c>[unit][gradient floats]</c>): register tiles of images x vectors of the input gradient, each transposed-weight
/// vector loaded once for all the images of the tile.
/// </summary>
internal sealed record DenseDataKernel : KernelSpec
{
    public required string LayerName { get; init; }

    public required TensorPlan OutputGradient { get; init; }

    public required TensorPlan InputGradient { get; init; }

    public required int Units { get; init; }

    /// <summary>The transposed weights' row length (the input gradient's interior floats).</summary>
    public required int GradientFloats { get; init; }

    public required long XImageStride { get; init; }

    public required long YImageStride { get; init; }

    public required int Images { get; init; }

    /// <summary>Vectors per register tile along a row of the input gradient (full tiles, then a last one).</summary>
    public required int Vectors { get; init; }

    public required bool Accumulate { get; init; }
}
