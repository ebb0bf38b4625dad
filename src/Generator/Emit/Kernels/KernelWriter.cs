using System;
using System.Collections.Generic;
using System.Linq;
using CnnGen.Generator.Model;
using CnnGen.Generator.Planning;
using CnnGen.Generator.Planning.Kernels;

namespace CnnGen.Generator.Emit.Kernels;

/// <summary>
/// What every kernel emitter shares: the writer, the width's vector names, and the few expressions every family
/// writes (loads, offsets, activations, accumulator set-up, doc comments, method headers). Knows nothing of any
/// kernel family.
/// </summary>
internal sealed class KernelWriter
{
    public KernelWriter(SourceWriter writer, NetworkPlan plan, bool trainerBuffers = false)
    {
        W = writer;
        Plan = plan;
        TrainerBuffers = trainerBuffers;
        Buffer = trainerBuffers ? Code.TrainingBuffer : "float[]";
        V = plan.Width;
        Vs = Code.Vector(plan.Width);
        Vt = Vs + "<float>";
        VectorName = "Vector" + I(plan.Width * 32L);
    }

    public SourceWriter W { get; }

    public NetworkPlan Plan { get; }

    /// <summary>
    /// The type of the weight, bias and gradient buffers the kernels take: <c>float[]</c> in a network's kernel class, the
    /// trainer's windows on cache lines (<see cref="Code.TrainingBuffer"/>) in a trainer's; <c>Data</c> reads either.
    /// </summary>
    public string Buffer { get; }

    /// <summary>Whether the kernels are a trainer's, taking <see cref="Code.TrainingBuffer"/> windows rather than arrays.</summary>
    public bool TrainerBuffers { get; }

    /// <summary>Floats per vector.</summary>
    public int V { get; }

    /// <summary>The static vector class (<c>Vector256</c>).</summary>
    public string Vs { get; }

    /// <summary>The vector type (<c>Vector256&lt;float&gt;</c>).</summary>
    public string Vt { get; }

    /// <summary>The vector class's short name for prose (<c>Vector256</c>).</summary>
    public string VectorName { get; }

    public static string I(long v) => SourceWriter.Int(v);

    /// <summary><c>ref At(ref r, offset)</c> (the vocabulary's <c>Unsafe.Add</c>), or <c>ref r</c> at offset "0".</summary>
    public static string Ref(string reference, string offset) => offset == "0" ? "ref " + reference : $"ref At(ref {reference}, {offset})";

    /// <summary>An unaligned vector load at a float offset: <c>Load(ref r, offset)</c>.</summary>
    public string Load(string reference, string offset) => offset == "0" ? $"Load(ref {reference})" : $"Load(ref {reference}, {offset})";

    /// <summary>A vector store: <c>Store(value, ref target, offset);</c>.</summary>
    public string Store(string value, string target) => $"Store({value}, {target});";

    /// <summary>A constant offset for <see cref="Load"/>.</summary>
    public static string Off(long constant) => I(constant);

    /// <summary>A variable plus a constant, as the <c>nuint</c> offset <see cref="Load"/> takes.</summary>
    public static string Off(string variable, long constant) => constant == 0 ? $"(nuint){variable}" : $"(nuint)({variable} + {I(constant)})";

    /// <summary><c>var * scale + constant</c>, simplified.</summary>
    public static string Lin(string var, long scale, long constant)
    {
        string term = scale == 1 ? var : $"{var} * {I(scale)}";
        return constant == 0 ? term : $"{term} + {I(constant)}";
    }

