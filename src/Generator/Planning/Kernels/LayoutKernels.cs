namespace CnnGen.Generator.Planning.Kernels;

/// <summary>Copies the NCHW input into the layout its readers want, checking it for NaN and infinity in the same pass.</summary>
internal sealed record PackInputKernel : KernelSpec
{
    public required TensorPlan Y { get; init; }

    /// <summary>The input's channels, height and width.</summary>
    public required int C { get; init; }

    public required int H { get; init; }

    public required int W { get; init; }

    /// <summary>Planar CHW with a zero border (row copies); otherwise HWC (a transpose per row).</summary>
    public required bool Planar { get; init; }

    /// <summary>The next step reads the input in place (<see cref="Y"/> is the input): only the check is left.</summary>
    public bool InPlace { get; init; }
}

/// <summary>How the output copy reads its tensor.</summary>
internal enum CopyMode
{
    /// <summary>Already in PyTorch's order without a border: one copy.</summary>
    Whole,

    /// <summary>Planar with a border: one copy per row.</summary>
    PlanarRows,

    /// <summary>HWC: each stored row (width x channels) is transposed into a row of every output plane.</summary>
    TransposeRows,
}

/// <summary>Writes the network's output tensor to the caller's output in PyTorch's order.</summary>
internal sealed record CopyOutputKernel : KernelSpec
{
    public required TensorPlan X { get; init; }

    /// <summary>The output shape as PyTorch prints it.</summary>
    public required string OutputShape { get; init; }

    public required CopyMode Mode { get; init; }
}
