using System;
using System.Linq;
using CnnGen.Generator.Model;
using CnnGen.Generator.Planning.Kernels;

namespace CnnGen.Generator.Planning.Passes;

/// <content>Every training and backward kernel's spec, with its register tiles from the machine model, and its call.</content>
internal sealed partial class BackwardBuilder
{
    /// <summary>
    /// A register tile of rows (images, features, channels, pixels) x vectors: the most accumulators within the budget,
    /// with the tile's vectors and one broadcast also in registers; on a tie, more vectors.
    /// </summary>
    private (int Rows, int Vectors) Tile(int maxRows, int maxVectors)
    {
        (int, int) best = (1, 1);
        for (int v = 1; v <= Math.Min(maxVectors, _m.ConvMaxTileVectors); v++)
        {
            for (int r = 1; r <= maxRows; r++)
            {
                if (r * v > _m.AccumulatorBudget || (r * v) + v + 1 > _m.VectorRegisters)
                {
                    break;
                }

                if ((r * v) > best.Item1 * best.Item2 || ((r * v) == best.Item1 * best.Item2 && v > best.Item2))
                {
                    best = (r, v);
                }
            }
        }

        return best;
    }

    /// <summary>
    /// A register tile of images x vectors for the dense kernels that run over a thread's images (the images past the
    /// last full group go one at a time, at a fraction of the tile's speed): as many accumulators as <see cref="Tile"/>
    /// allows, among those the most images that divide 8, so batches of a multiple of 8 per thread have no leftover
    /// images (8 x 3 instead of 6 x 4 at 24 accumulators: a batch of 64 ran 4 images alone).
    /// </summary>
    private (int Rows, int Vectors) ImageTile(int maxVectors)
    {
        var (rows, vectors) = Tile(8, maxVectors);
        for (int r = 8; r > rows; r /= 2)
        {
            int v = (rows * vectors) / r;
            if (v >= 1 && r * v == rows * vectors && v <= maxVectors && (r * v) + v + 1 <= _m.VectorRegisters)
            {
                return (r, v);
            }
        }

        return (rows, vectors);
    }

    private CallArg Param(string local) => new(ArgKind.ParameterGradient, 0, local);

    private DenseTrainingKernel DenseForward(StepPlan step)
    {
        var x = T(step.Inputs[0]);
        var y = T(step.Output);
        var l = _plan.Net.Layers[step.Layer];
        int nb = y.Cp / V;
        var (images, vectors) = ImageTile(nb);
        return new DenseTrainingKernel
        {
            Method = step.Method,
            Title = step.Title + (LayerOf(step.Layer).SplitColumns ? ", over every image of the batch, a thread's output vectors" : ", over a thread's images"),
            LayerName = l.Spec.Name,
            X = x,
            Y = y,
            Features = l.In.Size,
            Hwc = x.Layout == Layout.Hwc,
            XImageStride = x.External ? _plan.Net.Input.Size : _imageFloats,
            YImageStride = _imageFloats,
            Images = images,
            Vectors = vectors,
            FullTiles = nb / vectors,
            LastVectors = nb % vectors,
            Activation = step.Activation,
            Columns = LayerOf(step.Layer).SplitColumns,
        };
    }

    private DropoutKernel Dropout(int s, StepPlan step) => ((DropoutKernel)step.Kernel) with { Mask = _masks[s] };

    private CallOp InPlaceActivation(StepPlan step)
    {
        int y = step.Output;
        var k = new ActivationBackwardKernel
        {
            Method = step.Method + "ActivationBackward",
            Title = $"{Name(step.Layer)}: dy *= {step.Activation.Kind}'(y), the fused activation's derivative from the stored output",
            Source = T(y),
            FromInput = false,
            OutputGradient = Grad(y),
            InputGradient = null,
            Accumulate = false,
            Activation = step.Activation,
        };
        Kernel(k);
        return Call(k.Method, Guard(y), Arg(y), GradientArg(y));
    }

