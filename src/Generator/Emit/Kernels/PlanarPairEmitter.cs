using System.Linq;
using CnnGen.Generator.Planning.Kernels;
using static CnnGen.Generator.Emit.Kernels.KernelWriter;
using static CnnGen.Generator.Model.Words;

namespace CnnGen.Generator.Emit.Kernels;

/// <summary>
/// Writes a depthwise + pointwise pair over planar rows (<see cref="ConvKernel.PixelTiles"/>,
/// <see cref="DepthwiseKernel.PlanarVectors"/>): per output row, the depthwise computes each channel's row in vectors of
/// pixels into a CHW row buffer, then the pointwise tiles (pixel vectors x filters, one weight broadcast per filter and
/// input channel) store each filter's pixels straight into its NCHW output plane.
/// </summary>
internal static class PlanarPairEmitter
{
    /// <summary>The pair's driver and the pointwise tiles.</summary>
    public static void Emit(KernelWriter kw, ConvKernel p)
    {
        var w = kw.W;
        var d = p.RowSource!;
        var y = p.Y;
        string tiles = string.Join(", ", p.PixelTiles.Select(t =>
            $"{Count(t.Vectors.Count, "vector")} of {Count(kw.V, "pixel")} x {Count(t.Filters, "filter")} = {Count(t.Vectors.Count * t.Filters, "accumulator")} ({Count(t.Starts.Count, "tile")} per step)"));
        kw.Doc(p.Title,
            $"Input: {d.X.Describe()}.",
            $"Row buffer: {p.X.Describe()}: {Xml(d.LayerName)}'s output {(d.PlanarRows == 1 ? "row" : Count(d.PlanarRows, "row"))} per step, channel by channel.",
            $"Output: NCHW [{I(p.Filters)}, {I(y.H)}, {I(y.W)}], each filter's row stored straight into its plane.",
            $"Pointwise weights: [{Count(p.X.C, "channel")}][{Count(p.Filters, "filter")}] (each broadcast), bias [{I(y.Cp)}].",
            $"Register tiles: {tiles}.");
        using (kw.Method(p.Method, "ref float x, ref float row, ref float y, float[] depthwiseWeight, float[] depthwiseBias, float[] weight, float[] bias"))
        {
            kw.ArrayRef("dw", "depthwiseWeight");
            kw.ArrayRef("db", "depthwiseBias");
            kw.ArrayRef("w", "weight");
            kw.ArrayRef("b", "bias");
            int rows = d.PlanarRows;
            using (w.Block(rows == 1 ? $"for (int oh = 0; oh < {I(y.H)}; oh++)" : $"for (int oh = 0; oh < {I(y.H)}; oh += {I(rows)})"))
            {
                w.Line(rows == 1
                    ? $"// {Xml(d.LayerName)}: output row oh into the row buffer, channel by channel"
                    : $"// {Xml(d.LayerName)}: output rows oh to oh + {I(rows - 1)} into the row buffer, channel by channel");
                w.Line($"{d.Tiles.Method}(ref At(ref x, {Lin("oh", d.XRowStep, d.XOrigin)}), ref dw, ref db, ref row);");
                w.Line();
                w.Line(rows == 1
                    ? $"// {Xml(p.LayerName)}: the row buffer into row oh of every output plane"
                    : $"// {Xml(p.LayerName)}: the row buffer (its rows one run of pixels per channel) into rows oh to oh + {I(rows - 1)} of every output plane");
                w.Line($"ref float yr = ref At(ref y, oh * {I(y.W)});");
                foreach (var (tile, start) in p.PixelTiles.SelectMany(t => t.Starts.Select(s => (t, s))).OrderBy(c => c.s))
                {
                    w.Line(start == 0
                        ? $"{tile.Method}(ref row, ref w, ref b, ref yr);"
                        : $"{tile.Method}(ref At(ref row, {I(start)}), ref w, ref b, ref At(ref yr, {I(start)}));");
                }
            }
        }

        foreach (var tile in p.PixelTiles)
        {
            Tile(kw, p, tile);
        }
    }

    /// <summary>
    /// One tile shape: for each group of filters, accumulators start at the filters' biases; per input channel the pixel
    /// vectors are loaded once and each filter's weight broadcast once; then the activation and one store per vector.
    /// </summary>
    private static void Tile(KernelWriter kw, ConvKernel p, PixelTile t)
    {
        var w = kw.W;
        int nv = t.Vectors.Count, nf = t.Filters, channels = p.X.C, filters = p.Filters;
        long plane = (long)p.Y.H * p.Y.W;
        w.Line();
        w.Line($"/// <summary>{Count(t.Pixels(kw.V), "output pixel")} of {Xml(p.LayerName)} ({Count(nv, "vector")}), all {Count(filters, "filter")}, {I(nf)} at a time.</summary>");
        using (kw.Method(t.Method, "ref float x, ref float w, ref float b, ref float y"))
        {
            kw.ActConstants(p.Activation);
            using (w.Block($"for (int f = 0; f < {I(filters)}; f += {I(nf)})"))
            {
                for (int j = 0; j < nf; j++)
                {
                    string bias = j == 0 ? "At(ref b, f)" : $"At(ref b, f + {I(j)})";
                    w.Line(string.Join(" ", Enumerable.Range(0, nv).Select(q => q == 0 ? $"var a{I(j)}_0 = Broadcast({bias});" : $"var a{I(j)}_{I(q)} = a{I(j)}_0;")));
                }

                w.Line("ref float xi = ref x;");
                w.Line("ref float wi = ref At(ref w, f);");
                using (w.Block($"for (int ic = 0; ic < {I(channels)}; ic++)"))
                {
                    for (int q = 0; q < nv; q++)
                    {
                        w.Line($"var x{I(q)} = {kw.Load("xi", Off(t.Vectors[q]))};");
                    }

                    for (int j = 0; j < nf; j++)
                    {
                        w.Line($"var w{I(j)} = Broadcast({(j == 0 ? "wi" : $"At(ref wi, {I(j)})")});");
                        for (int q = 0; q < nv; q++)
                        {
                            w.Line($"a{I(j)}_{I(q)} = Fma(x{I(q)}, w{I(j)}, a{I(j)}_{I(q)});");
                        }
                    }

                    w.Line($"xi = ref At(ref xi, {I(p.X.ChannelStride)}); // the next input channel");
                    w.Line($"wi = ref At(ref wi, {I(filters)});");
                }

                w.Line();
                w.Line($"ref float yf = ref At(ref y, f * {I(plane)}); // filter f's plane");
                for (int j = 0; j < nf; j++)
                {
                    for (int q = 0; q < nv; q++)
                    {
                        long offset = (j * plane) + t.Vectors[q];
                        w.Line(kw.Store(kw.Act(p.Activation, $"a{I(j)}_{I(q)}"), offset == 0 ? "ref yf" : $"ref yf, {I(offset)}"));
                    }
                }
            }
        }
    }

