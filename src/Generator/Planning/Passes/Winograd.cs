using System;
using System.Globalization;
using System.Linq;
using CnnGen.Generator.Model;
using CnnGen.Generator.Shapes;

namespace CnnGen.Generator.Planning.Passes;

/// <summary>
/// Chooses Winograd F(2x2, 3x3) for the 3x3 stride-1 convolutions where the cost model says it beats the direct
/// kernel (<see cref="PlanOptions.Winograd"/>, <c>[Network(Winograd = false)]</c> turns it off). Each 2x2 block of
/// outputs (a tile) reads a 4x4 input patch d; Winograd computes it as A^T [(G g G^T) ⊙ (B^T d B)] A, so one tile
/// costs 16 multiply-adds per input and output channel instead of the direct kernel's 36. The weights' transform
/// U = G g G^T is done once at load; per image the kernel transforms the input tiles (B^T d B, additions only),
/// runs 16 independent GEMMs over input channels (one per position of the 4x4 transformed tile, register-tiled like
/// the direct kernel), and transforms each tile's 16 results back (A^T m A, additions only) with the bias, a fused
/// residual and the activation. Tiles are transformed and multiplied a block of tile rows at a time, so the block's
/// transformed tiles stay in L2 (<see cref="MachineModel.WinogradBlockFloats"/>); they live in a scratch tensor of
/// the workspace, an extra input of the step. Runs after <see cref="Tiling"/> (it prices the direct kernel's tile).
/// </summary>
internal static class Winograd
{
    /// <summary>Positions of a transformed 4x4 tile: one GEMM each.</summary>
    public const int Positions = 16;

    /// <summary>Output pixels along each side of a tile.</summary>
    public const int TileSide = 2;

    public static void Run(PlanGraph g, MachineModel m)
    {
        if (!g.Options.Winograd || !g.Net.Spec.Winograd)
        {
            return;
        }

        foreach (var s in g.Steps.ToList())
        {
            if (!Eligible(g, s))
            {
                continue;
            }

            var e = Estimate(g.Layers[s.Layer], s, m);
            if (!e.Chosen)
            {
                continue;
            }

            s.Winograd = e;
            s.TileP = e.TilePixels;
            s.TileB = e.TileVectors;
            s.LastTileB = e.TileVectors;
            g.Tensors.Add(new PlanTensor
            {
                Name = g.Layers[s.Layer].Spec.Name + " (Winograd tiles)",
                Layout = Layout.Flat,
                C = e.ScratchFloats,
                H = 1,
                W = 1,
            });
            s.Inputs.Add(g.Tensors.Count - 1);
        }
    }

    /// <summary>
    /// Input channels from which a convolution reading the network input has it packed HWC, so that Winograd may compute
    /// it (a graph pass decides the input's layout before any width's cost model runs; below this, the planar input
    /// stays and the convolution is direct).
    /// </summary>
    public const int MinPackedInputChannels = 16;

    /// <summary>A convolution reading the network input that Winograd could compute, with enough channels to be worth packing HWC for.</summary>
    public static bool WantsHwcInput(PlanGraph g, PlanStep s)
    {
        if (!g.Options.Winograd || !g.Net.Spec.Winograd || s.Kind != StepKind.Conv)
        {
            return false;
        }

        var l = g.Layers[s.Layer];
        var spec = l.Spec;
        return spec.KernelH == 3 && spec.KernelW == 3 && spec.StrideH == 1 && spec.StrideW == 1 && spec.DilationH == 1 && spec.DilationW == 1
            && spec.Groups == 1 && l.In.C >= MinPackedInputChannels;
    }

    /// <summary>
    /// A regular 3x3 convolution with stride 1, dilation 1 and one group, reading and writing HWC tensors in the
    /// workspace (not the planar network input, not NCHW directly into the output, not a row-fused pair).
    /// </summary>
    public static bool Eligible(PlanGraph g, PlanStep s)
    {
        if (s.Kind != StepKind.Conv || s.DirectOutput || s.FusedDepthwise >= 0)
        {
            return false;
        }

        var spec = g.Layers[s.Layer].Spec;
        return spec.KernelH == 3 && spec.KernelW == 3 && spec.StrideH == 1 && spec.StrideW == 1
            && spec.DilationH == 1 && spec.DilationW == 1 && spec.Groups == 1
            && g.Tensors[s.Inputs[0]].Layout == Layout.Hwc && g.Tensors[s.Output].Layout == Layout.Hwc;
    }