    private CallOp ActivationBackward(StepPlan step, bool accumulate)
    {
        int x = step.Inputs[0], y = step.Output;
        bool fromInput = Lowering.NeedsInput(step.Activation.Kind, step.Activation.Alpha);
        var k = new ActivationBackwardKernel
        {
            Method = step.Method + "Backward",
            Title = $"{Name(step.Layer)}: dx = dy * {step.Activation.Kind}'({(fromInput ? "x" : "y")})",
            Source = T(fromInput ? x : y),
            FromInput = fromInput,
            OutputGradient = Grad(y),
            InputGradient = Grad(x),
            Accumulate = accumulate,
            Activation = step.Activation,
        };
        Kernel(k);
        return Call(k.Method, Guard(x), Arg(fromInput ? x : y), GradientArg(y), GradientArg(x));
    }

    private CallOp SoftmaxBackward(StepPlan step, bool accumulate, When when)
    {
        int x = step.Inputs[0], y = step.Output;
        var k = new SoftmaxBackwardKernel
        {
            Method = step.Method + "Backward",
            Title = $"{Name(step.Layer)}: dx = y * (dy - sum(dy * y)) over the channels",
            Y = T(y),
            OutputGradient = Grad(y),
            InputGradient = Grad(x),
            Accumulate = accumulate,
        };
        Kernel(k);
        return Call(k.Method, when, Arg(y), GradientArg(y), GradientArg(x));
    }

    private CallOp DropoutBackward(int s, StepPlan step, bool accumulate)
    {
        int x = step.Inputs[0], y = step.Output;
        var k = new DropoutBackwardKernel
        {
            Method = step.Method + "Backward",
            Title = $"{Name(step.Layer)}: dx = dy * mask",
            OutputGradient = Grad(y),
            Mask = _masks[s],
            InputGradient = Grad(x),
            Accumulate = accumulate,
        };
        Kernel(k);
        return Call(k.Method, Guard(x), GradientArg(y), new CallArg(ArgKind.Tensor, _masks[s].Offset, _masks[s].Name), GradientArg(x));
    }

    private CallOp Route(string method, int from, int to, int channelOffset, bool accumulate)
    {
        var g = Grad(to);
        var k = new GradientCopyKernel
        {
            Method = method,
            Title = channelOffset == 0 && T(from).C == T(to).C
                ? $"d({T(to).Name}) {(accumulate ? "+=" : "=")} d({T(from).Name})"
                : $"d({T(to).Name}) {(accumulate ? "+=" : "=")} channels {I(channelOffset)}-{I(channelOffset + g.C - 1)} of d({T(from).Name})",
            From = Grad(from),
            To = g,
            ChannelOffset = channelOffset,
            Vectorized = channelOffset % V == 0 && (g.C % V == 0 || (channelOffset == 0 && Grad(from).Cp == g.Cp)),
            Accumulate = accumulate,
        };
        Kernel(k);
        return Call(method, Guard(to), GradientArg(from), GradientArg(to));
    }

    /// <summary>
    /// The pool's windows tile its input exactly (stride = kernel, no padding or dilation, the sizes divide, no border
    /// on the gradient): every dx pixel is written by exactly one window, so its backward can overwrite dx.
    /// </summary>
    private bool PoolTiles(StepPlan step)
    {
        var win = ((PoolKernel)step.Kernel).Window;
        var x = T(step.Inputs[0]);
        var y = T(step.Output);
        return !x.HasBorder && win.PadTop == 0 && win.PadLeft == 0 && win.PadBottom == 0 && win.PadRight == 0
            && win.DilationH == 1 && win.DilationW == 1 && win.StrideH == win.KernelH && win.StrideW == win.KernelW
            && x.H == y.H * win.StrideH && x.W == y.W * win.StrideW;
    }

