using System.Linq;
using CnnGen.Generator.Planning.Kernels;
using static CnnGen.Generator.Emit.Kernels.KernelWriter;
using static CnnGen.Generator.Model.Words;

namespace CnnGen.Generator.Emit.Kernels;

/// <summary>
/// Writes a pixel-vectorized first convolution (<see cref="PixelConvKernel"/>): a driver per output row (two
/// convolution rows when a 2x2 max pool is fused) calling the pixels method, then transposing each block of the
/// staging buffer to HWC; the pixels method holds one accumulator per filter, block (and row when pooled).
/// </summary>
internal static class PixelConvEmitter
{
    public static void Emit(KernelWriter kw, PixelConvKernel k)
    {
        Driver(kw, k);
        kw.W.Line();
        Pixels(kw, k);
    }

    private static void Driver(KernelWriter kw, PixelConvKernel k)
    {
        var w = kw.W;
        var win = k.Window;
        var x = k.X;
        var y = k.Y;
        int v = kw.V, oc = k.Filters, rows = k.StageRows;
        string blocks = string.Join(", ", k.Blocks.Select(b => I(b)));
        if (k.Pooled)
        {
            kw.Doc($"{k.LayerName}: {k.DisplayKind} + {k.PoolLayer} (MaxPool2D 2x2, fused) -> {k.PooledShape}",
                $"Input: {x.Describe()}.",
                $"Output (pooled): {y.Describe()}.",
                $"Kernel {I(win.KernelH)}x{I(win.KernelW)}, padding {I(win.PadTop)}/{I(win.PadLeft)}/{I(win.PadBottom)}/{I(win.PadRight)} read from the input's zero border; only {Count(oc, "filter")}, so vectors run over {Count(v, "output pixel")} (blocks at {blocks}).",
                $"Two convolution rows per step ({Count(2 * k.Blocks.Count * oc, "accumulator")}), then the 2x2 max in registers; the {I(k.ConvHeight)}x{I(k.ConvWidth)} convolution output is never stored.");
        }
        else
        {
            kw.Doc(k.Title,
                $"Input: {x.Describe()}.",
                $"Output: {y.Describe()}.",
                $"Kernel {I(win.KernelH)}x{I(win.KernelW)}, stride {I(win.StrideH)}x1, dilation {I(win.DilationH)}x{I(win.DilationW)}, padding {I(win.PadTop)}/{I(win.PadLeft)}/{I(win.PadBottom)}/{I(win.PadRight)} read from the input's zero border.",
                $"Only {Count(oc, "filter")}: vectors run over {Count(v, "output pixel")} of a row instead, in blocks starting at {blocks}"
                    + $"; {Count(k.CallBlocks.Count * oc, "accumulator")} ({(k.WholeRow ? "the whole row at once" : "one block at a time")}), each weight broadcast.",
                $"Weights: [{Count(k.Channels, "channel")}][{Count(win.Taps, "tap")}][{Count(oc, "filter")}]; each block is transposed to HWC through a {I(rows)} x {I(v)} staging block.");
        }

        using (kw.Method(k.Method, Parameters(1, "weight", "bias")))
        {
            kw.ArrayRef("w", "weight");
            kw.ArrayRef("b", "bias");
            string stageNote = k.Pooled ? $"per block: a row of {Count(k.BlockPixels, "pooled pixel")} per filter; rows {I(oc)}.. stay zero" : $"rows {I(oc)}.. of each block stay zero";
            w.Line($"{Code.Span}<float> stage = stackalloc float[{I(k.StageFloats)}]; // {stageNote}");
            w.Line($"ref float st = ref {Code.MemoryMarshal}.GetReference(stage);");
            string row = k.Pooled ? "ph" : "oh";
            using (w.Block($"for (int {row} = 0; {row} < {I(y.H)}; {row}++)"))
            {
                w.Line($"ref float xr = ref At(ref x, {Lin(row, k.XRowStep, k.XOrigin)});");
                w.Line($"ref float yr = ref At(ref y, {Lin(row, y.RowStride, y.Origin)});");
                if (k.WholeRow)
                {
                    w.Line($"{k.PixelsMethod}(ref xr, ref w, ref b, ref st);");
                    for (int b = 0; b < k.Blocks.Count; b++)
                    {
                        w.Line($"{Code.Transpose}.Run({Ref("st", I((long)b * rows * v))}, {I(rows)}, {I(k.BlockPixels)}, {I(v)}, ref At(ref yr, {I(k.BlockOutputOffsets[b])}), {I(y.Cp)});");
                    }
                }
                else
                {
                    for (int b = 0; b < k.Blocks.Count; b++)
                    {
                        w.Line($"{k.PixelsMethod}(ref At(ref xr, {I(k.Blocks[b])}), ref w, ref b, ref st);");
                        w.Line($"{Code.Transpose}.Run(ref st, {I(rows)}, {I(k.BlockPixels)}, {I(v)}, ref At(ref yr, {I(k.BlockOutputOffsets[b])}), {I(y.Cp)});");
                    }
                }
            }
        }
    }

