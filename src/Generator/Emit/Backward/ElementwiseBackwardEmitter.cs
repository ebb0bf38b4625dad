using System;
using System.Collections.Generic;
using System.Linq;
using CnnGen.Generator.Emit.Kernels;
using CnnGen.Generator.Model;
using CnnGen.Generator.Planning;
using CnnGen.Generator.Planning.Kernels;
using static CnnGen.Generator.Emit.Kernels.KernelWriter;

namespace CnnGen.Generator.Emit.Backward;

/// <summary>
/// Writes the element-wise training kernels: activation derivatives, gradient routing (add, concat, residual), a
/// multiply's operand gradients (equal shapes, or a map and its per-channel scale), the loss gradient's entry, softmax's
/// backward, and dropout (mask, evaluation copy, backward).
/// </summary>
internal static class ElementwiseBackwardEmitter
{
    /// <summary>
    /// A loop over every stored vector of the interiors of tensors of one shape (their borders may differ): row by row for
    /// a map, once for a vector. <paramref name="body"/> gets each tensor's load/store target by name.
    /// </summary>
    private static void EachVector(KernelWriter kw, TensorPlan shape, IReadOnlyList<(string Name, TensorPlan Tensor)> tensors, Action<Func<string, string>> body)
    {
        var w = kw.W;
        if (shape.Layout == Layout.Flat)
        {
            using (w.Block($"for (int i = 0; i < {I(shape.Cp)}; i += {I(kw.V)})"))
            {
                body(name => $"ref {name}, (nuint)i");
            }

            return;
        }

        using (w.Block($"for (int h = 0; h < {I(shape.H)}; h++)"))
        {
            foreach (var (name, t) in tensors)
            {
                w.Line($"ref float {name}r = ref At(ref {name}, {Lin("h", t.RowStride, t.Origin)});");
            }

            using (w.Block($"for (int i = 0; i < {I((long)shape.W * shape.Cp)}; i += {I(kw.V)})"))
            {
                body(name => $"ref {name}r, (nuint)i");
            }
        }
    }

    private static string Load(KernelWriter kw, string target) => $"Load({target})";

    /// <summary>Stores <paramref name="value"/>, or adds it to what is there.</summary>
    private static string Write(KernelWriter kw, string target, string value, bool accumulate) =>
        kw.Store(accumulate ? $"{Load(kw, target)} + {value}" : value, target);

    public static void Emit(KernelWriter kw, ActivationBackwardKernel k)
    {
        var w = kw.W;
        var act = k.Activation;
        string source = k.FromInput ? "x" : "y";
        kw.Doc(k.Title,
            $"{(k.FromInput ? "Input" : "Output")}: {k.Source.Describe()}.",
            k.InputGradient is null ? $"dy: {k.OutputGradient.Describe()}, multiplied in place." : $"dy: {k.OutputGradient.Describe()}; dx: {k.InputGradient.Describe()}.",
            Convention(act, k.FromInput));
        bool inPlace = k.InputGradient is null;
        using (kw.Method(k.Method, inPlace ? $"ref float {source}, ref float dy" : $"ref float {source}, ref float dy, ref float dx"))
        {
            Constants(kw, act);
            var tensors = new List<(string, TensorPlan)> { (source, k.Source), ("dy", k.OutputGradient) };
            if (!inPlace)
            {
                tensors.Add(("dx", k.InputGradient!));
            }

            EachVector(kw, k.OutputGradient, tensors, at =>
            {
                w.Line($"var s = {Load(kw, at(source))};");
                w.Line($"var g = {Load(kw, at("dy"))};");
                w.Line(inPlace ? kw.Store(Derivative(kw, act, "s", "g"), at("dy")) : Write(kw, at("dx"), Derivative(kw, act, "s", "g"), k.Accumulate));
            });
        }
    }