    /// <summary>
    /// Whether the ReLU fused into the convolution that writes <paramref name="tensor"/> is folded into the backward of a
    /// max pool, the tensor's only reader: dx is non-zero only at a window's maximum, where the ReLU's input is positive
    /// exactly when the window's maximum (the pool's output) is, so the pool passes dy where that maximum is &gt; 0 and
    /// the convolution's own in-place activation pass (a read and a write of its whole output gradient) is not emitted.
    /// </summary>
    private bool ReluFoldsIntoPool(int tensor)
    {
        var producer = _plan.Steps.FirstOrDefault(s => s.Output == tensor);
        var readers = _plan.Steps.Where(s => s.Inputs.Contains(tensor)).ToList();
        return producer is { Kind: StepKind.Conv, FusedAdd: < 0, FusedPool: < 0, FusedDepthwise: < 0 } && producer.Activation.Kind == Activation.Relu
            && readers.Count == 1 && readers[0].Kind == StepKind.Pool && readers[0].Inputs[0] == tensor && ((PoolKernel)readers[0].Kernel).Max;
    }

    /// <summary>
    /// Whether the bias gradient of the convolution writing <paramref name="tensor"/> is added by the backward of the max
    /// pool reading it (<see cref="PoolBackwardKernel.BiasOf"/>): its ReLU folds into the pool, the pool's windows tile
    /// the tensor, and the gradient is always computed.
    /// </summary>
    private bool BiasFoldsIntoPool(int tensor) =>
        ReluFoldsIntoPool(tensor) && Guard(tensor) == When.Always && PoolTiles(_plan.Steps.First(s => s.Inputs.Contains(tensor)))
        && LayerOf(_plan.Steps.First(s => s.Output == tensor).Layer).HasBias;

    private CallOp PoolBackward(StepPlan step, bool accumulate)
    {
        int x = step.Inputs[0], y = step.Output;
        var f = (PoolKernel)step.Kernel;
        var bias = BiasFoldsIntoPool(x) ? LayerOf(_plan.Steps.First(s => s.Output == x).Layer) : null;
        if (bias is not null && accumulate)
        {
            throw new InvalidOperationException($"{bias.Name}'s bias gradient folded into a pool backward that adds into dx");
        }

        var k = new PoolBackwardKernel
        {
            Accumulate = accumulate,
            Method = step.Method + "Backward",
            Title = $"{Name(step.Layer)}: " + (f.Max ? "each window's gradient to its first maximum (row-major)" : "each window's gradient spread by its divisor"),
            X = T(x),
            Y = T(y),
            OutputGradient = Grad(y),
            InputGradient = Grad(x),
            Window = f.Window,
            Max = f.Max,
            CountIncludePad = f.CountIncludePad,
            PaddedHeight = f.PaddedHeight,
            PaddedWidth = f.PaddedWidth,
            Relu = f.Max && ReluFoldsIntoPool(x) ? Name(_plan.Steps.First(s => s.Output == x).Layer) : null,
            BiasOf = bias?.Name,
        };
        Kernel(k);
        return bias is null
            ? Call(k.Method, Guard(x), Arg(x), Arg(y), GradientArg(y), GradientArg(x))
            : Call(k.Method, Guard(x), Arg(x), Arg(y), GradientArg(y), GradientArg(x), Param(bias.BiasGradient));
    }

    private CallOp GlobalPoolBackward(StepPlan step, bool accumulate)
    {
        int x = step.Inputs[0], y = step.Output;
        var f = (GlobalPoolKernel)step.Kernel;
        var k = new GlobalPoolBackwardKernel
        {
            Method = step.Method + "Backward",
            Title = $"{Name(step.Layer)}: " + (f.Max ? "each channel's gradient to its first maximum (row-major)" : "each channel's gradient spread over the pixels"),
            X = T(x),
            Y = T(y),
            OutputGradient = Grad(y),
            InputGradient = Grad(x),
            Max = f.Max,
            Scale = f.Scale,
            Accumulate = accumulate,
        };
        Kernel(k);
        return Call(k.Method, Guard(x), Arg(x), Arg(y), GradientArg(y), GradientArg(x));
    }

    private CallOp AdaptivePoolBackward(StepPlan step)
    {
        int x = step.Inputs[0], y = step.Output;
        var k = new AdaptivePoolBackwardKernel
        {
            Method = step.Method + "Backward",
            Title = $"{Name(step.Layer)}: each output cell's gradient spread over its adaptive window (windows may overlap)",
            OutputGradient = Grad(y),
            InputGradient = Grad(x),
        };
        Kernel(k);
        return Call(k.Method, Guard(x), GradientArg(y), GradientArg(x));
    }

