using System.Linq;
using CnnGen.Generator.Planning.Kernels;
using static CnnGen.Generator.Emit.Kernels.KernelWriter;
using static CnnGen.Generator.Model.Words;

namespace CnnGen.Generator.Emit.Kernels;

/// <summary>
/// Writes a convolution vectorized over output channels (<see cref="ConvKernel"/>): a driver looping over output rows
/// and calling one method per register-tile shape. Each tile holds pixels x filter vectors accumulators; per tap and
/// input channel it loads the filter vectors once and broadcasts each pixel's input.
/// </summary>
internal static class ConvEmitter
{
    public static void Emit(KernelWriter kw, ConvKernel k)
    {
        if (k.PixelTiles.Count > 0)
        {
            PlanarPairEmitter.Emit(kw, k);
            return;
        }

        var win = k.Window;
        var x = k.X;
        var y = k.Y;
        var tiles = k.Tiles;
        string groups = k.Groups > 1 ? $", {I(k.Groups)} groups (block-diagonal weights)" : string.Empty;
        kw.Doc(k.Title, SplitRemarks(k, k.SplitTiles > 0 ? "(output row, weight tile) units, row by row," : "output rows", k.SplitTiles > 0 ? "unit" : "row",
            $"Input: {x.Describe()}.",
            $"Output: {y.Describe()}.",
            $"Kernel {I(win.KernelH)}x{I(win.KernelW)}, stride {I(win.StrideH)}x{I(win.StrideW)}, dilation {I(win.DilationH)}x{I(win.DilationW)}, padding {I(win.PadTop)}/{I(win.PadLeft)}/{I(win.PadBottom)}/{I(win.PadRight)} read from the input's zero border{groups}.",
            $"Weights: [{Count(k.TileGroups, "tile")}][{Count(win.Taps, "tap")}][{Count(x.C, "channel")}][{Count(k.TileFloats, "filter")}], bias [{I(y.Cp)}].",
            $"Register tile: {Count(k.TilePixels, "pixel")} x {Count(k.TileVectors, "vector")} = {Count(k.TilePixels * k.TileVectors, "accumulator")}; {Count(tiles.Full, "tile")} per row" + (tiles.Last == 0 ? "." : k.LastTileVectors == k.TileVectors ? $" and a last tile of {Count(tiles.Last, "pixel")}." : $" and a last tile of {Count(tiles.Last, "pixel")} x {Count(k.LastTileVectors, "vector")} ({Count(k.LastTileVectors / k.TileVectors, "weight tile")} per pass).")));
        if (k.RowSource is { } depthwise)
        {
            DepthwiseEmitter.EmitRowPair(kw, depthwise, k);
        }
        else
        {
            var w = kw.W;
            string residual = k.Residual is not null ? "ref float r, " : string.Empty;
            int g = k.SplitTiles;
            using (kw.Method(k.Method, $"ref float x, {residual}ref float y, {kw.Buffer} weight, {kw.Buffer} bias{RangeParameters(k, g > 0 ? "unit" : "row")}"))
            {
                kw.ArrayRef("w", "weight");
                kw.ArrayRef("b", "bias");
                DeclareStage(kw, k);
                if (g > 0)
                {
                    w.Line($"// Unit u is weight tile u % {I(g)} of output row u / {I(g)}: a range may start and end inside a row.");
                }

                using (w.Block(g > 0 ? $"for (int oh = unitStart / {I(g)}; oh * {I(g)} < unitEnd; oh++)" : RowLoop(k, y.H)))
                {
                    if (g > 0)
                    {
                        w.Line($"int tileStart = {Code.Math}.Max(unitStart - (oh * {I(g)}), 0), tileEnd = {Code.Math}.Min(unitEnd - (oh * {I(g)}), {I(g)});");
                    }

                    w.Line($"ref float xr = ref At(ref x, {Lin("oh", k.XRowStep, k.XOrigin)});");
                    OutputRow(kw, k);
                    kw.TileCalls(tiles, k.Residual, k.DirectOutput, range: g > 0 ? ", tileStart, tileEnd" : string.Empty);
                }
            }
        }

        Tile(kw, k, tiles.Pixels);
        if (tiles.Last > 0)
        {
            Tile(kw, k, tiles.Last);
        }
    }