    private static string Convention(ActivationSpec act, bool fromInput) => act.Kind switch
    {
        Activation.Relu => "ReLU passes the gradient where x > 0 (y > 0), as PyTorch.",
        Activation.Relu6 => "ReLU6 passes the gradient where 0 < x < 6 (0 < y < 6), as PyTorch.",
        Activation.LeakyRelu => $"LeakyReLU uses its slope {SourceWriter.Float(act.Alpha)} where x <= 0 ({(fromInput ? "from x: the slope is negative" : "y <= 0")}), as PyTorch.",
        Activation.Sigmoid => "Sigmoid: dy * (1 - y) * y, PyTorch's formula.",
        Activation.Tanh => "Tanh: dy * (1 - y^2), PyTorch's formula.",
        _ => "SiLU: dy * s * (1 + x * (1 - s)) with s = sigmoid(x), PyTorch's formula.",
    };

    private static void Constants(KernelWriter kw, ActivationSpec act)
    {
        var w = kw.W;
        if (act.Kind is Activation.Relu or Activation.Relu6 or Activation.LeakyRelu)
        {
            w.Line($"var zero = Zero;");
        }

        if (act.Kind == Activation.Relu6)
        {
            w.Line($"var six = Broadcast(6f);");
        }

        if (act.Kind == Activation.LeakyRelu)
        {
            w.Line($"var alpha = Broadcast({SourceWriter.Float(act.Alpha)});");
        }

        if (act.Kind is Activation.Sigmoid or Activation.Tanh or Activation.SiLU)
        {
            w.Line($"var one = {kw.Vt}.One;");
        }
    }

    /// <summary>dy times the derivative at <paramref name="s"/> (the output, or the input for SiLU and a negative slope).</summary>
    private static string Derivative(KernelWriter kw, ActivationSpec act, string s, string g)
    {
        string vs = kw.Vs;
        return act.Kind switch
        {
            Activation.Relu => $"{vs}.ConditionalSelect({vs}.GreaterThan({s}, zero), {g}, zero)",
            Activation.Relu6 => $"{vs}.ConditionalSelect({vs}.GreaterThan({s}, zero) & {vs}.LessThan({s}, six), {g}, zero)",
            Activation.LeakyRelu => $"{vs}.ConditionalSelect({vs}.GreaterThan({s}, zero), {g}, {g} * alpha)",
            Activation.Sigmoid => $"{g} * (one - {s}) * {s}",
            Activation.Tanh => $"{g} * (one - ({s} * {s}))",
            Activation.SiLU => $"{g} * ({Code.Simd}.Sigmoid({s}) * (one + ({s} * (one - {Code.Simd}.Sigmoid({s})))))",
            _ => g,
        };
    }

