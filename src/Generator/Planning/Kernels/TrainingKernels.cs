using CnnGen.Generator.Model;

namespace CnnGen.Generator.Planning.Kernels;

/// <summary>
/// Inverted dropout in a training forward pass: <c>mask = keep ? 1 / (1 - p) : 0</c> per element, <c>y = x * mask</c>, the mask
/// kept for the backward pass. <c>keep</c> is <see cref="Reference{T}.DropoutKeeps"/>'s 32-bit counter hash of (seed,
/// image * <see cref="Features"/> + the element's index in PyTorch's C, H, W order), computed lane by lane.
/// </summary>
internal sealed record DropoutKernel : KernelSpec
{
    public required string LayerName { get; init; }

    public required TensorPlan X { get; init; }

    public required TensorPlan Y { get; init; }

    /// <summary>The mask: <see cref="Y"/>'s geometry, its own slot in the trainer's workspace (set by the backward planner).</summary>
    public required TensorPlan? Mask { get; init; }

    public required float P { get; init; }

    /// <summary><c>1 / (1 - p)</c> (0 when p is 1).</summary>
    public required float Scale { get; init; }

    /// <summary>Elements per image (the counter's stride between images).</summary>
    public required int Features { get; init; }

    /// <summary>The evaluation-mode copy (dropout is the identity).</summary>
    public required string CopyMethod { get; init; }
}

/// <summary>
/// A dense layer over a thread's images at once (a small GEMM): register tiles of <see cref="Images"/> images x
/// output vectors, each weight vector loaded once for all of them; the weights are one packed tile,
/// <c>[feature][paddedUnits]</c>, features in the order the input is stored.
/// </summary>
internal sealed record DenseTrainingKernel : KernelSpec
{
    public required string LayerName { get; init; }

    public required TensorPlan X { get; init; }

    public required TensorPlan Y { get; init; }

    public required long Features { get; init; }

    /// <summary>The input is an HWC map read in H, W, C order.</summary>
    public required bool Hwc { get; init; }

    /// <summary>Floats between consecutive images' inputs and outputs.</summary>
    public required long XImageStride { get; init; }

    public required long YImageStride { get; init; }

    /// <summary>Images per register tile (the rest run one at a time).</summary>
    public required int Images { get; init; }

    /// <summary>Output vectors per register tile; full tiles, then a last tile of <see cref="LastVectors"/> (0: none).</summary>
    public required int Vectors { get; init; }

    public required int FullTiles { get; init; }

    public required int LastVectors { get; init; }

    public required ActivationSpec Activation { get; init; }

    /// <summary>
    /// Split by output columns: the kernel takes a range of output vectors (<c>vectorStart, vectorEnd</c>, a thread's
    /// share) and covers it with full tiles, then one last tile of whatever is left (every narrower tile is written).
    /// </summary>
    public bool Columns { get; init; }

    /// <summary>
    /// Split by columns, the weights come in unit blocks, <c>[unit vector][feature][vector]</c>: the floats of one output
    /// vector's block (features x the vector's floats), so a thread's output vectors are one contiguous run of the
    /// weights; 0: one tile, <c>[feature][paddedUnits]</c>.
    /// </summary>
    public long BlockFloats { get; init; }
}

/// <summary>One register-tile shape of a training kernel: its method and its two dimensions.</summary>
internal sealed record TileShape(string Method, int Rows, int Vectors);
