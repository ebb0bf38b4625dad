using System;
using System.Linq;
using CnnGen.Generator.Planning;
using CnnGen.Generator.Planning.Kernels;
using static CnnGen.Generator.Emit.Kernels.KernelWriter;
using static CnnGen.Generator.Model.Words;

namespace CnnGen.Generator.Emit.Kernels;

/// <summary>
/// Writes max and average pools (<see cref="PoolKernel"/>, <see cref="GlobalPoolKernel"/>, <see cref="AdaptivePoolKernel"/>), vectors over channels:
/// an exact pool unrolls its window; a pool whose windows cross an edge clips them at run time as PyTorch does
/// (-infinity for max, PyTorch's divisor rules for average).
/// </summary>
internal static class PoolEmitter
{
    public static void Emit(KernelWriter kw, PoolKernel k)
    {
        var win = k.Window;
        string rule = k.Max ? "max (padding counts as -infinity)" : k.CountIncludePad ? "mean (padding counts in the divisor)" : "mean over in-bounds cells";
        kw.Doc(k.Title, SplitRemarks(k, "output rows", "row",
            $"Input: {k.X.Describe()}.",
            $"Output: {k.Y.Describe()}.",
            $"Window {I(win.KernelH)}x{I(win.KernelW)}, stride {I(win.StrideH)}x{I(win.StrideW)}, padding {I(win.PadTop)}x{I(win.PadLeft)}" + (k.CeilMode ? ", ceil mode" : string.Empty) + $": {rule}.",
            k.Exact ? "Every window lies inside the input: the window is unrolled." : "Windows at the edges are clipped at run time, as PyTorch does."));
        using (kw.Method(k.Method, Parameters(1) + RangeParameters(k)))
        {
            if (k.Exact)
            {
                Exact(kw, k);
            }
            else
            {
                Clipped(kw, k);
            }
        }
    }

    /// <summary>Folds one more window value into <c>m</c>: the maximum, or the running sum.</summary>
    private static string Combine(PoolKernel k, string value) => k.Max ? $"m = Max(m, {value});" : $"m += {value};";

    private static void Exact(KernelWriter kw, PoolKernel k)
    {
        var w = kw.W;
        var win = k.Window;
        var x = k.X;
        var y = k.Y;
        if (!k.Max)
        {
            w.Line($"var scale = Broadcast({SourceWriter.Float(k.ExactScale)});");
        }

        using (w.Block(RowLoop(k, y.H)))
        {
            w.Line($"ref float xr = ref At(ref x, {Lin("oh", k.XRowStep, x.Origin)});");
            w.Line($"ref float yr = ref At(ref y, {Lin("oh", y.RowStride, y.Origin)});");
            using (w.Block($"for (int ow = 0; ow < {I(y.W)}; ow++)"))
            {
                w.Line($"ref float xp = ref At(ref xr, ow * {I(k.XPixelStep)});");
                w.Line($"ref float yp = ref At(ref yr, ow * {I(y.Cp)});");
                using (w.Block($"for (int c = 0; c < {I(y.Cp)}; c += {I(kw.V)})"))
                {
                    for (int kh = 0; kh < win.KernelH; kh++)
                    {
                        for (int kc = 0; kc < win.KernelW; kc++)
                        {
                            long off = ((long)kh * win.DilationH * x.RowStride) + ((long)kc * win.DilationW * x.PixelStride);
                            string load = $"Load(ref xp, {Off("c", off)})";
                            w.Line((kh | kc) == 0 ? $"var m = {load}; // tap (0, 0)" : $"{Combine(k, load)} // tap ({I(kh)}, {I(kc)})");
                        }
                    }

                    w.Line(kw.Store(k.Max ? "m" : "m * scale", "ref yp, (nuint)c"));
                }
            }
        }
    }