    /// <summary>
    /// Writes the kernel class's vocabulary: short names for the few intrinsics and pointer operations the kernels
    /// use (<c>Load</c>, <c>Store</c>, <c>Broadcast</c>, <c>Fma</c>, <c>Max</c>, <c>Min</c>, <c>Zero</c>, <c>At</c>,
    /// <c>Data</c>, the activations and the <c>Hot</c> attribute constant). They are members of the kernel class, so
    /// simple-name lookup finds them before anything in the user's class or namespace: the kernels read like
    /// ordinary SIMD code and still cannot be captured by a user's declarations (the hygiene rule). Each forwards to
    /// the BCL and is inlined; the JIT emits the same instructions as for the qualified calls.
    /// </summary>
    public void Vocabulary()
    {
        string mi = "global::System.Runtime.CompilerServices.MethodImpl";
        string opts = "global::System.Runtime.CompilerServices.MethodImplOptions";
        string inline = $"[{mi}(Inline)]";
        W.Line("#region Vocabulary");
        W.Line("// The kernels below spell their few intrinsics with these members of this class, so that no");
        W.Line("// type or member declared in user code can capture them; each forwards to the BCL and is inlined.");
        W.Line($"private const {opts} Hot = {opts}.AggressiveOptimization; // compiled fully optimized at the first call");
        W.Line($"private const {opts} Inline = {opts}.AggressiveInlining;");
        W.Line($"private static {Vt} Zero => {Vt}.Zero;");
        W.Line($"{inline} private static ref float At(ref float p, int offset) => ref {Code.Unsafe}.Add(ref p, offset);");
        W.Line($"{inline} private static ref float Data(float[] array) => ref {Code.MemoryMarshal}.GetArrayDataReference(array);");
        if (TrainerBuffers)
        {
            W.Line($"{inline} private static ref float Data({Buffer} buffer) => ref {Code.MemoryMarshal}.GetReference(buffer.Span);");
            W.Line($"{inline} private static ref double Data(double[] array) => ref {Code.MemoryMarshal}.GetArrayDataReference(array);");
        }
        W.Line($"{inline} private static {Vt} Load(ref float p) => {Vs}.LoadUnsafe(ref p);");
        W.Line($"{inline} private static {Vt} Load(ref float p, nuint offset) => {Vs}.LoadUnsafe(ref p, offset);");
        W.Line($"{inline} private static void Store({Vt} value, ref float p) => {Vs}.StoreUnsafe(value, ref p);");
        W.Line($"{inline} private static void Store({Vt} value, ref float p, nuint offset) => {Vs}.StoreUnsafe(value, ref p, offset);");
        W.Line($"{inline} private static {Vt} Broadcast(float value) => {Vs}.Create(value);");
        W.Line($"{inline} private static {Vt} Fma({Vt} a, {Vt} b, {Vt} c) => {Vs}.FusedMultiplyAdd(a, b, c);");
        W.Line($"{inline} private static {Vt} Max({Vt} a, {Vt} b) => {Vs}.MaxNative(a, b);");
        W.Line($"{inline} private static {Vt} Min({Vt} a, {Vt} b) => {Vs}.MinNative(a, b);");
        W.Line($"{inline} private static {Vt} Sigmoid({Vt} x) => {Code.Simd}.Sigmoid(x);");
        W.Line($"{inline} private static {Vt} Tanh({Vt} x) => {Code.Simd}.Tanh(x);");
        W.Line($"{inline} private static {Vt} SiLU({Vt} x) => {Code.Simd}.SiLU(x);");
        if (Plan.Steps.Any(s => s.Kernel is DepthwiseKernel { PlanarVectors.Count: > 0 }))
        {
            // A planar depthwise reads its input in place: the first and last vectors of a row shift lanes in, zeros for the border.
            string lanes = string.Join(", ", Enumerable.Range(0, V).Select(l => "l" + I(l)));
            W.Line($"{inline} private static {Vt} Shuffle({Vt} v, {Vs}<int> lanes) => {Vs}.Shuffle(v, lanes); // lane i = v[lanes[i]], 0 where out of range");
            W.Line($"{inline} private static {Vs}<int> Lanes(int {string.Join(", int ", Enumerable.Range(0, V).Select(l => "l" + I(l)))}) => {Vs}.Create({lanes});");
            W.Line("// Its pointwise half checks what it stores: a sum of finite vectors minus itself is zero, else NaN.");
            W.Line($"{inline} private static bool AllFinite({Vt} sum) => {Vs}.EqualsAll(sum - sum, {Vt}.Zero);");
        }

        InPlaceHelpers(Plan.Steps.Select(s => s.Kernel switch
        {
            ConvKernel { PixelTiles.Count: 0 } c when ActivatesInPlace(c.Activation) && SeveralPixels(c.Tiles) => c.Activation.Kind,
            DepthwiseKernel { PlanarVectors.Count: 0 } d when ActivatesInPlace(d.Activation) && SeveralPixels(d.Tiles) => d.Activation.Kind,
            _ => Activation.None,
        }).Where(a => a != Activation.None).Distinct().OrderBy(a => a));
        if (Plan.SplitsImage)
        {
            W.Line("// Threads sharing one image: where thread t's slice of n rows starts, and the barrier between dependent steps.");
            W.Line($"{inline} private static int Slice(int rows, int thread, int threads) => (int)((long)rows * thread / threads);");
            W.Line($"{inline} private static void Barrier() => {Code.Parallelism}.Barrier();");
            W.Line($"{inline} private static bool Barrier(bool ok) => {Code.Parallelism}.Barrier(ok);");
        }

        W.Line("#endregion");
    }

