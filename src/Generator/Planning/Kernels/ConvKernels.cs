using System;
using System.Collections.Generic;
using CnnGen.Generator.Model;

namespace CnnGen.Generator.Planning.Kernels;

/// <summary>
/// A convolution vectorized over output channels: per output row, tiles of <see cref="TilePixels"/> pixels x
/// <see cref="TileVectors"/> vectors of filters; per tap and input channel, weight vectors are loaded and each
/// pixel's input broadcast.
/// </summary>
internal sealed record ConvKernel : KernelSpec
{
    public required string LayerName { get; init; }

    public required TensorPlan X { get; init; }

    /// <summary>The output; written NCHW (not in its stored layout) when <see cref="DirectOutput"/>.</summary>
    public required TensorPlan Y { get; init; }

    /// <summary>A fused Add's other operand, added before the activation, or null.</summary>
    public required TensorPlan? Residual { get; init; }

    /// <summary>The fused Add layer's name, or null.</summary>
    public required string? ResidualLayer { get; init; }

    public required Window Window { get; init; }

    public required int Groups { get; init; }

    /// <summary>Real output channels (<see cref="TensorPlan.Cp"/> of Y counts the padding).</summary>
    public required int Filters { get; init; }

    public required int TilePixels { get; init; }

    public required int TileVectors { get; init; }

    /// <summary>
    /// Vectors the row's last (narrower) tile computes per pass: a multiple of <see cref="TileVectors"/>, reading that many
    /// weight groups at once so its few pixels still have enough accumulators; <see cref="TileVectors"/> when there is no last tile.
    /// </summary>
    public required int LastTileVectors { get; init; }

    /// <summary>Groups of <see cref="TileVectors"/> vectors covering all filters (weight tiles).</summary>
    public required int TileGroups { get; init; }

    /// <summary>
    /// A split kernel on a small map: its range is of (output row, weight tile) units, row by row, each row cut into
    /// this many (<see cref="TileGroups"/>); 0: of whole rows.
    /// </summary>
    public int SplitTiles { get; init; }

    /// <summary>Floats of filters per tile: <see cref="TileVectors"/> x width.</summary>
    public required int TileFloats { get; init; }

    public required TileRow Tiles { get; init; }

    /// <summary>How much of the window each tile writes out (each tap is a loop over input channels).</summary>
    public required Unroll Unroll { get; init; }

    /// <summary>Offset of output pixel (0, 0)'s top-left tap in X (inside the zero border when padded).</summary>
    public required long XOrigin { get; init; }

    /// <summary>Floats of X between consecutive output rows.</summary>
    public required long XRowStep { get; init; }

    /// <summary>Floats of X between consecutive output pixels.</summary>
    public required long XPixelStep { get; init; }

    /// <summary>Writes the network output in NCHW: each tile is staged pixels x filters and transposed in 8 x 8 blocks.</summary>
    public required bool DirectOutput { get; init; }

    /// <summary>Floats of the staging block (one tile) when <see cref="DirectOutput"/>.</summary>
    public required int StageFloats { get; init; }

    public required ActivationSpec Activation { get; init; }

    /// <summary>A depthwise convolution computed row by row into X (a one-row buffer) by this kernel, or null.</summary>
    public required DepthwiseKernel? RowSource { get; init; }

    /// <summary>
    /// Over planar rows (a planar pair's pointwise half): the tile shapes of a row, vectors of pixels x filters, in the
    /// order they are called; empty for the channels-last kernel the other members describe.
    /// </summary>
    public EquatableArray<PixelTile> PixelTiles { get; init; } = EquatableArray<PixelTile>.Empty;
}

/// <summary>
/// One register-tile shape of a pointwise convolution over planar rows: <see cref="Vectors"/> vectors of pixels x
/// <see cref="Filters"/> filters; per input channel it loads the pixel vectors and broadcasts one weight per filter.
/// </summary>
internal sealed record PixelTile
{
    public required string Method { get; init; }

    /// <summary>Where each pixel vector starts, relative to the tile's first pixel (the row's last vector may overlap the one before it).</summary>
    public required EquatableArray<int> Vectors { get; init; }

    /// <summary>Filters per pass over the input channels.</summary>
    public required int Filters { get; init; }

    /// <summary>The first pixel of each call of this tile along the row.</summary>
    public required EquatableArray<int> Starts { get; init; }

    /// <summary>Pixels from the tile's first to its last (overlapping pixels counted once).</summary>
    public int Pixels(int width) => Vectors[Vectors.Count - 1] + width;
}

/// <summary>A depthwise convolution: vectors over channels, a tile of pixels along the row, one input load per pixel and tap.</summary>
internal sealed record DepthwiseKernel : KernelSpec
{
    public required string LayerName { get; init; }

    public required TensorPlan X { get; init; }

    public required TensorPlan Y { get; init; }

    public required TensorPlan? Residual { get; init; }

    public required Window Window { get; init; }

    public required TileRow Tiles { get; init; }

    /// <summary>How much of the window each tile writes out.</summary>
    public required Unroll Unroll { get; init; }

    public required long XOrigin { get; init; }

