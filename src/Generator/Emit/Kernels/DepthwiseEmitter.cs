using CnnGen.Generator.Planning.Kernels;
using static CnnGen.Generator.Emit.Kernels.KernelWriter;
using static CnnGen.Generator.Model.Words;

namespace CnnGen.Generator.Emit.Kernels;

/// <summary>
/// Writes a depthwise convolution (<see cref="DepthwiseKernel"/>): vectors over channels, a tile of pixels along the
/// row, one input load per pixel and tap. Also writes the driver of a depthwise + pointwise pair, which runs the
/// depthwise tiles row by row into a one-row buffer that the pointwise tiles read at once.
/// </summary>
internal static class DepthwiseEmitter
{
    public static void Emit(KernelWriter kw, DepthwiseKernel k)
    {
        var w = kw.W;
        var win = k.Window;
        var x = k.X;
        var y = k.Y;
        var tiles = k.Tiles;
        bool planar = k.PlanarVectors.Count > 0;
        string window = $"Depthwise {I(win.KernelH)}x{I(win.KernelW)}, stride {I(win.StrideH)}x{I(win.StrideW)}, dilation {I(win.DilationH)}x{I(win.DilationW)}, padding {I(win.PadTop)}/{I(win.PadLeft)}/{I(win.PadBottom)}/{I(win.PadRight)}; vectors run over {(planar ? "pixels" : "channels")}.";
        if (planar)
        {
            kw.Comment(k.Title,
                $"Input: {x.Describe()}, the network input read in place (its zero border is never stored).",
                $"Output: {y.Describe()}: the output rows of a step, one run of pixels per channel.",
                window,
                $"Weights: [{Count(win.Taps, "tap")}][{Count(y.Cp, "channel")}], each broadcast.");
            w.Line($"// {k.LayerName} runs row by row inside the next layer's kernel; only its row method is here.");
            PlanarPairEmitter.EmitDepthwiseRow(kw, k);
            return;
        }

        string[] remarks = SplitRemarks(k, "output rows", "row",
            $"Input: {x.Describe()}.",
            $"Output: {y.Describe()}.",
            window,
            $"Weights: [{Count(win.Taps, "tap")}][{Count(y.Cp, "channel")}].",
            $"Register tile: {Count(tiles.Pixels, "pixel")} x 1 vector of {Count(kw.V, "channel")}; {Count(tiles.Full, "tile")} per row" + (tiles.Last > 0 ? $" and a last tile of {Count(tiles.Last, "pixel")}." : "."));
        if (k.RowFused)
        {
            // No method of its own, so plain comments: a documentation comment must precede a member (CS1587).
            kw.Comment(k.Title, remarks);
            w.Line($"// {k.LayerName} runs row by row inside the next layer's kernel; only its tiles are here.");
        }
        else
        {
            kw.Doc(k.Title, remarks);
            string residual = k.Residual is not null ? "ref float r, " : string.Empty;
            using (kw.Method(k.Method, $"ref float x, {residual}ref float y, {kw.Buffer} weight, {kw.Buffer} bias{RangeParameters(k)}"))
            {
                kw.ArrayRef("w", "weight");
                kw.ArrayRef("b", "bias");
                using (w.Block(RowLoop(k, y.H)))
                {
                    w.Line($"ref float xr = ref At(ref x, {Lin("oh", k.XRowStep, k.XOrigin)});");
                    w.Line($"ref float yr = ref At(ref y, {Lin("oh", y.RowStride, y.Origin)});");
                    kw.TileCalls(tiles, k.Residual, stage: false);
                }
            }
        }

        Tile(kw, k, tiles.Pixels, tiles.Method);
        if (tiles.LastMethod is not null)
        {
            Tile(kw, k, tiles.Last, tiles.LastMethod);
        }
    }