    public static void Emit(KernelWriter kw, MultiplyBackwardKernel k)
    {
        var w = kw.W;
        var dy = k.OutputGradient;
        var dx = k.InputGradient;
        var f = k.Factor;
        string op = k.Accumulate ? "added into" : "overwritten";
        switch (k.Gradient)
        {
            case MultiplyGradient.Operand:
            {
                kw.Doc(k.Title, $"dy: {dy.Describe()}; x, the other operand '{f.Name}': {f.Describe()}.", $"dx: {dx.Describe()} ({op}).");
                using (kw.Method(k.Method, "ref float dy, ref float x, ref float dx"))
                {
                    // Equal shapes: one loop over the stored vectors (rows of a map, or the vector); a map of 1 x 1 and a vector of its channels line up.
                    var shape = new[] { dy, f, dx }.FirstOrDefault(t => t.Layout != Layout.Flat) ?? dy;
                    using (w.BlockIf(shape.Layout != Layout.Flat, $"for (int h = 0; h < {I(shape.H)}; h++)"))
                    {
                        string Row(string name, TensorPlan t)
                        {
                            if (shape.Layout == Layout.Flat)
                            {
                                return name;
                            }

                            w.Line($"ref float {name}r = ref At(ref {name}, {Lin("h", t.RowStride, t.Origin)});");
                            return name + "r";
                        }

                        string dyr = Row("dy", dy), fr = Row("x", f), dxr = Row("dx", dx);
                        using (w.Block($"for (int i = 0; i < {I((long)shape.W * shape.Cp)}; i += {I(kw.V)})"))
                        {
                            string product = k.Accumulate
                                ? $"Fma({kw.Load(dyr, "(nuint)i")}, {kw.Load(fr, "(nuint)i")}, {kw.Load(dxr, "(nuint)i")})"
                                : $"{kw.Load(dyr, "(nuint)i")} * {kw.Load(fr, "(nuint)i")}";
                            w.Line(kw.Store(product, $"ref {dxr}, (nuint)i"));
                        }
                    }
                }

                return;
            }

            case MultiplyGradient.Map:
                kw.Doc(k.Title, $"dy: {dy.Describe()}; the scale '{f.Name}': {f.Describe()}, one value per channel.", $"d map: {dx.Describe()} ({op}).");
                using (kw.Method(k.Method, "ref float dy, ref float s, ref float dx"))
                using (w.Block($"for (int h = 0; h < {I(dx.H)}; h++)"))
                {
                    w.Line($"ref float dyr = ref At(ref dy, {Lin("h", dy.RowStride, dy.Origin)});");
                    w.Line($"ref float dxr = ref At(ref dx, {Lin("h", dx.RowStride, dx.Origin)});");
                    using (w.Block($"for (int w = 0; w < {I(dx.W)}; w++)"))
                    using (w.Block($"for (int c = 0; c < {I(dx.Cp)}; c += {I(kw.V)})"))
                    {
                        string at = $"(nuint)((w * {I(dx.Cp)}) + c)";
                        string g = kw.Load("dyr", at), scale = kw.Load("s", Off("c", f.Origin));
                        w.Line(kw.Store(k.Accumulate ? $"Fma({g}, {scale}, {kw.Load("dxr", at)})" : $"{g} * {scale}", $"ref dxr, {at}"));
                    }
                }

                return;
            default:
                kw.Doc(k.Title, $"dy: {dy.Describe()}; the map '{f.Name}': {f.Describe()}.", $"d scale: {dx.Describe()} ({op}): each row's sums are added in turn.");
                using (kw.Method(k.Method, "ref float dy, ref float x, ref float ds"))
                {
                    if (!k.Accumulate)
                    {
                        using (w.Block($"for (int c = 0; c < {I(dx.Cp)}; c += {I(kw.V)})"))
                        {
                            w.Line(kw.Store("Zero", $"ref ds, {Off("c", dx.Origin)}"));
                        }

                        w.Line();
                    }

                    using (w.Block($"for (int h = 0; h < {I(dy.H)}; h++)"))
                    {
                        w.Line($"ref float dyr = ref At(ref dy, {Lin("h", dy.RowStride, dy.Origin)});");
                        w.Line($"ref float xr = ref At(ref x, {Lin("h", f.RowStride, f.Origin)});");
                        using (w.Block($"for (int c = 0; c < {I(dy.Cp)}; c += {I(kw.V)})"))
                        {
                            w.Line("var sum = Zero;");
                            using (w.Block($"for (int w = 0; w < {I(dy.W)}; w++)"))
                            {
                                string at = $"(nuint)((w * {I(dy.Cp)}) + c)";
                                w.Line($"sum = Fma({kw.Load("dyr", at)}, {kw.Load("xr", at)}, sum);");
                            }

                            w.Line();
                            w.Line(kw.Store($"{kw.Load("ds", Off("c", dx.Origin))} + sum", $"ref ds, {Off("c", dx.Origin)}"));
                        }
                    }
                }

                return;
        }
    }

