using System;
using System.Collections.Generic;
using System.Linq;
using CnnGen.Generator.Planning;
using CnnGen.Generator.Planning.Kernels;
using static CnnGen.Generator.Emit.Kernels.KernelWriter;

namespace CnnGen.Generator.Emit.Kernels;

/// <summary>Writes the element-wise kernels: activation, batch norm, add, multiply, concat and softmax.</summary>
internal static class ElementwiseEmitter
{
    /// <summary>
    /// A loop over every stored vector of the tensors' interiors, row by row (a split kernel's range of rows);
    /// <paramref name="body"/> gets each input's load.
    /// </summary>
    private static void ForEachVector(KernelWriter kw, KernelSpec k, IReadOnlyList<TensorPlan> ins, TensorPlan y, Action<IReadOnlyList<string>> body)
    {
        var w = kw.W;
        string Name(int n) => ins.Count == 1 ? "x" : "x" + I(n);
        if (y.Layout == Layout.Flat)
        {
            using (w.Block($"for (int i = 0; i < {I(y.Cp)}; i += {I(kw.V)})"))
            {
                body(ins.Select((_, n) => $"Load(ref {Name(n)}, (nuint)i)").ToList());
            }

            return;
        }

        using (w.Block(RowLoop(k, y.H, "h")))
        {
            for (int n = 0; n < ins.Count; n++)
            {
                w.Line($"ref float {Name(n)}r = ref At(ref {Name(n)}, {Lin("h", ins[n].RowStride, ins[n].Origin)});");
            }

            w.Line($"ref float yr = ref At(ref y, {Lin("h", y.RowStride, y.Origin)});");
            using (w.Block($"for (int i = 0; i < {I((long)y.W * y.Cp)}; i += {I(kw.V)})"))
            {
                body(ins.Select((_, n) => $"Load(ref {Name(n)}r, (nuint)i)").ToList());
            }
        }
    }

    private static string StoreTarget(TensorPlan y) => y.Layout == Layout.Flat ? "ref y, (nuint)i" : "ref yr, (nuint)i";

    public static void Emit(KernelWriter kw, ActivationKernel k)
    {
        kw.Doc(k.Title, SplitRemarks(k, "output rows", "row", $"Input: {k.X.Describe()}.", $"Output: {k.Y.Describe()}."));
        using (kw.Method(k.Method, Parameters(1) + RangeParameters(k)))
        {
            kw.ActConstants(k.Activation);
            ForEachVector(kw, k, new[] { k.X }, k.Y, v => kw.W.Line(kw.Store(kw.Act(k.Activation, v[0]), StoreTarget(k.Y))));
        }
    }

    public static void Emit(KernelWriter kw, BatchNormKernel k)
    {
        var w = kw.W;
        var x = k.X;
        var y = k.Y;
        kw.Doc(k.Title, SplitRemarks(k, "output rows", "row", $"Input: {x.Describe()}.", $"Output: {y.Describe()}.",
            $"Eval-mode batch norm (eps {SourceWriter.Float(k.Eps)}) as y = x * scale + shift per channel, computed at load."));
        using (kw.Method(k.Method, Parameters(1, "scale", "shift") + RangeParameters(k)))
        {
            kw.ActConstants(k.Activation);
            kw.ArrayRef("sc", "scale");
            kw.ArrayRef("sh", "shift");
            ForEachPixelVector(kw, k, x, y, (load, target) =>
            {
                w.Line($"var v = Fma({load}, Load(ref sc, (nuint)c), Load(ref sh, (nuint)c));");
                w.Line(kw.Store(kw.Act(k.Activation, "v"), target));
            });
        }
    }

    /// <summary>
    /// A loop over every pixel of <paramref name="x"/> and <paramref name="y"/> (same height and width), row by row (a split
    /// kernel's range of rows), and over its vectors of channels <c>c</c>, for per-channel operations; <paramref name="body"/>
    /// gets x's load and y's store target.
    /// </summary>
    private static void ForEachPixelVector(KernelWriter kw, KernelSpec k, TensorPlan x, TensorPlan y, Action<string, string> body)
    {
        var w = kw.W;
        using (w.Block(RowLoop(k, y.H, "h")))
        {
            w.Line($"ref float xr = ref At(ref x, {Lin("h", x.RowStride, x.Origin)});");
            w.Line($"ref float yr = ref At(ref y, {Lin("h", y.RowStride, y.Origin)});");
            using (w.Block($"for (int w = 0; w < {I(y.W)}; w++)"))
            using (w.Block($"for (int c = 0; c < {I(y.Cp)}; c += {I(kw.V)})"))
            {
                body($"Load(ref xr, (nuint)((w * {I(x.Cp)}) + c))", $"ref yr, (nuint)((w * {I(y.Cp)}) + c)");
            }
        }
    }

