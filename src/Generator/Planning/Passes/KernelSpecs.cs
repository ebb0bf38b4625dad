using System;
using System.Collections.Generic;
using System.Linq;
using CnnGen.Generator.Model;
using CnnGen.Generator.Planning.Kernels;
using CnnGen.Generator.Shapes;

namespace CnnGen.Generator.Planning.Passes;

/// <summary>
/// The last pass of a width: turns each working step into its immutable <see cref="StepPlan"/>, with the forward
/// call (arguments, weight fields, border clearing) and the kernel's complete spec. Every choice an emitter would
/// otherwise make (unrolling, whole-row blocks, exact pooling windows, merged pixel loops, packed tile widths,
/// staging rows) is made here, and so is sharing: steps whose kernels differ only in names (same shapes, layouts,
/// options, tiles and fused operations: ResNet's repeated blocks) share one kernel, named once for all of them
/// (<see cref="PlanOptions.ShareKernels"/>).
/// </summary>
internal sealed partial class KernelSpecs
{
    private readonly PlanGraph _g;
    private readonly MachineModel _m;
    private readonly CommonPlan _common;
    private readonly EquatableArray<TensorPlan> _tensors;
    private readonly int _workspace;
    private readonly int _batchGroup;

    /// <summary>The names of the kernels shared by several steps, by step; a step not in it has a kernel of its own.</summary>
    private readonly Dictionary<PlanStep, KernelNames> _shared = new();

    public KernelSpecs(PlanGraph g, MachineModel m, CommonPlan common, EquatableArray<TensorPlan> tensors, int workspace, int batchGroup)
    {
        _g = g;
        _m = m;
        _common = common;
        _tensors = tensors;
        _workspace = workspace;
        _batchGroup = batchGroup;
        if (g.Options.ShareKernels)
        {
            Share();
        }
    }

    private TensorPlan T(int id) => _tensors[id];

    private ShapedLayer Layer(PlanStep s) => _g.Layers[s.Layer];

    private string Method(PlanStep s) => Naming.Method(s, _g.Layers, _common.LayerIdentifiers);

    /// <summary>The names a step's kernel is written with: shared with other steps, or its own.</summary>
    private KernelNames NamesOf(PlanStep s) => _shared.TryGetValue(s, out var shared) ? shared : KernelNames.Own(Method(s), Title(s));

    /// <summary>A step's complete kernel spec, with its names.</summary>
    private KernelSpec KernelOf(PlanStep s) => Kernel(s, NamesOf(s));

    private string Title(PlanStep s) => Naming.Title(s, _g, T);

    private static ActivationSpec Activation(PlanStep s) => new(s.Act, s.Alpha);

    public StepPlan Step(PlanStep s)
    {
        var inputs = s.FusedDepthwise >= 0 || ScaleFirst(s) ? new[] { s.Inputs[1], s.Inputs[0] } : s.Inputs.ToArray();
        var fields = new List<string>();
        if (s.FusedDepthwise >= 0)
        {
            fields.AddRange(WeightsOf(s.FusedDepthwise).Fields);
        }

        if (s.HasWeights)
        {
            fields.AddRange(WeightsOf(s.Layer).Fields);
        }

        var output = s.Output >= 0 ? T(s.Output) : null;
        return new StepPlan
        {
            Kind = s.Kind,
            Layer = s.Layer,
            Inputs = s.Inputs.ToEquatableArray(),
            Output = s.Output,
            Activation = Activation(s),
            FoldedBatchNorm = s.FoldedBn,
            FusedAdd = s.FusedAdd,
            FusedDepthwise = s.FusedDepthwise,
            RowFused = s.RowFused,
            DirectOutput = s.DirectOutput,
            FusedPool = s.FusedPool,
            Method = NamesOf(s).Method,
            Title = Title(s),
            Arguments = (s.Kind == StepKind.PackInput && s.Output == 0 ? inputs : inputs.Append(s.Output < 0 || s.DirectOutput ? -1 : s.Output)).ToEquatableArray(),
            WeightFields = fields.ToEquatableArray(),
            ClearsOutputBorder = s.Kind != StepKind.PackInput && !s.DirectOutput && output is { HasBorder: true, Layout: Layout.Hwc },
            ChecksFinite = s.Kind == StepKind.PackInput || (s.Planar && s.DirectOutput), // a planar pair checks its stores
            SplitUnits = s.SplitUnits,
            GroupMethod = s.Kind == StepKind.Dense && _batchGroup > 1 ? NamesOf(s).Method + "Group" : null,
            Kernel = KernelOf(s),
        };
    }

