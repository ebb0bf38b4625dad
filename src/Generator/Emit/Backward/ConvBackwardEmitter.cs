using System;
using System.Linq;
using CnnGen.Generator.Emit.Kernels;
using CnnGen.Generator.Planning;
using CnnGen.Generator.Planning.Kernels;
using static CnnGen.Generator.Emit.Kernels.KernelWriter;
using static CnnGen.Generator.Model.Words;

namespace CnnGen.Generator.Emit.Backward;

/// <summary>
/// Writes a convolution's backward kernels: the bias gradient (<see cref="ConvBiasKernel"/>), the weight gradient as a
/// register-tiled reduction over the output pixels (<see cref="ConvWeightsKernel"/>), the input gradient as a tap-wise
/// scatter (<see cref="ConvDataKernel"/>; the gather is <see cref="ConvGatherEmitter"/>), and a depthwise convolution's
/// (<see cref="DepthwiseBackwardKernel"/>).
/// </summary>
internal static class ConvBackwardEmitter
{
    /// <summary>The bias gradient's independent sums: an addition's latency (3-4 cycles) over one per cycle and more.</summary>
    private const int BiasSums = 4;

    public static void Emit(KernelWriter kw, ConvBiasKernel k)
    {
        var w = kw.W;
        var dy = k.OutputGradient;
        kw.Doc(k.Title, $"dy: {dy.Describe()}.");
        using (kw.Method(k.Method, $"ref float dy, {kw.Buffer} biasGradient"))
        {
            kw.ArrayRef("gb", "biasGradient");
            // Four sums over a row's pixels in turn, so the additions are not one dependent chain (latency-bound).
            int sums = Math.Min(BiasSums, dy.W), full = dy.W / sums * sums;
            using (w.Block($"for (int j = 0; j < {I(dy.Cp)}; j += {I(kw.V)})"))
            {
                w.Line(string.Join(" ", Enumerable.Range(0, sums).Select(i => $"var s{I(i)} = Zero;")));
                using (w.Block($"for (int h = 0; h < {I(dy.H)}; h++)"))
                {
                    w.Line($"ref float row = ref At(ref dy, {Lin("h", dy.RowStride, dy.Origin)});");
                    using (w.BlockIf(full > sums, $"for (int p = 0; p < {I(full)}; p += {I(sums)})"))
                    {
                        for (int i = 0; i < sums; i++)
                        {
                            w.Line(full > sums
                                ? $"s{I(i)} += Load(ref row, (nuint)(({(i == 0 ? "p" : $"(p + {I(i)})")} * {I(dy.Cp)}) + j));"
                                : $"s{I(i)} += Load(ref row, (nuint){I((long)i * dy.Cp)} + (nuint)j);");
                        }
                    }

                    for (int p = full; p < dy.W; p++)
                    {
                        w.Line($"s{I(p - full)} += Load(ref row, (nuint){I((long)p * dy.Cp)} + (nuint)j);");
                    }
                }

                string sum = sums switch
                {
                    1 => "s0",
                    2 => "s0 + s1",
                    3 => "(s0 + s1) + s2",
                    _ => "(s0 + s1) + (s2 + s3)",
                };
                w.Line(kw.Store($"Load(ref gb, (nuint)j) + ({sum})", "ref gb, (nuint)j"));
            }
        }
    }