    public static void Emit(KernelWriter kw, AddKernel k)
    {
        kw.Doc(k.Title, SplitRemarks(k, "output rows", "row", k.Inputs.Select((t, n) => $"Input {I(n)}: {t.Describe()}.").Concat(new[] { $"Output: {k.Y.Describe()}." }).ToArray()));
        using (kw.Method(k.Method, Parameters(k.Inputs.Count) + RangeParameters(k)))
        {
            kw.ActConstants(k.Activation);
            ForEachVector(kw, k, k.Inputs, k.Y, v =>
            {
                kw.W.Line($"var sum = {string.Join(" + ", v)};");
                kw.W.Line(kw.Store(kw.Act(k.Activation, "sum"), StoreTarget(k.Y)));
            });
        }
    }

    public static void Emit(KernelWriter kw, MultiplyKernel k)
    {
        var w = kw.W;
        var x = k.X;
        var s = k.Other;
        var y = k.Y;
        if (!k.Broadcast)
        {
            kw.Doc(k.Title, SplitRemarks(k, "output rows", "row", $"Input 0: {x.Describe()}.", $"Input 1: {s.Describe()}.", $"Output: {y.Describe()}."));
            using (kw.Method(k.Method, Parameters(2) + RangeParameters(k)))
            {
                kw.ActConstants(k.Activation);
                ForEachVector(kw, k, new[] { x, s }, y, v =>
                {
                    w.Line($"var product = {v[0]} * {v[1]};");
                    w.Line(kw.Store(kw.Act(k.Activation, "product"), StoreTarget(y)));
                });
            }

            return;
        }

        kw.Doc(k.Title, SplitRemarks(k, "output rows", "row", $"Input: {x.Describe()}.", $"Scale: '{s.Name}', {s.Describe()}: one value per channel, broadcast over every pixel.", $"Output: {y.Describe()}."));
        using (kw.Method(k.Method, "ref float x, ref float s, ref float y" + RangeParameters(k)))
        {
            kw.ActConstants(k.Activation);
            if (s.Origin != 0)
            {
                w.Line($"ref float sc = ref At(ref s, {I(s.Origin)});");
            }

            string scale = s.Origin != 0 ? "sc" : "s";
            ForEachPixelVector(kw, k, x, y, (load, target) =>
            {
                w.Line($"var product = {load} * Load(ref {scale}, (nuint)c);");
                w.Line(kw.Store(kw.Act(k.Activation, "product"), target));
            });
        }
    }

    public static void Emit(KernelWriter kw, ConcatKernel k)
    {
        var w = kw.W;
        var y = k.Y;
        kw.Doc(k.Title, k.Inputs.Select((t, n) => $"Input {I(n)}: {t.Describe()}.").Concat(new[] { $"Output: {y.Describe()}: channels of each input in order." }).ToArray());
        using (kw.Method(k.Method, Parameters(k.Inputs.Count)))
        using (w.Block($"for (int h = 0; h < {I(y.H)}; h++)"))
        using (w.Block($"for (int w = 0; w < {I(y.W)}; w++)"))
        {
            w.Line($"ref float yp = ref At(ref y, {I(y.Origin)} + (h * {I(y.RowStride)}) + (w * {I(y.Cp)}));");
            for (int n = 0; n < k.Inputs.Count; n++)
            {
                var t = k.Inputs[n];
                w.Line($"{Code.Buffers}.Copy(ref At(ref x{I(n)}, {I(t.Origin)} + (h * {I(t.RowStride)}) + (w * {I(t.Cp)})), ref At(ref yp, {I(k.ChannelOffsets[n])}), {I(t.C)});");
            }
        }
    }

    public static void Emit(KernelWriter kw, SoftmaxKernel k)
    {
        var w = kw.W;
        var x = k.X;
        var y = k.Y;
        kw.Doc(k.Title, $"Input: {x.Describe()}.", $"Output: {y.Describe()}.", "Max-subtracted, so large logits do not overflow.");
        using (kw.Method(k.Method, Parameters(1)))
        {
            if (y.Layout == Layout.Flat)
            {
                w.Line($"{Code.Buffers}.Softmax(ref x, ref y, {I(y.C)});");
            }
            else
            {
                using (w.Block($"for (int h = 0; h < {I(y.H)}; h++)"))
                using (w.Block($"for (int w = 0; w < {I(y.W)}; w++)"))
                {
                    w.Line($"{Code.Buffers}.Softmax(ref At(ref x, {I(x.Origin)} + (h * {I(x.RowStride)}) + (w * {I(x.PixelStride)})), ref At(ref y, {I(y.Origin)} + (h * {I(y.RowStride)}) + (w * {I(y.PixelStride)})), {I(y.C)});");
                }
            }
        }
    }
}
