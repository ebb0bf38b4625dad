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
/// scatter (<see cref="ConvDataKernel"/>), and a depthwise convolution's (<see cref="DepthwiseBackwardKernel"/>).
/// </summary>
internal static class ConvBackwardEmitter
{
    public static void Emit(KernelWriter kw, ConvBiasKernel k)
    {
        var w = kw.W;
        var dy = k.OutputGradient;
        kw.Doc(k.Title, $"dy: {dy.Describe()}.");
        using (kw.Method(k.Method, "ref float dy, float[] biasGradient"))
        {
            kw.ArrayRef("gb", "biasGradient");
            using (w.Block($"for (int j = 0; j < {I(dy.Cp)}; j += {I(kw.V)})"))
            {
                w.Line($"var sum = {kw.Vt}.Zero;");
                using (w.Block($"for (int h = 0; h < {I(dy.H)}; h++)"))
                {
                    w.Line($"ref float row = ref {Code.Unsafe}.Add(ref dy, {Lin("h", dy.RowStride, dy.Origin)});");
                    using (w.Block($"for (int p = 0; p < {I(dy.W)}; p++)"))
                    {
                        w.Line($"sum += {kw.Vs}.LoadUnsafe(ref row, (nuint)((p * {I(dy.Cp)}) + j));");
                    }
                }

                w.Line(kw.Store($"{kw.Vs}.LoadUnsafe(ref gb, (nuint)j) + sum", "ref gb, (nuint)j"));
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
            $"Register tile: {Count(k.ChannelBlock, "channel")} x {Count(k.TileVectors, "vector")} of filters, reduced over every output pixel, then added once.");
        using (kw.Method(k.Method, "ref float x, ref float dy, float[] weightGradient"))
        {
            kw.ArrayRef("gw", "weightGradient");
            using (w.BlockIf(k.TileGroups > 1, $"for (int t = 0; t < {I(k.TileGroups)}; t++)"))
            using (w.Block($"for (int kh = 0; kh < {I(win.KernelH)}; kh++)"))
            using (w.Block($"for (int kc = 0; kc < {I(win.KernelW)}; kc++)"))
            {
                bool tiled = k.TileGroups > 1;
                w.Line($"ref float xt = ref {Code.Unsafe}.Add(ref x, {I(k.XOrigin)} + (kh * {I((long)win.DilationH * x.RowStride)}) + (kc * {I((long)win.DilationW * x.PixelStride)}));");
                w.Line(tiled ? $"ref float dyt = ref {Code.Unsafe}.Add(ref dy, t * {I(tbv)});" : "ref float dyt = ref dy;");
                string tap = tiled ? $"(t * {I(win.Taps)}) + (kh * {I(win.KernelW)}) + kc" : $"(kh * {I(win.KernelW)}) + kc";
                w.Line($"ref float gt = ref {Code.Unsafe}.Add(ref gw, ({tap}) * {I((long)c * tbv)});");
                if (k.FullBlocks > 0)
                {
                    using (w.BlockIf(k.FullBlocks > 1, $"for (int c0 = 0; c0 < {I(k.FullBlocks * k.ChannelBlock)}; c0 += {I(k.ChannelBlock)})"))
                    {
                        string xAt = k.FullBlocks > 1 ? Lin("c0", x.ChannelStride, 0) : "0", gAt = k.FullBlocks > 1 ? Lin("c0", tbv, 0) : "0";
                        w.Line($"{WeightsTile(k, k.ChannelBlock)}({Ref("xt", xAt)}, ref dyt, {Ref("gt", gAt)});");
                    }
                }

                if (k.LastChannelBlock > 0)
                {
                    long c0 = (long)k.FullBlocks * k.ChannelBlock;
                    w.Line($"{WeightsTile(k, k.LastChannelBlock)}({Ref("xt", I(c0 * x.ChannelStride))}, ref dyt, {Ref("gt", I(c0 * tbv))});");
                }
            }
        }

        if (k.FullBlocks > 0)
        {
            WeightsTile(kw, k, k.ChannelBlock);
        }

        if (k.LastChannelBlock > 0)
        {
            WeightsTile(kw, k, k.LastChannelBlock);
        }
    }

    private static string WeightsTile(ConvWeightsKernel k, int channels) => k.Method + "Tile" + I(channels);

    private static void WeightsTile(KernelWriter kw, ConvWeightsKernel k, int channels)
    {
        var w = kw.W;
        var x = k.X;
        var dy = k.OutputGradient;
        int tb = k.TileVectors, v = kw.V, tbv = k.TileFloats;
        w.Line();
        w.Line($"/// <summary>d weight of {Xml(k.LayerName)} at one tap for {Count(channels, "channel")} x {Count(tbv, "filter")}, summed over the output pixels.</summary>");
        using (kw.Method(WeightsTile(k, channels), "ref float x, ref float dy, ref float gw"))
        {
            kw.Accumulators(Enumerable.Range(0, channels).Select(ch => $"a{I(ch)}_"), tb, _ => $"{kw.Vt}.Zero");
            using (w.Block($"for (int oh = 0; oh < {I(dy.H)}; oh++)"))
            {
                w.Line($"ref float xr = ref {Code.Unsafe}.Add(ref x, oh * {I(k.XRowStep)});");
                w.Line($"ref float dyr = ref {Code.Unsafe}.Add(ref dy, {Lin("oh", dy.RowStride, dy.Origin)});");
                using (w.Block($"for (int ow = 0; ow < {I(dy.W)}; ow++)"))
                {
                    w.Line($"ref float xp = ref {Code.Unsafe}.Add(ref xr, ow * {I(k.XPixelStep)});");
                    w.Line($"ref float dyp = ref {Code.Unsafe}.Add(ref dyr, ow * {I(dy.Cp)});");
                    for (int j = 0; j < tb; j++)
                    {
                        w.Line($"var d{I(j)} = {kw.Load("dyp", Off(j * v))};");
                    }

                    for (int ch = 0; ch < channels; ch++)
                    {
                        string xv = ch == 0 ? "xp" : $"{Code.Unsafe}.Add(ref xp, {I(ch * x.ChannelStride)})";
                        w.Line($"var x{I(ch)} = {kw.Vs}.Create({xv});");
                        for (int j = 0; j < tb; j++)
                        {
                            w.Line($"a{I(ch)}_{I(j)} = {kw.Vs}.FusedMultiplyAdd(x{I(ch)}, d{I(j)}, a{I(ch)}_{I(j)});");
                        }
                    }
                }
            }

            w.Line();
            for (int ch = 0; ch < channels; ch++)
            {
                for (int j = 0; j < tb; j++)
                {
                    long at = ((long)ch * tbv) + (j * v);
                    w.Line(kw.Store($"{kw.Load("gw", Off(at))} + a{I(ch)}_{I(j)}", $"ref gw, {I(at)}"));
                }
            }
        }
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
            $"Register tile: {Count(tiles.Pixels, "pixel")} x {Count(k.ChannelVectors, "vector")} of input channels per tap; {Count(tiles.Full, "tile")} per row" + (tiles.Last > 0 ? $" and a last tile of {Count(tiles.Last, "pixel")}." : "."));
        using (kw.Method(k.Method, "ref float dy, ref float dx, float[] transposed"))
        {
            kw.ArrayRef("wt", "transposed");
            using (w.Block($"for (int oh = 0; oh < {I(dy.H)}; oh++)"))
            {
                w.Line($"ref float xr = ref {Code.Unsafe}.Add(ref dy, {Lin("oh", dy.RowStride, dy.Origin)});");
                w.Line($"ref float yr = ref {Code.Unsafe}.Add(ref dx, {Lin("oh", k.DxRowStep, k.DxOrigin)});");
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
            w.Line(grouped ? $"ref float wg = ref {Code.Unsafe}.Add(ref wt, g * {I(cv * v)});" : "ref float wg = ref wt;");
            w.Line(grouped ? $"ref float dxg = ref {Code.Unsafe}.Add(ref dx, g * {I(cv * v)});" : "ref float dxg = ref dx;");
            using (w.Block($"for (int kh = 0; kh < {I(win.KernelH)}; kh++)"))
            using (w.Block($"for (int kc = 0; kc < {I(win.KernelW)}; kc++)"))
            {
                w.Line($"ref float wk = ref {Code.Unsafe}.Add(ref wg, ((kh * {I(win.KernelW)}) + kc) * {I((long)k.Filters * dx.Cp)});");
                w.Line($"ref float dxk = ref {Code.Unsafe}.Add(ref dxg, (kh * {I((long)win.DilationH * dx.RowStride)}) + (kc * {I((long)win.DilationW * dx.PixelStride)}));");
                kw.Accumulators(Enumerable.Range(0, pixels).Select(p => $"a{I(p)}_"), cv, _ => $"{kw.Vt}.Zero");
                using (w.Block($"for (int o = 0; o < {I(k.Filters)}; o++)"))
                {
                    w.Line($"ref float wo = ref {Code.Unsafe}.Add(ref wk, o * {I(dx.Cp)});");
                    for (int j = 0; j < cv; j++)
                    {
                        w.Line($"var w{I(j)} = {kw.Load("wo", Off(j * v))};");
                    }

                    for (int p = 0; p < pixels; p++)
                    {
                        string dv = p == 0 ? "o" : $"o + {I(p * dy.Cp)}";
                        w.Line($"var d{I(p)} = {kw.Vs}.Create({Code.Unsafe}.Add(ref dy, {dv}));");
                        for (int j = 0; j < cv; j++)
                        {
                            w.Line($"a{I(p)}_{I(j)} = {kw.Vs}.FusedMultiplyAdd(d{I(p)}, w{I(j)}, a{I(p)}_{I(j)});");
                        }
                    }
                }

                for (int p = 0; p < pixels; p++)
                {
                    for (int j = 0; j < cv; j++)
                    {
                        long at = (p * k.DxPixelStep) + (j * v);
                        w.Line(kw.Store($"{kw.Load("dxk", Off(at))} + a{I(p)}_{I(j)}", $"ref dxk, {I(at)}"));
                    }
                }
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
        string bias = k.Bias ? ", float[] biasGradient" : string.Empty;
        using (kw.Method(k.Method, $"ref float x, ref float dy, float[] weightGradient{bias}"))
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
                        kw.Accumulators(new[] { "a" }, count, _ => $"{kw.Vt}.Zero");
                        if (withBias)
                        {
                            w.Line($"var sum = {kw.Vt}.Zero;");
                        }

                        using (w.Block($"for (int oh = 0; oh < {I(dy.H)}; oh++)"))
                        using (w.Block($"for (int ow = 0; ow < {I(dy.W)}; ow++)"))
                        {
                            w.Line($"var d = {kw.Vs}.LoadUnsafe(ref dy, (nuint)({Lin("oh", dy.RowStride, dy.Origin)} + (ow * {I(cp)}) + c));");
                            w.Line($"ref float xp = ref {Code.Unsafe}.Add(ref x, {Lin("oh", k.XRowStep, k.XOrigin)} + (ow * {I(k.XPixelStep)}) + c);");
                            for (int t = first; t < first + count; t++)
                            {
                                long off = ((long)(t / win.KernelW) * win.DilationH * x.RowStride) + ((long)(t % win.KernelW) * win.DilationW * x.PixelStride);
                                w.Line($"a{I(t - first)} = {kw.Vs}.FusedMultiplyAdd({kw.Load("xp", Off(off))}, d, a{I(t - first)});");
                            }

                            if (withBias)
                            {
                                w.Line("sum += d;");
                            }
                        }

                        for (int t = first; t < first + count; t++)
                        {
                            string at = Lin("c", 1, (long)t * cp);
                            w.Line(kw.Store($"{kw.Vs}.LoadUnsafe(ref gw, (nuint)({at})) + a{I(t - first)}", $"ref gw, (nuint)({at})"));
                        }

                        if (withBias)
                        {
                            w.Line(kw.Store($"{kw.Vs}.LoadUnsafe(ref gb, (nuint)c) + sum", "ref gb, (nuint)c"));
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
        using (kw.Method(k.DataMethod, "ref float dy, ref float dx, float[] weight"))
        {
            kw.ArrayRef("w", "weight");
            using (w.Block($"for (int c = 0; c < {I(cp)}; c += {I(v)})"))
            using (w.Block($"for (int oh = 0; oh < {I(dy.H)}; oh++)"))
            using (w.Block($"for (int ow = 0; ow < {I(dy.W)}; ow++)"))
            {
                w.Line($"var d = {kw.Vs}.LoadUnsafe(ref dy, (nuint)({Lin("oh", dy.RowStride, dy.Origin)} + (ow * {I(cp)}) + c));");
                w.Line($"ref float dxp = ref {Code.Unsafe}.Add(ref dx, {Lin("oh", k.DxRowStep, k.DxOrigin)} + (ow * {I(k.DxPixelStep)}) + c);");
                for (int t = 0; t < win.Taps; t++)
                {
                    long off = ((long)(t / win.KernelW) * win.DilationH * dx.RowStride) + ((long)(t % win.KernelW) * win.DilationW * dx.PixelStride);
                    w.Line(kw.Store($"{kw.Vs}.FusedMultiplyAdd({kw.Vs}.LoadUnsafe(ref w, (nuint)({Lin("c", 1, (long)t * cp)})), d, {kw.Load("dxp", Off(off))})", $"ref dxp, {I(off)}"));
                }
            }
        }
    }
}