    /// <summary>How this width repacks a weighted layer at load.</summary>
    public WeightPack Pack(PlanStep s, WeightedLayer weights)
    {
        var x = T(s.Inputs[0]);
        var y = T(s.Output);
        var l = Layer(s);
        return s.Kind switch
        {
            StepKind.Conv when s.Planar => new WeightPack { Weights = weights, Kind = PackKind.ConvTaps, PaddedUnits = y.Cp },
            StepKind.Conv => new WeightPack { Weights = weights, Kind = s.Winograd is null ? PackKind.Conv : PackKind.Winograd, PaddedUnits = y.Cp, TileFloats = s.TileB * _m.Width },
            StepKind.ConvPixels => new WeightPack { Weights = weights, Kind = PackKind.ConvTaps, PaddedUnits = y.Cp },
            StepKind.DepthwiseConv => new WeightPack { Weights = weights, Kind = PackKind.Depthwise, PaddedUnits = y.Cp },
            StepKind.Dense => new WeightPack
            {
                Weights = weights,
                Kind = PackKind.Dense,
                PaddedUnits = y.Cp,
                TileFloats = DensePackVectors(s) * _m.Width,
                DenseHwc = x.Layout == Layout.Hwc,
                DenseInput = x.Layout == Layout.Hwc ? TensorShape.Spatial(x.C, x.H, x.W) : TensorShape.Spatial((int)l.In.Size, 1, 1),
            },
            _ => new WeightPack { Weights = weights, Kind = PackKind.BatchNorm, PaddedUnits = y.Cp },
        };
    }

    /// <summary>A layer's weight names, as the shared plan named them once.</summary>
    private WeightedLayer WeightsOf(int layer) => _common.Weights.First(w => w.Layer == layer);

    private PlanStep RowFusedDepthwise(PlanStep pointwise) => _g.Steps.First(d => d.Layer == pointwise.FusedDepthwise && d.RowFused);

    /// <summary>A step's kernel spec built with the given names; a split step's kernel takes its range of rows (tiles).</summary>
    private KernelSpec Kernel(PlanStep s, KernelNames n) => s.SplitUnits > 0 ? FamilyKernel(s, n) with { Split = true } : FamilyKernel(s, n);

    private KernelSpec FamilyKernel(PlanStep s, KernelNames n) => s.Kind switch
    {
        StepKind.PackInput => PackInput(s, n),
        StepKind.Conv when s.Winograd is { } e => Winograd(s, n, e),
        StepKind.Conv => Conv(s, n),
        StepKind.ConvPixels => PixelConv(s, n),
        StepKind.DepthwiseConv => Depthwise(s, n),
        StepKind.Pool => Pool(s, n),
        StepKind.GlobalPool => GlobalPool(s, n),
        StepKind.Dense => Dense(s, n),
        StepKind.Activation => new ActivationKernel { Method = n.Method, Title = n.Title, X = X(s, n), Y = Y(s, n), Activation = Activation(s) },
        StepKind.Softmax => new SoftmaxKernel { Method = n.Method, Title = n.Title, X = X(s, n), Y = Y(s, n) },
        StepKind.BatchNorm => new BatchNormKernel { Method = n.Method, Title = n.Title, X = X(s, n), Y = Y(s, n), Eps = Layer(s).Spec.Eps, Activation = Activation(s) },
        StepKind.Add => new AddKernel { Method = n.Method, Title = n.Title, Inputs = Inputs(s, n), Y = Y(s, n), Activation = Activation(s) },
        StepKind.Concat => Concat(s, n),
        StepKind.Multiply => Multiply(s, n),
        StepKind.AdaptivePool => new AdaptivePoolKernel { Method = n.Method, Title = n.Title, X = X(s, n), Y = Y(s, n) },
        StepKind.CopyOutput => CopyOutput(s, n),
        StepKind.Dropout => Dropout(s, n),
        _ => throw new InvalidOperationException("no kernel for " + s.Kind),
    };

    /// <summary>The step's first input as its kernel sees it (<c>x</c> where the kernel is shared).</summary>
    private TensorPlan X(PlanStep s, KernelNames n) => n.Tensor(T(s.Inputs[0]), "x");

    /// <summary>The step's output as its kernel sees it (<c>y</c> where the kernel is shared).</summary>
    private TensorPlan Y(PlanStep s, KernelNames n) => n.Tensor(T(s.Output), "y");

    /// <summary>Every input of a multi-input step as its kernel sees them (<c>x0</c>, <c>x1</c>... where the kernel is shared).</summary>
    private EquatableArray<TensorPlan> Inputs(PlanStep s, KernelNames n) =>
        s.Inputs.Select((t, i) => n.Tensor(T(t), "x" + i.ToString(System.Globalization.CultureInfo.InvariantCulture))).ToEquatableArray();

