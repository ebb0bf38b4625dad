using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using CnnGen.Generator.Model;
using CnnGen.Generator.Planning;
using CnnGen.Generator.Shapes;

namespace CnnGen.Generator.Emit;

/// <summary>
/// Writes one vector width's kernels: a nested static class <c>Kernels256</c> (or 512, 128) holding the forward
/// pass and one method per step, plus one method per register-tile shape. Every shape, stride and offset is a
/// literal; loops keep constant bounds.
/// </summary>
internal sealed class KernelEmitter
{
    private readonly NetworkPlan _plan;
    private readonly SourceWriter _w;
    private readonly string _vs;   // Vector256
    private readonly string _vt;   // Vector256<float>
    private readonly int _v;       // floats per vector

    public KernelEmitter(NetworkPlan plan, SourceWriter writer)
    {
        _plan = plan;
        _w = writer;
        _v = plan.Width;
        _vs = plan.VectorType;
        _vt = plan.VectorType + "<float>";
    }

    public static string ClassName(int width) => "Kernels" + I(width * 32);

    private static string I(long v) => SourceWriter.Int(v);

    private ShapedLayer Layer(StepPlan s) => _plan.Net.Layers[s.Layer];

    private TensorPlan T(int id) => _plan.Tensors[id];

    private static string TensorVar(int id) => id == 0 ? "input" : "t" + I(id);

    public void Emit()
    {
        string cls = ClassName(_v);
        var net = _plan.Net;
        _w.Line($"/// <summary>");
        _w.Line($"/// {net.Spec.ClassName} with {_vs} ({I(_v)} floats per vector), planned for {I(_plan.Registers)} vector registers.");
        _w.Line($"/// Workspace: {I(_plan.WorkspaceFloats)} floats ({Kb(_plan.WorkspaceFloats)}) per thread.");
        _w.Line($"/// </summary>");
        _w.Open($"private static class {cls}");
        EmitForward();
        if (_plan.BatchGroup > 1)
        {
            _w.Line();
            EmitForwardGroup();
        }

        foreach (var step in _plan.Steps)
        {
            _w.Line();
            switch (step.Kind)
            {
                case StepKind.PackInput: EmitPackInput(step); break;
                case StepKind.Conv: EmitConv(step); break;
                case StepKind.ConvPixels: EmitConvPixels(step); break;
                case StepKind.DepthwiseConv: EmitDepthwise(step); break;
                case StepKind.Pool: EmitPool(step); break;
                case StepKind.GlobalPool: EmitGlobalPool(step); break;
                case StepKind.Dense: EmitDense(step); break;
                case StepKind.Activation: EmitActivation(step); break;
                case StepKind.Softmax: EmitSoftmax(step); break;
                case StepKind.BatchNorm: EmitBatchNorm(step); break;
                case StepKind.Add: EmitAdd(step); break;
                case StepKind.Concat: EmitConcat(step); break;
                case StepKind.CopyOutput: EmitCopyOutput(step); break;
            }
        }

        _w.Close();
    }

    internal static string Kb(long floats) => (floats * 4 / 1024.0).ToString("0.#", CultureInfo.InvariantCulture) + " KB";

    // ---------------------------------------------------------------- forward pass

    private void EmitForward()
    {
        var net = _plan.Net;
        _w.Line("/// <summary>");
        _w.Line("/// Runs every step in order; <paramref name=\"workspace\"/> holds the intermediate tensors. Returns false, before");
        _w.Line("/// anything is written to <paramref name=\"output\"/>, when packing the input finds NaN or infinity.");
        _w.Line("/// </summary>");
        _w.Line("[MethodImpl(MethodImplOptions.AggressiveOptimization)]");
        _w.Open($"internal static bool Forward({net.Spec.ClassName} net, ref float input, ref float output, float[] workspace)");
        _w.Line("ref float ws = ref MemoryMarshal.GetArrayDataReference(workspace);");
        var used = new HashSet<int>(_plan.Steps.SelectMany(s => s.DirectOutput ? s.Inputs : s.Inputs.Append(s.Output)));
        foreach (var t in _plan.Tensors.Where(t => !t.External && used.Contains(t.Id)))
        {
            _w.Line($"ref float {TensorVar(t.Id)} = ref Unsafe.Add(ref ws, {I(t.Offset)}); // {t.Name}: {t.Describe()}");
        }

        int n = 0;
        foreach (var s in _plan.Steps.Where(s => !s.RowFused))
        {
            _w.Line();
            _w.Line($"// {I(++n)}. {StepTitle(s)}");
            if (s.Kind != StepKind.PackInput && !s.DirectOutput && s.Output > 0 && T(s.Output).HasBorder && T(s.Output).Layout == Layout.Hwc)
            {
                var o = T(s.Output);
                _w.Line($"Buffers.ClearBorder(ref {TensorVar(o.Id)}, {I(o.Rows)}, {I(o.RowPixels)}, {I(o.Cp)}, {I(o.BorderTop)}, {I(o.BorderLeft)}, {I(o.BorderBottom)}, {I(o.BorderRight)});");
            }

            var args = StepInputs(s).Select(i => "ref " + TensorVar(i)).ToList();
            args.Add(s.Output < 0 || s.DirectOutput ? "ref output" : "ref " + TensorVar(s.Output));
            args.AddRange(WeightFields(s).Select(f => "net." + f));
            if (s.Kind == StepKind.PackInput)
            {
                _w.Open($"if (!{s.Method}({string.Join(", ", args)}))");
                _w.Line("return false;");
                _w.Close();
            }
            else
            {
                _w.Line($"{s.Method}({string.Join(", ", args)});");
            }
        }

        _w.Line();
        _w.Line("return true;");
        _w.Close();
    }

    private void EmitForwardGroup()
    {
        var net = _plan.Net;
        int g = _plan.BatchGroup, ws = _plan.WorkspaceFloats;
        _w.Line($"/// <summary>");
        _w.Line($"/// Runs {I(g)} images stored one after another: dense layers compute all {I(g)} at once so their weights stream");
        _w.Line($"/// once per group; other steps run image by image. Image i's tensors lie {I(ws)} floats after image i - 1's.");
        _w.Line($"/// </summary>");
        _w.Line("[MethodImpl(MethodImplOptions.AggressiveOptimization)]");
        _w.Open($"internal static void ForwardGroup({net.Spec.ClassName} net, ref float input, ref float output, float[] workspace)");
        _w.Line("ref float ws = ref MemoryMarshal.GetArrayDataReference(workspace);");
        var used = new HashSet<int>(_plan.Steps.SelectMany(s => s.DirectOutput ? s.Inputs : s.Inputs.Append(s.Output)));
        foreach (var t in _plan.Tensors.Where(t => !t.External && used.Contains(t.Id)))
        {
            _w.Line($"ref float {TensorVar(t.Id)} = ref Unsafe.Add(ref ws, {I(t.Offset)}); // {t.Name}, image 0");
        }

        int n = 0;
        foreach (var s in _plan.Steps.Where(s => !s.RowFused))
        {
            _w.Line();
            _w.Line($"// {I(++n)}. {StepTitle(s)}");
            var fields = WeightFields(s).Select(f => "net." + f).ToList();
            if (s.Kind == StepKind.Dense)
            {
                var args = new List<string> { "ref " + TensorVar(s.Inputs[0]), "ref " + TensorVar(s.Output) };
                _w.Line($"{s.Method}Group({string.Join(", ", args.Concat(fields))});");
                continue;
            }

            _w.Open($"for (int i = 0; i < {I(g)}; i++)");
            string Ref(int id) => id == 0 ? $"ref Unsafe.Add(ref input, i * {I(net.Input.Size)})" : $"ref Unsafe.Add(ref {TensorVar(id)}, i * {I(ws)})";
            if (s.Kind != StepKind.PackInput && s.Output > 0 && T(s.Output).HasBorder && T(s.Output).Layout == Layout.Hwc)
            {
                var o = T(s.Output);
                _w.Line($"Buffers.ClearBorder({Ref(o.Id)}, {I(o.Rows)}, {I(o.RowPixels)}, {I(o.Cp)}, {I(o.BorderTop)}, {I(o.BorderLeft)}, {I(o.BorderBottom)}, {I(o.BorderRight)});");
            }

            var refs = StepInputs(s).Select(Ref).ToList();
            refs.Add(s.Output < 0 || s.DirectOutput ? $"ref Unsafe.Add(ref output, i * {I(net.Output.Size)})" : Ref(s.Output));
            string discard = s.Kind == StepKind.PackInput ? "_ = " : string.Empty; // the batch was checked before it started
            _w.Line($"{discard}{s.Method}({string.Join(", ", refs.Concat(fields))});");
            _w.Close();
        }

        _w.Close();
    }

    /// <summary>The weight fields a step reads, in the order its kernel takes them.</summary>
    internal static IEnumerable<string> WeightFields(StepPlan s, EquatableArray<ShapedLayer> layers)
    {
        string id = Planner.LayerIdentifiers(layers)[s.Layer < 0 ? 0 : s.Layer];
        return s.Kind switch
        {
            StepKind.Conv or StepKind.ConvPixels or StepKind.DepthwiseConv or StepKind.Dense => new[] { "_" + Camel(id) + "Weight", "_" + Camel(id) + "Bias" },
            StepKind.BatchNorm => new[] { "_" + Camel(id) + "Scale", "_" + Camel(id) + "Shift" },
            _ => Array.Empty<string>(),
        };
    }

    private IEnumerable<string> WeightFields(StepPlan s) =>
        s.FusedDepthwise >= 0
            ? WeightFields(_plan.Steps.First(d => d.Layer == s.FusedDepthwise && d.RowFused), _plan.Net.Layers).Concat(WeightFields(s, _plan.Net.Layers))
            : WeightFields(s, _plan.Net.Layers);

    /// <summary>The tensors a step's kernel takes, in order: a depthwise + pointwise pair takes the depthwise input, then its row buffer.</summary>
    private static IEnumerable<int> StepInputs(StepPlan s) => s.FusedDepthwise >= 0 ? new[] { s.Inputs[1], s.Inputs[0] } : s.Inputs;