    /// <summary>The driver of a depthwise + pointwise pair: per output row, the depthwise tiles fill the row buffer, then the pointwise tiles read it.</summary>
    public static void EmitRowPair(KernelWriter kw, DepthwiseKernel d, ConvKernel p)
    {
        var w = kw.W;
        using (kw.Method(p.Method, $"ref float x, ref float row, ref float y, {kw.Buffer} depthwiseWeight, {kw.Buffer} depthwiseBias, {kw.Buffer} weight, {kw.Buffer} bias{RangeParameters(p)}"))
        {
            kw.ArrayRef("dw", "depthwiseWeight");
            kw.ArrayRef("db", "depthwiseBias");
            kw.ArrayRef("w", "weight");
            kw.ArrayRef("b", "bias");
            ConvEmitter.DeclareStage(kw, p);
            using (w.Block(RowLoop(p, p.Y.H)))
            {
                w.Line($"// {Xml(d.LayerName)}: output row oh into the row buffer");
                using (w.Block())
                {
                    w.Line($"ref float xr = ref At(ref x, {Lin("oh", d.XRowStep, d.XOrigin)});");
                    w.Line("ref float yr = ref row;");
                    kw.TileCalls(d.Tiles, residual: null, stage: false, "dw", "db");
                }

                w.Line();
                w.Line($"// {Xml(p.LayerName)}: the row buffer into output row oh");
                using (w.Block())
                {
                    w.Line("ref float xr = ref row;");
                    ConvEmitter.OutputRow(kw, p);
                    kw.TileCalls(p.Tiles, p.Residual, p.DirectOutput);
                }
            }
        }
    }

    private static void Tile(KernelWriter kw, DepthwiseKernel k, int tp, string method)
    {
        var w = kw.W;
        var win = k.Window;
        var x = k.X;
        int cp = k.Y.Cp;
        long pixel = k.XPixelStep;
        bool res = k.Residual is not null;
        w.Line();
        w.Line($"/// <summary>{Count(tp, "output pixel")} of {Xml(k.LayerName)}, one vector of channels at a time.</summary>");
        using (kw.Method(method, $"ref float x, {(res ? "ref float r, " : string.Empty)}ref float w, ref float b, ref float y"))
        {
            kw.ActConstants(k.Activation);
            using (w.Block($"for (int c = 0; c < {I(cp)}; c += {I(kw.V)})"))
            {
                w.Line($"var bias = Load(ref b, (nuint)c);");
                kw.Accumulators(new[] { "a" }, tp, _ => "bias");
                Taps(kw, k, tp);
                bool inPlace = ActivatesInPlace(k.Activation) && tp > 1; // one pixel: its few vectors inline as they are
                for (int p = 0; p < tp; p++)
                {
                    if (res)
                    {
                        w.Line($"a{I(p)} += Load(ref r, {Off("c", (long)p * cp)});");
                    }

                    w.Line(kw.Store(inPlace ? $"a{I(p)}" : kw.Act(k.Activation, $"a{I(p)}"), $"ref y, {Off("c", (long)p * cp)}"));
                }

                if (inPlace)
                {
                    kw.ActivateInPlace(k.Activation, "ref At(ref y, c)", tp, cp, 1);
                }
            }
        }
    }

    /// <summary>
    /// Every tap of one vector of channels: unrolled; or a loop over kernel rows with the columns unrolled; or loops over
    /// rows and columns (<see cref="DepthwiseKernel.Unroll"/>).
    /// </summary>
    private static void Taps(KernelWriter kw, DepthwiseKernel k, int tp)
    {
        var w = kw.W;
        var win = k.Window;
        var x = k.X;
        int cp = k.Y.Cp;
        long pixel = k.XPixelStep;
        var input = ("x", 0L, (long)win.DilationH * x.RowStride, (long)win.DilationW * x.PixelStride);
        var weights = ("w", 0L, (long)win.KernelW * cp, (long)cp);
        kw.Window(k.Unroll, win.KernelH, win.KernelW, input, weights, tap =>
        {
            w.Line($"var w{I(tap.Index)} = Load(ref {tap.W}, {Off("c", tap.WOffset)}); // {tap.Name}");
            for (int p = 0; p < tp; p++)
            {
                w.Line($"a{I(p)} = Fma(Load(ref {tap.X}, {Off("c", tap.XOffset + (p * pixel))}), w{I(tap.Index)}, a{I(p)});");
            }
        });
    }
}