    public static void Emit(KernelWriter kw, GradientCopyKernel k)
    {
        var w = kw.W;
        var from = k.From;
        var to = k.To;
        kw.Doc(k.Title, $"From: {from.Describe()}.", $"To: {to.Describe()}.");
        using (kw.Method(k.Method, "ref float dy, ref float dx"))
        {
            if (k.ChannelOffset == 0 && from.Cp == to.Cp)
            {
                EachVector(kw, to, new[] { ("dy", from), ("dx", to) }, at => w.Line(Write(kw, at("dx"), Load(kw, at("dy")), k.Accumulate)));
                return;
            }

            using (w.BlockIf(to.Layout != Layout.Flat, $"for (int h = 0; h < {I(to.H)}; h++)"))
            using (w.BlockIf(to.Layout != Layout.Flat, $"for (int p = 0; p < {I(to.W)}; p++)"))
            {
                bool map = to.Layout != Layout.Flat;
                w.Line(map ? $"ref float source = ref At(ref dy, {Lin("h", from.RowStride, from.Origin + k.ChannelOffset)} + (p * {I(from.Cp)}));" : $"ref float source = ref At(ref dy, {I(k.ChannelOffset)});");
                w.Line(map ? $"ref float target = ref At(ref dx, {Lin("h", to.RowStride, to.Origin)} + (p * {I(to.Cp)}));" : "ref float target = ref dx;");
                if (k.Vectorized)
                {
                    using (w.Block($"for (int c = 0; c < {I(to.Cp)}; c += {I(kw.V)})"))
                    {
                        w.Line(Write(kw, "ref target, (nuint)c", Load(kw, "ref source, (nuint)c"), k.Accumulate));
                    }
                }
                else
                {
                    w.Line(k.Accumulate
                        ? $"{Code.TrainingBuffers}.Add(ref source, ref target, {I(to.C)});"
                        : $"{Code.Buffers}.Copy(ref source, ref target, {I(to.C)});");
                }
            }
        }
    }

    public static void Emit(KernelWriter kw, GradientInKernel k)
    {
        var w = kw.W;
        var y = k.Y;
        kw.Doc(k.Title, $"From: {k.Shape}, PyTorch's order.", $"To: {y.Describe()} (cleared before).");
        using (kw.Method(k.Method, "ref float source, ref float y"))
        {
            if (y.Layout == Layout.Flat)
            {
                w.Line($"{Code.Buffers}.Copy(ref source, ref y, {I(y.C)});");
                return;
            }

            w.Line("// Each row of every plane: a channels x width matrix, transposed into the row's pixels.");
            using (w.Block($"for (int h = 0; h < {I(y.H)}; h++)"))
            {
                w.Line($"{Code.Transpose}.Run(ref At(ref source, h * {I(y.W)}), {I(y.C)}, {I(y.W)}, {I((long)y.H * y.W)}, ref At(ref y, {Lin("h", y.RowStride, y.Origin)}), {I(y.Cp)});");
            }
        }
    }

    public static void Emit(KernelWriter kw, SoftmaxBackwardKernel k)
    {
        var w = kw.W;
        var y = k.Y;
        var dy = k.OutputGradient;
        var dx = k.InputGradient;
        string acc = k.Accumulate ? "true" : "false";
        kw.Doc(k.Title, $"Output: {y.Describe()}.", $"dx: {dx.Describe()}.");
        using (kw.Method(k.Method, "ref float y, ref float dy, ref float dx"))
        {
            if (y.Layout == Layout.Flat)
            {
                w.Line($"{Code.TrainingBuffers}.SoftmaxBackward(ref y, ref dy, ref dx, {I(y.C)}, {acc});");
                return;
            }

            using (w.Block($"for (int h = 0; h < {I(y.H)}; h++)"))
            using (w.Block($"for (int p = 0; p < {I(y.W)}; p++)"))
            {
                string At(string name, TensorPlan t) => $"ref At(ref {name}, {Lin("h", t.RowStride, t.Origin)} + (p * {I(t.PixelStride)}))";
                w.Line($"{Code.TrainingBuffers}.SoftmaxBackward({At("y", y)}, {At("dy", dy)}, {At("dx", dx)}, {I(y.C)}, {acc});");
            }
        }
    }

