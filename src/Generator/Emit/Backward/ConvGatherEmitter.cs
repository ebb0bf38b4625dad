using System.Collections.Generic;
using System.Linq;
using CnnGen.Generator.Emit.Kernels;
using CnnGen.Generator.Planning.Kernels;
using static CnnGen.Generator.Emit.Backward.ConvBackwardEmitter;
using static CnnGen.Generator.Emit.Kernels.KernelWriter;
using static CnnGen.Generator.Model.Words;

namespace CnnGen.Generator.Emit.Backward;

/// <summary>
/// Writes a convolution's input gradient gathered over the filters (<see cref="ConvDataGatherKernel"/>): per input row,
/// the columns every kernel column reaches in tiles of pixels that share the weight loads (a loop over the kernel
/// columns), and the border columns in chunks at fixed columns, their kernel columns unrolled and only the taps that
/// reach an output pixel written out. Each pixel and channel has its own accumulator; its lanes are summed into dx.
/// </summary>
internal static class ConvGatherEmitter
{
    public static void Emit(KernelWriter kw, ConvDataGatherKernel k)
    {
        var w = kw.W;
        var win = k.Window;
        var dy = k.OutputGradient;
        var dx = k.InputGradient;
        int c = k.Channels, fv = k.FilterVectors, p = k.TilePixels;
        int first = k.InteriorFirst, end = first + (k.InteriorTiles * p);
        var left = Chunks(0, k.InteriorTiles > 0 ? first : dx.W, k.ChunkPixels);
        var right = k.InteriorTiles > 0 ? Chunks(end, dx.W, k.ChunkPixels) : new List<(int, int)>();
        kw.Doc(k.Title,
            $"dy: {dy.Describe()}; dx: {dx.Describe()}, its real pixels only.",
            $"Weights: the forward's [{Count(fv / k.TileVectors, "tile")}][{Count(win.Taps, "tap")}][{Count(c, "channel")}][{Count(k.TileFloats, "filter")}].",
            $"Per input pixel {Count(c, "accumulator")} (one per channel) over the taps that reach an output pixel, {Count(fv, "vector")} of filters each, then each accumulator's lanes summed into dx.",
            (k.InteriorTiles > 0 ? $"Columns {I(first)}-{I(end - 1)} see every kernel column: tiles of {Count(p, "pixel")}; " : string.Empty)
                + $"the {(k.InteriorTiles > 0 ? "border " : string.Empty)}columns in chunks of at most {Count(k.ChunkPixels, "pixel")} with their taps unrolled.");
        using (kw.Method(k.Method, $"ref float dy, ref float dx, {kw.Buffer} weight"))
        {
            kw.ArrayRef("w", "weight");
            using (w.Block($"for (int ih = 0; ih < {I(dx.H)}; ih++)"))
            {
                // Output row oh = ih + padTop - kh must lie in [0, dy.H).
                w.Line($"int khFirst = {Code.Math}.Max(0, {Shift("ih", win.PadTop - dy.H + 1)}), khEnd = {Code.Math}.Min({I(win.KernelH)}, {Shift("ih", win.PadTop + 1)});");
                foreach (var (from, to) in left)
                {
                    w.Line($"{ChunkMethod(k, from, to)}(ref dy, ref dx, ref w, ih, khFirst, khEnd);");
                }

                if (k.InteriorTiles > 0)
                {
                    using (w.Block($"for (int iw = {I(first)}; iw < {I(end)}; iw += {I(p)})"))
                    {
                        w.Line($"{k.Method}Tile{I(p)}(ref dy, ref dx, ref w, ih, iw, khFirst, khEnd);");
                    }
                }

                foreach (var (from, to) in right)
                {
                    w.Line($"{ChunkMethod(k, from, to)}(ref dy, ref dx, ref w, ih, khFirst, khEnd);");
                }
            }
        }

        if (k.InteriorTiles > 0)
        {
            w.Line();
            w.Line($"/// <summary>dx of {Xml(k.LayerName)} at input pixels (ih, iw) to (ih, iw + {I(p - 1)}), which every kernel column reaches: the taps in [khFirst, khEnd) x all columns.</summary>");
            using (kw.Method($"{k.Method}Tile{I(p)}", "ref float dy, ref float dx, ref float w, int ih, int iw, int khFirst, int khEnd"))
            {
                Accumulators(w, c, p);
                using (w.Block("for (int kh = khFirst; kh < khEnd; kh++)"))
                {
                    Rows(w, k, $"iw * {I(dy.Cp)}");
                    using (w.Block($"for (int kw = 0; kw < {I(win.KernelW)}; kw++)"))
                    {
                        w.Line($"ref float dyp = ref At(ref dyr, -kw * {I(dy.Cp)});");
                        w.Line($"ref float wk = ref At(ref wr, kw * {I((long)c * k.TileFloats)});");
                        Taps(kw, k, "wk", 0, p, Enumerable.Range(0, p).Select(px => (px, "dyp", (long)px * dy.Cp)).ToList());
                    }
                }

                Sums(w, k, "iw", 0, p);
            }
        }

        foreach (var (from, to) in left.Concat(right))
        {
            Chunk(kw, k, from, to);
        }
    }