    internal static string Camel(string pascal) => char.ToLowerInvariant(pascal[0]) + pascal.Substring(1);

    private string StepTitle(StepPlan s)
    {
        if (s.Kind == StepKind.PackInput)
        {
            return $"pack the input into {T(s.Output).Describe()}";
        }

        if (s.Kind == StepKind.CopyOutput)
        {
            return $"copy '{T(s.Inputs[0]).Name}' to the output ({_plan.Net.Output.ToPyTorch()}, PyTorch order)";
        }

        var l = Layer(s);
        string fused = s.Activation is not Activation.None and not Activation.Softmax && s.Kind != StepKind.Activation ? " + " + s.Activation : string.Empty;
        string bn = s.FoldedBatchNorm >= 0 ? $" + {_plan.Net.Layers[s.FoldedBatchNorm].Spec.Name} (BatchNorm2D, folded)" : string.Empty;
        bn += s.FusedAdd >= 0 ? $" + {_plan.Net.Layers[s.FusedAdd].Spec.Name} (Add of '{T(s.Inputs[1]).Name}', fused)" : string.Empty;
        string pair = s.FusedDepthwise >= 0 ? $"{_plan.Net.Layers[s.FusedDepthwise].Spec.Name} (depthwise, row by row) + " : string.Empty;
        fused += s.FusedPool >= 0 ? $" + {_plan.Net.Layers[s.FusedPool].Spec.Name} (MaxPool2D, fused)" : string.Empty;
        var shape = s.FusedPool >= 0 ? _plan.Net.Layers[s.FusedPool].Out : l.Out;
        string what = s.Kind switch
        {
            StepKind.Softmax => $"{l.Spec.Name}: Softmax over {I(l.Out.C)} channels",
            StepKind.Activation => $"{l.Spec.Name}: {s.Activation}",
            _ => $"{pair}{l.Spec.Name}: {l.Spec.DisplayKind}{bn}{fused}",
        };
        return $"{what} -> {shape}";
    }

    // ---------------------------------------------------------------- vector helpers

    private string Load(string reference, string offset) => offset == "0" ? $"{_vs}.LoadUnsafe(ref {reference})" : $"{_vs}.LoadUnsafe(ref {reference}, {offset})";

    private static string Off(long constant) => I(constant);

    private static string Off(string variable, long constant) => constant == 0 ? $"(nuint){variable}" : $"(nuint)({variable} + {I(constant)})";

    private string Act(Activation act, float alpha, string v) => act switch
    {
        Activation.Relu => $"{_vs}.MaxNative({v}, zero)",
        Activation.Relu6 => $"{_vs}.MinNative({_vs}.MaxNative({v}, zero), six)",
        Activation.LeakyRelu when alpha >= 0f && alpha <= 1f => $"{_vs}.MaxNative({v}, {v} * alpha)",
        Activation.LeakyRelu => $"{_vs}.ConditionalSelect({_vs}.GreaterThanOrEqual({v}, zero), {v}, {v} * alpha)",
        Activation.Sigmoid => $"global::CnnGen.Internal.Simd.Sigmoid({v})",
        Activation.Tanh => $"global::CnnGen.Internal.Simd.Tanh({v})",
        Activation.SiLU => $"global::CnnGen.Internal.Simd.SiLU({v})",
        _ => v,
    };

    /// <summary>Declares the constants an activation needs (zero, six, alpha).</summary>
    private void ActConstants(Activation act, float alpha)
    {
        if (act is Activation.Relu or Activation.Relu6 or Activation.LeakyRelu)
        {
            _w.Line($"var zero = {_vt}.Zero;");
        }

        if (act == Activation.Relu6)
        {
            _w.Line($"var six = {_vs}.Create(6f);");
        }

        if (act == Activation.LeakyRelu)
        {
            _w.Line($"var alpha = {_vs}.Create({SourceWriter.Float(alpha)});");
        }
    }

    private void Doc(StepPlan s, params string[] remarks)
    {
        _w.Line($"/// <summary>{Xml(StepTitle(s))}.</summary>");
        if (remarks.Length > 0)
        {
            _w.Line("/// <remarks>");
            foreach (var r in remarks)
            {
                _w.Line($"/// {Xml(r)}<br/>");
            }

            _w.Line("/// </remarks>");
        }
    }

    private static string Xml(string s) => s.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;");

    private static string Signature(StepPlan s, int inputs, bool weights)
    {
        var p = new List<string>();
        for (int i = 0; i < inputs; i++)
        {
            p.Add(inputs == 1 ? "ref float x" : $"ref float x{I(i)}");
        }

        p.Add("ref float y");
        if (weights)
        {
            p.Add(s.Kind == StepKind.BatchNorm ? "float[] scale" : "float[] weight");
            p.Add(s.Kind == StepKind.BatchNorm ? "float[] shift" : "float[] bias");
        }

        return string.Join(", ", p);
    }

    private void KernelHeader(StepPlan s, int inputs = 1, bool weights = false)
    {
        _w.Line("[MethodImpl(MethodImplOptions.AggressiveOptimization)]");
        _w.Open($"private static void {s.Method}({Signature(s, inputs, weights)})");
    }

    // ---------------------------------------------------------------- convolution

    private void EmitConv(StepPlan s)
    {
        var l = Layer(s);
        var spec = l.Spec;
        var x = T(s.Inputs[0]);
        var y = T(s.Output);
        int tp = s.TilePixels, tb = s.TileVectors, v = _v;
        int c = x.C, ocp = y.Cp, nb = ocp / v, nt = nb / tb, tbv = tb * v;
        int taps = spec.KernelH * spec.KernelW;
        int full = y.W / tp, rest = y.W % tp;
        long xOrigin = x.Index(0, 0, 0) - ((long)spec.PadTop * x.RowStride) - ((long)spec.PadLeft * x.PixelStride);

        string groups = spec.Groups > 1 ? $", {I(spec.Groups)} groups (block-diagonal weights)" : string.Empty;
        Doc(s,
            $"Input: {x.Describe()}.",
            $"Output: {y.Describe()}.",
            $"Kernel {I(spec.KernelH)}x{I(spec.KernelW)}, stride {I(spec.StrideH)}x{I(spec.StrideW)}, dilation {I(spec.DilationH)}x{I(spec.DilationW)}, padding {I(spec.PadTop)}/{I(spec.PadLeft)}/{I(spec.PadBottom)}/{I(spec.PadRight)} read from the input's zero border{groups}.",
            $"Weights: [{I(nt)} tiles][{I(taps)} taps][{I(c)} channels][{I(tbv)} filters], bias [{I(ocp)}].",
            $"Register tile: {I(tp)} pixels x {I(tb)} vectors = {I(tp * tb)} accumulators; {I(full)} tiles per row" + (rest > 0 ? $" and a last tile of {I(rest)} pixels." : "."));
        if (s.FusedDepthwise >= 0)
        {
            EmitDepthwisePointwise(s);
        }
        else
        {
            ConvHeader(s);
            _w.Line("ref float w = ref MemoryMarshal.GetArrayDataReference(weight);");
            _w.Line("ref float b = ref MemoryMarshal.GetArrayDataReference(bias);");
            DeclareStage(s);
            _w.Open($"for (int oh = 0; oh < {I(y.H)}; oh++)");
            _w.Line($"ref float xr = ref Unsafe.Add(ref x, {Lin("oh", (long)spec.StrideH * x.RowStride, xOrigin)});");
            OutputRow(s);
            EmitTileCalls(s, tp, full, rest, (long)spec.StrideW * x.PixelStride * tp, OutputStep(s, tp));
            _w.Close();
            _w.Close();
        }

        EmitConvTile(s, tp);
        if (rest > 0)
        {
            EmitConvTile(s, rest);
        }
    }

    /// <summary>The driver of a depthwise + pointwise pair: per output row, the depthwise tiles fill the row buffer, then the pointwise tiles read it.</summary>
    private void EmitDepthwisePointwise(StepPlan s)
    {
        var d = _plan.Steps.First(x => x.Layer == s.FusedDepthwise && x.RowFused);
        var dspec = Layer(d).Spec;
        var dx = T(d.Inputs[0]);
        var row = T(s.Inputs[0]);
        var y = T(s.Output);
        long dxOrigin = dx.Index(0, 0, 0) - ((long)dspec.PadTop * dx.RowStride) - ((long)dspec.PadLeft * dx.PixelStride);
        _w.Line("[MethodImpl(MethodImplOptions.AggressiveOptimization)]");
        _w.Open($"private static void {s.Method}(ref float x, ref float row, ref float y, float[] depthwiseWeight, float[] depthwiseBias, float[] weight, float[] bias)");
        _w.Line("ref float dw = ref MemoryMarshal.GetArrayDataReference(depthwiseWeight);");
        _w.Line("ref float db = ref MemoryMarshal.GetArrayDataReference(depthwiseBias);");
        _w.Line("ref float w = ref MemoryMarshal.GetArrayDataReference(weight);");
        _w.Line("ref float b = ref MemoryMarshal.GetArrayDataReference(bias);");
        DeclareStage(s);
        _w.Open($"for (int oh = 0; oh < {I(y.H)}; oh++)");
        _w.Line($"// {Xml(dspec.Name)}: output row oh into the row buffer");
        _w.Open();
        _w.Line($"ref float xr = ref Unsafe.Add(ref x, {Lin("oh", (long)dspec.StrideH * dx.RowStride, dxOrigin)});");
        _w.Line("ref float yr = ref row;");
        int dtp = d.TilePixels;
        EmitTileCalls(d, dtp, row.W / dtp, row.W % dtp, (long)dspec.StrideW * dx.PixelStride * dtp, (long)row.Cp * dtp, "dw", "db");
        _w.Close();
        _w.Line();
        _w.Line($"// {Xml(Layer(s).Spec.Name)}: the row buffer into output row oh");
        _w.Open();
        _w.Line("ref float xr = ref row;");
        OutputRow(s);
        int tp = s.TilePixels;
        EmitTileCalls(s, tp, y.W / tp, y.W % tp, (long)row.PixelStride * tp, OutputStep(s, tp));
        _w.Close();
        _w.Close();
        _w.Close();
    }

