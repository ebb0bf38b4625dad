using System;
using System.Linq;
using CnnGen.Generator.Model;
using CnnGen.Generator.Planning.Kernels;

namespace CnnGen.Generator.Planning.Passes;

/// <summary>The convolution families' specs: regular, depthwise, and pixel-vectorized first layers.</summary>
internal sealed partial class KernelSpecs
{
    private ConvKernel Conv(PlanStep s, KernelNames n)
    {
        var l = Layer(s);
        var spec = l.Spec;
        var x = X(s, n);
        var y = Y(s, n);
        int v = _m.Width, tp = s.Planar ? s.TileP * v : s.TileP, tb = s.Planar ? 1 : s.TileB;
        int tiles = y.Cp / v / tb;
        string method = n.Method;
        var row = Row(method, tp, y.W, PixelStep(x, spec), s.DirectOutput ? 1 : y.Cp, y.Cp);
        return new ConvKernel
        {
            Method = method,
            Title = n.Title,
            LayerName = n.Layer(spec.Name),
            X = x,
            Y = y,
            Residual = s.FusedAdd >= 0 ? n.Tensor(T(s.Inputs[1]), "r") : null,
            ResidualLayer = s.FusedAdd >= 0 ? n.Fused(_g.Layers[s.FusedAdd].Spec.Name) : null,
            Window = Window.Of(spec),
            Groups = spec.Groups,
            Filters = l.Out.C,
            TilePixels = tp,
            TileVectors = tb,
            LastTileVectors = row.Last > 0 ? s.LastTileB : tb,
            TileGroups = tiles,
            SplitTiles = s.SplitUnits > 0 ? Splitting.RowTiles(_g, s, _m) : 0,
            TileFloats = tb * v,
            Tiles = row,
            Unroll = UnrollFor(spec, (long)tp * tb, _m.MaxUnrolledTaps),
            XOrigin = x.PaddedOrigin(spec.PadTop, spec.PadLeft),
            XRowStep = RowStep(x, spec),
            XPixelStep = PixelStep(x, spec),
            DirectOutput = s.DirectOutput,
            StageFloats = tp * tb * v,
            Activation = Activation(s),
            RowSource = s.FusedDepthwise >= 0 ? RowSource(RowFusedDepthwise(s), n) : null,
            PixelTiles = s.Planar ? PixelTiles(s, method, s.PlanarRows * y.W) : EquatableArray<PixelTile>.Empty,
        };
    }

    /// <summary>
    /// A planar pointwise row's tiles: consecutive groups of <see cref="PlanStep.TileP"/> pixel vectors with
    /// <see cref="PlanStep.TileB"/> filters per pass, and a last group of the rest with <see cref="PlanStep.LastTileB"/>;
    /// groups with the same vector offsets and filters share a method, named for the pixels it covers.
    /// </summary>
    private EquatableArray<PixelTile> PixelTiles(PlanStep s, string method, int rowWidth)
    {
        var vectors = FirstLayer.Blocks(rowWidth, _m.Width);
        var tiles = new System.Collections.Generic.List<PixelTile>();
        for (int first = 0; first < vectors.Length; first += s.TileP)
        {
            var group = vectors.Skip(first).Take(s.TileP).Select(o => o - vectors[first]).ToEquatableArray();
            int filters = group.Count == s.TileP ? s.TileB : s.LastTileB;
            int at = tiles.FindIndex(t => t.Vectors.Equals(group) && t.Filters == filters);
            if (at >= 0)
            {
                tiles[at] = tiles[at] with { Starts = tiles[at].Starts.Append(vectors[first]).ToEquatableArray() };
                continue;
            }

            int pixels = group[group.Count - 1] + _m.Width;
            tiles.Add(new PixelTile
            {
                Method = method + "Tile" + pixels.ToString(System.Globalization.CultureInfo.InvariantCulture),
                Vectors = group,
                Filters = filters,
                Starts = new[] { vectors[first] }.ToEquatableArray(),
            });
        }

        return tiles.ToEquatableArray();
    }

    /// <summary>
    /// The depthwise kernel a pointwise one runs row by row: its identity inside an identity, else the depthwise step's
    /// own spec (shared or not), whose tiles the pointwise kernel calls.
    /// </summary>
    private DepthwiseKernel RowSource(PlanStep depthwise, KernelNames pointwise) =>
        (DepthwiseKernel)(pointwise.IsIdentity ? Kernel(depthwise, KernelNames.Identity) : KernelOf(depthwise));

