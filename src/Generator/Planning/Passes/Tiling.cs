using System;
using CnnGen.Generator.Shapes;

namespace CnnGen.Generator.Planning.Passes;

/// <summary>Sizes every kernel's register tile from the target's <see cref="MachineModel"/>.</summary>
internal static class Tiling
{
    public static void Run(PlanGraph g, MachineModel m)
    {
        foreach (var s in g.Steps)
        {
            if (s.Kind == StepKind.Conv && s.Planar)
            {
                var l = g.Layers[s.Layer];
                (s.TileP, s.TileB, s.LastTileB) = PixelTile(PixelVectors(s.PlanarRows * l.Out.W, m.Width), l.Out.C, l.In.C, m);
            }
            else if (s.Kind == StepKind.Conv)
            {
                var l = g.Layers[s.Layer];
                // A tile transposed to NCHW in 8 x 8 blocks must be a whole number of blocks wide.
                int multiple = s.DirectOutput && l.Out.W >= Planner.TransposeBlock ? Planner.TransposeBlock : 1;
                (s.TileP, s.TileB, s.LastTileB) = ConvTile(l, m, multiple);
                if (s.DirectOutput)
                {
                    // The NCHW stage holds one tile of TileB vectors per pixel.
                    s.LastTileB = s.TileB;
                }
            }
            else if (s.Kind == StepKind.DepthwiseConv)
            {
                (s.TileP, s.TileB) = DepthwiseTile(g.Layers[s.Layer], m);
            }
            else if (s.Kind == StepKind.Dense)
            {
                int nb = (g.Layers[s.Layer].Out.C + m.Width - 1) / m.Width;
                s.TileB = Math.Min(nb, m.DenseTileVectors);
                s.GroupTileB = Math.Min(nb, m.DenseGroupTileVectors);
            }
        }
    }

    /// <summary>
    /// Chooses the convolution's register tile (pixels x output-channel vectors) with a small cost model, in cycles
    /// per output row: each of the K = taps x input channels steps of a tile is bound by FMA throughput, FMA
    /// latency (one dependent chain per accumulator) or loads (a broadcast per pixel and a weight vector per channel
    /// vector); the tile's stores and set-up come once per tile, and a narrower last tile costs like a tile of its
    /// own. A tile's accumulators, its weight vectors and one broadcast must fit the registers.
    /// The last tile of a row may take several weight groups per pass (<c>LastVectors</c>, a multiple of
    /// <c>Vectors</c>), so a few leftover pixels still have enough independent accumulators to hide the FMA latency.
    /// </summary>
    /// <param name="pixelMultiple">Tile widths must be a multiple of this (8 when the tile is transposed to NCHW in 8 x 8 blocks).</param>
    public static (int Pixels, int Vectors, int LastVectors) ConvTile(ShapedLayer l, MachineModel m, int pixelMultiple = 1)
    {
        int nb = Planner.RoundUp(l.Out.C, m.Width) / m.Width;
        int ow = l.Out.W;
        long k = (long)l.Spec.KernelH * l.Spec.KernelW * (l.In.C / Math.Max(1, l.Spec.Groups) * Math.Max(1, l.Spec.Groups));
        (int, int, int) best = (1, 1, 1);
        double bestCost = double.MaxValue;
        for (int tb = 1; tb <= Math.Min(m.ConvMaxTileVectors, nb); tb++)
        {
            if (nb % tb != 0)
            {
                continue;
            }

            for (int tp = 1; tp <= ow && tp * tb <= m.AccumulatorBudget; tp++)
            {
                if (!Fits(tp, tb, m) || tp % pixelMultiple != 0)
                {
                    continue;
                }

                int full = ow / tp, rest = ow % tp;
                var (lastVectors, restCost) = rest > 0 && pixelMultiple == 1 ? LastTile(rest, tp * tb, tb, nb, k, m) : (tb, rest > 0 ? TileCost(rest, tb, k, m) * (nb / tb) : 0);
                double cost = (full * TileCost(tp, tb, k, m) * (nb / tb)) + restCost;
                if (cost < bestCost - 1e-9)
                {
                    bestCost = cost;
                    best = (tp, tb, lastVectors);
                }
            }
        }

        return best;
    }

    /// <summary>Vectors covering a planar row of <paramref name="rowWidth"/> pixels (the last one overlapping the one before it).</summary>
    public static int PixelVectors(int rowWidth, int width) => (rowWidth + width - 1) / width;