    /// <summary>
    /// One vector of pixels of every output row of the step: an accumulator per row (<c>a0</c>, <c>a1</c>), each input
    /// vector loaded once and multiplied into every row whose window holds it, taps in order for each row.
    /// </summary>
    private static void Vector(KernelWriter kw, DepthwiseKernel k, int o, int rows, int stride)
    {
        var w = kw.W;
        var win = k.Window;
        long rowStride = k.X.RowStride;
        w.Line(string.Join(" ", Enumerable.Range(0, rows).Select(r => $"var a{I(r)} = bias;")));
        int inputRows = ((rows - 1) * stride) + ((win.KernelH - 1) * win.DilationH) + 1, loaded = 0;
        for (int i = 0; i < inputRows; i++)
        {
            var users = Enumerable.Range(0, rows)
                .Where(r => i - (r * stride) >= 0 && (i - (r * stride)) % win.DilationH == 0 && (i - (r * stride)) / win.DilationH < win.KernelH)
                .Select(r => (Row: r, Kh: (i - (r * stride)) / win.DilationH)).ToList();
            for (int kc = 0; kc < win.KernelW && users.Count > 0; kc++)
            {
                string load = kw.Load("xc", Off((i * rowStride) + ((long)kc * win.DilationW) + o));
                if (users.Count > 1)
                {
                    w.Line($"var x{I(loaded)} = {load};");
                    load = "x" + I(loaded++);
                }

                foreach (var (r, kh) in users)
                {
                    w.Line($"a{I(r)} = Fma({load}, w{I((kh * win.KernelW) + kc)}, a{I(r)});");
                }
            }
        }

        for (int r = 0; r < rows; r++)
        {
            long offset = ((long)r * k.Y.W) + o;
            w.Line(kw.Store(kw.Act(k.Activation, $"a{I(r)}"), offset == 0 ? "ref yc" : $"ref yc, {I(offset)}"));
        }
    }

    /// <summary>
    /// The depthwise half: the step's output rows, channel by channel; each channel's weights are broadcast once, then every
    /// vector of pixels sums its taps (unaligned loads along the padded input rows) and is stored into the channel's run of
    /// the row buffer.
    /// </summary>
    public static void EmitDepthwiseRow(KernelWriter kw, DepthwiseKernel k)
    {
        var w = kw.W;
        var win = k.Window;
        var x = k.X;
        var y = k.Y;
        w.Line();
        string what = k.PlanarRows == 1 ? "a whole row" : Count(k.PlanarRows, "whole row");
        w.Line($"/// <summary>{Count((long)k.PlanarRows * y.W, "output pixel")} of {Xml(k.LayerName)} ({what}), one channel at a time in vectors of {Count(kw.V, "pixel")}.</summary>");
        using (kw.Method(k.Tiles.Method, "ref float x, ref float w, ref float b, ref float y"))
        {
            kw.ActConstants(k.Activation);
            using (w.Block($"for (int c = 0; c < {I(y.C)}; c++)"))
            {
                w.Line($"ref float xc = ref At(ref x, c * {I(x.ChannelStride)});");
                w.Line("ref float wc = ref At(ref w, c);");
                w.Line($"ref float yc = ref At(ref y, c * {I(y.ChannelStride)});");
                w.Line("var bias = Broadcast(At(ref b, c));");
                for (int kh = 0; kh < win.KernelH; kh++)
                {
                    for (int kc = 0; kc < win.KernelW; kc++)
                    {
                        int tap = (kh * win.KernelW) + kc;
                        w.Line($"var w{I(tap)} = Broadcast({(tap == 0 ? "wc" : $"At(ref wc, {I((long)tap * y.Cp)})")}); // tap ({I(kh)}, {I(kc)})");
                    }
                }

                int rows = k.PlanarRows, stride = k.Window.StrideH;
                foreach (int o in k.PlanarVectors)
                {
                    w.Line($"// pixels {I(o)}-{I(o + kw.V - 1)}{(rows > 1 ? " of each row" : string.Empty)}");
                    using (w.Block())
                    {
                        Vector(kw, k, o, rows, stride);
                    }
                }
            }
        }
    }
}
