using CnnGen.Generator.Model;

namespace CnnGen.Generator.Planning.Kernels;

/// <summary>
/// A convolution's bias gradient for one image: the sum of dy over the pixels, per output channel, added into the
/// thread's gradient buffer.
/// </summary>
internal sealed record ConvBiasKernel : KernelSpec
{
    public required TensorPlan OutputGradient { get; init; }
}

/// <summary>
/// A convolution's weight gradient for one image, in the forward's packed layout: per tile of output-channel vectors,
/// block of taps and block of input channels, a register tile of (<see cref="TapRows"/> x <see cref="TapColumns"/> taps
/// x <see cref="ChannelBlock"/> channels) rows x <see cref="TileVectors"/> vectors reduced over every output pixel
/// (load dy once, broadcast x at each tap and channel, FMA), then added once into the thread's buffer. Each accumulator
/// holds one (tap, channel, vector) and sums the pixels in row-major order, so the blocking never changes the result.
/// Blocking taps keeps enough independent FMA chains in flight when there are few channels (LeNet's conv1: one
/// channel, one vector of filters, 25 taps).
/// </summary>
internal sealed record ConvWeightsKernel : KernelSpec
{
    public required string LayerName { get; init; }

    public required TensorPlan X { get; init; }

    public required TensorPlan OutputGradient { get; init; }

    public required Window Window { get; init; }

    /// <summary>Input channels.</summary>
    public required int Channels { get; init; }

    /// <summary>Tiles of output-channel vectors (the packed weights' tiles).</summary>
    public required int TileGroups { get; init; }

    public required int TileVectors { get; init; }

    public required int TileFloats { get; init; }

    /// <summary>Channels per register tile; full blocks, then a last block of <see cref="LastChannelBlock"/> (0: none).</summary>
    public required int ChannelBlock { get; init; }

    public required int FullBlocks { get; init; }

    public required int LastChannelBlock { get; init; }

    /// <summary>
    /// Kernel rows per block of taps (whole rows: <see cref="TapColumns"/> is the kernel width), or 1 with blocks of
    /// <see cref="TapColumns"/> within a row; <see cref="LastTapRows"/> and <see cref="LastTapColumns"/> are the last
    /// block's (0: the blocks divide the kernel).
    /// </summary>
    public required int TapRows { get; init; }

    public required int TapColumns { get; init; }

    public required int LastTapRows { get; init; }

    public required int LastTapColumns { get; init; }

    /// <summary>
    /// A pixel-pair tile (one vector of filters, two output pixels per step) of at most this many accumulators keeps a
    /// second set for the pair's second pixel, added to the first at the end: with one set each accumulator takes two
    /// dependent multiply-adds per step, and fewer accumulators than the FMA latency hides wait on it (a tile of a few
    /// accumulators, as <c>PairSetsNet</c>'s). 0: never.
    /// </summary>
    public int PairSecondSetUpTo { get; init; }

    /// <summary>Offset of output pixel (0, 0)'s top-left tap in X (inside the zero border when padded).</summary>
    public required long XOrigin { get; init; }

    public required long XRowStep { get; init; }

    public required long XPixelStep { get; init; }
}

/// <summary>
/// A convolution's input gradient for one image, as a scatter: per register tile of <see cref="TilePixels"/> output pixels
/// x <see cref="ChannelVectors"/> vectors of input channels and per tap, <c>sum over filters of dy x W^T</c> (broadcast dy,
/// load the transposed weights <c>[tap][filter][channel]</c>) is added into dx at the tap's shifted pixels. dx has the
/// input's zero border, so taps in the padding land there and are ignored.
/// </summary>
internal sealed record ConvDataKernel : KernelSpec
{
    public required string LayerName { get; init; }

    public required TensorPlan OutputGradient { get; init; }

    public required TensorPlan InputGradient { get; init; }

    public required Window Window { get; init; }

    public required int Filters { get; init; }

    public required int ChannelVectors { get; init; }

    /// <summary>Groups of <see cref="ChannelVectors"/> vectors covering the padded input channels.</summary>
    public required int ChannelGroups { get; init; }

    public required TileRow Tiles { get; init; }

    /// <summary>Offset in dx of output pixel (0, 0)'s top-left tap.</summary>
    public required long DxOrigin { get; init; }

    public required long DxRowStep { get; init; }

    public required long DxPixelStep { get; init; }

    /// <summary>
    /// Two neighbouring kernel columns per pass (stride and dilation 1 along the width): tap <c>kc</c> of output pixel
    /// <c>p + 1</c> and tap <c>kc + 1</c> of pixel <c>p</c> land on the same input pixel, so a tile of P pixels keeps P + 1
    /// accumulators per channel vector, and each filter's P broadcasts of dy feed 2P multiply-adds instead of P (the
    /// broadcasts bound the one-tap tile at Vector256: 11 loads per 10 multiply-adds). An odd last column runs alone.
    /// </summary>
    public bool TapPairs { get; init; }
}

/// <summary>
/// A convolution's input gradient for one image as a gather with vectors over the filters, for a stride-1 layer whose
/// input channels fill little of a vector (LeNet's conv2: 6 channels padded to 16 lanes, 16 filters): per input pixel
/// and channel one accumulator sums <c>dy x W</c> over the taps that reach an output pixel (dy's filter vectors times the
/// forward's packed weights <c>[tile][tap][channel][filters]</c>), then its lanes are summed into dx. Every multiply is a
/// real one (the scatter multiplies the channels' padding lanes too), at the price of one horizontal sum per pixel and
/// channel. Only the input's real pixels are written; the taps that reach no output pixel are skipped by the loop bounds.
/// </summary>
internal sealed record ConvDataGatherKernel : KernelSpec
{
    public required string LayerName { get; init; }

