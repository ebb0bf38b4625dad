using CnnGen.Generator.Model;
using CnnGen.Generator.Planning.Kernels;

namespace CnnGen.Generator.Planning;

/// <summary>
/// A trainable network's training plan: what every width shares (the trainable layers and their parameters, in PyTorch's
/// <c>state_dict</c> order) and one <see cref="TrainingPlan"/> per vector width. Built by <see cref="TrainingPlanner"/>
/// from the forward plan made with <see cref="PlanOptions.Trainer"/>.
/// </summary>
internal sealed record TrainingModel
{
    /// <summary>The layers with parameters (convolution, dense, batch norm), in layer order.</summary>
    public required EquatableArray<TrainableLayer> Layers { get; init; }

    /// <summary>The cross-entropy's classes (the output is a vector of scores), or 0 (mean squared error only).</summary>
    public required int Classes { get; init; }

    /// <summary>The network ends in a softmax over a vector, which the cross-entropy folds in (it reads the logits).</summary>
    public required bool FoldsSoftmax { get; init; }

    /// <summary>The fewest pixels per channel of any batch norm (a training batch needs two values per channel), or 0.</summary>
    public required int BatchNormPixels { get; init; }

    /// <summary>One plan per vector width, in <see cref="MachineModel.Targets"/> order.</summary>
    public required EquatableArray<TrainingPlan> Plans { get; init; }

    /// <summary>
    /// The width (floats) the trainer runs at when none is asked for and it is accelerated, or 0 for the widest accelerated
    /// one (<see cref="TrainingWidth.Auto"/>).
    /// </summary>
    public int AutoWidth { get; init; }
}

/// <summary>The kind of a trainable layer.</summary>
internal enum TrainableKind
{
    Conv,
    Depthwise,
    Dense,
    BatchNorm,
}

/// <summary>A layer with parameters, as the trainer holds it: fields, parameter names and PyTorch shapes.</summary>
internal sealed record TrainableLayer
{
    public required int Layer { get; init; }

    /// <summary>The layer's name: the <c>state_dict</c> prefix.</summary>
    public required string Name { get; init; }

    public required TrainableKind Kind { get; init; }

    /// <summary>The camelCase identifier its fields and locals are named after.</summary>
    public required string Local { get; init; }

    /// <summary>The weight's (batch norm: gamma's) value field, in the kernels' packed layout.</summary>
    public required string WeightField { get; init; }

    /// <summary>The bias's (batch norm: beta's) value field; a zero vector when the layer has no bias.</summary>
    public required string BiasField { get; init; }

    /// <summary>Whether the bias is a parameter (false: <c>Bias = false</c>, a zero vector the forward kernel reads).</summary>
    public required bool HasBias { get; init; }

    /// <summary>PyTorch's weight shape.</summary>
    public required EquatableArray<int> WeightShape { get; init; }

    /// <summary>Filters, units or channels.</summary>
    public required int Units { get; init; }

    /// <summary>Input channels (convolution), input features' channels (dense: as stored), channels (batch norm).</summary>
    public required int Channels { get; init; }

    public int Groups { get; init; } = 1;

    /// <summary>
    /// The backward pass writes every element of the weight and bias gradients once per thread and pass, so the trainer
    /// does not clear them first: a dense layer's weight kernel covers a thread's images in one call. Other kernels add
    /// per image (convolutions) or on one thread (batch norm's combine).
    /// </summary>
    public bool OverwritesGradients => Kind == TrainableKind.Dense;

    /// <summary>
    /// A dense layer the threads split by output columns (<see cref="MachineModel.DenseColumnSplitFloats"/>): its forward
    /// and weight-gradient kernels run over the whole batch for a thread's output vectors, and the thread owns those
    /// columns of the parameters (one gradient buffer, nothing summed), its weights packed in unit blocks
    /// (<see cref="ParameterPack.BlockUnits"/>).
    /// </summary>
    public bool SplitColumns { get; init; }

    public int KernelH { get; init; } = 1;

    public int KernelW { get; init; } = 1;

    /// <summary>Dense: the input's height and width as stored (1 x 1 for a vector).</summary>
    public int InputH { get; init; } = 1;

    public int InputW { get; init; } = 1;

    /// <summary>The transposed weight copy the data-gradient kernel reads, or null when no input gradient is computed.</summary>
    public required string? TransposedField { get; init; }

