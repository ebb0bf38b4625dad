using CnnGen.Generator.Planning.Kernels;
using static CnnGen.Generator.Emit.Kernels.KernelWriter;
using static CnnGen.Generator.Model.Words;

namespace CnnGen.Generator.Emit.Kernels;

/// <summary>Writes the layout kernels: packing the NCHW input (checking it for NaN and infinity) and copying the output back to NCHW.</summary>
internal static class LayoutEmitter
{
    public static void Emit(KernelWriter kw, PackInputKernel k)
    {
        var w = kw.W;
        var y = k.Y;
        if (k.InPlace)
        {
            w.Line($"/// <summary>Checks the NCHW input ({Count((long)k.C * k.H * k.W, "float")}) for NaN and infinity; the next step reads it in place. False when it holds any.</summary>");
            using (kw.Method(k.Method, "ref float x", returns: "bool"))
            {
                w.Line($"return {Code.Buffers}.Finite(ref x, {I((long)k.C * k.H * k.W)});");
            }

            return;
        }

        w.Line(k.Split
            ? $"/// <summary>Copies rows rowStart to rowEnd - 1 of the NCHW input into {Xml(y.Describe())}; returns false when they hold NaN or infinity (checked in the same pass). The threads sharing an image each take a range; the one given row 0 clears the border.</summary>"
            : $"/// <summary>Copies the NCHW input into {Xml(y.Describe())}; returns false when the input holds NaN or infinity (checked in the same pass).</summary>");
        using (kw.Method(k.Method, "ref float x, ref float y" + RangeParameters(k), returns: "bool"))
        {
            w.Line("bool finite = true;");
            string clears = k.Split ? "rowStart == 0 && rowEnd > 0" : "true"; // one thread clears: with more threads than rows, others start at 0 too
            if (k.Planar)
            {
                using (w.Block($"for (int c = 0; c < {I(k.C)}; c++)"))
                {
                    w.Line($"ref float plane = ref At(ref y, c * {I((long)y.Rows * y.RowPixels)});");
                    using (w.BlockIf(k.Split, $"if ({clears})"))
                    {
                        w.Line($"{Code.Buffers}.ClearBorder(ref plane, {I(y.Rows)}, {I(y.RowPixels)}, 1, {I(y.BorderTop)}, {I(y.BorderLeft)}, {I(y.BorderBottom)}, {I(y.BorderRight)});");
                    }

                    if (k.Split)
                    {
                        w.Line();
                    }

                    using (w.Block(RowLoop(k, k.H, "h")))
                    {
                        w.Line($"finite &= {Code.Buffers}.CopyFinite(ref At(ref x, (c * {I((long)k.H * k.W)}) + (h * {I(k.W)})), ref At(ref plane, {Lin("h", y.RowPixels, y.Origin)}), {I(k.W)});");
                    }
                }
            }
            else
            {
                if (y.HasBorder)
                {
                    using (w.BlockIf(k.Split, $"if ({clears})"))
                    {
                        w.Line($"{Code.Buffers}.ClearBorder(ref y, {I(y.Rows)}, {I(y.RowPixels)}, {I(y.Cp)}, {I(y.BorderTop)}, {I(y.BorderLeft)}, {I(y.BorderBottom)}, {I(y.BorderRight)});");
                    }
                }

                w.Line("// Each input row is a channels x width matrix; transposing it gives the row's pixels, channels innermost.");
                using (w.Block(RowLoop(k, k.H, "h")))
                {
                    w.Line($"finite &= {Code.Transpose}.RunFinite(ref At(ref x, h * {I(k.W)}), {I(k.C)}, {I(k.W)}, {I((long)k.H * k.W)}, ref At(ref y, {Lin("h", y.RowStride, y.Origin)}), {I(y.Cp)});");
                }
            }

            w.Line();
            w.Line("return finite;");
        }
    }

    public static void Emit(KernelWriter kw, CopyOutputKernel k)
    {
        var w = kw.W;
        var x = k.X;
        int c = x.C, h = x.H, wd = x.W;
        w.Line($"/// <summary>Writes {Xml(x.Describe())} to the output as {Xml(k.OutputShape)} in PyTorch's order.</summary>");
        using (kw.Method(k.Method, "ref float x, ref float y"))
        {
            switch (k.Mode)
            {
                case CopyMode.Whole:
                    w.Line($"{Code.Buffers}.Copy(ref x, ref y, {I((long)c * h * wd)});");
                    break;
                case CopyMode.PlanarRows:
                    using (w.Block($"for (int c = 0; c < {I(c)}; c++)"))
                    using (w.Block($"for (int h = 0; h < {I(h)}; h++)"))
                    {
                        w.Line($"{Code.Buffers}.Copy(ref At(ref x, (c * {I((long)x.Rows * x.RowPixels)}) + {Lin("h", x.RowPixels, x.Origin)}), ref At(ref y, (c * {I((long)h * wd)}) + (h * {I(wd)})), {I(wd)});");
                    }

                    break;
                default:
                    w.Line("// Each stored row is a width x channels matrix; transposing it gives one row of every output plane.");
                    using (w.Block($"for (int h = 0; h < {I(h)}; h++)"))
                    {
                        w.Line($"{Code.Transpose}.Run(ref At(ref x, {Lin("h", x.RowStride, x.Origin)}), {I(wd)}, {I(c)}, {I(x.Cp)}, ref At(ref y, h * {I(wd)}), {I((long)h * wd)});");
                    }

                    break;
            }
        }
    }
}