    /// <summary>Cuts an output row of <paramref name="rowWidth"/> pixels into tiles of <paramref name="pixels"/>.</summary>
    private static TileRow Row(string method, int pixels, int rowWidth, long xPixelStep, long yPixelStep, long residualPixelStep)
    {
        int last = rowWidth % pixels;
        return new TileRow
        {
            Pixels = pixels,
            Full = rowWidth / pixels,
            Last = last,
            Method = method + "Tile" + pixels.ToString(System.Globalization.CultureInfo.InvariantCulture),
            LastMethod = last > 0 ? method + "Tile" + last.ToString(System.Globalization.CultureInfo.InvariantCulture) : null,
            XStep = xPixelStep * pixels,
            YStep = yPixelStep * pixels,
            ResidualStep = residualPixelStep * pixels,
        };
    }

    private PoolKernel Pool(PlanStep s, KernelNames n)
    {
        var spec = Layer(s).Spec;
        var x = X(s, n);
        var y = Y(s, n);
        // An exact pool unrolls its window; one over the unroll budget takes the clipped path's loops (the same sums and maxima).
        bool exact = spec.PadTop == 0 && spec.PadLeft == 0 && (long)spec.KernelH * spec.KernelW <= _m.UnrollBudget
            && ((y.H - 1) * spec.StrideH) + (spec.DilationH * (spec.KernelH - 1)) < x.H
            && ((y.W - 1) * spec.StrideW) + (spec.DilationW * (spec.KernelW - 1)) < x.W;
        return new PoolKernel
        {
            Method = n.Method,
            Title = n.Title,
            X = x,
            Y = y,
            Window = Window.Of(spec),
            Max = spec.Kind == LayerKind.MaxPool2D,
            CountIncludePad = spec.CountIncludePad,
            CeilMode = spec.CeilMode,
            Exact = exact,
            ExactScale = 1f / (spec.KernelH * spec.KernelW),
            PaddedHeight = x.H + spec.PadTop,
            PaddedWidth = x.W + spec.PadLeft,
            XRowStep = RowStep(x, spec),
            XPixelStep = PixelStep(x, spec),
        };
    }

    private GlobalPoolKernel GlobalPool(PlanStep s, KernelNames n)
    {
        var x = X(s, n);
        return new GlobalPoolKernel
        {
            Method = n.Method,
            Title = n.Title,
            X = x,
            Y = Y(s, n),
            Max = Layer(s).Spec.Kind == LayerKind.GlobalMaxPool2D,
            Scale = 1f / (x.H * x.W),
        };
    }

    /// <summary>A Multiply whose first operand is the per-channel scale: the kernel takes the map first.</summary>
    private bool ScaleFirst(PlanStep s) => s.Kind == StepKind.Multiply && (long)Layer(s).In.H * Layer(s).In.W < (long)Layer(s).Out.H * Layer(s).Out.W;

    private MultiplyKernel Multiply(PlanStep s, KernelNames n)
    {
        bool scaleFirst = ScaleFirst(s);
        var map = T(s.Inputs[scaleFirst ? 1 : 0]);
        var scale = T(s.Inputs[scaleFirst ? 0 : 1]);
        bool broadcast = (scale.H * scale.W) < (map.H * map.W);
        var x = n.Tensor(map, broadcast ? "x" : "x0"); // the kernel's parameters (KernelWriter.Parameters, or x, s, y)
        var other = n.Tensor(scale, broadcast ? "s" : "x1");
        return new MultiplyKernel
        {
            Method = n.Method,
            Title = n.Title,
            X = x,
            Other = other,
            Broadcast = broadcast,
            Y = Y(s, n),
            Activation = Activation(s),
        };
    }

    private ConcatKernel Concat(PlanStep s, KernelNames n)
    {
        var inputs = Inputs(s, n);
        var offsets = new List<int>();
        int channel = 0;
        foreach (var t in inputs)
        {
            offsets.Add(channel);
            channel += t.C;
        }

        return new ConcatKernel { Method = n.Method, Title = n.Title, Inputs = inputs, Y = Y(s, n), ChannelOffsets = offsets.ToEquatableArray() };
    }

    private PackInputKernel PackInput(PlanStep s, KernelNames n)
    {
        var y = Y(s, n);
        var input = _g.Net.Input;
        return new PackInputKernel { Method = n.Method, Title = n.Title, Y = y, C = input.C, H = input.H, W = input.W, Planar = y.Layout == Layout.Chw, InPlace = s.Output == 0 };
    }

    private CopyOutputKernel CopyOutput(PlanStep s, KernelNames n)
    {
        var x = X(s, n);
        var mode = x.Layout == Layout.Flat || (x.Layout == Layout.Chw && !x.HasBorder) ? CopyMode.Whole
            : x.Layout == Layout.Chw ? CopyMode.PlanarRows
            : CopyMode.TransposeRows;
        return new CopyOutputKernel { Method = n.Method, Title = n.Title, X = x, OutputShape = _g.Net.Output.ToPyTorch(), Mode = mode };
    }
}