    public static void Emit(KernelWriter kw, DropoutKernel k)
    {
        var w = kw.W;
        var x = k.X;
        var y = k.Y;
        string vs = kw.Vs;
        bool map = y.Layout != Layout.Flat;
        kw.Doc(k.Title,
            $"Input: {x.Describe()}; output and mask: {y.Describe()}.",
            $"Element e of image n is kept when Reference.DropoutKeeps(seed, n * {I(k.Features)} + e, p), e in PyTorch's C, H, W order; kept elements are scaled by 1 / (1 - p).");
        using (kw.Method(k.Method, "ref float x, ref float y, ref float mask, uint seed, int image"))
        {
            w.Line($"var p = Broadcast({SourceWriter.Float(k.P)});");
            w.Line($"var scale = Broadcast({SourceWriter.Float(k.Scale)});");
            w.Line($"var zero = Zero;");
            w.Line($"var seeds = {vs}.Create(seed);");
            w.Line($"var lanes = {vs}.Create({string.Join(", ", Enumerable.Range(0, kw.V).Select(i => I(i) + "u"))});");
            w.Line($"uint first = unchecked((uint)image * {I(k.Features)}u);");
            if (map)
            {
                w.Line($"var planes = lanes * {I((long)y.H * y.W)}u; // lane j is channel c + j: its counter is {I((long)y.H * y.W)} further");
            }

            void Body(string counter, string channel, string load, string target)
            {
                w.Line($"var index = {vs}.Create({counter}) + {(map ? "planes" : "lanes")};");
                w.Line("var hash = seeds + (index * 0x9E3779B9u);");
                w.Line($"hash ^= {vs}.ShiftRightLogical(hash, 16);");
                w.Line("hash *= 0x7FEB352Du;");
                w.Line($"hash ^= {vs}.ShiftRightLogical(hash, 15);");
                w.Line("hash *= 0x846CA68Bu;");
                w.Line($"hash ^= {vs}.ShiftRightLogical(hash, 16);");
                w.Line($"var uniform = {vs}.ConvertToSingle({vs}.AsInt32({vs}.ShiftRightLogical(hash, 8))) * {vs}.Create(5.9604645E-08f); // (hash >> 8) / 2^24");
                w.Line($"var real = {vs}.AsSingle({vs}.LessThan({vs}.Create({channel}) + lanes, {vs}.Create({I(map ? x.C : y.C)}u)));");
                w.Line($"var m = {vs}.ConditionalSelect({vs}.GreaterThanOrEqual(uniform, p) & real, scale, zero);");
                w.Line(kw.Store("m", $"ref mask, {target}"));
                w.Line(kw.Store($"Load(ref x, {load}) * m", $"ref y, {target}"));
            }

            if (!map)
            {
                using (w.Block($"for (int k = 0; k < {I(y.Cp)}; k += {I(kw.V)})"))
                {
                    Body("first + (uint)k", "(uint)k", "(nuint)k", "(nuint)k");
                }
            }
            else
            {
                using (w.Block($"for (int h = 0; h < {I(y.H)}; h++)"))
                using (w.Block($"for (int q = 0; q < {I(y.W)}; q++)"))
                {
                    w.Line($"int xp = {Lin("h", x.RowStride, x.Origin)} + (q * {I(x.Cp)});");
                    w.Line($"int yp = {Lin("h", y.RowStride, y.Origin)} + (q * {I(y.Cp)});");
                    using (w.Block($"for (int c = 0; c < {I(y.Cp)}; c += {I(kw.V)})"))
                    {
                        Body($"first + (uint)((h * {I(y.W)}) + q + (c * {I((long)y.H * y.W)}))", "(uint)c", "(nuint)(xp + c)", "(nuint)(yp + c)");
                    }
                }
            }
        }

        w.Line();
        w.Line($"/// <summary>{Xml(k.LayerName)} in evaluation mode: the identity (a copy of the interior).</summary>");
        using (kw.Method(k.CopyMethod, "ref float x, ref float y"))
        {
            EachVector(kw, y, new[] { ("x", x), ("y", y) }, at => w.Line(kw.Store(Load(kw, at("x")), at("y"))));
        }
    }

    public static void Emit(KernelWriter kw, DropoutBackwardKernel k)
    {
        var w = kw.W;
        kw.Doc(k.Title, $"dy and the mask: {k.OutputGradient.Describe()}; dx: {k.InputGradient.Describe()}.");
        using (kw.Method(k.Method, "ref float dy, ref float mask, ref float dx"))
        {
            EachVector(kw, k.OutputGradient, new[] { ("dy", k.OutputGradient), ("mask", k.Mask), ("dx", k.InputGradient) }, at =>
                w.Line(Write(kw, at("dx"), $"{Load(kw, at("dy"))} * {Load(kw, at("mask"))}", k.Accumulate)));
        }
    }
}
