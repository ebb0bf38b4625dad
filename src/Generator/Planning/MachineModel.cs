using System.Globalization;
using CnnGen.Generator.Model;

namespace CnnGen.Generator.Planning;

/// <summary>
/// The facts about one vector target that the planner's cost models and tile choices use: one record per vector
/// width, and the only place these numbers are written. Tuning a target (e.g. for a real AVX2 machine) means
/// changing its record here; every pass reads the record it is given.
/// </summary>
internal sealed record MachineModel
{
    /// <summary>Floats per vector: 8 (Vector256), 16 (Vector512) or 4 (Vector128).</summary>
    public required int Width { get; init; }

    /// <summary>The instruction set the numbers describe (for documentation).</summary>
    public required string Target { get; init; }

    /// <summary>Vector registers a kernel may use: 16 for AVX2 (even where the machine gives Vector256 code 32), 32 for AVX-512 and ARM64 NEON.</summary>
    public required int VectorRegisters { get; init; }

    /// <summary>Accumulators a register tile may hold, leaving room for weights and broadcasts.</summary>
    public required int AccumulatorBudget { get; init; }

    /// <summary>Fused multiply-adds issued per cycle (the convolution cost model's throughput bound).</summary>
    public double FmaPerCycle { get; init; } = 2;

    /// <summary>Cycles before an FMA's result can feed the next FMA of the same accumulator chain.</summary>
    public double FmaLatencyCycles { get; init; } = 4;

    /// <summary>Loads (broadcasts and vector loads) issued per cycle.</summary>
    public double LoadsPerCycle { get; init; } = 2;

    /// <summary>
    /// Floats per cycle an element-wise step or global pool streams through a map larger than L1 (reads and writes
    /// together): its speed is the caches', not the load ports' (Zen 4: a squeeze-and-excitation block's pool and
    /// multiply ran at about 4.5).
    /// </summary>
    public double StreamFloatsPerCycle { get; init; } = 4;

    /// <summary>Fixed cycles of a register tile's set-up (call, pointers, bias loads), beyond its stores.</summary>
    public double TileSetupCycles { get; init; } = 8;

    /// <summary>Most output-channel vectors one convolution tile computes.</summary>
    public int ConvMaxTileVectors { get; init; } = 4;

    /// <summary>Most output pixels one depthwise tile computes (each needs its own input load per tap).</summary>
    public required int DepthwiseMaxPixels { get; init; }

    /// <summary>How far below <see cref="DepthwiseMaxPixels"/> a depthwise tile may shrink to divide the row evenly.</summary>
    public int DepthwisePixelSlack { get; init; } = 2;

    /// <summary>Output vectors of a dense tile (one image): accumulators of a GEMV.</summary>
    public required int DenseTileVectors { get; init; }

    /// <summary>Output vectors of a dense tile computed for a whole batch group (images x vectors accumulators).</summary>
    public required int DenseGroupTileVectors { get; init; }

    /// <summary>Images a batch computes together when dense layers dominate.</summary>
    public required int BatchGroup { get; init; }

    /// <summary>Convolution windows up to this many taps are unrolled; larger ones keep a loop over kernel rows.</summary>
    public int MaxUnrolledTaps { get; init; } = 25;

    /// <summary>
    /// Most multiply-adds (or pooling operations) one method writes out for a window: taps x accumulators (x input
    /// channels where those are unrolled). A window over it keeps a loop over kernel rows, and one whose single row is over
    /// it a loop over columns too, so a 1001x1001 kernel stays a few KB of IL. 600 is a 5x5 tap block of 24 accumulators,
    /// the largest unrolled window the planner chose before the budget existed: small kernels are unchanged.
    /// </summary>
    public int UnrollBudget { get; init; } = 600;

    /// <summary>Vector additions and subtractions issued per cycle (Winograd's transforms).</summary>
    public double AddsPerCycle { get; init; } = 2;

    /// <summary>Vector stores issued per cycle.</summary>
    public double StoresPerCycle { get; init; } = 1;

    /// <summary>
    /// Floats of the per-core L2 cache a Winograd convolution's block (its transformed input tiles and GEMM results) may
    /// fill, leaving the rest for the transformed weights it streams and the output: half of 1 MiB (Zen 4) or 512 KiB (Zen 2/3).
    /// </summary>
    public required int WinogradBlockFloats { get; init; }