    public required TensorPlan OutputGradient { get; init; }

    public required TensorPlan InputGradient { get; init; }

    public required Window Window { get; init; }

    /// <summary>Input channels: the accumulators of one input pixel.</summary>
    public required int Channels { get; init; }

    /// <summary>Vectors of filters in dy's pixel (and in the packed weights' tiles together).</summary>
    public required int FilterVectors { get; init; }

    public required int TileVectors { get; init; }

    public required int TileFloats { get; init; }

    /// <summary>
    /// The first input column every kernel column reaches (an output pixel at each tap), where <see cref="InteriorTiles"/>
    /// tiles of <see cref="TilePixels"/> columns gather all taps of a row with shared weight loads; the other columns
    /// go in chunks at fixed columns (<see cref="ChunkPixels"/>), only the taps that reach an output pixel written out.
    /// </summary>
    public required int InteriorFirst { get; init; }

    public required int InteriorTiles { get; init; }

    public required int TilePixels { get; init; }

    /// <summary>The most pixels of a chunk of border columns (fixed columns, taps unrolled): one accumulator per pixel and channel.</summary>
    public required int ChunkPixels { get; init; }

    /// <summary>
    /// A pixel's channel sums added into dx as one vector (<c>Simd.LaneSums</c>, the padding lanes getting zeros): 8-float
    /// vectors and a dx pixel of one vector (HWC). Otherwise each channel's sum on its own.
    /// </summary>
    public bool LaneSums { get; init; }
}

/// <summary>
/// A depthwise convolution's backward for one image, vectors over channels: the weight (and bias) gradient with one
/// accumulator per tap (in blocks of <see cref="TapBlock"/>), reduced over the pixels; the input gradient as a scatter.
/// </summary>
internal sealed record DepthwiseBackwardKernel : KernelSpec
{
    public required string LayerName { get; init; }

    public required TensorPlan X { get; init; }

    public required TensorPlan OutputGradient { get; init; }

    public required Window Window { get; init; }

    public required bool Bias { get; init; }

    public required int TapBlock { get; init; }

    public required long XOrigin { get; init; }

    public required long XRowStep { get; init; }

    public required long XPixelStep { get; init; }

    /// <summary>The data kernel's method, or null when the input needs no gradient.</summary>
    public required string? DataMethod { get; init; }

    public required TensorPlan? InputGradient { get; init; }

    public required long DxOrigin { get; init; }

    public required long DxRowStep { get; init; }

    public required long DxPixelStep { get; init; }
}

/// <summary>
/// Where a max pool's backward leaves each window's gradient for the weight gradient of the convolution it reads
/// (<see cref="ConvWeightsFromMaximaKernel"/>): per window, <see cref="Cp"/> floats of g (the window's dy, masked by the
/// convolution's ReLU, or unmasked without an activation but where the window's maximum is NaN) then <see cref="Cp"/>
/// floats of the input offset of the output pixel that won (the first maximum, row-major): the offset in the
/// convolution's input of that pixel's top-left tap, an int stored in the float's bits (integer vectors in the pool).
/// </summary>
internal sealed record PoolMaxima
{
    /// <summary>The convolution whose output the pool reads.</summary>
    public required string ConvName { get; init; }

    /// <summary>Offset in the image's workspace.</summary>
    public required int Offset { get; init; }

    /// <summary>Windows per image (the pool's output rows x columns).</summary>
    public required int Windows { get; init; }

    /// <summary>Floats per half-record: the filters padded to the vector width.</summary>
    public required int Cp { get; init; }

    /// <summary>The convolution's input offset of output pixel (0, 0)'s top-left tap, and the steps per output row and pixel.</summary>
    public required long XOrigin { get; init; }

    public required long XRowStep { get; init; }

    public required long XPixelStep { get; init; }

    public int Floats => Windows * 2 * Cp;
}

/// <summary>
/// A convolution's weight gradient from its pool's maxima (<see cref="PoolMaxima"/>), over a thread's images: a max pool
/// whose windows tile the convolution's output sends each window's gradient to one pixel per filter, so
/// <c>dW[f][c][ky][kx] = sum over windows of g[w][f] x X[pos_f(w) + (ky, kx)][c]</c>: per filter (scalar, its own
/// position) a vector load of the input at the winning pixel per unit (<see cref="Planar"/>: a kernel row of one channel,
/// the kernel columns in lanes; else a tap and a vector of channels), one multiply-add per window instead of one per
/// output pixel and tap for every filter. Register tiles of <see cref="FilterBlock"/> filters x a block of units,
/// reduced over one image's windows into sums on the stack (a vector per filter and unit, over the thread's images),
/// whose lanes are added into the packed gradient <c>[tile][tap][channel][filters]</c> once at the end.
/// </summary>
internal sealed record ConvWeightsFromMaximaKernel : KernelSpec
{
    public required string LayerName { get; init; }

    public required TensorPlan X { get; init; }

    public required PoolMaxima Maxima { get; init; }

    public required Window Window { get; init; }

    /// <summary>Input channels.</summary>
    public required int Channels { get; init; }

    public required int Filters { get; init; }

    public required int TileFloats { get; init; }

    /// <summary>Floats between two images' workspaces.</summary>
    public required int ImageStride { get; init; }

    /// <summary>CHW input: a unit is one kernel row of one channel, its columns in lanes; else (HWC) one tap and one vector of channels.</summary>
    public required bool Planar { get; init; }

    /// <summary>Filters per register tile (divides <see cref="Filters"/>).</summary>
    public required int FilterBlock { get; init; }

    /// <summary>Units per register tile; the last block may be smaller.</summary>
    public required int UnitBlock { get; init; }
}