    /// <summary>A convolution writing the NCHW output stages each tile's accumulators, pixel-major, then transposes them out.</summary>
    private void DeclareStage(StepPlan s)
    {
        if (s.DirectOutput)
        {
            _w.Line($"Span<float> stage = stackalloc float[{I((long)s.TilePixels * s.TileVectors * _v)}]; // one tile, pixels x filters");
            _w.Line("ref float st = ref MemoryMarshal.GetReference(stage);");
        }
    }

    private void OutputRow(StepPlan s)
    {
        var y = T(s.Output);
        _w.Line(s.DirectOutput
            ? $"ref float yr = ref Unsafe.Add(ref y, oh * {I(y.W)}); // row oh of the first NCHW output plane"
            : $"ref float yr = ref Unsafe.Add(ref y, {Lin("oh", y.RowStride, y.Index(0, 0, 0))});");
    }

    private long OutputStep(StepPlan s, int tp) => s.DirectOutput ? tp : (long)T(s.Output).Cp * tp;

    private bool HasResidual(StepPlan s) => s.FusedAdd >= 0;

    /// <summary>A convolution kernel's signature: input, the fused Add's residual if any, output, weights.</summary>
    private void ConvHeader(StepPlan s)
    {
        _w.Line("[MethodImpl(MethodImplOptions.AggressiveOptimization)]");
        string residual = HasResidual(s) ? "ref float r, " : string.Empty;
        _w.Open($"private static void {s.Method}(ref float x, {residual}ref float y, float[] weight, float[] bias)");
    }

    /// <summary>The calls of a row's tiles: full tiles in a loop, then the narrower last tile.</summary>
    private void EmitTileCalls(StepPlan s, int tp, int full, int rest, long xStep, long yStep, string w = "w", string b = "b")
    {
        bool res = HasResidual(s);
        long rStep = s.Output > 0 ? (long)T(s.Output).Cp * tp : 0; // the residual is channels-last even when the output is not
        if (res)
        {
            var r = T(s.Inputs[1]);
            _w.Line($"ref float rr = ref Unsafe.Add(ref r, {Lin("oh", r.RowStride, r.Index(0, 0, 0))});");
        }

        string R(string offset) => (res ? (offset == "0" ? "ref rr, " : $"ref Unsafe.Add(ref rr, {offset}), ") : string.Empty) + (s.DirectOutput ? "ref st, " : string.Empty);
        if (full == 1)
        {
            _w.Line($"{s.Method}Tile{I(tp)}(ref xr, {R("0")}ref {w}, ref {b}, ref yr);");
        }
        else if (full > 1)
        {
            _w.Open($"for (int tile = 0; tile < {I(full)}; tile++)");
            _w.Line($"{s.Method}Tile{I(tp)}(ref Unsafe.Add(ref xr, tile * {I(xStep)}), {R($"tile * {I(rStep)}")}ref {w}, ref {b}, ref Unsafe.Add(ref yr, tile * {I(yStep)}));");
            _w.Close();
        }

        if (rest > 0)
        {
            _w.Line($"{s.Method}Tile{I(rest)}(ref Unsafe.Add(ref xr, {I(xStep * full)}), {R(I(rStep * full))}ref {w}, ref {b}, ref Unsafe.Add(ref yr, {I(yStep * full)}));");
        }
    }

    private static string Lin(string var, long scale, long constant)
    {
        string term = scale == 1 ? var : $"{var} * {I(scale)}";
        return constant == 0 ? term : $"{term} + {I(constant)}";
    }

    private void EmitConvTile(StepPlan s, int tp)
    {
        var l = Layer(s);
        var spec = l.Spec;
        var x = T(s.Inputs[0]);
        var y = T(s.Output);
        int tb = s.TileVectors, v = _v;
        int c = x.C, ocp = y.Cp, nb = ocp / v, nt = nb / tb, tbv = tb * v;
        int taps = spec.KernelH * spec.KernelW;
        long pixel = (long)spec.StrideW * x.PixelStride;

        _w.Line();
        _w.Line($"/// <summary>{I(tp)} output pixels of {Xml(spec.Name)}, all {I(l.Out.C)} filters, {I(tb)} vectors at a time.</summary>");
        _w.Line("[MethodImpl(MethodImplOptions.AggressiveOptimization)]");
        bool res = HasResidual(s);
        bool direct = s.DirectOutput;
        _w.Open($"private static void {s.Method}Tile{I(tp)}(ref float x, {(res ? "ref float r, " : string.Empty)}{(direct ? "ref float stage, " : string.Empty)}ref float w, ref float b, ref float y)");
        ActConstants(s.Activation, s.Alpha);
        if (nt > 1)
        {
            _w.Open($"for (int t = 0; t < {I(nt)}; t++)");
            _w.Line($"ref float wt = ref Unsafe.Add(ref w, t * {I((long)taps * c * tbv)});");
            _w.Line($"ref float bt = ref Unsafe.Add(ref b, t * {I(tbv)});");
            _w.Line($"ref float yt = ref Unsafe.Add(ref y, t * {I(tbv)});");
            if (res)
            {
                _w.Line($"ref float rt = ref Unsafe.Add(ref r, t * {I(tbv)});");
            }
        }
        else
        {
            _w.Open();
            _w.Line("ref float wt = ref w;");
            _w.Line("ref float bt = ref b;");
            _w.Line("ref float yt = ref y;");
            if (res)
            {
                _w.Line("ref float rt = ref r;");
            }
        }

        for (int j = 0; j < tb; j++)
        {
            _w.Line($"var bias{I(j)} = {Load("bt", Off(j * v))};");
        }

        for (int p = 0; p < tp; p++)
        {
            _w.Line($"{_vt} " + string.Join(", ", Enumerable.Range(0, tb).Select(j => $"a{I(p)}_{I(j)} = bias{I(j)}")) + ";");
        }

        bool loopRows = taps > 25;
        if (loopRows)
        {
            _w.Open($"for (int kh = 0; kh < {I(spec.KernelH)}; kh++)");
            _w.Line($"ref float xk = ref Unsafe.Add(ref x, kh * {I((long)spec.DilationH * x.RowStride)});");
            _w.Line($"ref float wk = ref Unsafe.Add(ref wt, kh * {I((long)spec.KernelW * c * tbv)});");
        }

        for (int kh = 0; kh < (loopRows ? 1 : spec.KernelH); kh++)
        {
            for (int kw = 0; kw < spec.KernelW; kw++)
            {
                long xOff = ((long)kh * spec.DilationH * x.RowStride) + ((long)kw * spec.DilationW * x.PixelStride);
                long wOff = (long)((kh * spec.KernelW) + kw) * c * tbv;
                string xb = loopRows ? "xk" : "x", wb = loopRows ? "wk" : "wt";
                string tap = loopRows ? $"tap (kh, {I(kw)})" : $"tap ({I(kh)}, {I(kw)})";
                if (c == 1)
                {
                    _w.Line($"// {tap}");
                    _w.Open();
                    _w.Line($"ref float xi = ref Unsafe.Add(ref {xb}, {I(xOff)});");
                    _w.Line($"ref float wi = ref Unsafe.Add(ref {wb}, {I(wOff)});");
                }
                else
                {
                    _w.Line($"// {tap}: every input channel");
                    _w.Open($"for (int ic = 0; ic < {I(c)}; ic++)");
                    _w.Line($"ref float xi = ref Unsafe.Add(ref {xb}, {Lin("ic", x.ChannelStride, xOff)});");
                    _w.Line($"ref float wi = ref Unsafe.Add(ref {wb}, {Lin("ic", tbv, wOff)});");
                }

                for (int j = 0; j < tb; j++)
                {
                    _w.Line($"var w{I(j)} = {Load("wi", Off(j * v))};");
                }

                for (int p = 0; p < tp; p++)
                {
                    string xv = p == 0 ? "xi" : $"Unsafe.Add(ref xi, {I(p * pixel)})";
                    _w.Line($"var x{I(p)} = {_vs}.Create({xv});");
                    for (int j = 0; j < tb; j++)
                    {
                        _w.Line($"a{I(p)}_{I(j)} = {_vs}.FusedMultiplyAdd(x{I(p)}, w{I(j)}, a{I(p)}_{I(j)});");
                    }
                }

                _w.Close();
            }
        }

        if (loopRows)
        {
            _w.Close();
        }

        if (res)
        {
            _w.Line($"// {Xml(_plan.Net.Layers[s.FusedAdd].Spec.Name)}: add the residual '{T(s.Inputs[1]).Name}' before the activation");
        }

        for (int p = 0; p < tp; p++)
        {
            for (int j = 0; j < tb; j++)
            {
                string acc = $"a{I(p)}_{I(j)}";
                if (res)
                {
                    _w.Line($"{acc} += {Load("rt", Off(((long)p * ocp) + (j * v)))};");
                }

                _w.Line(direct
                    ? $"{Act(s.Activation, s.Alpha, acc)}.StoreUnsafe(ref stage, {I(((long)p * tbv) + (j * v))});"
                    : $"{Act(s.Activation, s.Alpha, acc)}.StoreUnsafe(ref yt, {I(((long)p * ocp) + (j * v))});");
            }
        }

        if (direct)
        {
            // Pixels x filters -> one run of pixels in each filter's NCHW plane.
            long plane = (long)y.H * y.W;
            int channels = l.Out.C;
            string cols = nt > 1 ? $"Math.Min({I(tbv)}, {I(channels)} - (t * {I(tbv)}))" : I(Math.Min(tbv, channels));
            string dst = nt > 1 ? $"ref Unsafe.Add(ref y, t * {I(tbv * plane)})" : "ref y";
            _w.Line($"Transpose.Run(ref stage, {I(tp)}, {cols}, {I(tbv)}, {dst}, {I(plane)});");
        }

        _w.Close();
        _w.Close();
    }

    // ---------------------------------------------------------------- first-layer convolution over pixels