    /// <summary>The accumulators of one call: per (row when pooled,) block and filter.</summary>
    private static string Acc(PixelConvKernel k, int r, int b) => k.Pooled ? $"a{I(r)}_{I(b)}_" : $"a{I(b)}_";

    private static string Input(PixelConvKernel k, int r, int b) => k.Pooled ? $"x{I(r)}_{I(b)}" : $"x{I(b)}";

    private static void Pixels(KernelWriter kw, PixelConvKernel k)
    {
        var w = kw.W;
        var win = k.Window;
        var x = k.X;
        int v = kw.V, oc = k.Filters, convRows = k.Pooled ? 2 : 1;
        var calls = k.CallBlocks;
        w.Line(k.Pooled
            ? $"/// <summary>Two rows of {Count(calls.Count * v, "convolution pixel")} of {Xml(k.LayerName)}, pooled 2x2 into one staging row per filter and block.</summary>"
            : $"/// <summary>{Count(calls.Count * v, "output pixel")} of {Xml(k.LayerName)} for all {Count(oc, "filter")}, one staging row per filter and block.</summary>");
        using (kw.Method(k.PixelsMethod, "ref float x, ref float w, ref float b, ref float stage"))
        {
            kw.ActConstants(k.Activation);
            kw.Biases(oc, o => $"Broadcast({(o == 0 ? "b" : $"At(ref b, {I(o)})")})");
            kw.Accumulators(Enumerable.Range(0, convRows).SelectMany(r => Enumerable.Range(0, calls.Count).Select(b => Acc(k, r, b))), oc, o => $"bias{I(o)}");
            int taps = win.Taps;
            for (int ic = 0; ic < k.Channels; ic++)
            {
                var input = ("x", (long)ic * x.ChannelStride, (long)win.DilationH * x.RowStride, (long)win.DilationW);
                var weights = ("w", (long)ic * taps * oc, (long)win.KernelW * oc, (long)oc);
                int channel = ic;
                kw.Window(k.Unroll, win.KernelH, win.KernelW, input, weights, tap =>
                {
                    w.Line($"// channel {I(channel)}, {tap.Name}");
                    using (w.Block())
                    {
                        for (int o = 0; o < oc; o++)
                        {
                            w.Line($"var w{I(o)} = Broadcast(At(ref {tap.W}, {I(tap.WOffset + o)}));");
                        }

                        for (int r = 0; r < convRows; r++)
                        {
                            for (int b = 0; b < calls.Count; b++)
                            {
                                long off = tap.XOffset + (r * k.ConvRowStep) + calls[b];
                                w.Line($"var {Input(k, r, b)} = {kw.Load(tap.X, Off(off))};");
                                for (int o = 0; o < oc; o++)
                                {
                                    string a = Acc(k, r, b) + I(o);
                                    w.Line($"{a} = Fma({Input(k, r, b)}, w{I(o)}, {a});");
                                }
                            }
                        }
                    }
                });
            }

            if (k.Pooled)
            {
                Pool(kw, k);
            }
            else
            {
                for (int b = 0; b < calls.Count; b++)
                {
                    for (int o = 0; o < oc; o++)
                    {
                        w.Line(kw.Store(kw.Act(k.Activation, Acc(k, 0, b) + I(o)), $"ref stage, {I(((long)b * k.StageRows * v) + ((long)o * v))}"));
                    }
                }
            }
        }
    }

    /// <summary>The fused 2x2 max: across the two rows, then across neighbouring pixels (even and odd lanes), into the staging rows.</summary>
    private static void Pool(KernelWriter kw, PixelConvKernel k)
    {
        var w = kw.W;
        string vs = kw.Vs;
        w.Line();
        w.Line("// 2x2 max: across the two rows, then across neighbouring pixels (even and odd lanes).");
        string even = string.Join(", ", k.EvenLanes.Select(i => I(i)));
        string odd = string.Join(", ", k.OddLanes.Select(i => I(i)));
        // The shuffle indices stay literal in each call: .NET 9's NativeAOT compiler only emits a single permute
        // instruction for constant indices it sees in the call itself (through a local it fell back to software).
        for (int b = 0; b < k.CallBlocks.Count; b++)
        {
            for (int o = 0; o < k.Filters; o++)
            {
                string m = $"m{I(b)}_{I(o)}";
                w.Line($"var {m} = Max({kw.Act(k.Activation, Acc(k, 0, b) + I(o))}, {kw.Act(k.Activation, Acc(k, 1, b) + I(o))});");
                w.Line(kw.Store($"Max({vs}.Shuffle({m}, {vs}.Create({even})), {vs}.Shuffle({m}, {vs}.Create({odd})))", $"ref stage, {I(((long)b * k.StageRows * kw.V) + ((long)o * kw.V))}"));
            }
        }
    }
}
