using System;
using System.Linq;
using CnnGen.Generator.Model;
using CnnGen.Generator.Planning.Kernels;

namespace CnnGen.Generator.Planning.Passes;

/// <summary>The convolution families' specs: regular, depthwise, and pixel-vectorized first layers.</summary>
internal sealed partial class KernelSpecs
{
    private ConvKernel Conv(PlanStep s)
    {
        var l = Layer(s);
        var spec = l.Spec;
        var x = T(s.Inputs[0]);
        var y = T(s.Output);
        int v = _m.Width, tp = s.TileP, tb = s.TileB;
        int tiles = y.Cp / v / tb;
        string method = Method(s);
        return new ConvKernel
        {
            Method = method,
            Title = Title(s),
            LayerName = spec.Name,
            X = x,
            Y = y,
            Residual = s.FusedAdd >= 0 ? T(s.Inputs[1]) : null,
            ResidualLayer = s.FusedAdd >= 0 ? _g.Layers[s.FusedAdd].Spec.Name : null,
            Window = Window.Of(spec),
            Groups = spec.Groups,
            Filters = l.Out.C,
            TilePixels = tp,
            TileVectors = tb,
            TileGroups = tiles,
            TileFloats = tb * v,
            Tiles = Row(method, tp, y.W, PixelStep(x, spec), s.DirectOutput ? 1 : y.Cp, y.Cp),
            UnrollTaps = spec.KernelH * spec.KernelW <= _m.MaxUnrolledTaps,
            XOrigin = x.PaddedOrigin(spec.PadTop, spec.PadLeft),
            XRowStep = RowStep(x, spec),
            XPixelStep = PixelStep(x, spec),
            DirectOutput = s.DirectOutput,
            StageFloats = tp * tb * v,
            Activation = Activation(s),
            RowSource = s.FusedDepthwise >= 0 ? Depthwise(RowFusedDepthwise(s)) : null,
        };
    }

    private DepthwiseKernel Depthwise(PlanStep s)
    {
        var spec = Layer(s).Spec;
        var x = T(s.Inputs[0]);
        var y = T(s.Output);
        string method = Method(s);
        return new DepthwiseKernel
        {
            Method = method,
            Title = Title(s),
            LayerName = spec.Name,
            X = x,
            Y = y,
            Residual = s.FusedAdd >= 0 ? T(s.Inputs[1]) : null,
            Window = Window.Of(spec),
            Tiles = Row(method, s.TileP, y.W, PixelStep(x, spec), y.Cp, y.Cp),
            XOrigin = x.PaddedOrigin(spec.PadTop, spec.PadLeft),
            XRowStep = RowStep(x, spec),
            XPixelStep = PixelStep(x, spec),
            Activation = Activation(s),
            RowFused = s.RowFused,
        };
    }

    /// <summary>Floats of the input between consecutive output rows of a window: the stride in rows.</summary>
    private static long RowStep(TensorPlan x, LayerSpec spec) => (long)spec.StrideH * x.RowStride;

    /// <summary>Floats of the input between consecutive output pixels of a window: the stride in pixels.</summary>
    private static long PixelStep(TensorPlan x, LayerSpec spec) => (long)spec.StrideW * x.PixelStride;

    private PixelConvKernel PixelConv(PlanStep s)
    {
        var l = Layer(s);
        var spec = l.Spec;
        var x = T(s.Inputs[0]);
        var y = T(s.Output);
        int v = _m.Width, filters = l.Out.C;
        bool pooled = s.FusedPool >= 0;
        var blocks = FirstLayer.Blocks(l.Out.W, v);

        // When every block of a row fits the accumulator budget, one call computes the whole row (more independent
        // accumulators); the pooled kernel always does (its fusion required it).
        bool wholeRow = pooled || (blocks.Length > 1 && blocks.Length * filters <= _m.AccumulatorBudget);
        var callBlocks = wholeRow ? blocks : new[] { 0 };
        int stageRows = Math.Min(Planner.RoundUp(filters, Planner.TransposeBlock), y.Cp);
        long convRowStep = RowStep(x, spec);
        int half = v / 2;
        return new PixelConvKernel
        {
            Method = Method(s),
            Title = Title(s),
            LayerName = spec.Name,
            DisplayKind = spec.DisplayKind,
            X = x,
            Y = y,
            Window = Window.Of(spec),
            Filters = filters,
            Channels = x.C,
            ConvHeight = l.Out.H,
            ConvWidth = l.Out.W,
            Blocks = blocks.ToEquatableArray(),
            WholeRow = wholeRow,
            CallBlocks = callBlocks.ToEquatableArray(),
            BlockPixels = pooled ? half : v,
            BlockOutputOffsets = blocks.Select(b => (long)(pooled ? b / 2 : b) * y.Cp).ToEquatableArray(),
            StageRows = stageRows,
            StageFloats = callBlocks.Length * stageRows * v,
            XOrigin = x.PaddedOrigin(spec.PadTop, spec.PadLeft),
            XRowStep = pooled ? 2 * convRowStep : convRowStep,
            ConvRowStep = convRowStep,
            LoopKernelRows = pooled,
            PixelsMethod = Method(s) + "Pixels",
            PoolLayer = pooled ? _g.Layers[s.FusedPool].Spec.Name : null,
            PooledShape = pooled ? _g.Layers[s.FusedPool].Out.ToString() : null,
            EvenLanes = Enumerable.Range(0, v).Select(i => i < half ? 2 * i : 0).ToEquatableArray(),
            OddLanes = Enumerable.Range(0, v).Select(i => i < half ? (2 * i) + 1 : 0).ToEquatableArray(),
            Activation = Activation(s),
        };
    }
}
