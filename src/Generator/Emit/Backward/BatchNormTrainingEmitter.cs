using CnnGen.Generator.Emit.Kernels;
using CnnGen.Generator.Planning;
using CnnGen.Generator.Planning.Kernels;
using static CnnGen.Generator.Emit.Kernels.KernelWriter;

namespace CnnGen.Generator.Emit.Backward;

/// <summary>
/// Writes batch norm's training kernels: one image's per-channel partial sums (<see cref="BatchNormStatisticsKernel"/>:
/// vector accumulators per row, widened to double and added per row, stored as doubles for thread 0 to combine in image
/// order) and the input gradient (<see cref="BatchNormBackwardKernel"/>).
/// </summary>
internal static class BatchNormTrainingEmitter
{
    public static void Emit(KernelWriter kw, BatchNormStatisticsKernel k)
    {
        var w = kw.W;
        var x = k.X;
        string vs = kw.Vs, vd = kw.Vs + "<double>";
        int v = kw.V, half = v / 2;
        string what = k.Kind switch
        {
            StatisticsKind.Sums => "statistics[c] = sum of x over the pixels",
            StatisticsKind.Squares => "statistics[c] = sum of (x - mean)^2 over the pixels, in double",
            _ => $"statistics[c] = sum of dy, statistics[{I(x.Cp)} + c] = sum of dy * (x - mean), over the pixels",
        };
        kw.Doc(k.Title, $"Input: {x.Describe()}" + (k.OutputGradient is { } g ? $"; dy: {g.Describe()}." : "."), what + ".");
        string parameters = k.Kind switch
        {
            StatisticsKind.Sums => "ref float x, ref double statistics",
            StatisticsKind.Squares => "ref float x, ref double statistics, double[] mean",
            _ => "ref float x, ref float dy, ref double statistics, float[] mean",
        };
        using (kw.Method(k.Method, parameters))
        {
            if (k.Kind != StatisticsKind.Sums)
            {
                string type = k.Kind == StatisticsKind.Squares ? "double" : "float";
                w.Line($"ref {type} m = ref {Code.MemoryMarshal}.GetArrayDataReference(mean);");
            }

            using (w.Block($"for (int c = 0; c < {I(x.Cp)}; c += {I(v)})"))
            {
                w.Line($"{vd} lo = {vd}.Zero, hi = {vd}.Zero;");
                if (k.Kind == StatisticsKind.Gradients)
                {
                    w.Line($"{vd} dotLo = {vd}.Zero, dotHi = {vd}.Zero;");
                    w.Line($"var mc = Load(ref m, (nuint)c);");
                }
                else if (k.Kind == StatisticsKind.Squares)
                {
                    w.Line($"var meanLo = {vs}.LoadUnsafe(ref m, (nuint)c);");
                    w.Line($"var meanHi = {vs}.LoadUnsafe(ref m, (nuint)(c + {I(half)}));");
                }

                using (w.Block($"for (int h = 0; h < {I(x.H)}; h++)"))
                {
                    w.Line($"ref float row = ref At(ref x, {Lin("h", x.RowStride, x.Origin)});");
                    if (k.Kind == StatisticsKind.Gradients)
                    {
                        var dy = k.OutputGradient!;
                        w.Line($"ref float grow = ref At(ref dy, {Lin("h", dy.RowStride, dy.Origin)});");
                        w.Line($"{kw.Vt} sum = Zero, dot = Zero;");
                        using (w.Block($"for (int p = 0; p < {I(x.W)}; p++)"))
                        {
                            w.Line($"var g = Load(ref grow, (nuint)((p * {I(dy.Cp)}) + c));");
                            w.Line("sum += g;");
                            w.Line($"dot = Fma(g, Load(ref row, (nuint)((p * {I(x.Cp)}) + c)) - mc, dot);");
                        }

                        w.Line($"lo += {vs}.WidenLower(sum);");
                        w.Line($"hi += {vs}.WidenUpper(sum);");
                        w.Line($"dotLo += {vs}.WidenLower(dot);");
                        w.Line($"dotHi += {vs}.WidenUpper(dot);");
                    }
                    else if (k.Kind == StatisticsKind.Sums)
                    {
                        w.Line($"var sum = Zero;");
                        using (w.Block($"for (int p = 0; p < {I(x.W)}; p++)"))
                        {
                            w.Line($"sum += Load(ref row, (nuint)((p * {I(x.Cp)}) + c));");
                        }

                        w.Line($"lo += {vs}.WidenLower(sum);");
                        w.Line($"hi += {vs}.WidenUpper(sum);");
                    }
                    else
                    {
                        using (w.Block($"for (int p = 0; p < {I(x.W)}; p++)"))
                        {
                            w.Line($"var value = Load(ref row, (nuint)((p * {I(x.Cp)}) + c));");
                            w.Line($"var dl = {vs}.WidenLower(value) - meanLo;");
                            w.Line($"var dh = {vs}.WidenUpper(value) - meanHi;");
                            w.Line($"lo = {vs}.FusedMultiplyAdd(dl, dl, lo);");
                            w.Line($"hi = {vs}.FusedMultiplyAdd(dh, dh, hi);");
                        }
                    }
                }

                w.Line($"{kw.Vs}.StoreUnsafe(lo, ref statistics, (nuint)c);"); // double: the vocabulary's Store is for floats
                w.Line($"{kw.Vs}.StoreUnsafe(hi, ref statistics, (nuint)(c + {I(half)}));");
                if (k.Kind == StatisticsKind.Gradients)
                {
                    w.Line($"{kw.Vs}.StoreUnsafe(dotLo, ref statistics, (nuint)(c + {I(x.Cp)}));");
                    w.Line($"{kw.Vs}.StoreUnsafe(dotHi, ref statistics, (nuint)(c + {I(x.Cp + half)}));");
                }
            }
        }
    }