    /// <summary>The transposed copy is only needed for input gradients asked for (the layer reads the network input).</summary>
    public required bool TransposedOnRequest { get; init; }

    /// <summary>Batch norm: its state field (running statistics, per-step vectors).</summary>
    public required string? StateField { get; init; }

    public float Eps { get; init; }

    /// <summary>Index of the weight in the parameter list.</summary>
    public required int WeightParameter { get; init; }

    /// <summary>Index of the bias in the parameter list, or -1.</summary>
    public required int BiasParameter { get; init; }

    /// <summary>The backward pass's local holding the thread's weight gradient buffer.</summary>
    public string WeightGradient => Local + "WeightGradient";

    /// <summary>The backward pass's local holding the thread's bias gradient buffer.</summary>
    public string BiasGradient => Local + "BiasGradient";
}

/// <summary>How one width lays out a trainable layer's parameters and transposed weights.</summary>
internal sealed record ParameterPack
{
    public required TrainableLayer Layer { get; init; }

    /// <summary>Units padded to the vector width (the output's floats per pixel).</summary>
    public required int PaddedUnits { get; init; }

    /// <summary>Convolution: floats of filters per packed tile.</summary>
    public int TileFloats { get; init; }

    /// <summary>Dense: the input is an HWC map read in H, W, C order.</summary>
    public bool DenseHwc { get; init; }

    /// <summary>
    /// Dense split by columns (<see cref="TrainableLayer.SplitColumns"/>): the units of the weights' unit block, a
    /// vector's floats (<c>[unit vector][feature][vector]</c>, a thread's columns one contiguous run); 0:
    /// <c>[feature][paddedUnits]</c>. Not the kernels' <c>BlockFloats</c>, the floats of a whole block (features x this).
    /// </summary>
    public int BlockUnits { get; init; }

    /// <summary>The input gradient's floats per pixel (the transposed weights' row width), or 0.</summary>
    public int GradientChannels { get; init; }

    /// <summary>Dense: the input gradient is stored HWC (else in PyTorch's C, H, W order).</summary>
    public bool GradientHwc { get; init; }

    /// <summary>Floats of the input gradient per image (dense: the transposed weights' row length).</summary>
    public int GradientFloats { get; init; }

    /// <summary>Floats of the transposed copy, or 0.</summary>
    public int TransposedFloats { get; init; }
}

/// <summary>One width's training plan: the forward plan, the workspace, and the training forward and backward drivers.</summary>
internal sealed record TrainingPlan
{
    /// <summary>The forward plan (training options).</summary>
    public required NetworkPlan Forward { get; init; }

    /// <summary>The nested class holding this width's training kernels (<c>Kernels256</c>, inside the trainer).</summary>
    public required string KernelClass { get; init; }

    /// <summary>Workspace floats per image: forward tensors, gradient tensors, dropout masks.</summary>
    public required int ImageFloats { get; init; }

    /// <summary>Batch-norm partial sums per image (doubles).</summary>
    public required int StatisticsDoubles { get; init; }

    /// <summary>Every gradient tensor (its slot in the image's workspace).</summary>
    public required EquatableArray<TensorPlan> Gradients { get; init; }

    /// <summary>How the width lays out each trainable layer (in <see cref="TrainingModel.Layers"/> order).</summary>
    public required EquatableArray<ParameterPack> Packs { get; init; }

    /// <summary>The training forward driver.</summary>
    public required EquatableArray<TrainingOp> ForwardOps { get; init; }

    /// <summary>The backward driver.</summary>
    public required EquatableArray<TrainingOp> BackwardOps { get; init; }

    /// <summary>Every kernel the drivers call, each written by its family's emitter.</summary>
    public required EquatableArray<KernelSpec> Kernels { get; init; }

    /// <summary>Each step's output in the image workspace, in step order (to name the first layer that overflows).</summary>
    public required EquatableArray<LayerOutput> Outputs { get; init; }

    /// <summary>The multiply-adds of one image with the vectorized channels padded to this width (<see cref="TrainingWidth.LaneMultiplyAdds"/>).</summary>
    public long LaneMultiplyAdds { get; init; }

    /// <summary>Floats per vector.</summary>
    public int Width => Forward.Width;
}

/// <summary>A layer's output tensor in the image workspace.</summary>
internal sealed record LayerOutput(string Layer, int Offset, int Floats);

/// <summary>When a driver operation runs.</summary>
internal enum When
{
    Always,

    /// <summary>Forward in training mode.</summary>
    Training,