    /// <summary>One operand's gradient of a Multiply: dy times <paramref name="factor"/> (a forward tensor), into <paramref name="to"/>'s gradient.</summary>
    private CallOp MultiplyBackward(StepPlan step, MultiplyGradient gradient, string method, int to, int factor, bool accumulate)
    {
        string op = accumulate ? "+=" : "=";
        string dx = $"d({T(to).Name})", other = T(factor).Name;
        var k = new MultiplyBackwardKernel
        {
            Method = method,
            Title = Name(step.Layer) + ": " + gradient switch
            {
                MultiplyGradient.Operand => $"{dx} {op} dy * '{other}'",
                MultiplyGradient.Map => $"{dx} {op} dy * '{other}' (one scale per channel, broadcast over the pixels)",
                _ => $"{dx} {op} the sum over pixels of dy * '{other}', per channel",
            },
            Gradient = gradient,
            OutputGradient = Grad(step.Output),
            Factor = T(factor),
            InputGradient = Grad(to),
            Accumulate = accumulate,
        };
        Kernel(k);
        return Call(method, Guard(to), GradientArg(step.Output), Arg(factor), GradientArg(to));
    }

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

    private CallOp DenseWeights(StepPlan step, TrainableLayer l)
    {
        var x = T(step.Inputs[0]);
        var y = T(step.Output);
        int nb = y.Cp / V;
        int channels = x.Layout == Layout.Hwc ? x.C : (int)_plan.Net.Layers[step.Layer].In.Size;
        var (block, vectors) = Tile(channels, nb);
        var k = new DenseWeightsKernel
        {
            Method = step.Method + "BackwardWeights",
            Title = l.SplitColumns ? $"{l.Name}: d weight = x (x) dy and d bias = dy summed over every image of the batch, for a thread's output vectors"
                : l.OverwritesGradients ? $"{l.Name}: d weight = x (x) dy and d bias = dy summed over a thread's images" : $"{l.Name}: d weight += x (x) dy and d bias += dy over a thread's images",
            LayerName = l.Name,
            Overwrite = l.OverwritesGradients,
            X = x,
            OutputGradient = Grad(step.Output),
            Hwc = x.Layout == Layout.Hwc,
            XImageStride = x.External ? _plan.Net.Input.Size : _imageFloats,
            YImageStride = _imageFloats,
            Bias = l.HasBias,
            FeatureBlock = block,
            Vectors = vectors,
            FullTiles = nb / vectors,
            LastVectors = nb % vectors,
            Columns = l.SplitColumns,
        };
        Kernel(k);
        var args = new[] { Arg(step.Inputs[0]), GradientArg(step.Output), new CallArg(ArgKind.Count), Param(l.WeightGradient) };
        args = l.HasBias ? args.Append(Param(l.BiasGradient)).ToArray() : args;
        return l.SplitColumns ? Columns(k.Method, When.Always, nb, args) : Batched(k.Method, When.Always, args);
    }

    private CallOp DenseData(StepPlan step, TrainableLayer l, bool accumulate)
    {
        int x = step.Inputs[0];
        var dx = Grad(x);
        int floats = dx.Layout == Layout.Flat ? dx.Cp : dx.W * dx.Cp;
        var (images, vectors) = ImageTile(floats / V);
        var k = new DenseDataKernel
        {
            Method = step.Method + "BackwardData",
            Title = $"{l.Name}: dx = W^T dy over a thread's images",
            LayerName = l.Name,
            OutputGradient = Grad(step.Output),
            InputGradient = dx,
            Units = l.Units,
            GradientFloats = dx.Layout == Layout.Flat ? dx.Cp : dx.H * dx.W * dx.Cp,
            XImageStride = _imageFloats,
            YImageStride = _imageFloats,
            Images = images,
            Vectors = vectors,
            Accumulate = accumulate,
        };
        Kernel(k);
        return Batched(k.Method, Guard(x), GradientArg(step.Output), GradientArg(x), new CallArg(ArgKind.Count), Field(l.TransposedField!));
    }
}
