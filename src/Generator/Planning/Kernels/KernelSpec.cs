using CnnGen.Generator.Model;

namespace CnnGen.Generator.Planning.Kernels;

/// <summary>
/// A kernel's complete spec: every number and choice its emitter needs, decided by the planner. One sealed record
/// per kernel family; an emitter reads its record and writes text, it decides nothing. A backward kernel of the
/// same family will read the same record.
/// </summary>
internal abstract record KernelSpec
{
    /// <summary>The kernel method's name (the step's method; tiles and helpers are named in the family's record).</summary>
    public required string Method { get; init; }

    /// <summary>What the kernel computes, one line (its XML summary).</summary>
    public required string Title { get; init; }

    /// <summary>
    /// The kernel computes the range of output rows (dense: of register tiles) its caller gives it, so that the threads
    /// sharing an image can split the step (<see cref="Passes.Splitting"/>); false: it computes them all.
    /// </summary>
    public bool Split { get; init; }
}

/// <summary>An activation applied in a kernel's store.</summary>
/// <param name="Kind">Which activation (None: the store writes the value as is).</param>
/// <param name="Alpha">LeakyReLU's negative slope.</param>
internal sealed record ActivationSpec(Activation Kind, float Alpha)
{
    public static ActivationSpec None { get; } = new(Activation.None, 0.01f);

    /// <summary>LeakyReLU with a slope in [0, 1] is max(x, alpha x): one instruction instead of a compare and a select.</summary>
    public bool LeakyAsMax => Kind == Activation.LeakyRelu && Alpha >= 0f && Alpha <= 1f;
}

/// <summary>
/// How much of a sliding window a kernel writes out as straight-line code, chosen by the planner from
/// <see cref="MachineModel.UnrollBudget"/>: small windows are unrolled tap by tap (constant offsets, no loop
/// overhead), large ones keep loops so that no method nears the JIT's limits whatever the window.
/// </summary>
internal enum Unroll
{
    /// <summary>Every tap is written out.</summary>
    Taps,

    /// <summary>A loop over kernel rows; the taps of one row are written out.</summary>
    Columns,

    /// <summary>Loops over kernel rows and columns: one tap's code.</summary>
    None,
}

/// <summary>A sliding window's geometry (a convolution's kernel or a pooling window), as declared.</summary>
internal sealed record Window
{
    public required int KernelH { get; init; }

    public required int KernelW { get; init; }

    public required int StrideH { get; init; }

    public required int StrideW { get; init; }

    public required int DilationH { get; init; }

    public required int DilationW { get; init; }

    public required int PadTop { get; init; }

    public required int PadLeft { get; init; }

    public required int PadBottom { get; init; }

    public required int PadRight { get; init; }

    /// <summary>Kernel positions: height x width.</summary>
    public int Taps => KernelH * KernelW;

    public static Window Of(LayerSpec s) => new()
    {
        KernelH = s.KernelH,
        KernelW = s.KernelW,
        StrideH = s.StrideH,
        StrideW = s.StrideW,
        DilationH = s.DilationH,
        DilationW = s.DilationW,
        PadTop = s.PadTop,
        PadLeft = s.PadLeft,
        PadBottom = s.PadBottom,
        PadRight = s.PadRight,
    };
}

/// <summary>How one output row is cut into register tiles: full tiles in a loop, then a narrower last tile.</summary>
internal sealed record TileRow
{
    /// <summary>Output pixels of a full tile.</summary>
    public required int Pixels { get; init; }

    /// <summary>Full tiles per row.</summary>
    public required int Full { get; init; }

    /// <summary>Pixels of the last tile (0: none).</summary>
    public required int Last { get; init; }

    /// <summary>The full tile's method.</summary>
    public required string Method { get; init; }

    /// <summary>The last tile's method, or null.</summary>
    public required string? LastMethod { get; init; }

    /// <summary>Floats between the inputs of consecutive tiles.</summary>
    public required long XStep { get; init; }

    /// <summary>Floats between the outputs of consecutive tiles.</summary>
    public required long YStep { get; init; }

    /// <summary>Floats between the residuals of consecutive tiles (a fused Add's operand).</summary>
    public required long ResidualStep { get; init; }
}