    /// <summary>
    /// The cost model, in cycles per image. Direct: the <see cref="Tiling"/> model of the step's tile over every row.
    /// Winograd: 16 GEMMs of tiles x input channels x filters with the best register tile (the same per-step model,
    /// K = input channels, times <see cref="MachineModel.WinogradGemmFactor"/>), plus the transforms, each bound by its
    /// loads or additions, plus its stores. Winograd is chosen when it saves at least <see cref="MachineModel.WinogradMinSaving"/>.
    /// </summary>
    public static WinogradEstimate Estimate(ShapedLayer l, PlanStep direct, MachineModel m)
    {
        int v = m.Width;
        int xcp = Planner.RoundUp(l.In.C, v), ycp = Planner.RoundUp(l.Out.C, v), nb = ycp / v;
        int h = l.Out.H, w = l.Out.W;
        long k = 9L * l.In.C;

        int full = w / direct.TileP, rest = w % direct.TileP;
        double directCycles = h * ((full * Tiling.TileCost(direct.TileP, direct.TileB, k, m) * (nb / direct.TileB))
            + (rest > 0 ? Tiling.TileCost(rest, direct.LastTileB, k, m) * (nb / direct.LastTileB) : 0));

        int tileRows = (h + 1) / 2, tileCols = (w + 1) / 2;
        long tiles = (long)tileRows * tileCols;
        var best = (Cycles: double.MaxValue, Pixels: 1, Vectors: 1, Rows: 1);
        for (int tb = 1; tb <= Math.Min(m.ConvMaxTileVectors, nb); tb++)
        {
            if (nb % tb != 0)
            {
                continue;
            }

            int rows = BlockRows(tileRows, tileCols, xcp, tb * v, m);
            for (int tp = 1; tp * tb <= m.AccumulatorBudget && tp <= (long)rows * tileCols; tp++)
            {
                if (!Tiling.Fits(tp, tb, m))
                {
                    continue;
                }

                int blocks = tileRows / rows, lastRows = tileRows % rows;
                double gemm = (blocks * BlockGemm((long)rows * tileCols, tp, tb, l.In.C, m)) + (lastRows > 0 ? BlockGemm((long)lastRows * tileCols, tp, tb, l.In.C, m) : 0);
                gemm *= Positions * (nb / tb) * m.WinogradGemmFactor;
                if (gemm < best.Cycles - 1e-9)
                {
                    best = (gemm, tp, tb, rows);
                }
            }
        }

        // B^T d B per tile and input vector: each of 4 rows loads 8 inputs and does 8 additions; 16 stores.
        double input = tiles * (xcp / v) * (Math.Max(32 / m.LoadsPerCycle, 32 / m.AddsPerCycle) + (16 / m.StoresPerCycle));

        // A^T m A per tile and output vector: 16 loads, 24 additions, the bias and residual (4 each), 4 stores.
        bool residual = direct.FusedAdd >= 0;
        double output = tiles * nb * (Math.Max((16 + (residual ? 4 : 0)) / m.LoadsPerCycle, (28 + (residual ? 4 : 0)) / m.AddsPerCycle) + (4 / m.StoresPerCycle));
        double winograd = best.Cycles + input + output;
        int scratch = Scratch(best.Rows * tileCols, xcp, best.Vectors * v, m);
        return new WinogradEstimate(directCycles, winograd, best.Pixels, best.Vectors, best.Rows, scratch, winograd <= directCycles * (1 - m.WinogradMinSaving));
    }

    /// <summary>The floats of a block's transformed tiles (16 positions a <see cref="Pitch"/> apart) and its GEMM results (16 x one weight tile each).</summary>
    public static int Scratch(long blockTiles, int inputFloats, int tileFloats, MachineModel m) =>
        (int)Math.Min(int.MaxValue, (Positions * (long)Pitch(blockTiles, inputFloats, m)) + (blockTiles * Positions * tileFloats));

    /// <summary>
    /// Floats between two positions of a block's transformed tiles: the block's tiles rounded up to whole cache lines, plus
    /// one line where that count is even. The input transform stores each tile's 16 positions a pitch apart; at a pitch of
    /// a multiple of 4 KB (layer1 of cifar_resnet8: 128 tiles x 16 floats = 8 KB) all 16 stores fall in one L1 set and
    /// alias 4 KB apart with the loads (measured: the transform took as long as the GEMMs at Vector256); an odd number
    /// of lines puts the 16 positions in 16 different sets.
    /// </summary>
    public static int Pitch(long blockTiles, int inputFloats, MachineModel m)
    {
        long line = m.CacheLineFloats, lines = ((blockTiles * inputFloats) + line - 1) / line;
        return (int)Math.Min(int.MaxValue / Positions, (lines | 1) * line);
    }

    /// <summary>
    /// Tile rows per block: as few blocks as keep each block's transformed tiles and GEMM results within
    /// <see cref="MachineModel.WinogradBlockFloats"/> (blocks of one row at least), their rows then spread as evenly as equal
    /// blocks allow: 4 tile rows that fit 3 at a time are 2 blocks of 2, not 3 and 1, so two threads splitting the blocks get
    /// equal shares (7 rows by 3 are still 3 + 3 + 1).
    /// </summary>
    private static int BlockRows(int tileRows, int tileCols, int inputFloats, int tileFloats, MachineModel m)
    {
        long perRow = (long)tileCols * Positions * (inputFloats + tileFloats);
        int most = (int)Math.Max(1, Math.Min(tileRows, m.WinogradBlockFloats / perRow));
        int blocks = (tileRows + most - 1) / most;
        return (tileRows + blocks - 1) / blocks;
    }

    /// <summary>One position's GEMM over a block of <paramref name="tiles"/> tiles, <paramref name="tp"/> at a time, for one weight tile.</summary>
    private static double BlockGemm(long tiles, int tp, int tb, long channels, MachineModel m) =>
        ((tiles / tp) * Tiling.TileCost(tp, tb, channels, m)) + (tiles % tp > 0 ? Tiling.TileCost((int)(tiles % tp), tb, channels, m) : 0);
}

/// <summary>The Winograd cost model's verdict on one convolution (cycles per image at one vector width).</summary>
/// <param name="Direct">The direct kernel's modelled cycles.</param>
/// <param name="Winograd">Winograd's modelled cycles: GEMMs and transforms.</param>
/// <param name="TilePixels">The GEMM's register tile: transformed tiles per pass.</param>
/// <param name="TileVectors">The GEMM's register tile: vectors of filters.</param>
/// <param name="BlockRows">Tile rows per cache block.</param>
/// <param name="ScratchFloats">Workspace floats of one block.</param>
/// <param name="Chosen">Winograd saves enough.</param>
internal readonly record struct WinogradEstimate(double Direct, double Winograd, int TilePixels, int TileVectors, int BlockRows, int ScratchFloats, bool Chosen)
{
    /// <summary>The model's saving, for comments: "0.61 of direct".</summary>
    public string Ratio => (Winograd / Direct).ToString("0.00", CultureInfo.InvariantCulture);
}