    /// <summary>
    /// Measured slowdown of Winograd's 16 GEMMs against the direct kernel's FMAs at the same tile (their broadcasts come from
    /// the L2-resident transformed tiles instead of the L1-resident input rows): the cost model multiplies their cycles by it.
    /// </summary>
    public double WinogradGemmFactor { get; init; } = 1.15;

    /// <summary>Winograd must save at least this share of the direct kernel's cycles to be chosen (the model's margin of error).</summary>
    public double WinogradMinSaving { get; init; } = 0.1;

    /// <summary>
    /// Cycles one barrier between the threads sharing an image costs, imbalance included (an atomic decrement, a cache
    /// line's round trip between cores, the wait for the slowest thread's share of a step cut into whole rows).
    /// </summary>
    public double BarrierCycles { get; init; } = 2000;

    /// <summary>
    /// A step is split between the threads sharing an image only when one thread would take at least this many
    /// barriers' time for it (at the FMA peak); smaller steps run on one thread, so a small network is not slowed by
    /// barriers, and a network with no step this large runs on the calling thread alone whatever the thread count.
    /// </summary>
    public double SplitMinimumBarriers { get; init; } = 8;

    /// <summary>
    /// A trainer splits a dense layer whose weights hold at least this many floats by output columns when it runs on
    /// several threads: every thread computes its columns for the whole batch (forward, weight and bias gradient) and
    /// owns those columns of the weights, the gradient and the optimizer's state, so no gradient is summed across threads
    /// and no weight a thread updated is read by another. A barrier stands before and after the forward product (none before
    /// it when it reads the network input: the runtime's copy barrier stands there; and one before the weight gradient); the weights are packed in unit blocks (<c>[unit vector][feature][vector]</c>), so a
    /// thread's columns are one contiguous run of every buffer. Smaller layers keep the batch split (each thread its
    /// images, its own gradient buffer, summed after the pass). 65,536 floats: measured on the MLP's fc1 (100,352 floats),
    /// the split in unit blocks made the two-thread step ~7% faster at the median on the Zen 4 VM (interleaved rounds,
    /// docs/BENCHMARKS.md, helper <c>colblock</c>); LeNet-5's fc1 (48,000 floats, 120 units: 15 vectors at Vector256, its
    /// training width, 8 at Vector512; 64 images) was not timed split and stays below.
    /// </summary>
    public int DenseColumnSplitFloats { get; init; } = 64 * 1024;

    /// <summary>Workspace slots start on cache-line boundaries (64 bytes).</summary>
    public int CacheLineFloats { get; init; } = 16;

    /// <summary>The vector type's name: <c>Vector256</c>.</summary>
    public string VectorType => "Vector" + (Width * 32).ToString(CultureInfo.InvariantCulture);

    /// <summary>AVX2 + FMA (x86-64-v3): Vector256 with 16 registers.</summary>
    public static MachineModel Avx2 { get; } = new()
    {
        Width = 8,
        Target = "AVX2",
        VectorRegisters = 16,
        AccumulatorBudget = 12,
        FmaLatencyCycles = 5,
        LoadsPerCycle = 1.5,
        DepthwiseMaxPixels = 6,
        DenseTileVectors = 8,
        DenseGroupTileVectors = 2,
        BatchGroup = 6,
        WinogradBlockFloats = 64 * 1024, // 256 KiB: half of a Zen 2/3 core's 512 KiB L2
    };

    /// <summary>AVX-512F: Vector512 with 32 registers.</summary>
    public static MachineModel Avx512 { get; } = new()
    {
        Width = 16,
        Target = "AVX-512",
        VectorRegisters = 32,
        AccumulatorBudget = 24,
        DepthwiseMaxPixels = 12,
        DenseTileVectors = 12,
        DenseGroupTileVectors = 3,
        BatchGroup = 8,
        WinogradBlockFloats = 128 * 1024, // 512 KiB: half of a Zen 4 core's 1 MiB L2
    };

    /// <summary>Vector128, planned for ARM64 NEON's 32 registers: today with AVX-512's budgets and caps.</summary>
    public static MachineModel Neon { get; } = Avx512 with { Width = 4, Target = "ARM64 NEON" };

    /// <summary>Every target a network is planned for: Vector256 first (the baseline), then Vector512 and Vector128.</summary>
    public static EquatableArray<MachineModel> Targets { get; } = new[] { Avx2, Avx512, Neon }.ToEquatableArray();
}