    /// <summary>
    /// A convolution reading the planar input with few channels and fewer filters than half a vector: vectors run
    /// along each output row (V pixels), one accumulator per filter, each weight broadcast; every block of V pixels
    /// is transposed to HWC through a small staging block.
    /// </summary>
    private void EmitConvPixels(StepPlan s)
    {
        if (s.FusedPool >= 0)
        {
            EmitConvPixelsPooled(s);
            return;
        }

        var l = Layer(s);
        var spec = l.Spec;
        var x = T(s.Inputs[0]);
        var y = T(s.Output);
        int v = _v, oc = l.Out.C, c = x.C;
        int rows = Math.Min(Planner.RoundUp(oc, 8), y.Cp);
        int full = y.W / v;
        bool tail = y.W % v != 0;
        long xOrigin = x.Index(0, 0, 0) - ((long)spec.PadTop * x.RowStride) - spec.PadLeft;

        // Blocks of v pixels along a row; the last one overlaps the previous so it stays a whole vector. When the
        // whole row fits the register budget, one call computes every block (more independent accumulators).
        var blocks = Enumerable.Range(0, full).Select(i => i * v).ToList();
        if (tail)
        {
            blocks.Add(y.W - v);
        }

        bool wholeRow = blocks.Count > 1 && blocks.Count * oc <= Planner.AccumulatorBudget(_plan.Registers);
        var offsets = wholeRow ? blocks : new List<int> { 0 };
        Doc(s,
            $"Input: {x.Describe()}.",
            $"Output: {y.Describe()}.",
            $"Kernel {I(spec.KernelH)}x{I(spec.KernelW)}, stride {I(spec.StrideH)}x1, dilation {I(spec.DilationH)}x{I(spec.DilationW)}, padding {I(spec.PadTop)}/{I(spec.PadLeft)}/{I(spec.PadBottom)}/{I(spec.PadRight)} read from the input's zero border.",
            $"Only {I(oc)} filters: vectors run over {I(v)} output pixels of a row instead, in blocks starting at " + string.Join(", ", blocks.Select(b => I(b)))
                + $"; {I(offsets.Count * oc)} accumulators ({(wholeRow ? "the whole row at once" : "one block at a time")}), each weight broadcast.",
            $"Weights: [{I(c)} channels][{I(spec.KernelH * spec.KernelW)} taps][{I(oc)} filters]; each block is transposed to HWC through a {I(rows)} x {I(v)} staging block.");
        KernelHeader(s, weights: true);
        _w.Line("ref float w = ref MemoryMarshal.GetArrayDataReference(weight);");
        _w.Line("ref float b = ref MemoryMarshal.GetArrayDataReference(bias);");
        _w.Line($"Span<float> stage = stackalloc float[{I(offsets.Count * rows * v)}]; // rows {I(oc)}.. of each block stay zero");
        _w.Line("ref float st = ref MemoryMarshal.GetReference(stage);");
        _w.Open($"for (int oh = 0; oh < {I(y.H)}; oh++)");
        _w.Line($"ref float xr = ref Unsafe.Add(ref x, {Lin("oh", (long)spec.StrideH * x.RowStride, xOrigin)});");
        _w.Line($"ref float yr = ref Unsafe.Add(ref y, {Lin("oh", y.RowStride, y.Index(0, 0, 0))});");
        if (wholeRow)
        {
            _w.Line($"{s.Method}Pixels(ref xr, ref w, ref b, ref st);");
            for (int k = 0; k < blocks.Count; k++)
            {
                _w.Line($"Transpose.Run(ref {(k == 0 ? "st" : $"Unsafe.Add(ref st, {I((long)k * rows * v)})")}, {I(rows)}, {I(v)}, {I(v)}, ref Unsafe.Add(ref yr, {I((long)blocks[k] * y.Cp)}), {I(y.Cp)});");
            }
        }
        else
        {
            foreach (int start in blocks)
            {
                _w.Line($"{s.Method}Pixels(ref Unsafe.Add(ref xr, {I(start)}), ref w, ref b, ref st);");
                _w.Line($"Transpose.Run(ref st, {I(rows)}, {I(v)}, {I(v)}, ref Unsafe.Add(ref yr, {I((long)start * y.Cp)}), {I(y.Cp)});");
            }
        }

        _w.Close();
        _w.Close();

        _w.Line();
        _w.Line($"/// <summary>{I(offsets.Count * v)} output pixels of {Xml(spec.Name)} for all {I(oc)} filters, one staging row per filter and block.</summary>");
        _w.Line("[MethodImpl(MethodImplOptions.AggressiveOptimization)]");
        _w.Open($"private static void {s.Method}Pixels(ref float x, ref float w, ref float b, ref float stage)");
        ActConstants(s.Activation, s.Alpha);
        for (int o = 0; o < oc; o++)
        {
            _w.Line($"var bias{I(o)} = {_vs}.Create({(o == 0 ? "b" : $"Unsafe.Add(ref b, {I(o)})")});");
        }

        for (int k = 0; k < offsets.Count; k++)
        {
            _w.Line($"{_vt} " + string.Join(", ", Enumerable.Range(0, oc).Select(o => $"a{I(k)}_{I(o)} = bias{I(o)}")) + ";");
        }

        int taps = spec.KernelH * spec.KernelW;
        for (int ic = 0; ic < c; ic++)
        {
            for (int kh = 0; kh < spec.KernelH; kh++)
            {
                for (int kw = 0; kw < spec.KernelW; kw++)
                {
                    long xOff = ((long)ic * x.ChannelStride) + ((long)kh * spec.DilationH * x.RowStride) + ((long)kw * spec.DilationW);
                    long wOff = (((long)ic * taps) + (kh * spec.KernelW) + kw) * oc;
                    _w.Line($"// channel {I(ic)}, tap ({I(kh)}, {I(kw)})");
                    _w.Open();
                    for (int o = 0; o < oc; o++)
                    {
                        _w.Line($"var w{I(o)} = {_vs}.Create(Unsafe.Add(ref w, {I(wOff + o)}));");
                    }

                    for (int k = 0; k < offsets.Count; k++)
                    {
                        _w.Line($"var x{I(k)} = {Load("x", Off(xOff + offsets[k]))};");
                        for (int o = 0; o < oc; o++)
                        {
                            _w.Line($"a{I(k)}_{I(o)} = {_vs}.FusedMultiplyAdd(x{I(k)}, w{I(o)}, a{I(k)}_{I(o)});");
                        }
                    }

                    _w.Close();
                }
            }
        }

        for (int k = 0; k < offsets.Count; k++)
        {
            for (int o = 0; o < oc; o++)
            {
                _w.Line($"{Act(s.Activation, s.Alpha, $"a{I(k)}_{I(o)}")}.StoreUnsafe(ref stage, {I(((long)k * rows * v) + ((long)o * v))});");
            }
        }

        _w.Close();
    }