    /// <summary>Columns [<paramref name="from"/>, <paramref name="to"/>) in as few chunks of at most <paramref name="most"/> as possible, as even as possible.</summary>
    private static List<(int From, int To)> Chunks(int from, int to, int most)
    {
        var chunks = new List<(int, int)>();
        int n = to - from;
        if (n <= 0)
        {
            return chunks;
        }

        int count = (n + most - 1) / most;
        for (int i = 0, at = from; i < count; i++)
        {
            int size = (n / count) + (i < n % count ? 1 : 0);
            chunks.Add((at, at + size));
            at += size;
        }

        return chunks;
    }

    private static string ChunkMethod(ConvDataGatherKernel k, int from, int to) =>
        to - from == 1 ? $"{k.Method}Column{I(from)}" : $"{k.Method}Columns{I(from)}To{I(to - 1)}";

    /// <summary>A chunk of border columns: the kernel columns unrolled, each with the chunk's pixels it reaches (an output pixel in range).</summary>
    private static void Chunk(KernelWriter kw, ConvDataGatherKernel k, int from, int to)
    {
        var w = kw.W;
        var win = k.Window;
        var dy = k.OutputGradient;
        int c = k.Channels, pixels = to - from;
        w.Line();
        string where = pixels == 1 ? $"input pixel (ih, {I(from)})" : $"input pixels (ih, {I(from)}) to (ih, {I(to - 1)})";
        w.Line($"/// <summary>dx of {Xml(k.LayerName)} at {where}: the taps in [khFirst, khEnd) x the kernel columns that reach an output pixel.</summary>");
        using (kw.Method(ChunkMethod(k, from, to), "ref float dy, ref float dx, ref float w, int ih, int khFirst, int khEnd"))
        {
            Accumulators(w, c, pixels);
            using (w.Block("for (int kh = khFirst; kh < khEnd; kh++)"))
            {
                Rows(w, k, null);
                for (int kc = 0; kc < win.KernelW; kc++)
                {
                    // Output column ow = iw + padLeft - kc.
                    var reached = Enumerable.Range(0, pixels)
                        .Select(px => (Pixel: px, Column: from + px + win.PadLeft - kc))
                        .Where(t => t.Column >= 0 && t.Column < dy.W)
                        .Select(t => (t.Pixel, "dyr", (long)t.Column * dy.Cp))
                        .ToList();
                    if (reached.Count == 0)
                    {
                        continue;
                    }

                    using (w.Block())
                    {
                        w.Line($"// kernel column {I(kc)}");
                        Taps(kw, k, "wr", (long)kc * c * k.TileFloats, pixels, reached);
                    }
                }
            }

            Sums(w, k, null, from, pixels);
        }
    }

    private static string A(int pixels, int px, int ch) => pixels == 1 ? $"a{I(ch)}" : $"a{I(px)}_{I(ch)}";

    private static void Accumulators(SourceWriter w, int channels, int pixels)
    {
        for (int px = 0; px < pixels; px++)
        {
            w.Line(string.Join(" ", Enumerable.Range(0, channels).Select(ch => $"var {A(pixels, px, ch)} = Zero;")));
        }
    }

    /// <summary>dy's output row for kernel row kh (<c>dyr</c>, at <paramref name="column"/> when given, else column 0) and the kernel row's weights (<c>wr</c>).</summary>
    private static void Rows(SourceWriter w, ConvDataGatherKernel k, string? column)
    {
        var win = k.Window;
        var dy = k.OutputGradient;
        long origin = dy.Origin + ((long)win.PadTop * dy.RowStride) + (column is null ? 0 : (long)win.PadLeft * dy.Cp);
        w.Line($"ref float dyr = ref At(ref dy, {Sum($"(ih - kh) * {I(dy.RowStride)}", column, I(origin))});");
        w.Line($"ref float wr = ref At(ref w, kh * {I((long)win.KernelW * k.Channels * k.TileFloats)});");
    }

