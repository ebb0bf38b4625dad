using CnnGen.Generator.Emit.Kernels;
using CnnGen.Generator.Planning.Kernels;
using static CnnGen.Generator.Emit.Kernels.KernelWriter;
using static CnnGen.Generator.Model.Words;

namespace CnnGen.Generator.Emit.Backward;

/// <summary>
/// Writes pooling's backward kernels, vectors over channels (<see cref="PoolBackwardKernel"/>,
/// <see cref="GlobalPoolBackwardKernel"/>, <see cref="AdaptivePoolBackwardKernel"/>). Max pooling recomputes each window's
/// first maximum in row-major order from the stored input and output: a lane takes a tap's gradient when the tap equals
/// the window's maximum and no earlier tap did (a "taken" mask), PyTorch's convention for ties. Average and adaptive
/// pooling spread each output's gradient over its window, divided as the forward pass divided.
/// </summary>
internal static class PoolBackwardEmitter
{
    public static void Emit(KernelWriter kw, PoolBackwardKernel k)
    {
        var w = kw.W;
        var win = k.Window;
        var x = k.X;
        var y = k.Y;
        var dy = k.OutputGradient;
        var dx = k.InputGradient;
        string vs = kw.Vs;
        bool inside = win.PadTop == 0 && win.PadLeft == 0
            && ((y.H - 1) * win.StrideH) + ((win.KernelH - 1) * win.DilationH) < x.H
            && ((y.W - 1) * win.StrideW) + ((win.KernelW - 1) * win.DilationW) < x.W;
        var remarks = new System.Collections.Generic.List<string>
        {
            $"Input: {x.Describe()}; output: {y.Describe()}.",
            k.Dense
                ? $"dy: {dy.Describe()}; dx: {dx.Describe()}" + (k.Accumulate ? " (added into: windows may overlap)." : " (overwritten: the windows tile it, each pixel written once).")
                : $"dy: {dy.Describe()}.",
            $"Window {I(win.KernelH)}x{I(win.KernelW)}, stride {I(win.StrideH)}x{I(win.StrideW)}, padding {I(win.PadTop)}x{I(win.PadLeft)}, "
                + (inside && k.Max ? "every window inside the input: its taps are unrolled." : "windows clipped at the edges as in the forward pass."),
        };
        if (k.Relu is { } relu)
        {
            remarks.Add($"{relu}'s ReLU folded in: dy passes where the window's maximum (the ReLU's output at that pixel) is > 0; {relu} has no activation pass of its own.");
        }
        else if (MasksNaN(k))
        {
            remarks.Add("dy passes where the window's maximum is not NaN: a NaN maximum equals no tap, so dx gets 0 there, and so does g where it goes to the bias or the maxima.");
        }

        if (k.BiasOf is { } conv)
        {
            remarks.Add($"{conv}'s bias gradient added here: each window's dy goes to one pixel, so the windows' dy sum to the sum of {conv}'s dy; {conv} has no bias pass of its own.");
        }

        if (k.Maxima is { } maxima)
        {
            remarks.Add($"For {maxima.ConvName}'s weight gradient, per window {Count(maxima.Cp, "float")} of its gradient g then {Count(maxima.Cp, "float")} of the position of its first maximum (the offset in {maxima.ConvName}'s input of that pixel's top-left tap, an int stored in the float's bits)"
                + (k.Dense ? "; each tap is compared with the maximum once, for dx and the position." : $"; dx is not written: only {maxima.ConvName}'s input gradient reads it, computed on request by {k.Method}Dense."));
        }

        kw.Doc(k.Title, remarks.ToArray());
        if (inside && k.Max)
        {
            EmitInside(kw, k);
            return;
        }

        if (k.BiasOf is not null || k.Maxima is not null)
        {
            throw new System.InvalidOperationException("a bias gradient or maxima folded into a pool backward whose windows leave the input");
        }

        using (kw.Method(k.Method, "ref float x, ref float y, ref float dy, ref float dx"))
        {
            if (k.Max)
            {
                w.Line($"var zero = Zero;");
            }

            using (w.Block($"for (int oh = 0; oh < {I(y.H)}; oh++)"))
            {
                w.Line($"int h0 = (oh * {I(win.StrideH)}) - {I(win.PadTop)};");
                using (w.Block($"for (int ow = 0; ow < {I(y.W)}; ow++)"))
                {
                    w.Line($"int w0 = (ow * {I(win.StrideW)}) - {I(win.PadLeft)};");
                    if (!k.Max)
                    {
                        w.Line($"int hEnd = {Code.Math}.Min(h0 + {I(win.KernelH)}, {I(k.PaddedHeight)}), wEnd = {Code.Math}.Min(w0 + {I(win.KernelW)}, {I(k.PaddedWidth)});");
                        w.Line(k.CountIncludePad
                            ? "int divisor = (hEnd - h0) * (wEnd - w0); // padding counts, the ceil-mode overhang does not"
                            : $"int divisor = ({Code.Math}.Min(hEnd, {I(x.H)}) - {Code.Math}.Max(h0, 0)) * ({Code.Math}.Min(wEnd, {I(x.W)}) - {Code.Math}.Max(w0, 0)); // in-bounds cells");
                        w.Line($"var scale = Broadcast(1f / divisor);");
                    }

                    w.Line($"int yp = {I(y.Origin)} + (oh * {I(y.RowStride)}) + (ow * {I(y.Cp)});");
                    w.Line($"int dyp = {I(dy.Origin)} + (oh * {I(dy.RowStride)}) + (ow * {I(dy.Cp)});");
                    using (w.Block($"for (int c = 0; c < {I(y.Cp)}; c += {I(kw.V)})"))
                    {
                        if (k.Max)
                        {
                            w.Line($"var m = Load(ref y, (nuint)(yp + c));");
                            w.Line(k.Relu is null ? $"var g = Load(ref dy, (nuint)(dyp + c));" : $"var g = {vs}.ConditionalSelect({vs}.GreaterThan(m, zero), Load(ref dy, (nuint)(dyp + c)), zero); // {Xml(k.Relu)}'s ReLU");
                            w.Line("var taken = zero;");
                        }
                        else
                        {
                            w.Line($"var g = Load(ref dy, (nuint)(dyp + c)) * scale;");
                        }

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
                                    w.Line($"int dxp = {I(dx.Origin)} + (ih * {I(dx.RowStride)}) + (iw * {I(dx.PixelStride)}) + c;");
                                    if (k.Max)
                                    {
                                        w.Line($"var first = {vs}.AndNot({vs}.Equals(Load(ref x, (nuint)({I(x.Origin)} + (ih * {I(x.RowStride)}) + (iw * {I(x.PixelStride)}) + c)), m), taken);");
                                        string share = $"{vs}.ConditionalSelect(first, g, zero)";
                                        w.Line(kw.Store(k.Accumulate ? $"Load(ref dx, (nuint)dxp) + {share}" : share, "ref dx, (nuint)dxp"));
                                        w.Line("taken |= first;");
                                    }
                                    else
                                    {
                                        w.Line(kw.Store(k.Accumulate ? "Load(ref dx, (nuint)dxp) + g" : "g", "ref dx, (nuint)dxp"));
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// <summary>
    /// Max pooling's backward when every window lies inside the input (no padding): the window's taps unrolled at
    /// constant offsets from the window's corner, without bounds checks.
    /// </summary>
    private static void EmitInside(KernelWriter kw, PoolBackwardKernel k)
    {
        var w = kw.W;
        var win = k.Window;
        var x = k.X;
        var y = k.Y;
        var dy = k.OutputGradient;
        var dx = k.InputGradient;
        string vs = kw.Vs;
        var maxima = k.Maxima;
        string parameters = "ref float x, ref float y, ref float dy" + (k.Dense ? ", ref float dx" : string.Empty) + (maxima is null ? string.Empty : ", ref float maxima")
            + (k.BiasOf is null ? string.Empty : $", {kw.Buffer} biasGradient");
        using (kw.Method(k.Method, parameters))
        {
            w.Line("var zero = Zero;");
            bool oneVector = y.Cp == kw.V; // the bias gradient's sum in a register, else added per window
            if (k.BiasOf is not null)
            {
                kw.ArrayRef("gb", "biasGradient");
                if (oneVector)
                {
                    w.Line("var bias = zero;");
                }
            }

            using (w.Block($"for (int oh = 0; oh < {I(y.H)}; oh++)"))
            {
                w.Line($"ref float xr = ref At(ref x, {Lin("oh", (long)win.StrideH * x.RowStride, x.Origin)});");
                if (k.Dense)
                {
                    w.Line($"ref float dxr = ref At(ref dx, {Lin("oh", (long)win.StrideH * dx.RowStride, dx.Origin)});");
                }

                w.Line($"ref float yr = ref At(ref y, {Lin("oh", y.RowStride, y.Origin)});");
                w.Line($"ref float dyr = ref At(ref dy, {Lin("oh", dy.RowStride, dy.Origin)});");
                using (w.Block($"for (int ow = 0; ow < {I(y.W)}; ow++)"))
                {
                    w.Line($"ref float xw = ref At(ref xr, {Lin("ow", (long)win.StrideW * x.PixelStride, 0)});");
                    if (k.Dense)
                    {
                        w.Line($"ref float dxw = ref At(ref dxr, {Lin("ow", (long)win.StrideW * dx.PixelStride, 0)});");
                    }

                    if (maxima is not null)
                    {
                        w.Line($"ref float mw = ref At(ref maxima, {Lin("oh", (long)y.W * 2 * maxima.Cp, 0)} + {Lin("ow", 2L * maxima.Cp, 0)});");
                        w.Line($"var corner = {kw.Vs}.Create({Lin("oh", win.StrideH * maxima.XRowStep, maxima.XOrigin)} + {Lin("ow", win.StrideW * maxima.XPixelStep, 0)}); // the window's top-left pixel (ints)");
                    }

                    using (w.Block($"for (int c = 0; c < {I(y.Cp)}; c += {I(kw.V)})"))
                    {
                        w.Line($"var m = Load(ref yr, (nuint)({Lin("ow", y.Cp, 0)} + c));");
                        string load = $"Load(ref dyr, (nuint)({Lin("ow", dy.Cp, 0)} + c))";
                        w.Line(k.Relu is not null ? $"var g = {vs}.ConditionalSelect({vs}.GreaterThan(m, zero), {load}, zero); // {Xml(k.Relu)}'s ReLU"
                            : MasksNaN(k) ? $"var g = {vs}.ConditionalSelect({vs}.Equals(m, m), {load}, zero); // 0 where the maximum is NaN (it equals no tap)"
                            : $"var g = {load};");
                        if (k.BiasOf is { } conv)
                        {
                            w.Line(oneVector ? $"bias += g; // {Xml(conv)}'s bias gradient" : $"{kw.Store($"{kw.Load("gb", "(nuint)c")} + g", "ref gb, (nuint)c")} // {Xml(conv)}'s bias gradient");
                        }

                        if (maxima is not null)
                        {
                            w.Line(kw.Store("g", "ref mw, (nuint)c"));
                        }

                        if (k.Dense)
                        {
                            DenseTaps(kw, k, maxima);
                        }
                        else if (maxima is not null)
                        {
                            MaximaPosition(kw, k, maxima);
                        }

                        if (maxima is not null)
                        {
                            w.Line(kw.Store($"{kw.Vs}.AsSingle(corner + at)", $"ref mw, {Off("c", maxima.Cp)}") + " // the offset's int bits");
                        }
                    }
                }
            }

            if (k.BiasOf is not null && oneVector)
            {
                w.Line();
                w.Line(kw.Store(kw.Load("gb", "0") + " + bias", "ref gb"));
            }
        }
    }

    /// <summary>
    /// Whether g is masked where the window's maximum is NaN: without a ReLU (whose mask is false there), g also feeds the
    /// bias gradient or the maxima, and a NaN maximum equals no tap, so dx gets 0 there and so must they.
    /// </summary>
    private static bool MasksNaN(PoolBackwardKernel k) => k.Max && k.Relu is null && (k.BiasOf is not null || k.Maxima is not null);

    /// <summary>
    /// Each tap of a window inside the input: its share of g (where it is the first maximum) stored into dx; with
    /// <paramref name="maxima"/>, the same first-maximum masks also give <c>at</c>, the offset from the window's top-left
    /// pixel of its first maximum (the last tap's where none equals the maximum: a NaN maximum, whose g is 0).
    /// </summary>
    private static void DenseTaps(KernelWriter kw, PoolBackwardKernel k, PoolMaxima? maxima)
    {
        var w = kw.W;
        var win = k.Window;
        var x = k.X;
        var dx = k.InputGradient;
        string vs = kw.Vs;
        int lastTap = (win.KernelH * win.KernelW) - 1;
        if (maxima is not null)
        {
            w.Line($"var at = {vs}.Create({I(Position(win, maxima, lastTap))}); // the first maximum's offset from the window's corner: the last tap's unless an earlier tap is it");
        }

        w.Line("var taken = zero;");
        for (int kh = 0; kh < win.KernelH; kh++)
        {
            for (int kc = 0; kc < win.KernelW; kc++)
            {
                long xo = ((long)kh * win.DilationH * x.RowStride) + ((long)kc * win.DilationW * x.PixelStride);
                long dxo = ((long)kh * win.DilationH * dx.RowStride) + ((long)kc * win.DilationW * dx.PixelStride);
                bool last = kh == win.KernelH - 1 && kc == win.KernelW - 1;
                string first = $"{vs}.AndNot({vs}.Equals({kw.Load("xw", Off("c", xo))}, m), taken)";
                string share = last ? $"{vs}.ConditionalSelect({first}, g, zero)" : $"{vs}.ConditionalSelect(first, g, zero)";
                if (!last)
                {
                    w.Line($"{(kh + kc == 0 ? "var " : string.Empty)}first = {first};");
                }

                w.Line(kw.Store(k.Accumulate ? $"{kw.Load("dxw", Off("c", dxo))} + {share}" : share, $"ref dxw, {Off("c", dxo)}"));
                if (!last)
                {
                    if (maxima is not null)
                    {
                        w.Line($"at = {vs}.ConditionalSelect({vs}.AsInt32(first), {vs}.Create({I(Position(win, maxima, (kh * win.KernelW) + kc))}), at);");
                    }

                    w.Line("taken |= first;");
                }
            }
        }
    }

    /// <summary>The offset of tap <paramref name="tap"/> (row-major) from the window's top-left pixel in the convolution's input.</summary>
    private static long Position(Window win, PoolMaxima maxima, int tap) => ((long)(tap / win.KernelW) * maxima.XRowStep) + ((long)(tap % win.KernelW) * maxima.XPixelStep);

    /// <summary>
    /// <c>at</c> without dx: the offset from the window's top-left pixel of its first maximum, per lane (ints): the last
    /// tap's, replaced by each earlier tap's where that tap equals the maximum, last to first, so the first equal tap wins
    /// (PyTorch's ties).
    /// </summary>
    private static void MaximaPosition(KernelWriter kw, PoolBackwardKernel k, PoolMaxima maxima)
    {
        var w = kw.W;
        var win = k.Window;
        var x = k.X;
        string vs = kw.Vs;
        int last = (win.KernelH * win.KernelW) - 1;
        long XAt(int tap) => ((long)(tap / win.KernelW) * x.RowStride) + ((long)(tap % win.KernelW) * x.PixelStride);
        w.Line($"var at = {vs}.Create({I(Position(win, maxima, last))}); // the first maximum's offset from the window's corner: the last tap's, then each earlier tap's where it equals the maximum");
        for (int tap = last - 1; tap >= 0; tap--)
        {
            w.Line($"at = {vs}.ConditionalSelect({vs}.AsInt32({vs}.Equals({kw.Load("xw", Off("c", XAt(tap)))}, m)), {vs}.Create({I(Position(win, maxima, tap))}), at);");
        }
    }

    public static void Emit(KernelWriter kw, AdaptivePoolBackwardKernel k)
    {
        var dy = k.OutputGradient;
        var dx = k.InputGradient;
        kw.Doc(k.Title,
            $"dy: {dy.Describe()}; dx: {dx.Describe()} (added into: windows may overlap).",
            $"PyTorch's adaptive windows, as in the forward pass: output row oh averages input rows oh * {I(dx.H)} / {I(dy.H)} to ceil((oh + 1) * {I(dx.H)} / {I(dy.H)}) - 1 ({PoolEmitter.Windows(dx.H, dy.H)}), output column ow likewise ({PoolEmitter.Windows(dx.W, dy.W)}); each input pixel of a window gets dy / the window's area.");
        using (kw.Method(k.Method, "ref float dy, ref float dx"))
        {
            PoolEmitter.AdaptiveWindows(kw, dx, "dx", dy, "dy", "var g = Load(ref dyp, (nuint)c) * scale;", at => kw.Store($"Load(ref dxr, {at}) + g", $"ref dxr, {at}"), after: null);
        }
    }

    public static void Emit(KernelWriter kw, GlobalPoolBackwardKernel k)
    {
        var w = kw.W;
        var x = k.X;
        var dx = k.InputGradient;
        string vs = kw.Vs;
        kw.Doc(k.Title, $"Input: {x.Describe()}; dx: {dx.Describe()}.", k.Max ? "Each channel's gradient goes to its first maximum in row-major order." : $"Each pixel gets dy / {Count(x.H * x.W, "pixel")}.");
        using (kw.Method(k.Method, "ref float x, ref float y, ref float dy, ref float dx"))
        {
            if (k.Max)
            {
                w.Line($"var zero = Zero;");
            }

            using (w.Block($"for (int c = 0; c < {I(x.Cp)}; c += {I(kw.V)})"))
            {
                if (k.Max)
                {
                    w.Line($"var m = Load(ref y, (nuint)({I(k.Y.Origin)} + c));");
                    w.Line($"var g = Load(ref dy, (nuint)({I(k.OutputGradient.Origin)} + c));");
                    w.Line("var taken = zero;");
                }
                else
                {
                    w.Line($"var g = Load(ref dy, (nuint)({I(k.OutputGradient.Origin)} + c)) * Broadcast({SourceWriter.Float(k.Scale)});");
                }

                using (w.Block($"for (int h = 0; h < {I(x.H)}; h++)"))
                using (w.Block($"for (int p = 0; p < {I(x.W)}; p++)"))
                {
                    w.Line($"int dxp = {Lin("h", dx.RowStride, dx.Origin)} + (p * {I(dx.Cp)}) + c;");
                    string value = "g";
                    if (k.Max)
                    {
                        w.Line($"var first = {vs}.AndNot({vs}.Equals(Load(ref x, (nuint)({Lin("h", x.RowStride, x.Origin)} + (p * {I(x.Cp)}) + c)), m), taken);");
                        w.Line("taken |= first;");
                        value = $"{vs}.ConditionalSelect(first, g, zero)";
                    }

                    w.Line(kw.Store(k.Accumulate ? $"Load(ref dx, (nuint)dxp) + {value}" : value, "ref dx, (nuint)dxp"));
                }
            }
        }
    }
}