    /// <summary>
    /// The pixel-vectorized convolution with the following 2x2 stride-2 max pool in its registers: two output rows
    /// per step, the max across the rows, then across neighbouring lanes (even and odd lanes shuffled together), so
    /// each block of V convolution pixels gives V/2 pooled pixels, transposed to HWC through the staging block.
    /// </summary>
    private void EmitConvPixelsPooled(StepPlan s)
    {
        var l = Layer(s);
        var spec = l.Spec;
        var pool = _plan.Net.Layers[s.FusedPool].Spec;
        var x = T(s.Inputs[0]);
        var y = T(s.Output);
        int v = _v, oc = l.Out.C, c = x.C, half = v / 2;
        int rows = Math.Min(Planner.RoundUp(oc, 8), y.Cp);
        var blocks = Enumerable.Range(0, l.Out.W / v).Select(i => i * v).ToList();
        if (l.Out.W % v != 0)
        {
            blocks.Add(l.Out.W - v);
        }

        long xOrigin = x.Index(0, 0, 0) - ((long)spec.PadTop * x.RowStride) - spec.PadLeft;
        long rowStep = (long)spec.StrideH * x.RowStride;
        _w.Line($"/// <summary>{Xml(spec.Name)}: {Xml(spec.DisplayKind)} + {Xml(pool.Name)} (MaxPool2D 2x2, fused) -&gt; {Xml(_plan.Net.Layers[s.FusedPool].Out.ToString())}.</summary>");
        _w.Line("/// <remarks>");
        _w.Line($"/// Input: {Xml(x.Describe())}.<br/>");
        _w.Line($"/// Output (pooled): {Xml(y.Describe())}.<br/>");
        _w.Line($"/// Kernel {I(spec.KernelH)}x{I(spec.KernelW)}, padding {I(spec.PadTop)}/{I(spec.PadLeft)}/{I(spec.PadBottom)}/{I(spec.PadRight)} read from the input's zero border; only {I(oc)} filters, so vectors run over {I(v)} output pixels (blocks at {string.Join(", ", blocks.Select(b => I(b)))}).<br/>");
        _w.Line($"/// Two convolution rows per step ({I(2 * blocks.Count * oc)} accumulators), then the 2x2 max in registers; the {I(l.Out.H)}x{I(l.Out.W)} convolution output is never stored.<br/>");
        _w.Line("/// </remarks>");
        KernelHeader(s, weights: true);
        _w.Line("ref float w = ref MemoryMarshal.GetArrayDataReference(weight);");
        _w.Line("ref float b = ref MemoryMarshal.GetArrayDataReference(bias);");
        _w.Line($"Span<float> stage = stackalloc float[{I(blocks.Count * rows * v)}]; // per block: a row of {I(half)} pooled pixels per filter; rows {I(oc)}.. stay zero");
        _w.Line("ref float st = ref MemoryMarshal.GetReference(stage);");
        _w.Open($"for (int ph = 0; ph < {I(l.Out.H / 2)}; ph++)");
        _w.Line($"ref float xr = ref Unsafe.Add(ref x, {Lin("ph", 2 * rowStep, xOrigin)});");
        _w.Line($"ref float yr = ref Unsafe.Add(ref y, {Lin("ph", y.RowStride, y.Index(0, 0, 0))});");
        _w.Line($"{s.Method}Pixels(ref xr, ref w, ref b, ref st);");
        for (int k = 0; k < blocks.Count; k++)
        {
            _w.Line($"Transpose.Run(ref {(k == 0 ? "st" : $"Unsafe.Add(ref st, {I((long)k * rows * v)})")}, {I(rows)}, {I(half)}, {I(v)}, ref Unsafe.Add(ref yr, {I((long)(blocks[k] / 2) * y.Cp)}), {I(y.Cp)});");
        }

        _w.Close();
        _w.Close();

        _w.Line();
        _w.Line($"/// <summary>Two rows of {I(blocks.Count * v)} convolution pixels of {Xml(spec.Name)}, pooled 2x2 into one staging row per filter and block.</summary>");
        _w.Line("[MethodImpl(MethodImplOptions.AggressiveOptimization)]");
        _w.Open($"private static void {s.Method}Pixels(ref float x, ref float w, ref float b, ref float stage)");
        ActConstants(s.Activation, s.Alpha);
        for (int o = 0; o < oc; o++)
        {
            _w.Line($"var bias{I(o)} = {_vs}.Create({(o == 0 ? "b" : $"Unsafe.Add(ref b, {I(o)})")});");
        }

        for (int r = 0; r < 2; r++)
        {
            for (int k = 0; k < blocks.Count; k++)
            {
                _w.Line($"{_vt} " + string.Join(", ", Enumerable.Range(0, oc).Select(o => $"a{I(r)}_{I(k)}_{I(o)} = bias{I(o)}")) + ";");
            }
        }

        int taps = spec.KernelH * spec.KernelW;
        for (int ic = 0; ic < c; ic++)
        {
            _w.Open($"for (int kh = 0; kh < {I(spec.KernelH)}; kh++)");
            _w.Line($"ref float xk = ref Unsafe.Add(ref x, {Lin("kh", (long)spec.DilationH * x.RowStride, (long)ic * x.ChannelStride)});");
            _w.Line($"ref float wk = ref Unsafe.Add(ref w, {Lin("kh", (long)spec.KernelW * oc, (long)ic * taps * oc)});");
            for (int kw = 0; kw < spec.KernelW; kw++)
            {
                _w.Line($"// channel {I(ic)}, tap (kh, {I(kw)})");
                _w.Open();
                for (int o = 0; o < oc; o++)
                {
                    _w.Line($"var w{I(o)} = {_vs}.Create(Unsafe.Add(ref wk, {I(((long)kw * oc) + o)}));");
                }

                for (int r = 0; r < 2; r++)
                {
                    for (int k = 0; k < blocks.Count; k++)
                    {
                        long off = (r * rowStep) + ((long)kw * spec.DilationW) + blocks[k];
                        _w.Line($"var x{I(r)}_{I(k)} = {Load("xk", Off(off))};");
                        for (int o = 0; o < oc; o++)
                        {
                            _w.Line($"a{I(r)}_{I(k)}_{I(o)} = {_vs}.FusedMultiplyAdd(x{I(r)}_{I(k)}, w{I(o)}, a{I(r)}_{I(k)}_{I(o)});");
                        }
                    }
                }

                _w.Close();
            }

            _w.Close();
        }

        _w.Line();
        _w.Line("// 2x2 max: across the two rows, then across neighbouring pixels (even and odd lanes).");
        string evenIdx = string.Join(", ", Enumerable.Range(0, v).Select(i => I(i < half ? 2 * i : 0)));
        string oddIdx = string.Join(", ", Enumerable.Range(0, v).Select(i => I(i < half ? (2 * i) + 1 : 0)));
        // The shuffle indices stay literal in each call: .NET 9's NativeAOT compiler only emits a single permute
        // instruction for constant indices it sees in the call itself (through a local it fell back to software).
        for (int k = 0; k < blocks.Count; k++)
        {
            for (int o = 0; o < oc; o++)
            {
                string m = $"m{I(k)}_{I(o)}";
                _w.Line($"var {m} = {_vs}.MaxNative({Act(s.Activation, s.Alpha, $"a0_{I(k)}_{I(o)}")}, {Act(s.Activation, s.Alpha, $"a1_{I(k)}_{I(o)}")});");
                _w.Line($"{_vs}.MaxNative({_vs}.Shuffle({m}, {_vs}.Create({evenIdx})), {_vs}.Shuffle({m}, {_vs}.Create({oddIdx}))).StoreUnsafe(ref stage, {I(((long)k * rows * v) + ((long)o * v))});");
            }
        }

        _w.Close();
    }

    // ---------------------------------------------------------------- depthwise

    private void EmitDepthwise(StepPlan s)
    {
        var l = Layer(s);
        var spec = l.Spec;
        var x = T(s.Inputs[0]);
        var y = T(s.Output);
        int tp = s.TilePixels, cp = y.Cp;
        int full = y.W / tp, rest = y.W % tp;
        long xOrigin = x.Index(0, 0, 0) - ((long)spec.PadTop * x.RowStride) - ((long)spec.PadLeft * x.PixelStride);
        Doc(s,
            $"Input: {x.Describe()}.",
            $"Output: {y.Describe()}.",
            $"Depthwise {I(spec.KernelH)}x{I(spec.KernelW)}, stride {I(spec.StrideH)}x{I(spec.StrideW)}, dilation {I(spec.DilationH)}x{I(spec.DilationW)}, padding {I(spec.PadTop)}/{I(spec.PadLeft)}/{I(spec.PadBottom)}/{I(spec.PadRight)}; vectors run over channels.",
            $"Weights: [{I(spec.KernelH * spec.KernelW)} taps][{I(cp)} channels].",
            $"Register tile: {I(tp)} pixels x 1 vector of {I(_v)} channels; {I(full)} tiles per row" + (rest > 0 ? $" and a last tile of {I(rest)} pixels." : "."));
        if (s.RowFused)
        {
            _w.Line($"// {Xml(spec.Name)} runs row by row inside the next layer's kernel; only its tiles are here.");
        }
        else
        {
            ConvHeader(s);
            _w.Line("ref float w = ref MemoryMarshal.GetArrayDataReference(weight);");
            _w.Line("ref float b = ref MemoryMarshal.GetArrayDataReference(bias);");
            _w.Open($"for (int oh = 0; oh < {I(y.H)}; oh++)");
            _w.Line($"ref float xr = ref Unsafe.Add(ref x, {Lin("oh", (long)spec.StrideH * x.RowStride, xOrigin)});");
            _w.Line($"ref float yr = ref Unsafe.Add(ref y, {Lin("oh", y.RowStride, y.Index(0, 0, 0))});");
            EmitTileCalls(s, tp, full, rest, (long)spec.StrideW * x.PixelStride * tp, (long)cp * tp);
            _w.Close();
            _w.Close();
        }

        EmitDepthwiseTile(s, tp);
        if (rest > 0)
        {
            EmitDepthwiseTile(s, rest);
        }
    }

    private void EmitDepthwiseTile(StepPlan s, int tp)
    {
        var spec = Layer(s).Spec;
        var x = T(s.Inputs[0]);
        var y = T(s.Output);
        int cp = y.Cp;
        long pixel = (long)spec.StrideW * x.PixelStride;
        _w.Line();
        _w.Line($"/// <summary>{I(tp)} output pixels of {Xml(spec.Name)}, one vector of channels at a time.</summary>");
        _w.Line("[MethodImpl(MethodImplOptions.AggressiveOptimization)]");
        bool res = HasResidual(s);
        _w.Open($"private static void {s.Method}Tile{I(tp)}(ref float x, {(res ? "ref float r, " : string.Empty)}ref float w, ref float b, ref float y)");
        ActConstants(s.Activation, s.Alpha);
        _w.Open($"for (int c = 0; c < {I(cp)}; c += {I(_v)})");
        _w.Line($"var bias = {_vs}.LoadUnsafe(ref b, (nuint)c);");
        _w.Line($"{_vt} " + string.Join(", ", Enumerable.Range(0, tp).Select(p => $"a{I(p)} = bias")) + ";");
        for (int kh = 0; kh < spec.KernelH; kh++)
        {
            for (int kw = 0; kw < spec.KernelW; kw++)
            {
                long xOff = ((long)kh * spec.DilationH * x.RowStride) + ((long)kw * spec.DilationW * x.PixelStride);
                int tap = (kh * spec.KernelW) + kw;
                _w.Line($"var w{I(tap)} = {_vs}.LoadUnsafe(ref w, {Off("c", (long)tap * cp)}); // tap ({I(kh)}, {I(kw)})");
                for (int p = 0; p < tp; p++)
                {
                    _w.Line($"a{I(p)} = {_vs}.FusedMultiplyAdd({_vs}.LoadUnsafe(ref x, {Off("c", xOff + (p * pixel))}), w{I(tap)}, a{I(p)});");
                }
            }
        }

        for (int p = 0; p < tp; p++)
        {
            if (res)
            {
                _w.Line($"a{I(p)} += {_vs}.LoadUnsafe(ref r, {Off("c", (long)p * cp)});");
            }

            _w.Line($"{Act(s.Activation, s.Alpha, $"a{I(p)}")}.StoreUnsafe(ref y, {Off("c", (long)p * cp)});");
        }

        _w.Close();
        _w.Close();
    }

    // ---------------------------------------------------------------- pooling