    public static void Emit(KernelWriter kw, ConvWeightsKernel k)
    {
        var w = kw.W;
        var win = k.Window;
        var x = k.X;
        int c = k.Channels, tbv = k.TileFloats;
        kw.Doc(k.Title,
            $"Input: {x.Describe()}; dy: {k.OutputGradient.Describe()}.",
            $"Kernel {I(win.KernelH)}x{I(win.KernelW)}, stride {I(win.StrideH)}x{I(win.StrideW)}, dilation {I(win.DilationH)}x{I(win.DilationW)}, padding {I(win.PadTop)}/{I(win.PadLeft)}/{I(win.PadBottom)}/{I(win.PadRight)} read from the input's zero border.",
            $"Gradient: [{Count(k.TileGroups, "tile")}][{Count(win.Taps, "tap")}][{Count(c, "channel")}][{Count(tbv, "filter")}], the weights' packed layout.",
            $"Register tile: {TapsText(k.TapRows, k.TapColumns)} x {Count(k.ChannelBlock, "channel")} x {Count(k.TileVectors, "vector")} of filters, reduced over every output pixel, then added once.");
        using (kw.Method(k.Method, $"ref float x, ref float dy, {kw.Buffer} weightGradient"))
        {
            kw.ArrayRef("gw", "weightGradient");
            bool tiled = k.TileGroups > 1;
            using (w.BlockIf(tiled, $"for (int t = 0; t < {I(k.TileGroups)}; t++)"))
            {
                w.Line(tiled ? $"ref float dyt = ref At(ref dy, t * {I(tbv)});" : "ref float dyt = ref dy;");
                Blocks(w, "kh", win.KernelH, k.TapRows, k.LastTapRows, (kh, rows) =>
                Blocks(w, "kc", win.KernelW, k.TapColumns, k.LastTapColumns, (kc, columns) =>
                {
                    string xAt = Sum(I(k.XOrigin), Term(kh, (long)win.DilationH * x.RowStride), Term(kc, (long)win.DilationW * x.PixelStride));
                    long tapFloats = (long)c * tbv;
                    string gAt = Sum(tiled ? Term("t", win.Taps * tapFloats) : null, Term(kh, win.KernelW * tapFloats), Term(kc, tapFloats));
                    w.Line($"ref float xt = {Ref("x", xAt)};");
                    w.Line($"ref float gt = {Ref("gw", gAt)};");
                    if (k.FullBlocks > 0)
                    {
                        using (w.BlockIf(k.FullBlocks > 1, $"for (int c0 = 0; c0 < {I(k.FullBlocks * k.ChannelBlock)}; c0 += {I(k.ChannelBlock)})"))
                        {
                            string xc = k.FullBlocks > 1 ? Lin("c0", x.ChannelStride, 0) : "0", gc = k.FullBlocks > 1 ? Lin("c0", tbv, 0) : "0";
                            w.Line($"{WeightsTile(k, rows, columns, k.ChannelBlock)}({Ref("xt", xc)}, ref dyt, {Ref("gt", gc)});");
                        }
                    }

                    if (k.LastChannelBlock > 0)
                    {
                        long c0 = (long)k.FullBlocks * k.ChannelBlock;
                        w.Line($"{WeightsTile(k, rows, columns, k.LastChannelBlock)}({Ref("xt", I(c0 * x.ChannelStride))}, ref dyt, {Ref("gt", I(c0 * tbv))});");
                    }
                }));
            }
        }

        foreach (int rows in Sizes(k.TapRows, k.LastTapRows, win.KernelH))
        {
            foreach (int columns in Sizes(k.TapColumns, k.LastTapColumns, win.KernelW))
            {
                foreach (int channels in Sizes(k.ChannelBlock, k.LastChannelBlock, c))
                {
                    WeightsTile(kw, k, rows, columns, channels);
                }
            }
        }
    }

    private static string TapsText(int rows, int columns) => rows * columns == 1 ? "1 tap" : $"{I(rows)}x{I(columns)} taps";

    /// <summary>The block sizes of a length cut into blocks of <paramref name="size"/> and a last one of <paramref name="last"/> (0: none).</summary>
    private static int[] Sizes(int size, int last, int length) =>
        length >= size ? (last > 0 ? new[] { size, last } : new[] { size }) : new[] { last };

    /// <summary>
    /// Blocks of <paramref name="size"/> over <paramref name="length"/> (a loop over <paramref name="name"/> when there
    /// are several), then the last block of <paramref name="last"/>; the body gets the block's start (the variable or a
    /// number) and its size.
    /// </summary>
    private static void Blocks(SourceWriter w, string name, int length, int size, int last, System.Action<string, int> body)
    {
        int full = length / size;
        if (full == 1)
        {
            using (last > 0 ? w.Block() : default)
            {
                body("0", size);
            }
        }
        else if (full > 1)
        {
            using (w.Block(size == 1 ? $"for (int {name} = 0; {name} < {I(full)}; {name}++)" : $"for (int {name} = 0; {name} < {I(full * size)}; {name} += {I(size)})"))
            {
                body(name, size);
            }
        }

        if (last > 0)
        {
            using (w.Block())
            {
                body(I(length - last), last);
            }
        }
    }

