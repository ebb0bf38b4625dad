using System;
using System.Collections.Generic;
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
            $"Register tiles: {tiles}.",
            "Returns false when an output may be NaN or infinity: each tile checks the sum of the vectors it stores.");
        using (kw.Method(p.Method, $"ref float x, ref float row, ref float y, {kw.Buffer} depthwiseWeight, {kw.Buffer} depthwiseBias, {kw.Buffer} weight, {kw.Buffer} bias", returns: "bool"))
        {
            kw.ArrayRef("dw", "depthwiseWeight");
            kw.ArrayRef("db", "depthwiseBias");
            kw.ArrayRef("w", "weight");
            kw.ArrayRef("b", "bias");
            int rows = d.PlanarRows;
            var borders = d.PlanarBorderSteps().ToList();
            w.Line("bool finite = true;");
            using (w.Block(rows == 1 ? $"for (int oh = 0; oh < {I(y.H)}; oh++)" : $"for (int oh = 0; oh < {I(y.H)}; oh += {I(rows)})"))
            {
                w.Line((rows == 1
                    ? $"// {Xml(d.LayerName)}: output row oh into the row buffer, channel by channel"
                    : $"// {Xml(d.LayerName)}: output rows oh to oh + {I(rows - 1)} into the row buffer, channel by channel")
                    + (borders.Count > 0 ? " (a step whose window reaches into the zero border leaves out those rows' taps)" : string.Empty));
                DepthwiseCalls(kw, d, borders);
                w.Line();
                w.Line(rows == 1
                    ? $"// {Xml(p.LayerName)}: the row buffer into row oh of every output plane"
                    : $"// {Xml(p.LayerName)}: the row buffer (its rows one run of pixels per channel) into rows oh to oh + {I(rows - 1)} of every output plane");
                w.Line($"ref float yr = ref At(ref y, oh * {I(y.W)});");
                foreach (var (tile, start) in p.PixelTiles.SelectMany(t => t.Starts.Select(s => (t, s))).OrderBy(c => c.s))
                {
                    w.Line(start == 0
                        ? $"finite &= {tile.Method}(ref row, ref w, ref b, ref yr);"
                        : $"finite &= {tile.Method}(ref At(ref row, {I(start)}), ref w, ref b, ref At(ref yr, {I(start)}));");
                }
            }

            w.Line();
            w.Line("return finite;");
        }

        foreach (var tile in p.PixelTiles)
        {
            Tile(kw, p, tile);
        }
    }

    /// <summary>
    /// One tile shape: for each group of filters, accumulators start at the filters' biases; per input channel the pixel
    /// vectors are loaded once and each filter's weight broadcast once; then the activation, one store per vector, and the
    /// output check: NaN or infinity in any stored vector makes their sum NaN or infinity (so does a finite overflow of the
    /// sum: a false alarm the caller's rescan clears), and the tile returns false.
    /// </summary>
    private static void Tile(KernelWriter kw, ConvKernel p, PixelTile t)
    {
        var w = kw.W;
        int nv = t.Vectors.Count, nf = t.Filters, channels = p.X.C, filters = p.Filters;
        long plane = (long)p.Y.H * p.Y.W;
        w.Line();
        w.Line($"/// <summary>{Count(t.Pixels(kw.V), "output pixel")} of {Xml(p.LayerName)} ({Count(nv, "vector")}), all {Count(filters, "filter")}, {I(nf)} at a time.</summary>");
        using (kw.Method(t.Method, "ref float x, ref float w, ref float b, ref float y", returns: "bool"))
        {
            kw.ActConstants(p.Activation);
            w.Line("bool finite = true;");
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
                var stored = new List<string>();
                for (int j = 0; j < nf; j++)
                {
                    for (int q = 0; q < nv; q++)
                    {
                        long offset = (j * plane) + t.Vectors[q];
                        string a = $"a{I(j)}_{I(q)}";
                        if (p.Activation.Kind != Model.Activation.None)
                        {
                            w.Line($"{a} = {kw.Act(p.Activation, a)};");
                        }

                        w.Line(kw.Store(a, offset == 0 ? "ref yf" : $"ref yf, {I(offset)}"));
                        stored.Add(a);
                    }
                }

                w.Line("// NaN or infinity among the stored vectors makes their sum NaN or infinity (a finite sum's overflow: a false alarm Predict rescans).");
                w.Line($"finite &= AllFinite({Sum(stored)});");
            }

            w.Line();
            w.Line("return finite;");
        }
    }

    /// <summary>
    /// The depthwise call of a step: the row method reading whole input rows, or, for a step whose window reaches into the
    /// zero border above or below the input (which is read in place, so those rows do not exist), its own method that
    /// leaves their taps out, each given the step's first existing input row.
    /// </summary>
    private static void DepthwiseCalls(KernelWriter kw, DepthwiseKernel d, List<(int Row, int MissingTop, int MissingBottom)> borders)
    {
        var w = kw.W;
        var win = d.Window;
        long rowStride = d.X.RowStride;
        string Call(string method, string x) => $"{method}({x}, ref dw, ref db, ref row);";
        string Fixed(int oh) => Ref("x", I((long)Math.Max(0, (oh * win.StrideH) - win.PadTop) * rowStride));
        long scale = (long)win.StrideH * rowStride, origin = -(long)win.PadTop * rowStride;
        string middle = Call(d.Tiles.Method, Ref("x", origin < 0 ? $"{Lin("oh", scale, 0)} - {I(-origin)}" : Lin("oh", scale, origin)));
        if (borders.Count == 0)
        {
            w.Line(middle);
            return;
        }

        bool anyMiddle = HasMiddleSteps(d, borders);
        for (int i = 0; i < borders.Count; i++)
        {
            var (oh, top, bottom) = borders[i];
            bool last = i == borders.Count - 1 && !anyMiddle;
            using (w.Block(i == 0 ? $"if (oh == {I(oh)})" : last ? "else" : $"else if (oh == {I(oh)})"))
            {
                w.Line(Call(BorderMethod(d, top, bottom), Fixed(oh)));
            }
        }

        if (anyMiddle)
        {
            using (w.Block("else"))
            {
                w.Line(middle);
            }
        }
    }

    /// <summary>Whether some step reads whole input rows (not every step touches the border).</summary>
    private static bool HasMiddleSteps(DepthwiseKernel d, List<(int Row, int MissingTop, int MissingBottom)> borders) =>
        (long)borders.Count * d.PlanarRows < d.OutputHeight;

    /// <summary>The row method of a step missing <paramref name="top"/> input rows above the input and <paramref name="bottom"/> below it.</summary>
    private static string BorderMethod(DepthwiseKernel d, int top, int bottom) =>
        d.Tiles.Method + (top > 0 ? "Top" + I(top) : string.Empty) + (bottom > 0 ? "Bottom" + I(bottom) : string.Empty);

    /// <summary>The sum of <paramref name="terms"/> as a balanced tree of additions (short dependency chains).</summary>
    private static string Sum(IReadOnlyList<string> terms)
    {
        var level = terms.ToList();
        while (level.Count > 1)
        {
            level = Enumerable.Range(0, (level.Count + 1) / 2)
                .Select(i => 2 * i + 1 < level.Count ? (level.Count == 2 && terms.Count == 2 ? $"{level[2 * i]} + {level[(2 * i) + 1]}" : $"({level[2 * i]} + {level[(2 * i) + 1]})") : level[2 * i]).ToList();
        }

        string sum = level[0];
        return sum.StartsWith("(", System.StringComparison.Ordinal) && sum.EndsWith(")", System.StringComparison.Ordinal) && terms.Count > 1 ? sum.Substring(1, sum.Length - 2) : sum;
    }

    /// <summary>
    /// One vector of pixels of every output row of the step: an accumulator per row (<c>a0</c>, <c>a1</c>), each input
    /// vector loaded once and multiplied into every row whose window holds it, taps in order for each row. Input rows
    /// <paramref name="top"/> and more above the step's first existing one, and the last <paramref name="bottom"/>, are the zero
    /// border: their taps are left out. Along the row, a tap whose pixels start before the row (or end after it) loads the
    /// row's first (last) whole vector and shifts its lanes, the border's lanes zero (<c>Shuffle</c> with lane -1).
    /// </summary>
    private static void Vector(KernelWriter kw, DepthwiseKernel k, int o, int top, int bottom)
    {
        var w = kw.W;
        var win = k.Window;
        int rows = k.PlanarRows, stride = win.StrideH, v = kw.V, width = k.X.W;
        long rowStride = k.X.RowStride;
        w.Line(string.Join(" ", Enumerable.Range(0, rows).Select(r => $"var a{I(r)} = bias;")));
        int inputRows = k.PlanarInputRows, loaded = 0;
        for (int i = top; i < inputRows - bottom; i++)
        {
            var users = Enumerable.Range(0, rows)
                .Where(r => i - (r * stride) >= 0 && (i - (r * stride)) % win.DilationH == 0 && (i - (r * stride)) / win.DilationH < win.KernelH)
                .Select(r => (Row: r, Kh: (i - (r * stride)) / win.DilationH)).ToList();
            for (int kc = 0; kc < win.KernelW && users.Count > 0; kc++)
            {
                int start = o + (kc * win.DilationW) - win.PadLeft, from = Math.Min(Math.Max(start, 0), width - v), shift = start - from;
                if (Math.Abs(shift) >= v)
                {
                    continue; // every lane is the zero border
                }

                string load = kw.Load("xc", Off(((i - top) * rowStride) + from));
                if (shift != 0)
                {
                    load = $"Shuffle({load}, Lanes({string.Join(", ", Enumerable.Range(0, v).Select(l => I(l + shift >= 0 && l + shift < v ? l + shift : -1)))}))";
                }

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
        var borders = k.PlanarBorderSteps().ToList();
        if (HasMiddleSteps(k, borders))
        {
            EmitDepthwiseRow(kw, k, 0, 0);
        }

        foreach (var (top, bottom) in borders.Select(b => (b.MissingTop, b.MissingBottom)).Distinct())
        {
            EmitDepthwiseRow(kw, k, top, bottom);
        }
    }

    /// <summary>The row method of steps missing <paramref name="top"/> and <paramref name="bottom"/> input rows (0 and 0: whole rows).</summary>
    private static void EmitDepthwiseRow(KernelWriter kw, DepthwiseKernel k, int top, int bottom)
    {
        var w = kw.W;
        var win = k.Window;
        var x = k.X;
        var y = k.Y;
        w.Line();
        string what = k.PlanarRows == 1 ? "a whole row" : Count(k.PlanarRows, "whole row");
        string border = top > 0 && bottom > 0 ? $"; {Count(top, "input row")} above the input and {I(bottom)} below it are the zero border, their taps left out"
            : top > 0 ? $"; the {(top == 1 ? "input row" : Count(top, "input row"))} above the input {(top == 1 ? "is" : "are")} the zero border, {(top == 1 ? "its" : "their")} taps left out"
            : bottom > 0 ? $"; the {(bottom == 1 ? "input row" : Count(bottom, "input row"))} below the input {(bottom == 1 ? "is" : "are")} the zero border, {(bottom == 1 ? "its" : "their")} taps left out"
            : string.Empty;
        w.Line($"/// <summary>{Count((long)k.PlanarRows * y.W, "output pixel")} of {Xml(k.LayerName)} ({what}), one channel at a time in vectors of {Count(kw.V, "pixel")}{border}.</summary>");
        using (kw.Method(BorderMethod(k, top, bottom), "ref float x, ref float w, ref float b, ref float y"))
        {
            kw.ActConstants(k.Activation);
            using (w.Block($"for (int c = 0; c < {I(y.C)}; c++)"))
            {
                w.Line($"ref float xc = ref At(ref x, c * {I(x.ChannelStride)});");
                w.Line("ref float wc = ref At(ref w, c);");
                w.Line($"ref float yc = ref At(ref y, c * {I(y.ChannelStride)});");
                w.Line("var bias = Broadcast(At(ref b, c));");
                var used = Enumerable.Range(top, k.PlanarInputRows - top - bottom)
                    .SelectMany(i => Enumerable.Range(0, k.PlanarRows).Select(r => i - (r * win.StrideH)))
                    .Where(d => d >= 0 && d % win.DilationH == 0 && d / win.DilationH < win.KernelH).Select(d => d / win.DilationH).ToList();
                for (int kh = 0; kh < win.KernelH; kh++)
                {
                    for (int kc = 0; kc < win.KernelW && used.Contains(kh); kc++)
                    {
                        int tap = (kh * win.KernelW) + kc;
                        w.Line($"var w{I(tap)} = Broadcast({(tap == 0 ? "wc" : $"At(ref wc, {I((long)tap * y.Cp)})")}); // tap ({I(kh)}, {I(kc)})");
                    }
                }

                int rows = k.PlanarRows;
                foreach (int o in k.PlanarVectors)
                {
                    w.Line($"// pixels {I(o)}-{I(o + kw.V - 1)}{(rows > 1 ? " of each row" : string.Empty)}");
                    using (w.Block())
                    {
                        Vector(kw, k, o, top, bottom);
                    }
                }
            }
        }
    }
}