    /// <summary>
    /// Whether a tile of <paramref name="pixels"/> loads its dy vectors first and each channel's weights as it goes
    /// (pixels + 1 live vectors besides the accumulators) rather than the channels' weights first and each pixel's dy as
    /// it goes (channels + 1): the fewer registers. <see cref="ConvDataGatherKernel"/>'s tile sizes assume the same.
    /// </summary>
    internal static bool DyFirst(int pixels, int channels) => pixels < channels;

    /// <summary>
    /// One tap's FMAs, per vector of filters: the channels' weights, then each pixel's dy vector times them, or the
    /// pixels' dy vectors, then each channel's weight times them (<see cref="DyFirst"/>); accumulators named for
    /// <paramref name="count"/> pixels.
    /// </summary>
    private static void Taps(KernelWriter kw, ConvDataGatherKernel k, string weights, long tapOffset, int count, List<(int Pixel, string Row, long Offset)> pixels)
    {
        var w = kw.W;
        int c = k.Channels, v = kw.V;
        long groupFloats = (long)k.Window.Taps * c * k.TileFloats;
        for (int j = 0; j < k.FilterVectors; j++)
        {
            using (k.FilterVectors > 1 ? w.Block() : default)
            {
                long at = tapOffset + ((long)(j / k.TileVectors) * groupFloats) + ((long)(j % k.TileVectors) * v);
                if (DyFirst(count, c))
                {
                    foreach (var (px, row, offset) in pixels)
                    {
                        w.Line($"var d{I(px)} = {kw.Load(row, Off(offset + ((long)j * v)))};");
                    }

                    for (int ch = 0; ch < c; ch++)
                    {
                        w.Line($"var w{I(ch)} = {kw.Load(weights, Off(at + ((long)ch * k.TileFloats)))};");
                        foreach (var (px, _, _) in pixels)
                        {
                            w.Line($"{A(count, px, ch)} = Fma(d{I(px)}, w{I(ch)}, {A(count, px, ch)});");
                        }
                    }

                    continue;
                }

                for (int ch = 0; ch < c; ch++)
                {
                    w.Line($"var w{I(ch)} = {kw.Load(weights, Off(at + ((long)ch * k.TileFloats)))};");
                }

                foreach (var (px, row, offset) in pixels)
                {
                    w.Line($"var d{I(px)} = {kw.Load(row, Off(offset + ((long)j * v)))};");
                    for (int ch = 0; ch < c; ch++)
                    {
                        w.Line($"{A(count, px, ch)} = Fma(d{I(px)}, w{I(ch)}, {A(count, px, ch)});");
                    }
                }
            }
        }
    }

    /// <summary>
    /// Each accumulator's lanes added into dx at (ih, column + pixel): a pixel's sums in one vector
    /// (<see cref="ConvDataGatherKernel.LaneSums"/>), else one by one.
    /// </summary>
    private static void Sums(SourceWriter w, ConvDataGatherKernel k, string? column, int first, int pixels)
    {
        var dx = k.InputGradient;
        w.Line($"ref float dxp = ref At(ref dx, {Sum($"ih * {I(dx.RowStride)}", column is null ? null : $"{column} * {I(dx.PixelStride)}", I(dx.Origin + ((long)first * dx.PixelStride)))});");
        if (k.LaneSums)
        {
            for (int px = 0; px < pixels; px++)
            {
                var sums = Enumerable.Range(0, 8).Select(ch => ch < k.Channels ? A(pixels, px, ch) : "Zero");
                string at = px == 0 ? string.Empty : ", " + Off((long)px * dx.PixelStride);
                w.Line($"Store(Load(ref dxp{at}) + {Code.Simd}.LaneSums({string.Join(", ", sums)}), ref dxp{at});");
            }

            return;
        }

        for (int px = 0; px < pixels; px++)
        {
            for (int ch = 0; ch < k.Channels; ch++)
            {
                w.Line($"{Element("dxp", (px * dx.PixelStride) + ((long)ch * dx.ChannelStride))} += {Code.Simd}.Sum({A(pixels, px, ch)});");
            }
        }
    }
}