    /// <summary><c>start * scale</c>: folded when the start is a number, <c>null</c> when it is zero.</summary>
    private static string? Term(string start, long scale)
    {
        if (long.TryParse(start, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out long n))
        {
            return n * scale == 0 ? null : I(n * scale);
        }

        return scale == 1 ? start : $"{start} * {I(scale)}";
    }

    /// <summary>A sum of terms, numbers folded into one, "0" when nothing is left.</summary>
    internal static string Sum(params string?[] terms)
    {
        long constant = 0;
        var parts = new System.Collections.Generic.List<string>();
        foreach (var t in terms)
        {
            if (t is null)
            {
                continue;
            }

            if (long.TryParse(t, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out long n))
            {
                constant += n;
            }
            else
            {
                parts.Add(t);
            }
        }

        if (constant != 0 || parts.Count == 0)
        {
            parts.Add(I(constant));
        }

        return parts.Count == 1 ? parts[0] : string.Join(" + ", parts.Select(p => p.Contains(" ") ? $"({p})" : p));
    }

    /// <summary><c>name + constant</c> with the constant's sign written as an operator (<c>ih - 9</c>, <c>ih</c>).</summary>
    internal static string Shift(string name, long constant) => constant switch
    {
        0 => name,
        < 0 => $"{name} - {I(-constant)}",
        _ => $"{name} + {I(constant)}",
    };

    private static string WeightsTile(ConvWeightsKernel k, int rows, int columns, int channels) =>
        $"{k.Method}Taps{I(rows)}x{I(columns)}Channels{I(channels)}";

    private static void WeightsTile(KernelWriter kw, ConvWeightsKernel k, int tapRows, int tapColumns, int channels)
    {
        var w = kw.W;
        var x = k.X;
        var dy = k.OutputGradient;
        var win = k.Window;
        int tbv = k.TileFloats, taps = tapRows * tapColumns;
        w.Line();
        w.Line($"/// <summary>d weight of {Xml(k.LayerName)} at {TapsText(tapRows, tapColumns)} for {Count(channels, "channel")} x {Count(tbv, "filter")}, summed over the output pixels (one accumulator per tap, channel and vector).</summary>");
        using (kw.Method(WeightsTile(k, tapRows, tapColumns, channels), "ref float x, ref float dy, ref float gw"))
        {
            // Row r of the tile: tap r / channels (row-major in the block), channel r % channels.
            long XAt(int r) => ((long)(r / channels / tapColumns) * win.DilationH * x.RowStride) + ((long)(r / channels % tapColumns) * win.DilationW * x.PixelStride) + ((long)(r % channels) * x.ChannelStride);
            long GAt(int r, int j) => ((((long)(r / channels / tapColumns) * win.KernelW) + (r / channels % tapColumns)) * k.Channels * tbv) + ((long)(r % channels) * tbv) + ((long)j * kw.V);
            if (PixelPairs(k, tapColumns))
            {
                PairTile(kw, k, tapRows, tapColumns, channels, XAt, GAt);
                return;
            }

            kw.GradientTile(taps * channels, k.TileVectors, body => OutputRows(w, k, () =>
            {
                using (w.Block($"for (int ow = 0; ow < {I(dy.W)}; ow++)"))
                {
                    PixelRefs(w, k, "ow");
                    body();
                }
            }), "dyp", r => Element("xp", XAt(r)), "gw", GAt);
        }
    }

    /// <summary>
    /// Whether a weight-gradient tile takes two output pixels per step: one vector of filters (each broadcast of x feeds a
    /// single multiply-add, so the broadcasts bound the tile: LeNet's conv1, 11 loads per 10 multiply-adds) and stride and
    /// dilation 1 along the width, where tap column <c>c + 1</c> of pixel <c>ow</c> reads the x that column <c>c</c> of
    /// pixel <c>ow + 1</c> does.
    /// </summary>
    private static bool PixelPairs(ConvWeightsKernel k, int tapColumns) =>
        k.TileVectors == 1 && tapColumns >= 2 && k.Window.StrideW == 1 && k.Window.DilationW == 1 && k.OutputGradient.W >= 2;