    private void EmitPool(StepPlan s)
    {
        var l = Layer(s);
        var spec = l.Spec;
        var x = T(s.Inputs[0]);
        var y = T(s.Output);
        bool max = spec.Kind == LayerKind.MaxPool2D;
        int cp = y.Cp;
        bool exact = spec.PadTop == 0 && spec.PadLeft == 0
            && ((y.H - 1) * spec.StrideH) + (spec.DilationH * (spec.KernelH - 1)) < x.H
            && ((y.W - 1) * spec.StrideW) + (spec.DilationW * (spec.KernelW - 1)) < x.W;
        string rule = max ? "max (padding counts as -infinity)" : spec.CountIncludePad ? "mean (padding counts in the divisor)" : "mean over in-bounds cells";
        Doc(s,
            $"Input: {x.Describe()}.",
            $"Output: {y.Describe()}.",
            $"Window {I(spec.KernelH)}x{I(spec.KernelW)}, stride {I(spec.StrideH)}x{I(spec.StrideW)}, padding {I(spec.PadTop)}x{I(spec.PadLeft)}" + (spec.CeilMode ? ", ceil mode" : string.Empty) + $": {rule}.",
            exact ? "Every window lies inside the input: the window is unrolled." : "Windows at the edges are clipped at run time, as PyTorch does.");
        KernelHeader(s);
        string combine = max ? $"{_vs}.MaxNative" : $"{_vs}.Add";
        if (exact)
        {
            if (!max)
            {
                _w.Line($"var scale = {_vs}.Create({SourceWriter.Float(1f / (spec.KernelH * spec.KernelW))});");
            }

            _w.Open($"for (int oh = 0; oh < {I(y.H)}; oh++)");
            _w.Line($"ref float xr = ref Unsafe.Add(ref x, {Lin("oh", (long)spec.StrideH * x.RowStride, x.Index(0, 0, 0))});");
            _w.Line($"ref float yr = ref Unsafe.Add(ref y, {Lin("oh", y.RowStride, y.Index(0, 0, 0))});");
            _w.Open($"for (int ow = 0; ow < {I(y.W)}; ow++)");
            _w.Line($"ref float xp = ref Unsafe.Add(ref xr, ow * {I((long)spec.StrideW * x.PixelStride)});");
            _w.Line($"ref float yp = ref Unsafe.Add(ref yr, ow * {I(cp)});");
            _w.Open($"for (int c = 0; c < {I(cp)}; c += {I(_v)})");
            for (int kh = 0; kh < spec.KernelH; kh++)
            {
                for (int kw = 0; kw < spec.KernelW; kw++)
                {
                    long off = ((long)kh * spec.DilationH * x.RowStride) + ((long)kw * spec.DilationW * x.PixelStride);
                    string load = $"{_vs}.LoadUnsafe(ref xp, {Off("c", off)})";
                    _w.Line((kh | kw) == 0 ? $"var m = {load}; // tap (0, 0)" : $"m = {combine}(m, {load}); // tap ({I(kh)}, {I(kw)})");
                }
            }

            _w.Line(max ? "m.StoreUnsafe(ref yp, (nuint)c);" : "(m * scale).StoreUnsafe(ref yp, (nuint)c);");
            _w.Close();
            _w.Close();
            _w.Close();
            _w.Close();
            return;
        }

        _w.Open($"for (int oh = 0; oh < {I(y.H)}; oh++)");
        _w.Line($"int h0 = oh * {I(spec.StrideH)} - {I(spec.PadTop)};");
        _w.Open($"for (int ow = 0; ow < {I(y.W)}; ow++)");
        _w.Line($"int w0 = ow * {I(spec.StrideW)} - {I(spec.PadLeft)};");
        if (!max)
        {
            _w.Line($"int hEnd = Math.Min(h0 + {I(spec.KernelH)}, {I(x.H + spec.PadTop)}), wEnd = Math.Min(w0 + {I(spec.KernelW)}, {I(x.W + spec.PadLeft)});");
            if (spec.CountIncludePad)
            {
                _w.Line("int divisor = (hEnd - h0) * (wEnd - w0); // padding counts, the ceil-mode overhang does not");
            }
            else
            {
                _w.Line($"int divisor = (Math.Min(hEnd, {I(x.H)}) - Math.Max(h0, 0)) * (Math.Min(wEnd, {I(x.W)}) - Math.Max(w0, 0)); // in-bounds cells");
            }

            _w.Line($"var scale = {_vs}.Create(1f / divisor);");
        }

        _w.Line($"ref float yp = ref Unsafe.Add(ref y, {I(y.Index(0, 0, 0))} + (oh * {I(y.RowStride)}) + (ow * {I(cp)}));");
        _w.Open($"for (int c = 0; c < {I(cp)}; c += {I(_v)})");
        _w.Line(max ? $"var m = {_vs}.Create(float.NegativeInfinity);" : $"var m = {_vt}.Zero;");
        _w.Open($"for (int kh = 0; kh < {I(spec.KernelH)}; kh++)");
        _w.Line($"int ih = h0 + (kh * {I(spec.DilationH)});");
        _w.Open($"if ((uint)ih >= {I(x.H)}u)");
        _w.Line("continue;");
        _w.Close();
        _w.Line();
        _w.Open($"for (int kw = 0; kw < {I(spec.KernelW)}; kw++)");
        _w.Line($"int iw = w0 + (kw * {I(spec.DilationW)});");
        _w.Open($"if ((uint)iw < {I(x.W)}u)");
        _w.Line($"m = {combine}(m, {_vs}.LoadUnsafe(ref x, (nuint)({I(x.Index(0, 0, 0))} + (ih * {I(x.RowStride)}) + (iw * {I(x.PixelStride)}) + c)));");
        _w.Close();
        _w.Close();
        _w.Close();
        _w.Line();
        _w.Line(max ? "m.StoreUnsafe(ref yp, (nuint)c);" : "(m * scale).StoreUnsafe(ref yp, (nuint)c);");
        _w.Close();
        _w.Close();
        _w.Close();
        _w.Close();
    }

    private void EmitGlobalPool(StepPlan s)
    {
        var l = Layer(s);
        var x = T(s.Inputs[0]);
        var y = T(s.Output);
        bool max = l.Spec.Kind == LayerKind.GlobalMaxPool2D;
        Doc(s, $"Input: {x.Describe()}.", $"Output: {y.Describe()}.", max ? "Max over every pixel, per channel." : $"Mean over {I(x.H * x.W)} pixels, per channel.");
        KernelHeader(s);
        _w.Open($"for (int c = 0; c < {I(x.Cp)}; c += {I(_v)})");
        _w.Line(max ? $"var m = {_vs}.Create(float.NegativeInfinity);" : $"var m = {_vt}.Zero;");
        _w.Open($"for (int h = 0; h < {I(x.H)}; h++)");
        _w.Line($"ref float xr = ref Unsafe.Add(ref x, {Lin("h", x.RowStride, x.Index(0, 0, 0))});");
        _w.Open($"for (int w = 0; w < {I(x.W)}; w++)");
        _w.Line(max
            ? $"m = {_vs}.MaxNative(m, {_vs}.LoadUnsafe(ref xr, (nuint)((w * {I(x.Cp)}) + c)));"
            : $"m += {_vs}.LoadUnsafe(ref xr, (nuint)((w * {I(x.Cp)}) + c));");
        _w.Close();
        _w.Close();
        _w.Line();
        _w.Line(max ? "m.StoreUnsafe(ref y, (nuint)c);" : $"(m * {_vs}.Create({SourceWriter.Float(1f / (x.H * x.W))})).StoreUnsafe(ref y, (nuint)c);");
        _w.Close();
        _w.Close();
    }

    // ---------------------------------------------------------------- dense

    private void EmitDense(StepPlan s)
    {
        var l = Layer(s);
        var x = T(s.Inputs[0]);
        var y = T(s.Output);
        int tb = s.TileVectors, v = _v, np = y.Cp, nb = np / v;
        int full = nb / tb, rest = nb % tb;
        long k = l.In.Size;
        bool spatial = x.Layout == Layout.Hwc;
        Doc(s,
            $"Input: {x.Describe()}" + (spatial ? ", read in H, W, C order; the weights were permuted at load to PyTorch's C, H, W flatten order." : "."),
            $"Output: {y.Describe()}.",
            $"Weights: packed at load in tiles of [{I(k)} features][{I(PackVectors(_plan, s) * v)} outputs]; a tile of {I(tb)} vectors streams {I(((tb - 1) / PackVectors(_plan, s)) + 1)} of them" + (rest > 0 ? $", and a last tile of {I(rest)} vectors." : "."),
            $"Each feature is broadcast once and multiplied into {I(tb)} accumulator vectors; the weights stream contiguously.");
        KernelHeader(s, weights: true);
        _w.Line("ref float w = ref MemoryMarshal.GetArrayDataReference(weight);");
        _w.Line("ref float b = ref MemoryMarshal.GetArrayDataReference(bias);");
        if (full == 1)
        {
            _w.Line($"{s.Method}Tile{I(tb)}(ref x, ref w, ref b, ref y);");
        }
        else if (full > 1)
        {
            _w.Open($"for (int t = 0; t < {I(full)}; t++)");
            _w.Line($"{s.Method}Tile{I(tb)}(ref x, ref Unsafe.Add(ref w, t * {I(k * tb * v)}), ref Unsafe.Add(ref b, t * {I(tb * v)}), ref Unsafe.Add(ref y, t * {I(tb * v)}));");
            _w.Close();
        }

        if (rest > 0)
        {
            _w.Line($"{s.Method}Tile{I(rest)}(ref x, ref Unsafe.Add(ref w, {I(full * k * tb * v)}), ref Unsafe.Add(ref b, {I(full * tb * v)}), ref Unsafe.Add(ref y, {I(full * tb * v)}));");
        }

        _w.Close();
        EmitDenseTile(s, tb, 0);
        if (rest > 0)
        {
            EmitDenseTile(s, rest, full * tb);
        }

        if (_plan.BatchGroup > 1)
        {
            EmitDenseGroup(s);
        }
    }

