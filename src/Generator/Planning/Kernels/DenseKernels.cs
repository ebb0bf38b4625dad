using CnnGen.Generator.Model;

namespace CnnGen.Generator.Planning.Kernels;

/// <summary>
/// A dense layer: each input feature is broadcast and multiplied into a tile of output vectors while the repacked
/// weights stream contiguously. Weights are packed at load in tiles of <see cref="PackVectors"/> vectors
/// ([features][PackVectors x V] each).
/// </summary>
internal sealed record DenseKernel : KernelSpec
{
    public required string LayerName { get; init; }

    public required TensorPlan X { get; init; }

    public required TensorPlan Y { get; init; }

    /// <summary>Input features (the whole input tensor, flattened).</summary>
    public required long Features { get; init; }

    /// <summary>The input is an HWC map read in H, W, C order (its weights were permuted at load).</summary>
    public required bool Hwc { get; init; }

    /// <summary>An HWC input without a border is read as one run of pixels instead of rows and columns.</summary>
    public required bool MergedPixels { get; init; }

    /// <summary>Output vectors per packed weight tile.</summary>
    public required int PackVectors { get; init; }

    /// <summary>Output vectors per register tile.</summary>
    public required int TileVectors { get; init; }

    /// <summary>Full register tiles.</summary>
    public required int FullTiles { get; init; }

    /// <summary>The full tile, then the last tile if the outputs do not divide evenly.</summary>
    public required EquatableArray<DenseTile> Tiles { get; init; }

    public required ActivationSpec Activation { get; init; }

    /// <summary>The kernel for a group of images at once (batches of a dense-dominated network), or null.</summary>
    public required DenseGroupKernel? Group { get; init; }
}

/// <summary>One register-tile shape of a dense layer.</summary>
internal sealed record DenseTile
{
    public required string Method { get; init; }

    /// <summary>Output vectors (accumulators).</summary>
    public required int Vectors { get; init; }

    /// <summary>The tile's first output vector.</summary>
    public required int StartVector { get; init; }

    /// <summary>The packed weight tiles the tile reads, one stream each.</summary>
    public required EquatableArray<DenseStream> Streams { get; init; }
}

/// <summary>One packed weight tile read by a dense tile: where it starts and floats per feature.</summary>
internal sealed record DenseStream(long Offset, long FeatureStride);

/// <summary>A dense layer for a group of images: each weight vector is loaded once and used for every image.</summary>
internal sealed record DenseGroupKernel
{
    public required string Method { get; init; }

    public required int Images { get; init; }

    public required int TileVectors { get; init; }

    public required int FullTiles { get; init; }

    /// <summary>Vectors of the last tile (0: none).</summary>
    public required int LastTileVectors { get; init; }

    public required string TileMethod { get; init; }

    public required string? LastTileMethod { get; init; }

    /// <summary>Floats between consecutive images' inputs and outputs.</summary>
    public required long XImageStride { get; init; }

    public required long YImageStride { get; init; }
}