    /// <summary>
    /// The weight-gradient tile over pixel pairs (<see cref="PixelPairs"/>): per kernel row and channel of the tile,
    /// columns + 1 broadcasts of x serve both pixels' taps; each accumulator adds pixel <c>ow</c>, then <c>ow + 1</c>, the
    /// order of the one-pixel tile (an odd last pixel runs alone), so the gradients are the same bits; except in a tile of
    /// few accumulators (<see cref="ConvWeightsKernel.PairSecondSetUpTo"/>), where the second pixel adds into a second set
    /// (<c>b</c>) and the two sums meet at the end (float32 rounding differs from the one-pixel order there).
    /// </summary>
    private static void PairTile(KernelWriter kw, ConvWeightsKernel k, int tapRows, int tapColumns, int channels, Func<int, long> xAt, Func<int, int, long> gAt)
    {
        var w = kw.W;
        var dy = k.OutputGradient;
        int rows = tapRows * tapColumns * channels;
        long column = k.XPixelStep; // stride 1: one pixel of x, the next tap column
        bool second = rows <= k.PairSecondSetUpTo; // the pair's second pixel into accumulators of its own
        kw.Accumulators(Enumerable.Range(0, rows).Select(r => $"a{I(r)}_").Concat(Enumerable.Range(0, second ? rows : 0).Select(r => $"b{I(r)}_")), 1, _ => "Zero");

        // r = (tap row, tap column, channel) in the block, row-major: the accumulator of x at column offset c of a tap row.
        int Row(int tr, int tc, int ch) => (((tr * tapColumns) + tc) * channels) + ch;
        void Pixels(int count)
        {
            w.Line($"var d0 = {kw.Load("dyp", "0")};");
            if (count == 2)
            {
                w.Line($"var d1 = {kw.Load("dyp", Off(dy.Cp))};");
            }

            int n = 0;
            for (int tr = 0; tr < tapRows; tr++)
            {
                for (int ch = 0; ch < channels; ch++)
                {
                    for (int c = 0; c < tapColumns + count - 1; c++, n++)
                    {
                        w.Line($"var x{I(n)} = Broadcast({Element("xp", xAt(Row(tr, 0, ch)) + (c * column))});");
                        for (int p = 0; p < count; p++)
                        {
                            int tc = c - p; // pixel ow + p reads x at column offset c through tap column c - p
                            if (tc >= 0 && tc < tapColumns)
                            {
                                string a = $"{(second && p == 1 ? "b" : "a")}{I(Row(tr, tc, ch))}_0";
                                w.Line($"{a} = Fma(x{I(n)}, d{I(p)}, {a});");
                            }
                        }
                    }
                }
            }
        }

        OutputRows(w, k, () =>
        {
            using (w.Block($"for (int ow = 0; ow < {I(dy.W / 2 * 2)}; ow += 2)"))
            {
                PixelRefs(w, k, "ow");
                Pixels(2);
            }

            if (dy.W % 2 != 0)
            {
                using (w.Block())
                {
                    w.Line("// the row's last pixel alone");
                    PixelRefs(w, k, I(dy.W - 1));
                    Pixels(1);
                }
            }
        });

        w.Line();
        for (int r = 0; r < rows; r++)
        {
            string at = Off(gAt(r, 0));
            w.Line(kw.Store($"{kw.Load("gw", at)} + {(second ? $"(a{I(r)}_0 + b{I(r)}_0)" : $"a{I(r)}_0")}", $"ref gw, {at}"));
        }
    }

    /// <summary>The weight gradient's loop over output rows, pointing <c>xr</c> and <c>dyr</c> at the row.</summary>
    private static void OutputRows(SourceWriter w, ConvWeightsKernel k, Action pixels)
    {
        var dy = k.OutputGradient;
        using (w.Block($"for (int oh = 0; oh < {I(dy.H)}; oh++)"))
        {
            w.Line($"ref float xr = {Ref("x", Lin("oh", k.XRowStep, 0))};");
            w.Line($"ref float dyr = {Ref("dy", Lin("oh", dy.RowStride, dy.Origin))};");
            pixels();
        }
    }