    /// <summary>
    /// The activation applied to vector expression <paramref name="v"/> (after <see cref="ActConstants"/>). ReLU and ReLU6
    /// put the constant first: x86's <c>maxps</c>/<c>minps</c> (<c>MaxNative</c>, <c>MinNative</c>) return their second
    /// operand when either is NaN, so <c>Max(zero, v)</c> keeps a NaN (an overflow upstream) for the output check to
    /// report, where <c>Max(v, zero)</c> would turn it into 0 and the prediction into silent garbage. Same instruction.
    /// </summary>
    public string Act(ActivationSpec act, string v) => act.Kind switch
    {
        Activation.Relu => $"Max(zero, {v})",
        Activation.Relu6 => $"Min(six, Max(zero, {v}))",
        Activation.LeakyRelu when act.LeakyAsMax => $"Max({v}, {v} * alpha)",
        Activation.LeakyRelu => $"{Vs}.ConditionalSelect({Vs}.GreaterThanOrEqual({v}, zero), {v}, {v} * alpha)",
        Activation.Sigmoid => $"Sigmoid({v})",
        Activation.Tanh => $"Tanh({v})",
        Activation.SiLU => $"SiLU({v})",
        _ => v,
    };

    /// <summary>Declares the constants an activation needs (zero, six, alpha).</summary>
    public void ActConstants(ActivationSpec act)
    {
        if (act.Kind is Activation.Relu or Activation.Relu6 or Activation.LeakyRelu)
        {
            W.Line("var zero = Zero;");
        }

        if (act.Kind == Activation.Relu6)
        {
            W.Line("var six = Broadcast(6f);");
        }

        if (act.Kind == Activation.LeakyRelu)
        {
            W.Line($"var alpha = Broadcast({SourceWriter.Float(act.Alpha)});");
        }
    }

    /// <summary>
    /// Whether a register tile stores its accumulators raw and applies <paramref name="act"/> afterwards in place
    /// (<see cref="ActivateInPlace"/>): Sigmoid, Tanh and SiLU are an exp each (~25 operations inlined), and a tile of
    /// 12-24 accumulators writing them all out exhausts the JIT's inlining budget: the later copies became calls (even
    /// <c>Create</c> and <c>Store</c>, a Vector512 passed through memory) and the rest spilled to the stack (perf and
    /// JitDisasm of EfficientNet-B0's SiLU tiles; storing raw and activating afterwards took its one-thread time from
    /// 17.8-19.4 to 13.8-14.3 ms in an A/B).
    /// </summary>
    public static bool ActivatesInPlace(ActivationSpec act) => act.Kind is Activation.Sigmoid or Activation.Tanh or Activation.SiLU;

    /// <summary>
    /// Applies <paramref name="act"/> in place to a stored tile of <paramref name="pixels"/> pixels x <paramref name="vectors"/>
    /// vectors: a call to the vocabulary's <c>SiLUInPlace</c> (<see cref="InPlaceHelpers"/>), which re-reads the tile from
    /// L1, a pixel at a time. A call, not a loop in the tile: the JIT hoists the exp's 13 constants out of every loop of a
    /// method, and in the tile they held 13 of the 32 registers through the channel loop (spilled accumulators). Pixel
    /// <c>p</c>'s vector <c>j</c> is at <paramref name="target"/> + <c>p</c> x <paramref name="pixelStep"/> + <c>j</c> x width.
    /// </summary>
    public void ActivateInPlace(ActivationSpec act, string target, int pixels, long pixelStep, int vectors) =>
        W.Line($"{act.Kind}InPlace({target}, {I(pixels)}, {I(pixelStep)}, {I(vectors)}); // {act.Kind} in place, a pixel at a time");

