using System.Collections.Generic;
using System.Linq;
using CnnGen.Generator.Emit.Kernels;
using CnnGen.Generator.Planning.Kernels;
using static CnnGen.Generator.Emit.Kernels.KernelWriter;
using static CnnGen.Generator.Model.Words;

namespace CnnGen.Generator.Emit.Backward;

/// <summary>
/// Writes a convolution's weight gradient from its max pool's maxima (<see cref="ConvWeightsFromMaximaKernel"/>): the
/// pool's backward left, per window and filter, the window's gradient g and the input offset of the pixel that won; each
/// filter's gradient is the sum over windows of g times the input at that pixel's taps. One scalar filter at a time (its
/// winning pixel is its own), vectors over what is contiguous in the input: a tap's channels (HWC) or a kernel row's
/// columns (CHW).
/// </summary>
internal static class ConvMaximaEmitter
{
    public static void Emit(KernelWriter kw, ConvWeightsFromMaximaKernel k)
    {
        var w = kw.W;
        var win = k.Window;
        var x = k.X;
        var m = k.Maxima;
        int units = Units(k, kw.V).Count;
        string unit = k.Planar ? "kernel row of one channel, its columns in lanes" : "tap's vector of channels";
        kw.Doc(k.Title,
            $"Input: {x.Describe()}; maxima: per window of the pool ({Count(m.Windows, "window")}) {Count(m.Cp, "float")} of g, then {Count(m.Cp, "float")} of the winning pixel's input offset (int bits).",
            $"Kernel {I(win.KernelH)}x{I(win.KernelW)}, stride {I(win.StrideH)}x{I(win.StrideW)}, dilation {I(win.DilationH)}x{I(win.DilationW)}, padding {I(win.PadTop)}/{I(win.PadLeft)}/{I(win.PadBottom)}/{I(win.PadRight)} read from the input's zero border.",
            $"Gradient: [{Count(GroupsOf(k), "tile")}][{Count(win.Taps, "tap")}][{Count(k.Channels, "channel")}][{Count(k.TileFloats, "filter")}], the weights' packed layout.",
            $"The pool's windows tile {k.LayerName}'s output, so its dy is non-zero at one pixel per window and filter: a multiply-add per window, filter and unit ({unit}; {Count(units, "unit")}) instead of one per output pixel, tap, channel and vector of filters.",
            $"Register tile: {Count(k.FilterBlock, "filter")} x {Count(k.UnitBlock, "unit")} over an image's windows; one image at a time (its input and maxima stay in L1), the sums of every filter and unit in a stack buffer of {Count(SumFloats(k, kw.V), "float")}, whose lanes are added into the gradient once at the end.");
        int sumsPerFilter = units * kw.V;
        using (kw.Method(k.Method, $"ref float x, ref float maxima, int count, {kw.Buffer} weightGradient"))
        {
            w.Line($"global::System.Span<float> buffer = stackalloc float[{I(SumFloats(k, kw.V))}];");
            w.Line("buffer.Clear();");
            w.Line($"ref float sums = ref {Code.MemoryMarshal}.GetReference(buffer); // [filter][unit][lane]");
            using (w.Block("for (int i = 0; i < count; i++)"))
            {
                w.Line($"ref float xi = ref At(ref x, {Lin("i", k.ImageStride, 0)});");
                w.Line($"ref float mi = ref At(ref maxima, {Lin("i", k.ImageStride, 0)});");
                using (w.Block(k.FilterBlock == 1 ? $"for (int f = 0; f < {I(k.Filters)}; f++)" : $"for (int f = 0; f < {I(k.Filters)}; f += {I(k.FilterBlock)})"))
                {
                    w.Line($"ref float sf = ref At(ref sums, {Lin("f", sumsPerFilter, 0)});");
                    foreach (var (first, count) in Blocks(units, k.UnitBlock))
                    {
                        w.Line($"{TileName(k, first, count)}(ref xi, ref At(ref mi, f), {Ref("sf", I((long)first * kw.V))});");
                    }
                }
            }

            w.Line();
            kw.ArrayRef("gw", "weightGradient");
            long tileFloats = (long)k.Window.Taps * k.Channels * k.TileFloats;
            using (w.Block($"for (int f = 0; f < {I(k.Filters)}; f++)"))
            {
                w.Line($"ref float gf = ref At(ref gw, (f / {I(k.TileFloats)} * {I(tileFloats)}) + (f % {I(k.TileFloats)})); // filter f's column of the packed gradient");
                w.Line($"ref float sf = ref At(ref sums, {Lin("f", sumsPerFilter, 0)});");
                var all = Units(k, kw.V);
                for (int u = 0; u < all.Count; u++)
                {
                    w.Line($"AddLanes({kw.Load("sf", I((long)u * kw.V))}, {Ref("gf", I(all[u].GradientOffset))}, {I(all[u].Lanes)}, {I(all[u].LaneStride)}); // {all[u].What}");
                }
            }

            w.Line();
            w.Line("// lane l of a sum goes to the gradient l strides on");
            using (w.Block($"static void AddLanes({kw.Vt} sum, ref float g, int lanes, int stride)"))
            using (w.Block("for (int l = 0; l < lanes; l++)"))
            {
                w.Line($"At(ref g, l * stride) += {kw.Vs}.GetElement(sum, l);");
            }
        }

        foreach (var (first, count) in Blocks(units, k.UnitBlock))
        {
            Tile(kw, k, first, count);
        }
    }