    /// <summary><c>xp</c> and <c>dyp</c> at output pixel <paramref name="ow"/> of the row (a variable or a number).</summary>
    private static void PixelRefs(SourceWriter w, ConvWeightsKernel k, string ow)
    {
        w.Line($"ref float xp = {Ref("xr", Term(ow, k.XPixelStep) ?? "0")};");
        w.Line($"ref float dyp = {Ref("dyr", Term(ow, k.OutputGradient.Cp) ?? "0")};");
    }

    public static void Emit(KernelWriter kw, ConvDataKernel k)
    {
        var w = kw.W;
        var win = k.Window;
        var dy = k.OutputGradient;
        var dx = k.InputGradient;
        var tiles = k.Tiles;
        kw.Doc(k.Title,
            $"dy: {dy.Describe()}; dx: {dx.Describe()} (taps in the padding land in the border and are ignored).",
            $"Transposed weights: [{Count(win.Taps, "tap")}][{Count(k.Filters, "filter")}][{Count(dx.Cp, "channel")}].",
            $"Register tile: {Count(tiles.Pixels, "pixel")} x {Count(k.ChannelVectors, "vector")} of input channels per tap" + (k.TapPairs ? " pair (two kernel columns share the dy broadcasts: one more pixel of accumulators)" : string.Empty) + $"; {Count(tiles.Full, "tile")} per row" + (tiles.Last > 0 ? $" and a last tile of {Count(tiles.Last, "pixel")}." : "."));
        using (kw.Method(k.Method, $"ref float dy, ref float dx, {kw.Buffer} transposed"))
        {
            kw.ArrayRef("wt", "transposed");
            using (w.Block($"for (int oh = 0; oh < {I(dy.H)}; oh++)"))
            {
                w.Line($"ref float xr = ref At(ref dy, {Lin("oh", dy.RowStride, dy.Origin)});");
                w.Line($"ref float yr = ref At(ref dx, {Lin("oh", k.DxRowStep, k.DxOrigin)});");
                if (tiles.Full == 1)
                {
                    w.Line($"{tiles.Method}(ref xr, ref yr, ref wt);");
                }
                else if (tiles.Full > 1)
                {
                    using (w.Block($"for (int tile = 0; tile < {I(tiles.Full)}; tile++)"))
                    {
                        w.Line($"{tiles.Method}({Ref("xr", $"tile * {I(tiles.XStep)}")}, {Ref("yr", $"tile * {I(tiles.YStep)}")}, ref wt);");
                    }
                }

                if (tiles.LastMethod is not null)
                {
                    w.Line($"{tiles.LastMethod}({Ref("xr", I(tiles.XStep * tiles.Full))}, {Ref("yr", I(tiles.YStep * tiles.Full))}, ref wt);");
                }
            }
        }

        DataTile(kw, k, tiles.Pixels, tiles.Method);
        if (tiles.LastMethod is not null)
        {
            DataTile(kw, k, tiles.Last, tiles.LastMethod);
        }
    }

    private static void DataTile(KernelWriter kw, ConvDataKernel k, int pixels, string method)
    {
        var w = kw.W;
        var win = k.Window;
        var dy = k.OutputGradient;
        var dx = k.InputGradient;
        int cv = k.ChannelVectors, v = kw.V;
        w.Line();
        w.Line($"/// <summary>dx of {Xml(k.LayerName)} from {Count(pixels, "output pixel")}: per tap, the filters' sum added at the tap's pixels.</summary>");
        using (kw.Method(method, "ref float dy, ref float dx, ref float wt"))
        using (w.BlockIf(k.ChannelGroups > 1, $"for (int g = 0; g < {I(k.ChannelGroups)}; g++)"))
        {
            bool grouped = k.ChannelGroups > 1;
            w.Line(grouped ? $"ref float wg = ref At(ref wt, g * {I(cv * v)});" : "ref float wg = ref wt;");
            w.Line(grouped ? $"ref float dxg = ref At(ref dx, g * {I(cv * v)});" : "ref float dxg = ref dx;");
            using (w.Block($"for (int kh = 0; kh < {I(win.KernelH)}; kh++)"))
            {
                if (!k.TapPairs)
                {
                    using (w.Block($"for (int kc = 0; kc < {I(win.KernelW)}; kc++)"))
                    {
                        DataTaps(kw, k, pixels, "kc", 1);
                    }
                }
                else
                {
                    int pairs = win.KernelW / 2;
                    using (pairs > 1 ? w.Block($"for (int kc = 0; kc < {I(pairs * 2)}; kc += 2)") : w.Block())
                    {
                        DataTaps(kw, k, pixels, pairs > 1 ? "kc" : "0", 2);
                    }

                    if (win.KernelW % 2 != 0)
                    {
                        using (w.Block())
                        {
                            w.Line($"// the last kernel column alone");
                            DataTaps(kw, k, pixels, I(win.KernelW - 1), 1);
                        }
                    }
                }
            }
        }
    }