    /// <summary>A convolution writing the NCHW output stages each tile's accumulators, pixel-major, then transposes them out.</summary>
    internal static void DeclareStage(KernelWriter kw, ConvKernel k)
    {
        if (k.DirectOutput)
        {
            kw.W.Line($"{Code.Span}<float> stage = stackalloc float[{I(k.StageFloats)}]; // one tile, pixels x filters");
            kw.W.Line($"ref float st = ref {Code.MemoryMarshal}.GetReference(stage);");
        }
    }

    /// <summary>The output row <c>yr</c> of row <c>oh</c>: in the stored layout, or in the first NCHW plane.</summary>
    internal static void OutputRow(KernelWriter kw, ConvKernel k)
    {
        var y = k.Y;
        kw.W.Line(k.DirectOutput
            ? $"ref float yr = ref At(ref y, oh * {I(y.W)}); // row oh of the first NCHW output plane"
            : $"ref float yr = ref At(ref y, {Lin("oh", y.RowStride, y.Origin)});");
    }

    private static void Tile(KernelWriter kw, ConvKernel k, int tp)
    {
        var w = kw.W;
        var win = k.Window;
        var x = k.X;
        int v = kw.V, c = x.C, tbv = k.TileFloats;
        int tb = tp == k.Tiles.Pixels ? k.TileVectors : k.LastTileVectors, passes = k.TileGroups * k.TileVectors / tb;
        long passWeights = (long)win.Taps * c * tb * v;
        bool res = k.Residual is not null;
        bool direct = k.DirectOutput;

        w.Line();
        w.Line(k.SplitTiles > 0
            ? $"/// <summary>{Count(tp, "output pixel")} of {Xml(k.LayerName)}, weight tiles tileStart to tileEnd - 1 of {I(k.TileGroups)} ({Count(tb, "vector")} of filters each).</summary>"
            : $"/// <summary>{Count(tp, "output pixel")} of {Xml(k.LayerName)}, all {Count(k.Filters, "filter")}, {Count(tb, "vector")} at a time.</summary>");
        bool range = k.SplitTiles > 0; // passes are the weight tiles: the caller gives this row's range of them
        using (kw.Method(tp == k.Tiles.Pixels ? k.Tiles.Method : k.Tiles.LastMethod!, $"ref float x, {(res ? "ref float r, " : string.Empty)}{(direct ? "ref float stage, " : string.Empty)}ref float w, ref float b, ref float y{(range ? ", int tileStart, int tileEnd" : string.Empty)}"))
        {
            kw.ActConstants(k.Activation);
            using (range ? w.Block("for (int t = tileStart; t < tileEnd; t++)") : passes > 1 ? w.Block($"for (int t = 0; t < {I(passes)}; t++)") : w.Block())
            {
                if (passes > 1 || range)
                {
                    w.Line($"ref float wt = ref At(ref w, t * {I(passWeights)});");
                    w.Line($"ref float bt = ref At(ref b, t * {I(tb * v)});");
                    w.Line($"ref float yt = ref At(ref y, t * {I(tb * v)});");
                    if (res)
                    {
                        w.Line($"ref float rt = ref At(ref r, t * {I(tb * v)});");
                    }
                }
                else
                {
                    w.Line("ref float wt = ref w;");
                    w.Line("ref float bt = ref b;");
                    w.Line("ref float yt = ref y;");
                    if (res)
                    {
                        w.Line("ref float rt = ref r;");
                    }
                }

                kw.Biases(tb, j => kw.Load("bt", Off(j * v)));
                kw.Accumulators(Enumerable.Range(0, tp).Select(p => $"a{I(p)}_"), tb, j => $"bias{I(j)}");
                Taps(kw, k, tp, tb);
                Store(kw, k, tp, tb);
            }
        }
    }