    /// <summary>Whether a row of tiles has a tile method of several pixels (those apply an expensive activation in place).</summary>
    private static bool SeveralPixels(TileRow tiles) => tiles.Pixels > 1 || tiles.Last > 1;

    /// <summary>
    /// The vocabulary's in-place activations (<see cref="ActivateInPlace"/>), one per activation <paramref name="kinds"/>
    /// holds: not inlined, so that their constants stay out of the calling tile's registers.
    /// </summary>
    private void InPlaceHelpers(IEnumerable<Activation> kinds)
    {
        foreach (var kind in kinds)
        {
            W.Line($"[global::System.Runtime.CompilerServices.MethodImpl(Hot | global::System.Runtime.CompilerServices.MethodImplOptions.NoInlining)] // its constants stay out of the caller's registers");
            using (W.Block($"private static void {kind}InPlace(ref float y, int pixels, int pixelStep, int vectors)"))
            using (W.Block("for (int p = 0; p < pixels; p++)"))
            {
                W.Line("ref float yp = ref At(ref y, p * pixelStep);");
                using (W.Block($"for (int i = 0; i < vectors * {I(V)}; i += {I(V)})"))
                {
                    W.Line(Store(Act(new ActivationSpec(kind, 0f), "Load(ref yp, (nuint)i)"), "ref yp, (nuint)i"));
                }
            }
        }
    }

    /// <summary>One <c>var bias{j} = ...;</c> per output vector or filter.</summary>
    public void Biases(int count, Func<int, string> value)
    {
        for (int j = 0; j < count; j++)
        {
            W.Line($"var bias{I(j)} = {value(j)};");
        }
    }

    /// <summary>
    /// Declares a block of accumulators, one line per row: <c>var a0_0 = bias0; var a0_1 = bias1;</c>.
    /// <paramref name="rows"/> are the name prefixes (<c>a0_</c>), each with <paramref name="columns"/> accumulators.
    /// </summary>
    public void Accumulators(IEnumerable<string> rows, int columns, Func<int, string> initial)
    {
        foreach (var row in rows)
        {
            W.Line(string.Join(" ", Enumerable.Range(0, columns).Select(j => $"var {row}{I(j)} = {initial(j)};")));
        }
    }

    /// <summary>
    /// A gradient register tile (the weight gradients of convolutions and dense layers): <paramref name="rows"/> x
    /// <paramref name="vectors"/> accumulators <c>a{row}_{vector}</c> from zero; <paramref name="loops"/> writes the loops
    /// of the reduction around the body it is handed, which loads dy's vectors once (<c>d{vector}</c>, from
    /// <paramref name="dy"/>), broadcasts each row's input (<c>x{row}</c>, the float <paramref name="x"/> names) and
    /// multiplies it into the row's accumulators; after the loops each accumulator is added once into the gradient
    /// <paramref name="gradient"/> at float <paramref name="offset"/>(row, vector), or stored there when the tile is its
    /// only writer (<paramref name="overwrite"/>: no clearing before, no load).
    /// </summary>
    public void GradientTile(int rows, int vectors, Action<Action> loops, string dy, Func<int, string> x, string gradient, Func<int, int, long> offset, bool overwrite = false)
    {
        Accumulators(Enumerable.Range(0, rows).Select(r => $"a{I(r)}_"), vectors, _ => "Zero");
        loops(() =>
        {
            for (int j = 0; j < vectors; j++)
            {
                W.Line($"var d{I(j)} = {Load(dy, Off((long)j * V))};");
            }

            for (int r = 0; r < rows; r++)
            {
                W.Line($"var x{I(r)} = Broadcast({x(r)});");
                for (int j = 0; j < vectors; j++)
                {
                    W.Line($"a{I(r)}_{I(j)} = Fma(x{I(r)}, d{I(j)}, a{I(r)}_{I(j)});");
                }
            }
        });
        W.Line();
        for (int r = 0; r < rows; r++)
        {
            for (int j = 0; j < vectors; j++)
            {
                string at = Off(offset(r, j));
                W.Line(Store(overwrite ? $"a{I(r)}_{I(j)}" : $"{Load(gradient, at)} + a{I(r)}_{I(j)}", $"ref {gradient}, {at}"));
            }
        }
    }