    public required long XRowStep { get; init; }

    public required long XPixelStep { get; init; }

    public required ActivationSpec Activation { get; init; }

    /// <summary>Run row by row inside the next convolution: only the tiles are emitted.</summary>
    public required bool RowFused { get; init; }

    /// <summary>
    /// Over planar rows (a planar pair's depthwise half): where each vector of output pixels starts along the row, computed
    /// one channel at a time by the method <see cref="TileRow.Method"/> of <see cref="Tiles"/> (one tile, the whole row);
    /// empty for the channels-last kernel.
    /// </summary>
    public EquatableArray<int> PlanarVectors { get; init; } = EquatableArray<int>.Empty;

    /// <summary>Output rows one call of the planar row method computes (they share their input loads); 1 otherwise.</summary>
    public int PlanarRows { get; init; } = 1;

    /// <summary>The layer's output height (over planar rows, <see cref="Y"/> is the row buffer: <see cref="PlanarRows"/> high).</summary>
    public required int OutputHeight { get; init; }

    /// <summary>Input rows one planar step reads: its output rows' windows.</summary>
    public int PlanarInputRows => ((PlanarRows - 1) * Window.StrideH) + ((Window.KernelH - 1) * Window.DilationH) + 1;

    /// <summary>
    /// The planar steps whose window reaches into the zero border above or below the input (read in place, so those rows
    /// do not exist): each step's first output row and how many of its <see cref="PlanarInputRows"/> are missing at the
    /// top and at the bottom. Every other step reads whole rows.
    /// </summary>
    public IEnumerable<(int Row, int MissingTop, int MissingBottom)> PlanarBorderSteps()
    {
        for (int oh = 0; oh < OutputHeight; oh += PlanarRows)
        {
            int first = (oh * Window.StrideH) - Window.PadTop;
            int top = Math.Max(0, -first), bottom = Math.Max(0, first + PlanarInputRows - X.H);
            if (top > 0 || bottom > 0)
            {
                yield return (oh, top, bottom);
            }
        }
    }
}

/// <summary>
/// A first convolution with few filters, vectorized over output pixels: blocks of V pixels along a row (the last
/// overlapping the previous), one accumulator per filter and block, each weight broadcast; each block is transposed
/// to HWC through a staging block. With a fused 2x2 max pool, two rows are computed per step and pooled in registers.
/// </summary>
internal sealed record PixelConvKernel : KernelSpec
{
    public required string LayerName { get; init; }

    /// <summary>The attribute as written (<c>Conv2D</c>).</summary>
    public required string DisplayKind { get; init; }

    public required TensorPlan X { get; init; }

    /// <summary>The output (the pool's when pooled).</summary>
    public required TensorPlan Y { get; init; }

    public required Window Window { get; init; }

    /// <summary>Real filters (accumulators per block).</summary>
    public required int Filters { get; init; }

    public required int Channels { get; init; }

    /// <summary>The convolution's output height and width (before pooling).</summary>
    public required int ConvHeight { get; init; }

    public required int ConvWidth { get; init; }

    /// <summary>Where each block of V pixels starts along a convolution row.</summary>
    public required EquatableArray<int> Blocks { get; init; }

    /// <summary>One call of <see cref="PixelsMethod"/> computes every block of a row; otherwise one call per block.</summary>
    public required bool WholeRow { get; init; }

    /// <summary>The block offsets one call of <see cref="PixelsMethod"/> computes (relative to its input).</summary>
    public required EquatableArray<int> CallBlocks { get; init; }

    /// <summary>Output pixels a block gives (V, or V / 2 pooled).</summary>
    public required int BlockPixels { get; init; }

    /// <summary>Offset in the output row of each block's first pixel.</summary>
    public required EquatableArray<long> BlockOutputOffsets { get; init; }

    /// <summary>Staging rows per block: filters rounded up to the transpose's 8 x 8 blocks (rows past the filters stay zero).</summary>
    public required int StageRows { get; init; }

    public required int StageFloats { get; init; }

    public required long XOrigin { get; init; }

    /// <summary>Floats of X between consecutive rows of the driver's loop (two convolution rows when pooled).</summary>
    public required long XRowStep { get; init; }

    /// <summary>Floats of X between consecutive convolution rows.</summary>
    public required long ConvRowStep { get; init; }

    /// <summary>How much of the window the pixels method writes out (the pooled kernel, with twice the accumulators, loops at least over kernel rows).</summary>
    public required Unroll Unroll { get; init; }

    public required string PixelsMethod { get; init; }

    /// <summary>The fused max pool's layer name, or null.</summary>
    public required string? PoolLayer { get; init; }

    /// <summary>The pooled output shape, for the summary (when pooled).</summary>
    public required string? PooledShape { get; init; }

    /// <summary>Shuffle indices gathering even and odd lanes into the low half (the pool's max across neighbours).</summary>
    public required EquatableArray<int> EvenLanes { get; init; }

    public required EquatableArray<int> OddLanes { get; init; }

    public required ActivationSpec Activation { get; init; }

    public bool Pooled => PoolLayer is not null;
}
