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
    public KernelWriter(SourceWriter writer, NetworkPlan plan)
    {
        W = writer;
        Plan = plan;
        V = plan.Width;
        Vs = Code.Vector(plan.Width);
        Vt = Vs + "<float>";
    }

    public SourceWriter W { get; }

    public NetworkPlan Plan { get; }

    /// <summary>Floats per vector.</summary>
    public int V { get; }

    /// <summary>The static vector class (<c>Vector256</c>).</summary>
    public string Vs { get; }

    /// <summary>The vector type (<c>Vector256&lt;float&gt;</c>).</summary>
    public string Vt { get; }

    public static string I(long v) => SourceWriter.Int(v);

    /// <summary><c>ref Unsafe.Add(ref r, offset)</c>, or <c>ref r</c> at offset "0".</summary>
    public static string Ref(string reference, string offset) => offset == "0" ? "ref " + reference : $"ref {Code.Unsafe}.Add(ref {reference}, {offset})";

    /// <summary>An unaligned vector load at a float offset.</summary>
    public string Load(string reference, string offset) => offset == "0" ? $"{Vs}.LoadUnsafe(ref {reference})" : $"{Vs}.LoadUnsafe(ref {reference}, {offset})";

    /// <summary>
    /// A vector store: <c>Vector256.StoreUnsafe(value, ref target, offset)</c>. Written as a static call, not as the
    /// extension <c>value.StoreUnsafe(...)</c>, which would need a using directive (and an extension method of the
    /// same name in the user's namespace would win over it).
    /// </summary>
    public string Store(string value, string target) => $"{Vs}.StoreUnsafe({value}, {target});";

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

    /// <summary>The activation applied to vector expression <paramref name="v"/> (after <see cref="ActConstants"/>).</summary>
    public string Act(ActivationSpec act, string v) => act.Kind switch
    {
        Activation.Relu => $"{Vs}.MaxNative({v}, zero)",
        Activation.Relu6 => $"{Vs}.MinNative({Vs}.MaxNative({v}, zero), six)",
        Activation.LeakyRelu when act.LeakyAsMax => $"{Vs}.MaxNative({v}, {v} * alpha)",
        Activation.LeakyRelu => $"{Vs}.ConditionalSelect({Vs}.GreaterThanOrEqual({v}, zero), {v}, {v} * alpha)",
        Activation.Sigmoid => $"{Code.Simd}.Sigmoid({v})",
        Activation.Tanh => $"{Code.Simd}.Tanh({v})",
        Activation.SiLU => $"{Code.Simd}.SiLU({v})",
        _ => v,
    };

    /// <summary>Declares the constants an activation needs (zero, six, alpha).</summary>
    public void ActConstants(ActivationSpec act)
    {
        if (act.Kind is Activation.Relu or Activation.Relu6 or Activation.LeakyRelu)
        {
            W.Line($"var zero = {Vt}.Zero;");
        }

        if (act.Kind == Activation.Relu6)
        {
            W.Line($"var six = {Vs}.Create(6f);");
        }

        if (act.Kind == Activation.LeakyRelu)
        {
            W.Line($"var alpha = {Vs}.Create({SourceWriter.Float(act.Alpha)});");
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
    /// Declares a block of accumulators, one line per row: <c>Vector256&lt;float&gt; a0_0 = bias0, a0_1 = bias1;</c>.
    /// <paramref name="rows"/> are the name prefixes (<c>a0_</c>), each with <paramref name="columns"/> accumulators.
    /// </summary>
    public void Accumulators(IEnumerable<string> rows, int columns, Func<int, string> initial)
    {
        foreach (var row in rows)
        {
            W.Line($"{Vt} " + string.Join(", ", Enumerable.Range(0, columns).Select(j => $"{row}{I(j)} = {initial(j)}")) + ";");
        }
    }

    /// <summary><c>ref float name = ref MemoryMarshal.GetArrayDataReference(array);</c></summary>
    public void ArrayRef(string name, string array) => W.Line($"ref float {name} = ref {Code.MemoryMarshal}.GetArrayDataReference({array});");

    /// <summary>The kernel's summary and remarks (one line each); XML-escaped.</summary>
    public void Doc(string summary, params string[] remarks)
    {
        W.Line($"/// <summary>{Xml(summary)}.</summary>");
        if (remarks.Length > 0)
        {
            W.Line("/// <remarks>");
            foreach (var r in remarks)
            {
                W.Line($"/// {Xml(r)}<br/>");
            }

            W.Line("/// </remarks>");
        }
    }

    public static string Xml(string s) => s.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;");

    /// <summary>Opens a kernel method: <c>[MethodImpl(AggressiveOptimization)] private static void name(parameters)</c>.</summary>
    public SourceWriter.Scope Method(string name, string parameters, string returns = "void")
    {
        W.Line(Code.AggressiveOptimization);
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
    public void TileCalls(TileRow row, TensorPlan? residual, bool stage, string weights = "w", string bias = "b")
    {
        if (residual is not null)
        {
            W.Line($"ref float rr = ref {Code.Unsafe}.Add(ref r, {Lin("oh", residual.RowStride, residual.Origin)});");
        }

        string Extra(string offset) => (residual is not null ? Ref("rr", offset) + ", " : string.Empty) + (stage ? "ref st, " : string.Empty);
        if (row.Full == 1)
        {
            W.Line($"{row.Method}(ref xr, {Extra("0")}ref {weights}, ref {bias}, ref yr);");
        }
        else if (row.Full > 1)
        {
            using (W.Block($"for (int tile = 0; tile < {I(row.Full)}; tile++)"))
            {
                W.Line($"{row.Method}({Ref("xr", $"tile * {I(row.XStep)}")}, {Extra($"tile * {I(row.ResidualStep)}")}ref {weights}, ref {bias}, {Ref("yr", $"tile * {I(row.YStep)}")});");
            }
        }

        if (row.LastMethod is not null)
        {
            W.Line($"{row.LastMethod}({Ref("xr", I(row.XStep * row.Full))}, {Extra(I(row.ResidualStep * row.Full))}ref {weights}, ref {bias}, {Ref("yr", I(row.YStep * row.Full))});");
        }
    }
}