    /// <summary>The float at a constant offset from a reference: <c>r</c> or <c>At(ref r, offset)</c>.</summary>
    public static string Element(string reference, long offset) => offset == 0 ? reference : $"At(ref {reference}, {I(offset)})";

    /// <summary>
    /// Writes a window's taps as the plan unrolls them (<see cref="Unroll"/>): every tap written out; a loop over kernel rows
    /// (<c>kh</c>, pointing <c>xk</c> and <c>wk</c> at the row) with the row's taps written out; or loops over rows and columns
    /// (<c>kw</c>, pointing <c>xc</c> and <c>wc</c> at the tap). <paramref name="tap"/> writes one tap from the reference and
    /// constant offset of its input and its weights; inside the loops the constant parts are those of row (and column) 0.
    /// </summary>
    public void Window(Unroll unroll, int kernelH, int kernelW, (string Name, long Base, long Row, long Column) x, (string Name, long Base, long Row, long Column) w, Action<WindowTap> tap)
    {
        bool loopRows = unroll != Unroll.Taps, loopColumns = unroll == Unroll.None;
        using (W.BlockIf(loopRows, $"for (int kh = 0; kh < {I(kernelH)}; kh++)"))
        {
            if (loopRows)
            {
                W.Line($"ref float xk = ref At(ref {x.Name}, {Lin("kh", x.Row, x.Base)});");
                W.Line($"ref float wk = ref At(ref {w.Name}, {Lin("kh", w.Row, w.Base)});");
            }

            using (W.BlockIf(loopColumns, $"for (int kw = 0; kw < {I(kernelW)}; kw++)"))
            {
                if (loopColumns)
                {
                    W.Line($"ref float xc = ref At(ref xk, kw * {I(x.Column)});");
                    W.Line($"ref float wc = ref At(ref wk, kw * {I(w.Column)});");
                }

                string xRef = loopColumns ? "xc" : loopRows ? "xk" : x.Name, wRef = loopColumns ? "wc" : loopRows ? "wk" : w.Name;
                long xBase = loopRows ? 0 : x.Base, wBase = loopRows ? 0 : w.Base;
                for (int kh = 0; kh < (loopRows ? 1 : kernelH); kh++)
                {
                    for (int kc = 0; kc < (loopColumns ? 1 : kernelW); kc++)
                    {
                        string name = loopColumns ? "tap (kh, kw)" : loopRows ? $"tap (kh, {I(kc)})" : $"tap ({I(kh)}, {I(kc)})";
                        tap(new WindowTap((kh * kernelW) + kc, name, xRef, xBase + (kh * x.Row) + (kc * x.Column), wRef, wBase + (kh * w.Row) + (kc * w.Column)));
                    }
                }
            }
        }
    }

    /// <summary><c>ref float name = ref Data(array);</c> (the vocabulary's <c>MemoryMarshal.GetArrayDataReference</c>).</summary>
    public void ArrayRef(string name, string array) => W.Line($"ref float {name} = ref Data({array});");

    /// <summary>The kernel's summary and remarks (one line each); XML-escaped.</summary>
    public void Doc(string summary, params string[] remarks)
    {
        W.Line($"/// <summary>{Xml(summary)}.</summary>");
        if (remarks.Length > 0)
        {
            W.Line("/// <remarks>");
            foreach (var r in remarks)
            {
                if (r.Length > 0) // an optional remark left out
                {
                    W.Line($"/// {Xml(r)}<br/>");
                }
            }

            W.Line("/// </remarks>");
        }
    }

    /// <summary>
    /// The same text as plain comments, for a step that has no method of its own: a documentation comment must be
    /// followed by a member (CS1587 where documentation is generated).
    /// </summary>
    public void Comment(string summary, params string[] remarks)
    {
        W.Line($"// {summary}.");
        foreach (var r in remarks)
        {
            W.Line("// " + r);
        }
    }