    private static void Clipped(KernelWriter kw, PoolKernel k)
    {
        var w = kw.W;
        var win = k.Window;
        var x = k.X;
        var y = k.Y;
        using (w.Block(RowLoop(k, y.H)))
        {
            w.Line($"int h0 = oh * {I(win.StrideH)} - {I(win.PadTop)};");
            using (w.Block($"for (int ow = 0; ow < {I(y.W)}; ow++)"))
            {
                w.Line($"int w0 = ow * {I(win.StrideW)} - {I(win.PadLeft)};");
                if (!k.Max)
                {
                    w.Line($"int hEnd = {Code.Math}.Min(h0 + {I(win.KernelH)}, {I(k.PaddedHeight)}), wEnd = {Code.Math}.Min(w0 + {I(win.KernelW)}, {I(k.PaddedWidth)});");
                    w.Line(k.CountIncludePad
                        ? "int divisor = (hEnd - h0) * (wEnd - w0); // padding counts, the ceil-mode overhang does not"
                        : $"int divisor = ({Code.Math}.Min(hEnd, {I(x.H)}) - {Code.Math}.Max(h0, 0)) * ({Code.Math}.Min(wEnd, {I(x.W)}) - {Code.Math}.Max(w0, 0)); // in-bounds cells");
                    w.Line($"var scale = Broadcast(1f / divisor);");
                }

                w.Line($"ref float yp = ref At(ref y, {I(y.Origin)} + (oh * {I(y.RowStride)}) + (ow * {I(y.Cp)}));");
                using (w.Block($"for (int c = 0; c < {I(y.Cp)}; c += {I(kw.V)})"))
                {
                    w.Line(k.Max ? $"var m = Broadcast(float.NegativeInfinity);" : $"var m = Zero;");
                    using (w.Block($"for (int kh = 0; kh < {I(win.KernelH)}; kh++)"))
                    {
                        w.Line($"int ih = h0 + (kh * {I(win.DilationH)});");
                        using (w.Block($"if ((uint)ih >= {I(x.H)}u)"))
                        {
                            w.Line("continue;");
                        }

                        w.Line();
                        using (w.Block($"for (int kw = 0; kw < {I(win.KernelW)}; kw++)"))
                        {
                            w.Line($"int iw = w0 + (kw * {I(win.DilationW)});");
                            using (w.Block($"if ((uint)iw < {I(x.W)}u)"))
                            {
                                w.Line(Combine(k, $"Load(ref x, (nuint)({I(x.Origin)} + (ih * {I(x.RowStride)}) + (iw * {I(x.PixelStride)}) + c))"));
                            }
                        }
                    }

                    w.Line();
                    w.Line(kw.Store(k.Max ? "m" : "m * scale", "ref yp, (nuint)c"));
                }
            }
        }
    }

    public static void Emit(KernelWriter kw, GlobalPoolKernel k)
    {
        var w = kw.W;
        var x = k.X;
        kw.Doc(k.Title, SplitRemarks(k, "channel vectors", "vector", $"Input: {x.Describe()}.", $"Output: {k.Y.Describe()}.", k.Max ? "Max over every pixel, per channel." : $"Mean over {Count(x.H * x.W, "pixel")}, per channel."));
        using (kw.Method(k.Method, Parameters(1) + RangeParameters(k, "vector")))
        using (w.Block(k.Split ? $"for (int c = vectorStart * {I(kw.V)}; c < vectorEnd * {I(kw.V)}; c += {I(kw.V)})" : $"for (int c = 0; c < {I(x.Cp)}; c += {I(kw.V)})"))
        {
            w.Line(k.Max ? $"var m = Broadcast(float.NegativeInfinity);" : $"var m = Zero;");
            using (w.Block($"for (int h = 0; h < {I(x.H)}; h++)"))
            {
                w.Line($"ref float xr = ref At(ref x, {Lin("h", x.RowStride, x.Origin)});");
                using (w.Block($"for (int w = 0; w < {I(x.W)}; w++)"))
                {
                    w.Line(k.Max
                        ? $"m = Max(m, Load(ref xr, (nuint)((w * {I(x.Cp)}) + c)));"
                        : $"m += Load(ref xr, (nuint)((w * {I(x.Cp)}) + c));");
                }
            }

            w.Line();
            w.Line(kw.Store(k.Max ? "m" : $"m * Broadcast({SourceWriter.Float(k.Scale)})", $"ref y, {Off("c", k.Y.Origin)}"));
        }
    }