    private DepthwiseKernel Depthwise(PlanStep s, KernelNames n)
    {
        var spec = Layer(s).Spec;
        var x = X(s, n);
        var y = Y(s, n);
        string method = n.Method;
        return new DepthwiseKernel
        {
            Method = method,
            Title = n.Title,
            LayerName = n.Layer(spec.Name),
            X = x,
            Y = y,
            Residual = s.FusedAdd >= 0 ? n.Tensor(T(s.Inputs[1]), "r") : null,
            Window = Window.Of(spec),
            Tiles = s.Planar ? Row(method, s.PlanarRows * y.W, s.PlanarRows * y.W, 1, 1, 1) : Row(method, s.TileP, y.W, PixelStep(x, spec), y.Cp, y.Cp),
            Unroll = UnrollFor(spec, s.TileP),
            XOrigin = x.PaddedOrigin(spec.PadTop, spec.PadLeft),
            XRowStep = RowStep(x, spec),
            XPixelStep = PixelStep(x, spec),
            Activation = Activation(s),
            RowFused = s.RowFused,
            PlanarVectors = s.Planar ? FirstLayer.Blocks(y.W, _m.Width).ToEquatableArray() : EquatableArray<int>.Empty,
            PlanarRows = s.PlanarRows,
            OutputHeight = Layer(s).Out.H,
        };
    }

    /// <summary>
    /// How much of <paramref name="spec"/>'s window one method writes out when each tap costs <paramref name="perTap"/>
    /// multiply-adds: every tap while the window fits <see cref="MachineModel.UnrollBudget"/> (and has at most
    /// <paramref name="maxTaps"/> taps), else one kernel row while a row fits, else nothing (loops over rows and columns).
    /// </summary>
    private Unroll UnrollFor(LayerSpec spec, long perTap, int maxTaps = int.MaxValue)
    {
        long taps = (long)spec.KernelH * spec.KernelW;
        return taps <= maxTaps && taps * perTap <= _m.UnrollBudget ? Unroll.Taps
            : spec.KernelW * perTap <= _m.UnrollBudget ? Unroll.Columns
            : Unroll.None;
    }

    /// <summary>Floats of the input between consecutive output rows of a window: the stride in rows.</summary>
    private static long RowStep(TensorPlan x, LayerSpec spec) => (long)spec.StrideH * x.RowStride;

    /// <summary>Floats of the input between consecutive output pixels of a window: the stride in pixels.</summary>
    private static long PixelStep(TensorPlan x, LayerSpec spec) => (long)spec.StrideW * x.PixelStride;

    private PixelConvKernel PixelConv(PlanStep s, KernelNames n)
    {
        var l = Layer(s);
        var spec = l.Spec;
        var x = X(s, n);
        var y = Y(s, n);
        int v = _m.Width, filters = l.Out.C;
        bool pooled = s.FusedPool >= 0;
        var blocks = FirstLayer.Blocks(l.Out.W, v);

        // When every block of a row fits the accumulator budget, one call computes the whole row (more independent
        // accumulators); the pooled kernel always does (its fusion required it).
        bool wholeRow = pooled || (blocks.Length > 1 && blocks.Length * filters <= _m.AccumulatorBudget);
        var callBlocks = wholeRow ? blocks : new[] { 0 };
        int stageRows = Math.Min(Planner.RoundUp(filters, Planner.TransposeBlock), y.Cp);
        long convRowStep = RowStep(x, spec);
        int half = v / 2;

        // The pixels method writes out every input channel; the pooled kernel, with two rows of accumulators, loops over kernel rows.
        var unroll = UnrollFor(spec, (long)x.C * callBlocks.Length * filters * (pooled ? 2 : 1));
        return new PixelConvKernel
        {
            Method = n.Method,
            Title = n.Title,
            LayerName = n.Layer(spec.Name),
            DisplayKind = spec.DisplayKind,
            X = x,
            Y = y,
            Window = Window.Of(spec),
            Filters = filters,
            Channels = x.C,
            ConvHeight = l.Out.H,
            ConvWidth = l.Out.W,
            Blocks = blocks.ToEquatableArray(),
            WholeRow = wholeRow,
            CallBlocks = callBlocks.ToEquatableArray(),
            BlockPixels = pooled ? half : v,
            BlockOutputOffsets = blocks.Select(b => (long)(pooled ? b / 2 : b) * y.Cp).ToEquatableArray(),
            StageRows = stageRows,
            StageFloats = callBlocks.Length * stageRows * v,
            XOrigin = x.PaddedOrigin(spec.PadTop, spec.PadLeft),
            XRowStep = pooled ? 2 * convRowStep : convRowStep,
            ConvRowStep = convRowStep,
            Unroll = pooled && unroll == Unroll.Taps ? Unroll.Columns : unroll,
            PixelsMethod = n.Method + "Pixels",
            PoolLayer = pooled ? n.Fused(_g.Layers[s.FusedPool].Spec.Name) : null,
            PooledShape = pooled ? _g.Layers[s.FusedPool].Out.ToString() : null,
            EvenLanes = Enumerable.Range(0, v).Select(i => i < half ? 2 * i : 0).ToEquatableArray(),
            OddLanes = Enumerable.Range(0, v).Select(i => i < half ? (2 * i) + 1 : 0).ToEquatableArray(),
            Activation = Activation(s),
        };
    }
}