    /// <summary>Forward in evaluation mode.</summary>
    Evaluation,

    /// <summary>The forward stops at the logits / the backward starts from them (the final softmax is folded).</summary>
    Logits,

    /// <summary>The forward runs the whole network / the backward starts from the output.</summary>
    FullOutput,

    /// <summary>The backward also computes d loss / d input (asked for, not needed for training).</summary>
    InputGradients,
}

/// <summary>What a kernel argument refers to.</summary>
internal enum ArgKind
{
    /// <summary>A forward tensor of the image (<see cref="CallArg.Offset"/> in the image's workspace).</summary>
    Tensor,

    /// <summary>A gradient tensor of the image.</summary>
    Gradient,

    /// <summary>The image's input (the trainer's copy of the batch).</summary>
    Input,

    /// <summary>The image's output (or logits) in the trainer's output buffer.</summary>
    Output,

    /// <summary>The image's d loss / d output (or logits).</summary>
    OutputGradient,

    /// <summary>The image's d loss / d input.</summary>
    InputGradient,

    /// <summary>The image's batch-norm partial sums (<see cref="CallArg.Offset"/> doubles in).</summary>
    Statistics,

    /// <summary>A field of the trainer (<see cref="CallArg.Name"/>: <c>_conv1Weight</c>, <c>_bn1.Scale</c>).</summary>
    Field,

    /// <summary>The thread's gradient buffer of a parameter (<see cref="CallArg.Name"/>: the backward's local).</summary>
    ParameterGradient,

    /// <summary>The dropout seed of the layer named <see cref="CallArg.Name"/> in this pass.</summary>
    DropoutSeed,

    /// <summary>The image's index in the batch.</summary>
    Image,

    /// <summary>The number of images of a batched call.</summary>
    Count,

    /// <summary>The thread's range of a column-split layer's <see cref="CallArg.Offset"/> output vectors: <c>vectorStart, vectorEnd</c>.</summary>
    Vectors,
}

/// <summary>One argument of a kernel call.</summary>
internal sealed record CallArg(ArgKind Kind, long Offset = 0, string Name = "");

/// <summary>One operation of a training driver (forward or backward), in order.</summary>
internal abstract record TrainingOp
{
    public When When { get; init; } = When.Always;
}

/// <summary>A numbered comment starting a step's operations.</summary>
internal sealed record StepOp(string Title) : TrainingOp;

/// <summary>
/// A kernel call: per image (in a loop over the thread's images, consecutive per-image operations sharing one loop), or
/// once for all the thread's images (<see cref="Batched"/>: the arguments point at the first image).
/// </summary>
internal sealed record CallOp : TrainingOp
{
    public required string Method { get; init; }

    public required EquatableArray<CallArg> Args { get; init; }

    public bool Batched { get; init; }

    /// <summary>A batched call over every image of the batch (a layer split by columns), not the thread's images.</summary>
    public bool AllImages { get; init; }
}

/// <summary>Clears a gradient tensor of each image (before a first writer that accumulates).</summary>
internal sealed record ClearOp(TensorPlan Gradient) : TrainingOp;

/// <summary>Every thread waits for the others (batch norm needs the whole batch).</summary>
internal sealed record SyncOp : TrainingOp;

/// <summary>What a batch norm's combination computes.</summary>
internal enum CombinePhase
{
    Mean,
    Variance,
    Gradients,
}

/// <summary>Thread 0 combines a batch norm's per-image sums over the whole batch (between two <see cref="SyncOp"/>s).</summary>
internal sealed record CombineOp : TrainingOp
{
    public required string StateField { get; init; }

    public required CombinePhase Phase { get; init; }

    public required long StatisticsOffset { get; init; }

    /// <summary>Pixels per channel of an image.</summary>
    public required int Pixels { get; init; }

    /// <summary>Gradients: the locals of the gamma and beta gradient buffers.</summary>
    public string? GammaGradient { get; init; }

    public string? BetaGradient { get; init; }
}

/// <summary>Zeroes a grouped convolution's weight gradient outside each filter's group (once per thread, at the end).</summary>
internal sealed record MaskGroupsOp : TrainingOp
{
    public required string Gradient { get; init; }

    public required int Filters { get; init; }

    public required int Channels { get; init; }

    public required int Groups { get; init; }

    public required int KernelH { get; init; }

    public required int KernelW { get; init; }

    public required int PaddedFilters { get; init; }

    public required int TileFloats { get; init; }
}
