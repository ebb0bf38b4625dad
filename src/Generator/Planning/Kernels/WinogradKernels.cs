namespace CnnGen.Generator.Planning.Kernels;

/// <summary>
/// A 3x3 stride-1 convolution computed with Winograd F(2x2, 3x3) (<see cref="Passes.Winograd"/>): per block of
/// <see cref="BlockRows"/> rows of 2x2 output tiles, the input tiles' transform B^T d B into the scratch tensor, for each
/// weight tile 16 GEMMs over input channels (register tiles of <see cref="TilePixels"/> tiles x <see cref="TileVectors"/>
/// vectors), then each tile's output transform A^T m A with the bias, a fused residual and the activation, stored in
/// the same layout the direct kernel writes.
/// </summary>
internal sealed record WinogradKernel : KernelSpec
{
    public required string LayerName { get; init; }

    public required TensorPlan X { get; init; }

    public required TensorPlan Y { get; init; }

    /// <summary>A fused Add's other operand, added before the activation, or null.</summary>
    public required TensorPlan? Residual { get; init; }

    /// <summary>The fused Add layer's name, or null.</summary>
    public required string? ResidualLayer { get; init; }

    /// <summary>
    /// The workspace scratch of one block: transformed tiles [16 positions][block tiles][X.Cp] (a GEMM's broadcasts of
    /// neighbouring tiles one pixel's floats apart, as the direct kernel's), then GEMM results [tile][16][TileFloats].
    /// </summary>
    public required TensorPlan Scratch { get; init; }

    public required Window Window { get; init; }

    /// <summary>Real input channels (the GEMMs' depth).</summary>
    public required int Channels { get; init; }

    /// <summary>Real output channels.</summary>
    public required int Filters { get; init; }

    /// <summary>Rows and columns of 2x2 tiles covering the output (the last of each partial when the output size is odd).</summary>
    public required int TileRows { get; init; }

    public required int TileCols { get; init; }

    /// <summary>Tile rows per cache block.</summary>
    public required int BlockRows { get; init; }

    /// <summary>Transformed tiles per GEMM register tile.</summary>
    public required int TilePixels { get; init; }

    /// <summary>Vectors of filters per GEMM register tile (one weight tile).</summary>
    public required int TileVectors { get; init; }

    /// <summary>Weight tiles covering all filters.</summary>
    public required int TileGroups { get; init; }

    /// <summary>Floats of filters per weight tile: <see cref="TileVectors"/> x width.</summary>
    public required int TileFloats { get; init; }

    /// <summary>Offset of output pixel (0, 0)'s top-left tap in X (inside the zero border when padded).</summary>
    public required long XOrigin { get; init; }

    public required ActivationSpec Activation { get; init; }

    /// <summary>The cost model's cycles per image, direct and Winograd (for the kernel's remarks).</summary>
    public required long DirectCycles { get; init; }

    public required long WinogradCycles { get; init; }

    /// <summary>
    /// Floats between two positions of the transformed tiles: a whole block's tiles, padded to an odd number of cache
    /// lines (<see cref="Passes.Winograd.Pitch"/>).
    /// </summary>
    public required int PositionPitch { get; init; }

    /// <summary>The GEMM results' offset in the scratch: after the block's transformed tiles.</summary>
    public int ResultsOffset => Passes.Winograd.Positions * PositionPitch;

    /// <summary>The last output row (column) is alone in its tile.</summary>
    public bool PartialRow => Y.H % 2 == 1;

    public bool PartialCol => Y.W % 2 == 1;
}