    /// <summary>The dense layer for a group of images: each weight vector is loaded once and used for every image.</summary>
    private void EmitDenseGroup(StepPlan s)
    {
        var l = Layer(s);
        var x = T(s.Inputs[0]);
        var y = T(s.Output);
        int g = _plan.BatchGroup, tb = s.GroupTileVectors, v = _v, nb = y.Cp / v;
        int full = nb / tb, rest = nb % tb;
        long k = l.In.Size;
        _w.Line();
        _w.Line($"/// <summary>{Xml(StepTitle(s))}, for {I(g)} images at once.</summary>");
        _w.Line("/// <remarks>");
        _w.Line($"/// Register tile: {I(g)} images x {I(tb)} vectors = {I(g * tb)} accumulators; per feature, {I(tb)} weight loads feed {I(g * tb)} FMAs.<br/>");
        _w.Line("/// </remarks>");
        _w.Line("[MethodImpl(MethodImplOptions.AggressiveOptimization)]");
        _w.Open($"private static void {s.Method}Group(ref float x, ref float y, float[] weight, float[] bias)");
        _w.Line("ref float w = ref MemoryMarshal.GetArrayDataReference(weight);");
        _w.Line("ref float b = ref MemoryMarshal.GetArrayDataReference(bias);");
        if (full > 0)
        {
            _w.Open($"for (int t = 0; t < {I(full)}; t++)");
            _w.Line($"{s.Method}GroupTile{I(tb)}(ref x, ref Unsafe.Add(ref w, t * {I(k * tb * v)}), ref Unsafe.Add(ref b, t * {I(tb * v)}), ref Unsafe.Add(ref y, t * {I(tb * v)}));");
            _w.Close();
        }

        if (rest > 0)
        {
            _w.Line($"{s.Method}GroupTile{I(rest)}(ref x, ref Unsafe.Add(ref w, {I(full * k * tb * v)}), ref Unsafe.Add(ref b, {I(full * tb * v)}), ref Unsafe.Add(ref y, {I(full * tb * v)}));");
        }

        _w.Close();

        EmitDenseGroupTile(s, tb);
        if (rest > 0)
        {
            EmitDenseGroupTile(s, rest);
        }
    }

    private void EmitDenseGroupTile(StepPlan s, int tb)
    {
        var l = Layer(s);
        var x = T(s.Inputs[0]);
        int g = _plan.BatchGroup, v = _v, tbv = tb * v;
        long xImage = x.External ? _plan.Net.Input.Size : _plan.WorkspaceFloats, yImage = _plan.WorkspaceFloats;
        _w.Line();
        _w.Line($"/// <summary>{I(tbv)} outputs of {Xml(l.Spec.Name)} for {I(g)} images (image i at x + {I(xImage)} i, y + {I(yImage)} i).</summary>");
        _w.Line("[MethodImpl(MethodImplOptions.AggressiveOptimization)]");
        _w.Open($"private static void {s.Method}GroupTile{I(tb)}(ref float x, ref float w, ref float b, ref float y)");
        ActConstants(s.Activation, s.Alpha);
        for (int j = 0; j < tb; j++)
        {
            _w.Line($"var bias{I(j)} = {Load("b", Off(j * v))};");
        }

        for (int i = 0; i < g; i++)
        {
            _w.Line($"{_vt} " + string.Join(", ", Enumerable.Range(0, tb).Select(j => $"a{I(i)}_{I(j)} = bias{I(j)}")) + ";");
        }

        void Body(Func<int, string> xRef, string wRef)
        {
            for (int j = 0; j < tb; j++)
            {
                _w.Line($"var w{I(j)} = {Load(wRef, Off(j * v))};");
            }

            for (int i = 0; i < g; i++)
            {
                _w.Line($"var x{I(i)} = {_vs}.Create({xRef(i)});");
                for (int j = 0; j < tb; j++)
                {
                    _w.Line($"a{I(i)}_{I(j)} = {_vs}.FusedMultiplyAdd(x{I(i)}, w{I(j)}, a{I(i)}_{I(j)});");
                }
            }
        }

        if (x.Layout != Layout.Hwc)
        {
            _w.Open($"for (int k = 0; k < {I(l.In.Size)}; k++)");
            _w.Line($"ref float wk = ref Unsafe.Add(ref w, k * {I(tbv)});");
            Body(i => $"Unsafe.Add(ref x, {(i == 0 ? "k" : $"k + {I(i * xImage)}")})", "wk");
            _w.Close();
        }
        else
        {
            _w.Open($"for (int ih = 0; ih < {I(x.H)}; ih++)");
            _w.Open($"for (int iw = 0; iw < {I(x.W)}; iw++)");
            _w.Line($"ref float xp = ref Unsafe.Add(ref x, {I(x.Index(0, 0, 0))} + (ih * {I(x.RowStride)}) + (iw * {I(x.Cp)}));");
            _w.Line($"ref float wp = ref Unsafe.Add(ref w, ((ih * {I(x.W)}) + iw) * {I((long)x.C * tbv)});");
            _w.Open($"for (int c = 0; c < {I(x.C)}; c++)");
            _w.Line($"ref float wk = ref Unsafe.Add(ref wp, c * {I(tbv)});");
            Body(i => $"Unsafe.Add(ref xp, {(i == 0 ? "c" : $"c + {I(i * xImage)}")})", "wk");
            _w.Close();
            _w.Close();
            _w.Close();
        }

        _w.Line();
        for (int i = 0; i < g; i++)
        {
            for (int j = 0; j < tb; j++)
            {
                _w.Line($"{Act(s.Activation, s.Alpha, $"a{I(i)}_{I(j)}")}.StoreUnsafe(ref y, {I((i * yImage) + (j * v))});");
            }
        }

        _w.Close();
    }

    /// <summary>Output vectors per weight tile as packed at load: the group tile when batches are grouped, else the tile.</summary>
    internal static int PackVectors(NetworkPlan plan, StepPlan s) => plan.BatchGroup > 1 ? s.GroupTileVectors : s.TileVectors;

    private void EmitDenseTile(StepPlan s, int tb, int startVector)
    {
        var l = Layer(s);
        var x = T(s.Inputs[0]);
        var y = T(s.Output);
        int v = _v, tbv = tb * v, nb = y.Cp / v, pv = PackVectors(_plan, s);
        long kTotal = l.In.Size;
        _w.Line();
        _w.Line($"/// <summary>{I(tbv)} outputs of {Xml(l.Spec.Name)} over all {I(kTotal)} features.</summary>");
        _w.Line("[MethodImpl(MethodImplOptions.AggressiveOptimization)]");
        _w.Open($"private static void {s.Method}Tile{I(tb)}(ref float x, ref float w, ref float b, ref float y)");
        ActConstants(s.Activation, s.Alpha);
        _w.Line($"{_vt} " + string.Join(", ", Enumerable.Range(0, tb).Select(j => $"a{I(j)} = {Load("b", Off(j * v))}")) + ";");

        // The weights are packed in tiles of pv vectors ([feature][pv * V] each); this tile reads one stream per packed tile.
        int streams = ((tb - 1) / pv) + 1;

        void Body(string xRef, string k)
        {
            _w.Line($"var xk = {_vs}.Create({xRef});");
            for (int m = 0; m < streams; m++)
            {
                int packStart = (startVector / pv * pv) + (m * pv);
                int width = Math.Min(pv, nb - packStart);
                long offset = (long)m * kTotal * pv * v;
                _w.Line($"ref float w{I(m)} = ref Unsafe.Add(ref w, {Lin(k, (long)width * v, offset)});");
            }

            for (int j = 0; j < tb; j++)
            {
                _w.Line($"a{I(j)} = {_vs}.FusedMultiplyAdd(xk, {Load("w" + I(j / pv), Off((j % pv) * v))}, a{I(j)});");
            }
        }

        if (x.Layout != Layout.Hwc)
        {
            _w.Open($"for (int k = 0; k < {I(kTotal)}; k++)");
            Body("Unsafe.Add(ref x, k)", "k");
            _w.Close();
        }
        else
        {
            bool merged = !x.HasBorder;
            if (merged)
            {
                _w.Open($"for (int p = 0; p < {I(x.H * x.W)}; p++)");
                _w.Line($"ref float xp = ref Unsafe.Add(ref x, p * {I(x.Cp)});");
                _w.Open($"for (int c = 0; c < {I(x.C)}; c++)");
                _w.Line($"int k = (p * {I(x.C)}) + c;");
            }
            else
            {
                _w.Open($"for (int ih = 0; ih < {I(x.H)}; ih++)");
                _w.Open($"for (int iw = 0; iw < {I(x.W)}; iw++)");
                _w.Line($"ref float xp = ref Unsafe.Add(ref x, {I(x.Index(0, 0, 0))} + (ih * {I(x.RowStride)}) + (iw * {I(x.Cp)}));");
                _w.Open($"for (int c = 0; c < {I(x.C)}; c++)");
                _w.Line($"int k = (((ih * {I(x.W)}) + iw) * {I(x.C)}) + c;");
            }

            Body("Unsafe.Add(ref xp, c)", "k");
            _w.Close();
            _w.Close();
            if (!merged)
            {
                _w.Close();
            }
        }

        _w.Line();
        for (int j = 0; j < tb; j++)
        {
            _w.Line($"{Act(s.Activation, s.Alpha, $"a{I(j)}")}.StoreUnsafe(ref y, {I(j * v)});");
        }

        _w.Close();
    }

    // ---------------------------------------------------------------- element-wise

    /// <summary>Writes a loop over every stored vector of the tensors' interiors, row by row.</summary>
    private void ForEachVector(IReadOnlyList<TensorPlan> ins, TensorPlan y, Action<IReadOnlyList<string>> body)
    {
        if (y.Layout == Layout.Flat)
        {
            _w.Open($"for (int i = 0; i < {I(y.Cp)}; i += {I(_v)})");
            body(ins.Select((t, n) => $"{_vs}.LoadUnsafe(ref {(ins.Count == 1 ? "x" : "x" + I(n))}, (nuint)i)").ToList());
            _w.Close();
            return;
        }

        _w.Open($"for (int h = 0; h < {I(y.H)}; h++)");
        for (int n = 0; n < ins.Count; n++)
        {
            string name = ins.Count == 1 ? "x" : "x" + I(n);
            _w.Line($"ref float {name}r = ref Unsafe.Add(ref {name}, {Lin("h", ins[n].RowStride, ins[n].Index(0, 0, 0))});");
        }

        _w.Line($"ref float yr = ref Unsafe.Add(ref y, {Lin("h", y.RowStride, y.Index(0, 0, 0))});");
        _w.Open($"for (int i = 0; i < {I((long)y.W * y.Cp)}; i += {I(_v)})");
        body(ins.Select((t, n) => $"{_vs}.LoadUnsafe(ref {(ins.Count == 1 ? "x" : "x" + I(n))}r, (nuint)i)").ToList());
        _w.Close();
        _w.Close();
    }

