namespace CnnGen.Generator.Planning.Kernels;

/// <summary>A max or average pool over HWC, vectors over channels.</summary>
internal sealed record PoolKernel : KernelSpec
{
    public required TensorPlan X { get; init; }

    public required TensorPlan Y { get; init; }

    public required Window Window { get; init; }

    public required bool Max { get; init; }

    /// <summary>Average pool: padding counts in the divisor (PyTorch's count_include_pad).</summary>
    public required bool CountIncludePad { get; init; }

    public required bool CeilMode { get; init; }

    /// <summary>Every window lies inside the input and fits the unroll budget: the window is unrolled with no clipping.</summary>
    public required bool Exact { get; init; }

    /// <summary>An exact average pool's 1 / window size.</summary>
    public required float ExactScale { get; init; }

    /// <summary>Height and width of the input with its padding (where clipped average windows end).</summary>
    public required int PaddedHeight { get; init; }

    public required int PaddedWidth { get; init; }

    /// <summary>Floats of X between consecutive output rows and pixels (exact windows).</summary>
    public required long XRowStep { get; init; }

    public required long XPixelStep { get; init; }
}

/// <summary>A global max or average pool: one vector of channels at a time over every pixel.</summary>
internal sealed record GlobalPoolKernel : KernelSpec
{
    public required TensorPlan X { get; init; }

    public required TensorPlan Y { get; init; }

    public required bool Max { get; init; }

    /// <summary>The average's 1 / pixels.</summary>
    public required float Scale { get; init; }
}

/// <summary>
/// An adaptive average pool (PyTorch's windows: output row i averages input rows floor(i * H / OH) to
/// ceil((i + 1) * H / OH) - 1, and columns likewise), vectors over channels. Identity and 1 x 1 outputs are planned as a
/// view and a <see cref="GlobalPoolKernel"/> instead.
/// </summary>
internal sealed record AdaptivePoolKernel : KernelSpec
{
    public required TensorPlan X { get; init; }

    public required TensorPlan Y { get; init; }
}
