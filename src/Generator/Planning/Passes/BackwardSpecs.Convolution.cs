using System;
using System.Linq;
using CnnGen.Generator.Model;
using CnnGen.Generator.Planning.Kernels;

namespace CnnGen.Generator.Planning.Passes;

/// <content>
/// The convolution and depthwise convolution backward specs: bias sums and the input
/// gradient scattered tap by tap (two kernel columns per pass where they share dy's broadcasts) or gathered over the filters.
/// </content>
internal sealed partial class BackwardBuilder
{
    private CallOp ConvBias(StepPlan step, TrainableLayer l)
    {
        var k = new ConvBiasKernel { Method = step.Method + "BackwardBias", Title = $"{l.Name}: d bias += the sum of dy over one image's pixels", OutputGradient = Grad(step.Output) };
        Kernel(k);
        return Call(k.Method, When.Always, GradientArg(step.Output), Param(l.BiasGradient));
    }

    private CallOp ConvData(StepPlan step, TrainableLayer l)
    {
        var f = (ConvKernel)step.Kernel;
        int x = step.Inputs[0];
        var dx = Grad(x);
        var dy = Grad(step.Output);
        if (GatherData(f, dx, dy))
        {
            var g = new ConvDataGatherKernel
            {
                Method = step.Method + "BackwardData",
                Title = $"{l.Name}: dx += dy x W^T, gathered per input pixel with vectors over the filters",
                LayerName = l.Name,
                OutputGradient = dy,
                InputGradient = dx,
                Window = f.Window,
                Channels = f.X.C,
                FilterVectors = dy.Cp / V,
                TileVectors = f.TileVectors,
                TileFloats = f.TileFloats,
                InteriorFirst = 0,
                InteriorTiles = 0,
                TilePixels = 1,
                ChunkPixels = 1,
                LaneSums = LaneSums(dx),
            };
            g = GatherTiles(g);
            Kernel(g);
            return Call(g.Method, Guard(x), GradientArg(step.Output), GradientArg(x), Field(l.WeightField));
        }

        int vectors = dx.Cp / V, cv = Enumerable.Range(1, Math.Min(vectors, _m.ConvMaxTileVectors)).Last(d => vectors % d == 0);
        var win = f.Window;
        var (pixels, _) = Tile(f.Y.W, cv);
        bool pairs = cv == 1 && win.StrideW == 1 && win.DilationW == 1 && win.KernelW >= 2; // one broadcast per multiply-add otherwise
        int extra = pairs ? 1 : 0, weights = pairs ? 2 * cv : cv; // a pair's tile: one more pixel of accumulators, two taps' weights
        while (pixels > 1 && (((pixels + extra) * cv) > _m.AccumulatorBudget || ((pixels + extra) * cv) + weights + 1 > _m.VectorRegisters))
        {
            pixels--;
        }

        long dxPixel = (long)win.StrideW * dx.PixelStride;
        string method = step.Method + "BackwardData";
        var k = new ConvDataKernel
        {
            Method = method,
            Title = $"{l.Name}: dx += dy x W^T, scattered tap by tap",
            LayerName = l.Name,
            OutputGradient = dy,
            InputGradient = dx,
            Window = win,
            Filters = l.Units,
            ChannelVectors = cv,
            ChannelGroups = vectors / cv,
            Tiles = Row(method, Math.Max(1, pixels), f.Y.W, dy.Cp, dxPixel),
            DxOrigin = dx.PaddedOrigin(win.PadTop, win.PadLeft),
            DxRowStep = (long)win.StrideH * dx.RowStride,
            DxPixelStep = dxPixel,
            TapPairs = pairs,
        };
        Kernel(k);
        return Call(method, Guard(x), GradientArg(step.Output), GradientArg(x), Field(l.TransposedField!));
    }

    /// <summary>
    /// Whether the input gradient is cheaper gathered over the filters (<see cref="ConvDataGatherKernel"/>) than scattered
    /// over the input channels: stride and dilation 1, HWC dy, one accumulator per channel within the budget, and the
    /// gather's multiplies plus its horizontal sums (counted as 4 each, or 8 a pixel when a pixel's sums go in one vector:
    /// <see cref="LaneSums"/>) under 4/5 of the scatter's, which multiplies the channels' padding lanes. LeNet's conv2 (6
    /// channels, 16 filters): 40,000 against 15,000 + 4,700 in 16-float vectors, 40,000 against 30,000 + 1,600 (0.79) in
    /// 8-float ones, where the gather takes about 3% off a lenet5 step at Vector256 on Zen 4; 3 channels into 4 filters
    /// (<c>TapPairsNet</c>'s b, 0.83) stay scattered.
    /// </summary>
    private bool GatherData(ConvKernel f, TensorPlan dx, TensorPlan dy)
    {
        var win = f.Window;
        if (win.StrideH != 1 || win.StrideW != 1 || win.DilationH != 1 || win.DilationW != 1 || dy.Layout != Layout.Hwc
            || f.X.C + 2 > _m.AccumulatorBudget || dy.Cp % V != 0)
        {
            return false;
        }

        long pixels = (long)dy.H * dy.W * win.Taps;
        long scatter = pixels * dy.C * (dx.Cp / V);
        long sums = (long)dx.H * dx.W * (LaneSums(dx) ? 8 : f.X.C * 4);
        long gather = (pixels * f.X.C * (dy.Cp / V)) + sums;
        return gather * 5 < scatter * 4;
    }