    private string StoreTarget(TensorPlan y) => y.Layout == Layout.Flat ? "ref y, (nuint)i" : "ref yr, (nuint)i";

    private void EmitActivation(StepPlan s)
    {
        var x = T(s.Inputs[0]);
        var y = T(s.Output);
        Doc(s, $"Input: {x.Describe()}.", $"Output: {y.Describe()}.");
        KernelHeader(s);
        ActConstants(s.Activation, s.Alpha);
        ForEachVector(new[] { x }, y, v => _w.Line($"{Act(s.Activation, s.Alpha, v[0])}.StoreUnsafe({StoreTarget(y)});"));
        _w.Close();
    }

    private void EmitBatchNorm(StepPlan s)
    {
        var x = T(s.Inputs[0]);
        var y = T(s.Output);
        var spec = Layer(s).Spec;
        Doc(s, $"Input: {x.Describe()}.", $"Output: {y.Describe()}.",
            $"Eval-mode batch norm (eps {SourceWriter.Float(spec.Eps)}) as y = x * scale + shift per channel, computed at load.");
        KernelHeader(s, weights: true);
        ActConstants(s.Activation, s.Alpha);
        _w.Line("ref float sc = ref MemoryMarshal.GetArrayDataReference(scale);");
        _w.Line("ref float sh = ref MemoryMarshal.GetArrayDataReference(shift);");
        _w.Open($"for (int h = 0; h < {I(y.H)}; h++)");
        _w.Line($"ref float xr = ref Unsafe.Add(ref x, {Lin("h", x.RowStride, x.Index(0, 0, 0))});");
        _w.Line($"ref float yr = ref Unsafe.Add(ref y, {Lin("h", y.RowStride, y.Index(0, 0, 0))});");
        _w.Open($"for (int w = 0; w < {I(y.W)}; w++)");
        _w.Open($"for (int c = 0; c < {I(y.Cp)}; c += {I(_v)})");
        string v = $"{_vs}.FusedMultiplyAdd({_vs}.LoadUnsafe(ref xr, (nuint)((w * {I(x.Cp)}) + c)), {_vs}.LoadUnsafe(ref sc, (nuint)c), {_vs}.LoadUnsafe(ref sh, (nuint)c))";
        _w.Line($"var v = {v};");
        _w.Line($"{Act(s.Activation, s.Alpha, "v")}.StoreUnsafe(ref yr, (nuint)((w * {I(y.Cp)}) + c));");
        _w.Close();
        _w.Close();
        _w.Close();
        _w.Close();
    }

    private void EmitAdd(StepPlan s)
    {
        var ins = s.Inputs.Select(T).ToList();
        var y = T(s.Output);
        Doc(s, ins.Select((t, n) => $"Input {I(n)}: {t.Describe()}.").Concat(new[] { $"Output: {y.Describe()}." }).ToArray());
        KernelHeader(s, inputs: ins.Count);
        ActConstants(s.Activation, s.Alpha);
        ForEachVector(ins, y, v =>
        {
            _w.Line($"var sum = {string.Join(" + ", v)};");
            _w.Line($"{Act(s.Activation, s.Alpha, "sum")}.StoreUnsafe({StoreTarget(y)});");
        });
        _w.Close();
    }

    private void EmitConcat(StepPlan s)
    {
        var ins = s.Inputs.Select(T).ToList();
        var y = T(s.Output);
        Doc(s, ins.Select((t, n) => $"Input {I(n)}: {t.Describe()}.").Concat(new[] { $"Output: {y.Describe()}: channels of each input in order." }).ToArray());
        KernelHeader(s, inputs: ins.Count);
        _w.Open($"for (int h = 0; h < {I(y.H)}; h++)");
        _w.Open($"for (int w = 0; w < {I(y.W)}; w++)");
        _w.Line($"ref float yp = ref Unsafe.Add(ref y, {I(y.Index(0, 0, 0))} + (h * {I(y.RowStride)}) + (w * {I(y.Cp)}));");
        int channel = 0;
        for (int n = 0; n < ins.Count; n++)
        {
            var t = ins[n];
            _w.Line($"Buffers.Copy(ref Unsafe.Add(ref x{I(n)}, {I(t.Index(0, 0, 0))} + (h * {I(t.RowStride)}) + (w * {I(t.Cp)})), ref Unsafe.Add(ref yp, {I(channel)}), {I(t.C)});");
            channel += t.C;
        }

        _w.Close();
        _w.Close();
        _w.Close();
    }

    private void EmitSoftmax(StepPlan s)
    {
        var x = T(s.Inputs[0]);
        var y = T(s.Output);
        Doc(s, $"Input: {x.Describe()}.", $"Output: {y.Describe()}.", "Max-subtracted, so large logits do not overflow.");
        KernelHeader(s);
        if (y.Layout == Layout.Flat)
        {
            _w.Line($"Buffers.Softmax(ref x, ref y, {I(y.C)});");
        }
        else
        {
            _w.Open($"for (int h = 0; h < {I(y.H)}; h++)");
            _w.Open($"for (int w = 0; w < {I(y.W)}; w++)");
            _w.Line($"Buffers.Softmax(ref Unsafe.Add(ref x, {I(x.Index(0, 0, 0))} + (h * {I(x.RowStride)}) + (w * {I(x.PixelStride)})), ref Unsafe.Add(ref y, {I(y.Index(0, 0, 0))} + (h * {I(y.RowStride)}) + (w * {I(y.PixelStride)})), {I(y.C)});");
            _w.Close();
            _w.Close();
        }

        _w.Close();
    }

    // ---------------------------------------------------------------- input and output

    private void EmitPackInput(StepPlan s)
    {
        var y = T(s.Output);
        var net = _plan.Net;
        int c = net.Input.C, h = net.Input.H, wd = net.Input.W;
        _w.Line($"/// <summary>Copies the NCHW input into {Xml(y.Describe())}; returns false when the input holds NaN or infinity (checked in the same pass).</summary>");
        _w.Line("[MethodImpl(MethodImplOptions.AggressiveOptimization)]");
        _w.Open("private static bool PackInput(ref float x, ref float y)");
        _w.Line("bool finite = true;");
        if (y.Layout == Layout.Chw)
        {
            _w.Open($"for (int c = 0; c < {I(c)}; c++)");
            _w.Line($"ref float plane = ref Unsafe.Add(ref y, c * {I((long)y.Rows * y.RowPixels)});");
            _w.Line($"Buffers.ClearBorder(ref plane, {I(y.Rows)}, {I(y.RowPixels)}, 1, {I(y.BorderTop)}, {I(y.BorderLeft)}, {I(y.BorderBottom)}, {I(y.BorderRight)});");
            _w.Open($"for (int h = 0; h < {I(h)}; h++)");
            _w.Line($"finite &= Buffers.CopyFinite(ref Unsafe.Add(ref x, (c * {I((long)h * wd)}) + (h * {I(wd)})), ref Unsafe.Add(ref plane, {Lin("h", y.RowPixels, y.Index(0, 0, 0))}), {I(wd)});");
            _w.Close();
            _w.Close();
        }
        else
        {
            if (y.HasBorder)
            {
                _w.Line($"Buffers.ClearBorder(ref y, {I(y.Rows)}, {I(y.RowPixels)}, {I(y.Cp)}, {I(y.BorderTop)}, {I(y.BorderLeft)}, {I(y.BorderBottom)}, {I(y.BorderRight)});");
            }

            _w.Line("// Each input row is a channels x width matrix; transposing it gives the row's pixels, channels innermost.");
            _w.Open($"for (int h = 0; h < {I(h)}; h++)");
            _w.Line($"finite &= Transpose.RunFinite(ref Unsafe.Add(ref x, h * {I(wd)}), {I(c)}, {I(wd)}, {I((long)h * wd)}, ref Unsafe.Add(ref y, {Lin("h", y.RowStride, y.Index(0, 0, 0))}), {I(y.Cp)});");
            _w.Close();
        }

        _w.Line();
        _w.Line("return finite;");
        _w.Close();
    }

    private void EmitCopyOutput(StepPlan s)
    {
        var x = T(s.Inputs[0]);
        var net = _plan.Net;
        var o = net.Output;
        _w.Line($"/// <summary>Writes {Xml(x.Describe())} to the output as {Xml(o.ToPyTorch())} in PyTorch's order.</summary>");
        _w.Line("[MethodImpl(MethodImplOptions.AggressiveOptimization)]");
        _w.Open("private static void CopyOutput(ref float x, ref float y)");
        int c = x.C, h = x.H, wd = x.W;
        if (x.Layout == Layout.Flat || (x.Layout == Layout.Chw && !x.HasBorder))
        {
            _w.Line($"Buffers.Copy(ref x, ref y, {I((long)c * h * wd)});");
        }
        else if (x.Layout == Layout.Chw)
        {
            _w.Open($"for (int c = 0; c < {I(c)}; c++)");
            _w.Open($"for (int h = 0; h < {I(h)}; h++)");
            _w.Line($"Buffers.Copy(ref Unsafe.Add(ref x, (c * {I((long)x.Rows * x.RowPixels)}) + {Lin("h", x.RowPixels, x.Index(0, 0, 0))}), ref Unsafe.Add(ref y, (c * {I((long)h * wd)}) + (h * {I(wd)})), {I(wd)});");
            _w.Close();
            _w.Close();
        }
        else
        {
            _w.Line("// Each stored row is a width x channels matrix; transposing it gives one row of every output plane.");
            _w.Open($"for (int h = 0; h < {I(h)}; h++)");
            _w.Line($"Transpose.Run(ref Unsafe.Add(ref x, {Lin("h", x.RowStride, x.Index(0, 0, 0))}), {I(wd)}, {I(c)}, {I(x.Cp)}, ref Unsafe.Add(ref y, h * {I(wd)}), {I((long)h * wd)});");
            _w.Close();
        }

        _w.Close();
    }
}