    /// <summary>
    /// The tile of a pointwise convolution over planar rows (<see cref="PlanarPairs"/>): pixel vectors x filters, per input
    /// channel <c>Vectors</c> loads and <c>Filters</c> broadcasts for their product of FMAs: the same cost model as
    /// <see cref="ConvTile"/> with the roles of pixels and vectors swapped (filters are broadcast, pixels loaded). A row of
    /// <paramref name="vectors"/> takes full tiles of <c>Vectors</c> and a last tile of the rest, with its own filter count
    /// (<c>LastFilters</c>) so its few vectors still hide the FMA latency. Filter counts divide <paramref name="filters"/>.
    /// </summary>
    public static (int Vectors, int Filters, int LastFilters) PixelTile(int vectors, int filters, long channels, MachineModel m)
    {
        (int, int, int) best = (1, 1, 1);
        double bestCost = double.MaxValue;
        for (int tv = 1; tv <= Math.Min(vectors, m.ConvMaxTileVectors); tv++)
        {
            var (tf, full) = BestFilters(tv, filters, channels, m);
            int rest = vectors % tv;
            var (lf, last) = rest > 0 ? BestFilters(rest, filters, channels, m) : (tf, 0);
            double cost = (vectors / tv * full) + last;
            if (tf > 0 && cost < bestCost - 1e-9)
            {
                bestCost = cost;
                best = (tv, tf, lf);
            }
        }

        return best;
    }

    /// <summary>The filter count (dividing <paramref name="filters"/>) that computes <paramref name="tv"/> pixel vectors of every filter fastest, and that cost.</summary>
    private static (int Filters, double Cost) BestFilters(int tv, int filters, long channels, MachineModel m)
    {
        (int, double) best = (0, double.MaxValue);
        for (int tf = 1; tf <= filters && tf * tv <= m.AccumulatorBudget; tf++)
        {
            if (filters % tf != 0 || !Fits(tf, tv, m))
            {
                continue;
            }

            double cost = TileCost(tf, tv, channels, m) * (filters / tf);
            if (cost < best.Item2 - 1e-9)
            {
                best = (tf, cost);
            }
        }

        return best;
    }

    /// <summary>A tile's accumulators, its weight vectors and one broadcast fit the vector registers.</summary>
    internal static bool Fits(int tp, int tb, MachineModel m) => (tp * tb) + tb + 1 <= m.VectorRegisters;

    /// <summary>
    /// The last tile's vectors per pass (a multiple of the full tile's <paramref name="tb"/> dividing the <paramref name="nb"/>
    /// vectors, with no more accumulators than the full tile, so its unrolled window stays within the same budget) and its
    /// cost over all filters.
    /// </summary>
    private static (int Vectors, double Cost) LastTile(int rest, int fullAccumulators, int tb, int nb, long k, MachineModel m)
    {
        (int, double) best = (tb, TileCost(rest, tb, k, m) * (nb / tb));
        for (int lb = 2 * tb; lb <= nb && rest * lb <= fullAccumulators; lb += tb)
        {
            if (nb % lb != 0 || !Fits(rest, lb, m))
            {
                continue;
            }

            double cost = TileCost(rest, lb, k, m) * (nb / lb);
            if (cost < best.Item2 - 1e-9)
            {
                best = (lb, cost);
            }
        }

        return best;
    }

    /// <summary>Cycles of one tile: K steps each bound by FMA throughput, latency or loads; then stores (one per accumulator, two per vector of bias and output) and set-up.</summary>
    internal static double TileCost(int tp, int tb, long k, MachineModel m)
    {
        double fma = tp * tb / m.FmaPerCycle;
        double latency = m.FmaLatencyCycles;
        double loads = (tp + tb) / m.LoadsPerCycle;
        return (k * Math.Max(fma, Math.Max(latency, loads))) + (tp * tb) + (2 * tb) + m.TileSetupCycles;
    }

    /// <summary>Depthwise: vectors over channels, pixels along the row; each accumulator needs its own input load.</summary>
    public static (int Pixels, int Vectors) DepthwiseTile(ShapedLayer l, MachineModel m)
    {
        int ow = l.Out.W;
        int tp = Math.Min(ow, m.DepthwiseMaxPixels);
        for (int p = tp; p >= Math.Max(1, tp - m.DepthwisePixelSlack); p--)
        {
            if (ow % p == 0)
            {
                return (p, 1);
            }
        }

        return (tp, 1);
    }
}