    /// <summary>
    /// A kernel's remarks, and for a split kernel (<see cref="KernelSpec.Split"/>) the line saying it computes only the
    /// range of <paramref name="units"/> ("output rows", "tiles") it is given.
    /// </summary>
    public static string[] SplitRemarks(KernelSpec k, string units, string first, params string[] remarks) => k.Split
        ? remarks.Append($"Computes {units} {first}Start to {first}End - 1: the threads sharing an image each take a range (one thread takes them all).").ToArray()
        : remarks;

    /// <summary>The parameters a split kernel takes last: its range (<c>, int rowStart, int rowEnd</c>); nothing for a kernel computing every row.</summary>
    public static string RangeParameters(KernelSpec k, string first = "row") => k.Split ? $", int {first}Start, int {first}End" : string.Empty;

    /// <summary>The loop over a kernel's output rows <paramref name="oh"/>: all of them, or the range a split kernel is given.</summary>
    public static string RowLoop(KernelSpec k, int rows, string oh = "oh") => k.Split ? $"for (int {oh} = rowStart; {oh} < rowEnd; {oh}++)" : $"for (int {oh} = 0; {oh} < {I(rows)}; {oh}++)";

    public static string Xml(string s) => s.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;");

    /// <summary>Opens a kernel method: <c>[MethodImpl(Hot)] private static void name(parameters)</c>.</summary>
    public SourceWriter.Scope Method(string name, string parameters, string returns = "void")
    {
        W.Line(Code.Hot);
        return W.Block($"private static {returns} {name}({parameters})");
    }

    /// <summary>The parameters of a kernel taking tensors and, optionally, two weight arrays.</summary>
    public static string Parameters(int inputs, params string[] weights)
    {
        var p = new List<string>();
        for (int i = 0; i < inputs; i++)
        {
            p.Add(inputs == 1 ? "ref float x" : $"ref float x{I(i)}");
        }

        p.Add("ref float y");
        p.AddRange(weights.Select(w => "float[] " + w));
        return string.Join(", ", p);
    }

    /// <summary>
    /// The calls of a row's register tiles: full tiles in a loop, then the narrower last tile. The row's input is
    /// <c>xr</c>, its output <c>yr</c>; a residual row <c>rr</c> and a staging block <c>st</c> are passed when given.
    /// </summary>
    public void TileCalls(TileRow row, TensorPlan? residual, bool stage, string weights = "w", string bias = "b", string range = "")
    {
        if (residual is not null)
        {
            W.Line($"ref float rr = ref At(ref r, {Lin("oh", residual.RowStride, residual.Origin)});");
        }

        string Extra(string offset) => (residual is not null ? Ref("rr", offset) + ", " : string.Empty) + (stage ? "ref st, " : string.Empty);
        if (row.Full == 1)
        {
            W.Line($"{row.Method}(ref xr, {Extra("0")}ref {weights}, ref {bias}, ref yr{range});");
        }
        else if (row.Full > 1)
        {
            using (W.Block($"for (int tile = 0; tile < {I(row.Full)}; tile++)"))
            {
                W.Line($"{row.Method}({Ref("xr", $"tile * {I(row.XStep)}")}, {Extra($"tile * {I(row.ResidualStep)}")}ref {weights}, ref {bias}, {Ref("yr", $"tile * {I(row.YStep)}")}{range});");
            }
        }

        if (row.LastMethod is not null)
        {
            W.Line($"{row.LastMethod}({Ref("xr", I(row.XStep * row.Full))}, {Extra(I(row.ResidualStep * row.Full))}ref {weights}, ref {bias}, {Ref("yr", I(row.YStep * row.Full))}{range});");
        }
    }
}

/// <summary>One tap a kernel writes out: its index among the taps written, its name for comments, and where its input and weights are.</summary>
/// <param name="Index">Row x kernel width + column, of the taps written out (0 inside the loops).</param>
/// <param name="Name">"tap (1, 2)", "tap (kh, 2)" or "tap (kh, kw)".</param>
internal readonly record struct WindowTap(int Index, string Name, string X, long XOffset, string W, long WOffset);