    /// <summary>
    /// One tile's pass over kernel row <c>kh</c> at <paramref name="taps"/> neighbouring kernel columns from
    /// <paramref name="kc"/> (1, or 2 with <see cref="ConvDataKernel.TapPairs"/>: tap <c>t</c> of pixel <c>p</c> goes to
    /// accumulator <c>p + t</c>, the input pixel it lands on): every filter's dy broadcast times the taps' transposed weights.
    /// </summary>
    private static void DataTaps(KernelWriter kw, ConvDataKernel k, int pixels, string kc, int taps)
    {
        var w = kw.W;
        var win = k.Window;
        var dy = k.OutputGradient;
        var dx = k.InputGradient;
        int cv = k.ChannelVectors, v = kw.V, cells = pixels + taps - 1;
        string column = kc == "0" ? string.Empty : $" + ({kc} * {I((long)win.DilationW * dx.PixelStride)})";
        string tap = kc == "0" ? "kh * " + I(win.KernelW) : $"(kh * {I(win.KernelW)}) + {kc}";
        w.Line($"ref float wk = ref At(ref wg, ({tap}) * {I((long)k.Filters * dx.Cp)});");
        w.Line($"ref float dxk = ref At(ref dxg, (kh * {I((long)win.DilationH * dx.RowStride)}){column});");
        kw.Accumulators(Enumerable.Range(0, cells).Select(p => $"a{I(p)}_"), cv, _ => $"Zero");
        using (w.Block($"for (int o = 0; o < {I(k.Filters)}; o++)"))
        {
            w.Line($"ref float wo = ref At(ref wk, o * {I(dx.Cp)});");
            for (int t = 0; t < taps; t++)
            {
                for (int j = 0; j < cv; j++)
                {
                    long at = ((long)t * k.Filters * dx.Cp) + (j * v);
                    w.Line($"var w{(taps > 1 ? I(t) + "_" : string.Empty)}{I(j)} = {kw.Load("wo", Off(at))};");
                }
            }

            for (int p = 0; p < pixels; p++)
            {
                string dv = p == 0 ? "o" : $"o + {I(p * dy.Cp)}";
                w.Line($"var d{I(p)} = Broadcast(At(ref dy, {dv}));");
                for (int t = 0; t < taps; t++)
                {
                    for (int j = 0; j < cv; j++)
                    {
                        string a = $"a{I(p + t)}_{I(j)}", wv = $"w{(taps > 1 ? I(t) + "_" : string.Empty)}{I(j)}";
                        w.Line($"{a} = Fma(d{I(p)}, {wv}, {a});");
                    }
                }
            }
        }

        for (int p = 0; p < cells; p++)
        {
            for (int j = 0; j < cv; j++)
            {
                long at = (p * k.DxPixelStep) + (j * v);
                w.Line(kw.Store($"{kw.Load("dxk", Off(at))} + a{I(p)}_{I(j)}", $"ref dxk, {I(at)}"));
            }
        }
    }