    /// <summary>
    /// Whether the gather adds a pixel's channel sums into dx as one vector (<c>Simd.LaneSums</c>): 8-float vectors and a
    /// dx pixel of one vector, channels contiguous (HWC).
    /// </summary>
    private bool LaneSums(TensorPlan dx) => V == 8 && dx.Layout == Layout.Hwc && dx.Cp == 8;

    /// <summary>
    /// The gather's interior columns (every kernel column reaches an output pixel) in tiles of as many pixels as the
    /// accumulators and registers allow (pixels x channels accumulators, the channels' weights and one dy vector),
    /// preferring the size that leaves the fewest columns to the border chunks, then the larger; the border chunks
    /// (fixed columns, taps unrolled) hold as many pixels.
    /// </summary>
    private ConvDataGatherKernel GatherTiles(ConvDataGatherKernel g)
    {
        var win = g.Window;
        int first = Math.Max(0, win.KernelW - 1 - win.PadLeft);
        int last = Math.Min(g.InputGradient.W - 1, g.OutputGradient.W - 1 - win.PadLeft);
        int columns = last - first + 1, c = g.Channels;
        int most = 0;
        while ((most + 1) * c <= _m.AccumulatorBudget && ((most + 1) * c) + Math.Min(most + 1, c) + 1 <= _m.VectorRegisters)
        {
            most++; // the emitter keeps the fewer of the tile's dy vectors and the channels' weights live (ConvGatherEmitter.DyFirst)
        }

        int best = 0;
        for (int p = 2; p <= Math.Min(most, columns); p++)
        {
            if (best == 0 || columns % p <= columns % best)
            {
                best = p;
            }
        }

        g = g with { ChunkPixels = Math.Max(1, most) };
        return best == 0 ? g : g with { InteriorFirst = first, InteriorTiles = columns / best, TilePixels = best };
    }

    /// <summary>An output row cut into tiles of <paramref name="pixels"/> (the last narrower): dy advances by whole pixels, dx by the stride.</summary>
    private static TileRow Row(string method, int pixels, int width, long dyPixel, long dxPixel)
    {
        int last = width % pixels;
        return new TileRow
        {
            Pixels = pixels,
            Full = width / pixels,
            Last = last,
            Method = method + "Tile" + I(pixels),
            LastMethod = last > 0 ? method + "Tile" + I(last) : null,
            XStep = dyPixel * pixels,
            YStep = dxPixel * pixels,
            ResidualStep = 0,
        };
    }

    private DepthwiseBackwardKernel DepthwiseSpec(StepPlan step, TrainableLayer l)
    {
        var f = (DepthwiseKernel)step.Kernel;
        int x = step.Inputs[0];
        var win = f.Window;
        var dx = _gradients.TryGetValue(x, out var g) ? g : null;
        return new DepthwiseBackwardKernel
        {
            Method = step.Method + "BackwardWeights",
            Title = $"{l.Name}: d weight += x * dy per tap, d bias += dy, over one image's pixels",
            LayerName = l.Name,
            X = f.X,
            OutputGradient = Grad(step.Output),
            Window = win,
            Bias = l.HasBias,
            TapBlock = Math.Max(1, Math.Min(win.Taps, _m.AccumulatorBudget - 1)),
            XOrigin = f.XOrigin,
            XRowStep = f.XRowStep,
            XPixelStep = f.XPixelStep,
            DataMethod = dx is null ? null : step.Method + "BackwardData",
            InputGradient = dx,
            DxOrigin = dx?.PaddedOrigin(win.PadTop, win.PadLeft) ?? 0,
            DxRowStep = dx is null ? 0 : (long)win.StrideH * dx.RowStride,
            DxPixelStep = dx is null ? 0 : (long)win.StrideW * dx.PixelStride,
        };
    }

    private CallOp DepthwiseWeights(StepPlan step, TrainableLayer l)
    {
        var k = DepthwiseSpec(step, l);
        Kernel(k);
        var args = new[] { Arg(step.Inputs[0]), GradientArg(step.Output), Param(l.WeightGradient) };
        return Call(k.Method, When.Always, l.HasBias ? args.Append(Param(l.BiasGradient)).ToArray() : args);
    }

    private CallOp DepthwiseData(StepPlan step, TrainableLayer l)
    {
        var k = DepthwiseSpec(step, l);
        Kernel(k);
        int x = step.Inputs[0];
        return Call(k.DataMethod!, Guard(x), GradientArg(step.Output), GradientArg(x), Field(l.WeightField));
    }
}