    /// <summary>The stack buffer of sums: a vector per filter and unit.</summary>
    internal static int SumFloats(ConvWeightsFromMaximaKernel k, int v) => k.Filters * Units(k, v).Count * v;

    /// <summary>One vector load per window and filter: its offset from the winning pixel and where its lanes go in a filter's gradient.</summary>
    private readonly record struct Unit(long XOffset, long GradientOffset, int Lanes, long LaneStride, string What);

    private static List<Unit> Units(ConvWeightsFromMaximaKernel k, int v)
    {
        var win = k.Window;
        var x = k.X;
        int tbv = k.TileFloats, c = k.Channels;
        var list = new List<Unit>();
        if (k.Planar)
        {
            for (int ic = 0; ic < c; ic++)
            {
                for (int ky = 0; ky < win.KernelH; ky++)
                {
                    list.Add(new Unit(((long)ic * x.ChannelStride) + ((long)ky * win.DilationH * x.RowStride), ((long)ky * win.KernelW * c * tbv) + ((long)ic * tbv), win.KernelW, (long)c * tbv,
                        c == 1 ? $"kernel row {I(ky)}" : $"channel {I(ic)}, kernel row {I(ky)}"));
                }
            }

            return list;
        }

        for (int t = 0; t < win.Taps; t++)
        {
            int ky = t / win.KernelW, kx = t % win.KernelW;
            for (int cv = 0; cv < x.Cp / v; cv++)
            {
                list.Add(new Unit(((long)ky * win.DilationH * x.RowStride) + ((long)kx * win.DilationW * x.PixelStride) + ((long)cv * v), ((long)t * c * tbv) + ((long)cv * v * tbv), System.Math.Min(v, c - (cv * v)), tbv,
                    x.Cp == v ? $"tap ({I(ky)}, {I(kx)})" : $"tap ({I(ky)}, {I(kx)}), channels {I(cv * v)}-{I(System.Math.Min(c, (cv + 1) * v) - 1)}"));
            }
        }

        return list;
    }

    private static int GroupsOf(ConvWeightsFromMaximaKernel k) => (k.Filters + k.TileFloats - 1) / k.TileFloats;

    private static IEnumerable<(int First, int Count)> Blocks(int length, int size)
    {
        for (int first = 0; first < length; first += size)
        {
            yield return (first, System.Math.Min(size, length - first));
        }
    }

    private static string TileName(ConvWeightsFromMaximaKernel k, int first, int count) =>
        count == 1 ? $"{k.Method}Unit{I(first)}" : $"{k.Method}Units{I(first)}To{I(first + count - 1)}";

    private static void Tile(KernelWriter kw, ConvWeightsFromMaximaKernel k, int first, int count)
    {
        var w = kw.W;
        var m = k.Maxima;
        var units = Units(k, kw.V).Skip(first).Take(count).ToList();
        int fb = k.FilterBlock, sumsPerFilter = Units(k, kw.V).Count * kw.V;
        w.Line();
        w.Line($"/// <summary>d weight of {Xml(k.LayerName)} for {(fb == 1 ? "one filter" : Count(fb, "filter"))} at {(count == 1 ? "unit " + I(first) : $"units {I(first)}-{I(first + count - 1)}")} ({Xml(units[0].What)}{(count == 1 ? string.Empty : " to " + Xml(units[count - 1].What))}), summed over one image's windows into the sums at <paramref name=\"s\"/>.</summary>");
        using (kw.Method(TileName(k, first, count), "ref float x, ref float m, ref float s"))
        {
            for (int j = 0; j < fb; j++)
            {
                w.Line(string.Join(" ", Enumerable.Range(0, count).Select(u => $"var a{I(j)}_{I(u)} = {kw.Load("s", I(((long)j * sumsPerFilter) + ((long)u * kw.V)))};")));
            }

            using (w.Block($"for (int p = 0; p < {I(m.Windows)}; p++)"))
            {
                w.Line($"ref float mp = ref At(ref m, {Lin("p", 2L * m.Cp, 0)});");
                for (int j = 0; j < fb; j++)
                {
                    string filter = j == 0 ? "the filter" : $"filter + {I(j)}";
                    w.Line($"var g{I(j)} = Broadcast({Element("mp", j)}); // {filter}'s gradient at the window's maximum");
                    w.Line($"ref float x{I(j)} = ref At(ref x, {Code.Unsafe}.As<float, int>({Ref("mp", I(m.Cp + j))})); // its winning pixel's top-left tap (an int offset in the float's bits)");
                    for (int u = 0; u < count; u++)
                    {
                        w.Line($"a{I(j)}_{I(u)} = Fma(g{I(j)}, {kw.Load("x" + I(j), I(units[u].XOffset))}, a{I(j)}_{I(u)});");
                    }
                }
            }

            w.Line();
            for (int j = 0; j < fb; j++)
            {
                for (int u = 0; u < count; u++)
                {
                    long at = ((long)j * sumsPerFilter) + ((long)u * kw.V);
                    w.Line(kw.Store($"a{I(j)}_{I(u)}", at == 0 ? "ref s" : $"ref s, {I(at)}"));
                }
            }
        }
    }
}