    public static void Emit(KernelWriter kw, DepthwiseBackwardKernel k)
    {
        var w = kw.W;
        var win = k.Window;
        var x = k.X;
        var dy = k.OutputGradient;
        int cp = dy.Cp, v = kw.V;
        kw.Doc(k.Title,
            $"Input: {x.Describe()}; dy: {dy.Describe()}.",
            $"Depthwise {I(win.KernelH)}x{I(win.KernelW)}, stride {I(win.StrideH)}x{I(win.StrideW)}, dilation {I(win.DilationH)}x{I(win.DilationW)}; vectors run over channels.",
            $"Register tile: {Count(k.TapBlock, "tap")} (one accumulator each) x 1 vector of channels, reduced over the pixels.");
        string bias = k.Bias ? $", {kw.Buffer} biasGradient" : string.Empty;
        using (kw.Method(k.Method, $"ref float x, ref float dy, {kw.Buffer} weightGradient{bias}"))
        {
            kw.ArrayRef("gw", "weightGradient");
            if (k.Bias)
            {
                kw.ArrayRef("gb", "biasGradient");
            }

            using (w.Block($"for (int c = 0; c < {I(cp)}; c += {I(v)})"))
            {
                for (int first = 0; first < win.Taps; first += k.TapBlock)
                {
                    int count = System.Math.Min(k.TapBlock, win.Taps - first);
                    bool withBias = k.Bias && first == 0;
                    using (w.Block())
                    {
                        w.Line($"// taps {I(first)}-{I(first + count - 1)}" + (withBias ? " and the bias" : string.Empty));
                        kw.Accumulators(new[] { "a" }, count, _ => $"Zero");
                        if (withBias)
                        {
                            w.Line($"var sum = Zero;");
                        }

                        using (w.Block($"for (int oh = 0; oh < {I(dy.H)}; oh++)"))
                        using (w.Block($"for (int ow = 0; ow < {I(dy.W)}; ow++)"))
                        {
                            w.Line($"var d = Load(ref dy, (nuint)({Lin("oh", dy.RowStride, dy.Origin)} + (ow * {I(cp)}) + c));");
                            w.Line($"ref float xp = ref At(ref x, {Lin("oh", k.XRowStep, k.XOrigin)} + (ow * {I(k.XPixelStep)}) + c);");
                            for (int t = first; t < first + count; t++)
                            {
                                long off = ((long)(t / win.KernelW) * win.DilationH * x.RowStride) + ((long)(t % win.KernelW) * win.DilationW * x.PixelStride);
                                w.Line($"a{I(t - first)} = Fma({kw.Load("xp", Off(off))}, d, a{I(t - first)});");
                            }

                            if (withBias)
                            {
                                w.Line("sum += d;");
                            }
                        }

                        for (int t = first; t < first + count; t++)
                        {
                            string at = Lin("c", 1, (long)t * cp);
                            w.Line(kw.Store($"Load(ref gw, (nuint)({at})) + a{I(t - first)}", $"ref gw, (nuint)({at})"));
                        }

                        if (withBias)
                        {
                            w.Line(kw.Store($"Load(ref gb, (nuint)c) + sum", "ref gb, (nuint)c"));
                        }
                    }
                }
            }
        }

        if (k.DataMethod is null || k.InputGradient is not { } dx)
        {
            return;
        }

        w.Line();
        w.Line($"/// <summary>dx of {Xml(k.LayerName)}: each tap's weight times dy, added at the tap's pixels (vectors over channels).</summary>");
        using (kw.Method(k.DataMethod, $"ref float dy, ref float dx, {kw.Buffer} weight"))
        {
            kw.ArrayRef("w", "weight");
            using (w.Block($"for (int c = 0; c < {I(cp)}; c += {I(v)})"))
            using (w.Block($"for (int oh = 0; oh < {I(dy.H)}; oh++)"))
            using (w.Block($"for (int ow = 0; ow < {I(dy.W)}; ow++)"))
            {
                w.Line($"var d = Load(ref dy, (nuint)({Lin("oh", dy.RowStride, dy.Origin)} + (ow * {I(cp)}) + c));");
                w.Line($"ref float dxp = ref At(ref dx, {Lin("oh", k.DxRowStep, k.DxOrigin)} + (ow * {I(k.DxPixelStep)}) + c);");
                for (int t = 0; t < win.Taps; t++)
                {
                    long off = ((long)(t / win.KernelW) * win.DilationH * dx.RowStride) + ((long)(t % win.KernelW) * win.DilationW * dx.PixelStride);
                    w.Line(kw.Store($"Fma(Load(ref w, (nuint)({Lin("c", 1, (long)t * cp)})), d, {kw.Load("dxp", Off(off))})", $"ref dxp, {I(off)}"));
                }
            }
        }
    }
}