    public static void Emit(KernelWriter kw, BatchNormBackwardKernel k)
    {
        var w = kw.W;
        var x = k.X;
        var dy = k.OutputGradient;
        var dx = k.InputGradient;
        string vs = kw.Vs;
        kw.Doc(k.Title,
            $"Input: {x.Describe()}; dy: {dy.Describe()}; dx: {dx.Describe()}.",
            "dx = (dy - meanGradient - (x - mean) * projection) * scale, with scale = gamma / sqrt(var + eps) and the batch's sums combined by thread 0.");
        using (kw.Method(k.Method, "ref float x, ref float dy, ref float dx, float[] mean, float[] scale, float[] meanGradient, float[] projection"))
        {
            kw.ArrayRef("m", "mean");
            kw.ArrayRef("s", "scale");
            kw.ArrayRef("mg", "meanGradient");
            kw.ArrayRef("pr", "projection");
            using (w.Block($"for (int h = 0; h < {I(x.H)}; h++)"))
            using (w.Block($"for (int p = 0; p < {I(x.W)}; p++)"))
            {
                w.Line($"int xp = {Lin("h", x.RowStride, x.Origin)} + (p * {I(x.Cp)});");
                w.Line($"int gp = {Lin("h", dy.RowStride, dy.Origin)} + (p * {I(dy.Cp)});");
                w.Line($"int dp = {Lin("h", dx.RowStride, dx.Origin)} + (p * {I(dx.Cp)});");
                using (w.Block($"for (int c = 0; c < {I(x.Cp)}; c += {I(kw.V)})"))
                {
                    w.Line($"var centered = Load(ref x, (nuint)(xp + c)) - Load(ref m, (nuint)c);");
                    w.Line($"var g = Load(ref dy, (nuint)(gp + c)) - Load(ref mg, (nuint)c) - (centered * Load(ref pr, (nuint)c));");
                    string value = $"g * Load(ref s, (nuint)c)";
                    w.Line(kw.Store(k.Accumulate ? $"Load(ref dx, (nuint)(dp + c)) + {value}" : value, "ref dx, (nuint)(dp + c)"));
                }
            }
        }
    }
}