    public static void Emit(KernelWriter kw, AdaptivePoolKernel k)
    {
        var x = k.X;
        var y = k.Y;
        kw.Doc(k.Title,
            $"Input: {x.Describe()}.",
            $"Output: {y.Describe()}.",
            $"PyTorch's adaptive windows: output row oh averages input rows oh * {I(x.H)} / {I(y.H)} to ceil((oh + 1) * {I(x.H)} / {I(y.H)}) - 1 ({Windows(x.H, y.H)}), output column ow likewise ({Windows(x.W, y.W)}).");
        using (kw.Method(k.Method, Parameters(1)))
        {
            AdaptiveWindows(kw, x, "x", y, "y", "var m = Zero;", at => $"m += Load(ref xr, {at});", kw.Store("m * scale", "ref yp, (nuint)c"));
        }
    }

    /// <summary>
    /// Writes an adaptive pool's loops, shared by the forward and backward kernels: over the output cells (oh, ow), with
    /// each window's rows h0..h1 and columns w0..w1 (end exclusive), its <c>scale</c> (1 / area) and <c>{output}p</c> at the
    /// output-shaped tensor's pixel, then over the channel vectors <c>c</c>: <paramref name="before"/>, a loop over the
    /// window's input pixels (<paramref name="tap"/> gets each one's offset in <c>{input}r</c>), and <paramref name="after"/>.
    /// </summary>
    internal static void AdaptiveWindows(KernelWriter kw, TensorPlan inTensor, string input, TensorPlan outTensor, string output, string before, Func<string, string> tap, string? after)
    {
        var w = kw.W;
        var x = inTensor;
        var y = outTensor;
        using (w.Block($"for (int oh = 0; oh < {I(y.H)}; oh++)"))
        {
            w.Line($"int h0 = oh * {I(x.H)} / {I(y.H)}, h1 = (((oh + 1) * {I(x.H)}) + {I(y.H - 1)}) / {I(y.H)};");
            w.Line($"ref float {output}r = ref At(ref {output}, {Lin("oh", y.RowStride, y.Origin)});");
            using (w.Block($"for (int ow = 0; ow < {I(y.W)}; ow++)"))
            {
                w.Line($"int w0 = ow * {I(x.W)} / {I(y.W)}, w1 = (((ow + 1) * {I(x.W)}) + {I(y.W - 1)}) / {I(y.W)};");
                w.Line("var scale = Broadcast(1f / ((h1 - h0) * (w1 - w0)));");
                w.Line($"ref float {output}p = ref At(ref {output}r, ow * {I(y.Cp)});");
                using (w.Block($"for (int c = 0; c < {I(y.Cp)}; c += {I(kw.V)})"))
                {
                    w.Line(before);
                    using (w.Block("for (int ih = h0; ih < h1; ih++)"))
                    {
                        w.Line($"ref float {input}r = ref At(ref {input}, {Lin("ih", x.RowStride, x.Origin)});");
                        using (w.Block("for (int iw = w0; iw < w1; iw++)"))
                        {
                            w.Line(tap($"(nuint)((iw * {I(x.Cp)}) + c)"));
                        }
                    }

                    if (after is not null)
                    {
                        w.Line();
                        w.Line(after);
                    }
                }
            }
        }
    }

    /// <summary>An axis's adaptive windows as the doc comment lists them: <c>rows 0-3, 3-6, 6-9</c> (first and last cell), or the first three and the last.</summary>
    internal static string Windows(int input, int output)
    {
        string Window(int i) => $"{I((long)i * input / output)}-{I(((((long)i + 1) * input) + output - 1) / output - 1)}";
        var shown = output <= 4 ? Enumerable.Range(0, output).Select(Window) : new[] { Window(0), Window(1), Window(2), "...", Window(output - 1) };
        return string.Join(", ", shown);
    }
}
