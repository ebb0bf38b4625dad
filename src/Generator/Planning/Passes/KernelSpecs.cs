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
/// staging rows) is made here.
/// </summary>
internal sealed partial class KernelSpecs
{
    private readonly PlanGraph _g;
    private readonly MachineModel _m;
    private readonly CommonPlan _common;
    private readonly EquatableArray<TensorPlan> _tensors;
    private readonly int _workspace;
    private readonly int _batchGroup;

    public KernelSpecs(PlanGraph g, MachineModel m, CommonPlan common, EquatableArray<TensorPlan> tensors, int workspace, int batchGroup)
    {
        _g = g;
        _m = m;
        _common = common;
        _tensors = tensors;
        _workspace = workspace;
        _batchGroup = batchGroup;
    }

    private TensorPlan T(int id) => _tensors[id];

    private ShapedLayer Layer(PlanStep s) => _g.Layers[s.Layer];

    private string Method(PlanStep s) => Naming.Method(s, _g.Layers, _common.LayerIdentifiers);

    private string Title(PlanStep s) => Naming.Title(s, _g, T);

    private static ActivationSpec Activation(PlanStep s) => new(s.Act, s.Alpha);

    public StepPlan Step(PlanStep s)
    {
        var inputs = s.FusedDepthwise >= 0 ? new[] { s.Inputs[1], s.Inputs[0] } : s.Inputs.ToArray();
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
            Method = Method(s),
            Title = Title(s),
            Arguments = inputs.Append(s.Output < 0 || s.DirectOutput ? -1 : s.Output).ToEquatableArray(),
            WeightFields = fields.ToEquatableArray(),
            ClearsOutputBorder = s.Kind != StepKind.PackInput && !s.DirectOutput && output is { HasBorder: true, Layout: Layout.Hwc },
            ChecksFinite = s.Kind == StepKind.PackInput,
            GroupMethod = s.Kind == StepKind.Dense && _batchGroup > 1 ? Method(s) + "Group" : null,
            Kernel = Kernel(s),
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
            StepKind.Conv => new WeightPack { Weights = weights, Kind = PackKind.Conv, PaddedUnits = y.Cp, TileFloats = s.TileB * _m.Width },
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

    private KernelSpec Kernel(PlanStep s) => s.Kind switch
    {
        StepKind.PackInput => PackInput(s),
        StepKind.Conv => Conv(s),
        StepKind.ConvPixels => PixelConv(s),
        StepKind.DepthwiseConv => Depthwise(s),
        StepKind.Pool => Pool(s),
        StepKind.GlobalPool => GlobalPool(s),
        StepKind.Dense => Dense(s),
        StepKind.Activation => new ActivationKernel { Method = Method(s), Title = Title(s), X = T(s.Inputs[0]), Y = T(s.Output), Activation = Activation(s) },
        StepKind.Softmax => new SoftmaxKernel { Method = Method(s), Title = Title(s), X = T(s.Inputs[0]), Y = T(s.Output) },
        StepKind.BatchNorm => new BatchNormKernel { Method = Method(s), Title = Title(s), X = T(s.Inputs[0]), Y = T(s.Output), Eps = Layer(s).Spec.Eps, Activation = Activation(s) },
        StepKind.Add => new AddKernel { Method = Method(s), Title = Title(s), Inputs = s.Inputs.Select(T).ToEquatableArray(), Y = T(s.Output), Activation = Activation(s) },
        StepKind.Concat => Concat(s),
        StepKind.CopyOutput => CopyOutput(s),
        StepKind.Dropout => Dropout(s),
        _ => throw new InvalidOperationException("no kernel for " + s.Kind),
    };

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

    private PoolKernel Pool(PlanStep s)
    {
        var spec = Layer(s).Spec;
        var x = T(s.Inputs[0]);
        var y = T(s.Output);
        bool exact = spec.PadTop == 0 && spec.PadLeft == 0
            && ((y.H - 1) * spec.StrideH) + (spec.DilationH * (spec.KernelH - 1)) < x.H
            && ((y.W - 1) * spec.StrideW) + (spec.DilationW * (spec.KernelW - 1)) < x.W;
        return new PoolKernel
        {
            Method = Method(s),
            Title = Title(s),
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

    private GlobalPoolKernel GlobalPool(PlanStep s)
    {
        var x = T(s.Inputs[0]);
        return new GlobalPoolKernel
        {
            Method = Method(s),
            Title = Title(s),
            X = x,
            Y = T(s.Output),
            Max = Layer(s).Spec.Kind == LayerKind.GlobalMaxPool2D,
            Scale = 1f / (x.H * x.W),
        };
    }

    private ConcatKernel Concat(PlanStep s)
    {
        var inputs = s.Inputs.Select(T).ToList();
        var offsets = new List<int>();
        int channel = 0;
        foreach (var t in inputs)
        {
            offsets.Add(channel);
            channel += t.C;
        }

        return new ConcatKernel { Method = Method(s), Title = Title(s), Inputs = inputs.ToEquatableArray(), Y = T(s.Output), ChannelOffsets = offsets.ToEquatableArray() };
    }

    private PackInputKernel PackInput(PlanStep s)
    {
        var y = T(s.Output);
        var input = _g.Net.Input;
        return new PackInputKernel { Method = Method(s), Title = Title(s), Y = y, C = input.C, H = input.H, W = input.W, Planar = y.Layout == Layout.Chw };
    }

    private CopyOutputKernel CopyOutput(PlanStep s)
    {
        var x = T(s.Inputs[0]);
        var mode = x.Layout == Layout.Flat || (x.Layout == Layout.Chw && !x.HasBorder) ? CopyMode.Whole
            : x.Layout == Layout.Chw ? CopyMode.PlanarRows
            : CopyMode.TransposeRows;
        return new CopyOutputKernel { Method = Method(s), Title = Title(s), X = x, OutputShape = _g.Net.Output.ToPyTorch(), Mode = mode };
    }
}