    /// <summary>
    /// Every tap, each a loop over input channels: unrolled; or a loop over kernel rows with the columns unrolled; or
    /// loops over rows and columns (<see cref="ConvKernel.Unroll"/>).
    /// </summary>
    private static void Taps(KernelWriter kw, ConvKernel k, int tp, int tb)
    {
        var w = kw.W;
        var win = k.Window;
        var x = k.X;
        int c = x.C, tbv = k.TileFloats;
        var input = ("x", 0L, (long)win.DilationH * x.RowStride, (long)win.DilationW * x.PixelStride);
        var weights = ("wt", 0L, (long)win.KernelW * c * tbv, (long)c * tbv);
        kw.Window(k.Unroll, win.KernelH, win.KernelW, input, weights, tap =>
        {
            // The channel loop steps its two references instead of recomputing them from ic: the loop body is a few
            // FMAs at narrow widths, where an index multiply per channel costs as much as an FMA pair.
            w.Line(c == 1 ? $"// {tap.Name}" : $"// {tap.Name}: every input channel");
            using (w.Block())
            {
                w.Line(tap.XOffset == 0 ? $"ref float xi = ref {tap.X};" : $"ref float xi = ref At(ref {tap.X}, {I(tap.XOffset)});");
                w.Line(tap.WOffset == 0 ? $"ref float wi = ref {tap.W};" : $"ref float wi = ref At(ref {tap.W}, {I(tap.WOffset)});");
                using (w.BlockIf(c > 1, $"for (int ic = 0; ic < {I(c)}; ic++)"))
                {
                    TapBody(kw, k, tp, tb);
                    if (c > 1)
                    {
                        w.Line($"xi = ref At(ref xi, {I(x.ChannelStride)}); // the next input channel");
                        w.Line($"wi = ref At(ref wi, {I(tbv)});");
                    }
                }
            }
        });
    }

    /// <summary>
    /// One tap and input channel: load the filter vectors, broadcast each pixel's input, FMA. Vector j of a tile wider
    /// than <see cref="ConvKernel.TileVectors"/> is in weight tile j / TileVectors.
    /// </summary>
    private static void TapBody(KernelWriter kw, ConvKernel k, int tp, int tb)
    {
        var w = kw.W;
        int v = kw.V, groupVectors = k.TileVectors;
        long pixel = k.XPixelStep, groupWeights = (long)k.Window.Taps * k.X.C * k.TileFloats;
        for (int j = 0; j < tb; j++)
        {
            w.Line($"var w{I(j)} = {kw.Load("wi", Off(((j / groupVectors) * groupWeights) + ((j % groupVectors) * v)))};");
        }

        for (int p = 0; p < tp; p++)
        {
            string xv = p == 0 ? "xi" : $"At(ref xi, {I(p * pixel)})";
            w.Line($"var x{I(p)} = Broadcast({xv});");
            for (int j = 0; j < tb; j++)
            {
                w.Line($"a{I(p)}_{I(j)} = Fma(x{I(p)}, w{I(j)}, a{I(p)}_{I(j)});");
            }
        }
    }

    /// <summary>The residual, the activation and the store: into the output, or into the stage then transposed to NCHW.</summary>
    private static void Store(KernelWriter kw, ConvKernel k, int tp, int tb)
    {
        var w = kw.W;
        var y = k.Y;
        int v = kw.V, ocp = y.Cp, tbv = k.TileFloats;
        if (k.Residual is { } residual)
        {
            w.Line($"// {Xml(k.ResidualLayer!)}: add the residual '{residual.Name}' before the activation");
        }

        bool inPlace = ActivatesInPlace(k.Activation) && tp > 1; // one pixel: its few vectors inline as they are
        var act = inPlace ? ActivationSpec.None : k.Activation;
        for (int p = 0; p < tp; p++)
        {
            for (int j = 0; j < tb; j++)
            {
                string acc = $"a{I(p)}_{I(j)}";
                if (k.Residual is not null)
                {
                    w.Line($"{acc} += {kw.Load("rt", Off(((long)p * ocp) + (j * v)))};");
                }

                w.Line(k.DirectOutput
                    ? kw.Store(kw.Act(act, acc), $"ref stage, {I(((long)p * tbv) + (j * v))}")
                    : kw.Store(kw.Act(act, acc), $"ref yt, {I(((long)p * ocp) + (j * v))}"));
            }
        }

        if (inPlace)
        {
            kw.ActivateInPlace(k.Activation, k.DirectOutput ? "ref stage" : "ref yt", tp, k.DirectOutput ? tbv : ocp, tb);
        }

        if (k.DirectOutput)
        {
            // Pixels x filters -> one run of pixels in each filter's NCHW plane.
            long plane = (long)y.H * y.W;
            bool tiled = k.TileGroups > 1;
            string cols = tiled ? $"{Code.Math}.Min({I(tbv)}, {I(k.Filters)} - (t * {I(tbv)}))" : I(System.Math.Min(tbv, k.Filters));
            string dst = tiled ? $"ref At(ref y, t * {I(tbv * plane)})" : "ref y";
            w.Line($"{Code.Transpose}.Run(ref stage, {I(tp)}, {cols}, {I(tbv)}, {dst}, {I(plane)});");
        }
    }
}
